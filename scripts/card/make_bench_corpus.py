#!/usr/bin/env python3
"""Generates a multi-GB corpus run folder for benchmarking `quarry card`: Parquet text shards in the
quarry-text/1 schema plus a quarry-manifest/1 manifest.json whose counts add up, so `quarry card
--corpus OUT` accepts it.

The documents are the 697 real Common Crawl documents of the test data (dolma JSONL), each copy with
its words rotated by a seeded offset (lengths and vocabulary stay real; generation stays cheap on a
loaded 2-core machine), with metadata like the default recipe writes (language, language_score,
license, license_class, opt_out, dedup_cluster_size). The size target is of *text* (what the card
scans); Parquet compresses the rotated copies, so the shards are smaller.

Usage: make_bench_corpus.py OUT [--text-gb 4.0] [--data DIR]   (needs pyarrow)
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema([
    pa.field("id", pa.string(), False),
    pa.field("text", pa.string(), False),
    pa.field("url", pa.string(), True),
    pa.field("source_file", pa.string(), False),
    pa.field("source_offset", pa.uint64(), False),
    pa.field("date", pa.string(), True),
    pa.field("crawl", pa.string(), True),
    pa.field("content_type", pa.string(), True),
    pa.field("charset", pa.string(), True),
    pa.field("metadata", pa.string(), False),
])
LICENSES = [("CC-BY-4.0", "open"), ("CC-BY-SA-3.0", "open"), ("CC-BY-NC-SA-4.0", "nc-nd"),
            ("LicenseRef-All-Rights-Reserved", "restricted"), ("CC0-1.0", "open")]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--text-gb", type=float, default=4.0)
    ap.add_argument("--data", default=os.environ.get("QUARRY_TEST_DATA", "../shared/data"))
    ap.add_argument("--rows-per-shard", type=int, default=100_000)
    a = ap.parse_args()
    src = os.path.join(a.data, "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")
    docs = [json.loads(l) for l in gzip.open(src, "rt", encoding="utf-8")]
    rng = random.Random(0)
    shards_dir = os.path.join(a.out, "shards")
    os.makedirs(shards_dir, exist_ok=True)
    target = int(a.text_gb * (1 << 30))
    split = [d["text"].split(" ") for d in docs]
    text_bytes = 0
    outputs, total, seq, n = [], 0, 0, 0
    langs = ["en"] * 6 + ["es", "it", "fr", "de"]
    while text_bytes < target:
        rows = {k: [] for k in SCHEMA.names}
        for _ in range(a.rows_per_shard):
            d = docs[n % len(docs)]
            ws = split[n % len(docs)]
            k = rng.randrange(len(ws))
            text = " ".join(ws[k:] + ws[:k])
            text_bytes += len(text.encode("utf-8"))
            lic, cls = LICENSES[rng.randrange(len(LICENSES))]
            md = d.get("metadata", {})
            url = md.get("url") or md.get("warc_url") or ""
            host = url.split("/")[2] if url.count("/") >= 2 else f"site{n % 5000}.example"
            rows["id"].append(f"bench-{n}")
            rows["text"].append(text)
            rows["url"].append(f"https://{host}/p{n % 9973}")
            rows["source_file"].append(md.get("warc_filename", "bench.warc.gz"))
            rows["source_offset"].append(n)
            rows["date"].append(md.get("warc_date", "2019-07-17T12:00:00Z"))
            rows["crawl"].append("CC-MAIN-2019-30")
            rows["content_type"].append("text/html")
            rows["charset"].append("utf-8")
            rows["metadata"].append(
                f'{{"dedup_cluster_size":{1 + (n % 17 == 0)},"language":"{langs[n % len(langs)]}",'
                f'"language_score":{0.65 + 0.35 * rng.random():.4f},"license":"{lic}",'
                f'"license_class":"{cls}","opt_out":{"true" if rng.random() < 0.05 else "false"}}}')
            n += 1
        path = os.path.join(shards_dir, f"part-00000-{seq:05d}.parquet")
        pq.write_table(pa.table(rows, schema=SCHEMA), path, compression="zstd",
                       compression_level=3, row_group_size=16384)
        size = os.path.getsize(path)
        total += size
        outputs.append({"path": path, "rows": a.rows_per_shard, "bytes": size, "sha256": sha256(path)})
        print(f"{path}: {size / 2**20:.0f} MiB, Parquet {total / 2**30:.2f} GiB, text {text_bytes / 2**30:.2f} GiB", file=sys.stderr)
        seq += 1
    recipe = 'name = "card benchmark corpus"\n'
    manifest = {
        "format": "quarry-manifest/1",
        "build": {"version": "bench", "git_commit": "none"},
        "recipe": {"text": recipe, "sha256": hashlib.sha256(recipe.encode()).hexdigest()},
        "tasks": 1,
        "inputs": [{"path": src, "bytes": os.path.getsize(src), "sha256": sha256(src)}],
        "reader": {"records": n, "documents": n, "skipped": {}, "errors": 0, "error_samples": []},
        "stages": [],
        "outputs": outputs,
        "side_outputs": [],
        "task_seconds": 0.0,
        "peak_rss_bytes": 0,
        "task_manifests": [],
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(json.dumps({"documents": n, "shards": len(outputs), "parquet_bytes": total, "text_bytes": text_bytes}))


if __name__ == "__main__":
    main()
