#!/usr/bin/env python3
"""Times Python warcio 1.8.1 on the input corpus/tests/warc_bench.rs uses (the same files, concatenated
the same number of times), for the comparison row of the WARC reader benchmark.

  /path/to/venv/bin/python scripts/warc_bench_warcio.py /path/to/shared/data
"""
import io
import os
import sys
import time

from warcio.archiveiterator import ArchiveIterator

FILES = [
    "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
    "other/resiliparse_clueweb09-ja-quirk.warc.gz",
    "other/dolma_sample-0000.warc.gz",
    "other/dolma_sample-0001.warc.gz",
    "other/ukwa_sopa-wikipedia-homepage-2012.warc.gz",
    "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
]
REPEAT = 100

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
one = b"".join(open(os.path.join(data, "warc", f), "rb").read() for f in FILES)
gz = one * REPEAT


def run(decode):
    n = docs = 0
    for rec in ArchiveIterator(io.BytesIO(gz)):
        n += 1
        if rec.rec_type == "response" and rec.http_headers is not None:
            ct = (rec.http_headers.get_header("Content-Type") or "").lower()
            if "html" in ct:
                body = rec.content_stream().read() if decode else rec.raw_stream.read()
                docs += 1 if body is not None else 0
    return n, docs


for label, decode in (("warcio raw records", False), ("warcio + decoded HTML payloads", True)):
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        n, docs = run(decode)
        best = min(best, time.perf_counter() - t)
    print(f"| {label} | {len(gz) / 1e6:.1f} | {n} | {docs} | {best:.3f} | {len(gz) / 1e6 / best:.1f} |")
