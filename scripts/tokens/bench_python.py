#!/usr/bin/env python3
"""Python `tokenizers` peer for the encoding benchmark: `Tokenizer.encode_batch(texts,
add_special_tokens=False)` over the whole input, best of REPS. Thread count comes from RAYON_NUM_THREADS
(set by bench.sh per run). Prints one TSV row like the Rust bench.

Usage: RAYON_NUM_THREADS=N bench_python.py TOKENIZER_JSON INPUT.jsonl [REPS=3]
"""
import json
import os
import sys
import time

import tokenizers
from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
nbytes = sum(len(t.encode("utf-8")) for t in texts)
wall, cpu, ntok = float("inf"), float("inf"), 0
for _ in range(reps):
    t, c = time.perf_counter(), time.process_time()
    encs = tok.encode_batch(texts, add_special_tokens=False)
    ntok = sum(len(e.ids) for e in encs)
    wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    del encs
threads = os.environ.get("RAYON_NUM_THREADS", "all")
mb = nbytes / 1e6
print(f"python-tokenizers-{tokenizers.__version__}-encode_batch\t{threads}\t{len(texts)}\t{mb:.1f}\t{ntok}\t{wall:.3f}\t{cpu:.3f}"
      f"\t{ntok / wall:.0f}\t{mb / wall:.2f}\t{ntok / cpu:.0f}\t{mb / cpu:.2f}")
