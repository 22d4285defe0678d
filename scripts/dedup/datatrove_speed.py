"""datatrove's MinHash signature computation speed on the quality benchmark's documents (one core), to
print beside quarry's `dedup_speed sig` numbers.

Usage: /work/venvs/dedup/bin/python scripts/dedup/datatrove_speed.py BENCH_DIR
Measures get_shingles + get_signature (what MinhashDedupSignature.run does per document, without the
file writing), best of 3, and also the full stage 1 (reading JSONL, signatures, sorted bucket files).
"""
import json
import os
import resource
import shutil
import sys
import time

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.pipeline.readers import JsonlReader


def cpu():
    """CPU seconds (user + system) of this process and its waited-for children: the machine is
    shared, so wall time says little."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(bench):
    docs_dir = os.path.join(bench, "docs")
    texts = []
    for f in sorted(os.listdir(docs_dir)):
        with open(os.path.join(docs_dir, f)) as fh:
            texts += [json.loads(l)["text"] for l in fh]
    nbytes = sum(len(t.encode()) for t in texts)
    step = MinhashDedupSignature(output_folder="/tmp/unused-dt-speed", config=MinhashConfig())
    best = best_cpu = 1e9
    for _ in range(3):
        t0, c0 = time.perf_counter(), cpu()
        for t in texts:
            sh = step.get_shingles(t)
            if sh.size:
                step.get_signature(sh)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, cpu() - c0)
    print(f"| datatrove 0.10.1 get_shingles+get_signature, 14x8 | {nbytes / 1e6 / best_cpu:.3f} | {len(texts) / best_cpu:.0f} | {nbytes / 1e6 / best:.3f} |")
    work = "/tmp/dt-speed-work"
    shutil.rmtree(work, ignore_errors=True)
    t0, c0 = time.perf_counter(), cpu()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(docs_dir, text_key="text", id_key="id"),
                  MinhashDedupSignature(output_folder=f"{work}/sigs", config=MinhashConfig())],
        tasks=1, workers=1, logging_dir=f"{work}/logs",
    ).run()
    el, c = time.perf_counter() - t0, cpu() - c0
    print(f"| datatrove 0.10.1 full stage 1 (read JSONL + write sorted buckets), 1 task | {nbytes / 1e6 / c:.3f} | {len(texts) / c:.0f} | {nbytes / 1e6 / el:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1])
