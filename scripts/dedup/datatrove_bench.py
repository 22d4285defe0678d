"""Run datatrove's MinHash dedup (default MinhashConfig) on a quarry dedup benchmark and write its result
in quarry's format, so `dedup_quality eval` can score both on the same input in the same run.

Usage: /work/venvs/dedup/bin/python scripts/dedup/datatrove_bench.py BENCH_DIR
Reads BENCH_DIR/docs/task-*.jsonl (one datatrove task per file), runs the four datatrove stages in
BENCH_DIR/dt-work/, writes BENCH_DIR/out-datatrove/{removed.txt,clusters.jsonl,timing.json}.
Needs: pip install datatrove spacy "xxhash<4" regex tokenizers (xxhash 4 refuses str, which datatrove 0.10.1 passes) (datatrove tokenizes English with spacy.blank("en")).
"""
import json
import os
import shutil
import struct
import sys
import time
from collections import defaultdict

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader


def main(bench):
    docs_dir = os.path.join(bench, "docs")
    files = sorted(f for f in os.listdir(docs_dir) if f.startswith("task-") and f.endswith(".jsonl"))
    tasks = len(files)
    work = os.path.join(bench, "dt-work")
    shutil.rmtree(work, ignore_errors=True)
    cfg = MinhashConfig()
    assert tasks % cfg.num_buckets == 0 or True
    reader = JsonlReader(docs_dir, glob_pattern="task-*.jsonl", text_key="text", id_key="id")
    timing = {}
    t0 = time.time()
    LocalPipelineExecutor(
        pipeline=[reader, MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg)],
        tasks=tasks, workers=1, logging_dir=f"{work}/logs/s1",
    ).run()
    timing["signatures_s"] = time.time() - t0
    t0 = time.time()
    LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=cfg)],
        tasks=cfg.num_buckets, workers=1, logging_dir=f"{work}/logs/s2",
    ).run()
    timing["buckets_s"] = time.time() - t0
    t0 = time.time()
    LocalPipelineExecutor(
        pipeline=[MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids",
                                      config=cfg, save_cluster_id=True)],
        tasks=1, workers=1, logging_dir=f"{work}/logs/s3",
    ).run()
    timing["cluster_s"] = time.time() - t0

    # map (rank, doc index) -> id; datatrove gives rank r the r-th file when tasks == files
    ids = []
    for f in files:
        with open(os.path.join(docs_dir, f)) as fh:
            ids.append([json.loads(l)["id"] for l in fh])
    rem_dir = f"{work}/remove_ids"
    removed, clusters = [], defaultdict(list)
    for r in range(tasks):
        rp = os.path.join(rem_dir, f"{r:06d}.remove")
        rm = set()
        if os.path.exists(rp):
            data = open(rp, "rb").read()
            rm = {x[0] for x in struct.iter_unpack("<I", data)}
            removed += [ids[r][d] for d in sorted(rm)]
        cp = os.path.join(rem_dir, f"{r:06d}.clusters")
        if os.path.exists(cp):
            for d, c in struct.iter_unpack("<2I", open(cp, "rb").read()):
                clusters[c].append((ids[r][d], d in rm))
    out = os.path.join(bench, "out-datatrove")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "removed.txt"), "w") as fh:
        fh.writelines(i + "\n" for i in removed)
    with open(os.path.join(out, "clusters.jsonl"), "w") as fh:
        for c in sorted(clusters):
            kept = [i for i, rmd in clusters[c] if not rmd]
            fh.write(json.dumps({"cluster_id": c, "size": len(clusters[c]), "kept": kept[0] if kept else "",
                                 "removed": [i for i, rmd in clusters[c] if rmd]}) + "\n")
    with open(os.path.join(out, "timing.json"), "w") as fh:
        json.dump(timing, fh, indent=1)
    print(f"datatrove: removed {len(removed)} documents in {len(clusters)} clusters; timing {timing}")


if __name__ == "__main__":
    main(sys.argv[1])
