#!/usr/bin/env python3
"""Write the encoding-benchmark input: tinyshakespeare cut into ~4 KB documents (at line breaks) plus the
dolma CC documents, repeated until the file holds at least TARGET_MB of text. JSONL, one `text` per line.

Usage: make_bench_text.py DATA_DIR OUT.jsonl [TARGET_MB=32]
"""
import gzip
import json
import sys

data, out = sys.argv[1], sys.argv[2]
target = float(sys.argv[3]) if len(sys.argv) > 3 else 32.0
docs = []
with open(f"{data}/text/tinyshakespeare.txt", encoding="utf-8") as f:
    buf = ""
    for line in f:
        buf += line
        if len(buf) >= 4096:
            docs.append(buf)
            buf = ""
    if buf:
        docs.append(buf)
with gzip.open(f"{data}/text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt",
               encoding="utf-8") as f:
    docs += [json.loads(l)["text"] for l in f if json.loads(l)["text"]]
total, n = 0, 0
with open(out, "w", encoding="utf-8") as f:
    while total < target * 1e6:
        for d in docs:
            f.write(json.dumps({"id": f"doc-{n}", "text": d}, ensure_ascii=False) + "\n")
            total += len(d.encode("utf-8"))
            n += 1
print(f"{n} docs, {total / 1e6:.1f} MB of text -> {out}", file=sys.stderr)
