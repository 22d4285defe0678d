"""datatrove's MinHash signature computation speed on the quality benchmark's documents (one core), to
print beside quarry's `dedup_speed sig` numbers.

Usage: /work/venvs/dedup/bin/python scripts/dedup/datatrove_speed.py BENCH_DIR
Measures get_shingles + get_signature (what MinhashDedupSignature.run does per document, without the
file writing), best of 3, and also the full stage 1 (reading JSONL, signatures, sorted bucket files).
"""
import json
import os
import shutil
import sys
import time

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.pipeline.readers import JsonlReader


def main(bench):
    docs_dir = os.path.join(bench, "docs")
    texts = []
    for f in sorted(os.listdir(docs_dir)):
        with open(os.path.join(docs_dir, f)) as fh:
            texts += [json.loads(l)["text"] for l in fh]
    nbytes = sum(len(t.encode()) for t in texts)
    step = MinhashDedupSignature(output_folder="/tmp/unused-dt-speed", config=MinhashConfig())
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter()
        for t in texts:
            sh = step.get_shingles(t)
            if sh.size:
                step.get_signature(sh)
        best = min(best, time.perf_counter() - t0)
    print(f"| datatrove 0.10.1 get_shingles+get_signature, 14x8 | {nbytes / 1e6 / best:.2f} | {len(texts) / best:.0f} |")
    work = "/tmp/dt-speed-work"
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.perf_counter()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(docs_dir, text_key="text", id_key="id"),
                  MinhashDedupSignature(output_folder=f"{work}/sigs", config=MinhashConfig())],
        tasks=1, workers=1, logging_dir=f"{work}/logs",
    ).run()
    el = time.perf_counter() - t0
    print(f"| datatrove 0.10.1 full stage 1 (read JSONL + write sorted buckets), 1 task | {nbytes / 1e6 / el:.2f} | {len(texts) / el:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
