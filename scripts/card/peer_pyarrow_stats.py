#!/usr/bin/env python3
"""The peer a user would write for the same card statistics: pyarrow, batch by batch, over the same
shards (documents, characters, UTF-8 bytes, words, languages, licenses, license classes, opt-outs,
domains). Prints its counts as JSON so they can be compared with quarry's stats.json.

Usage: peer_pyarrow_stats.py SHARD_DIR
"""
import json
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.parquet as pq


def main():
    files = sorted(Path(sys.argv[1]).glob("*.parquet"))
    docs = chars = nbytes = words = 0
    langs, lics, classes, opt, domains = Counter(), Counter(), Counter(), Counter(), Counter()
    for f in files:
        pf = pq.ParquetFile(f)
        for b in pf.iter_batches(batch_size=1024, columns=["text", "url", "metadata"]):
            text = b.column("text")
            docs += len(text)
            chars += pc.sum(pc.utf8_length(text)).as_py() or 0
            nbytes += pc.sum(pc.binary_length(text)).as_py() or 0
            words += sum(len(t.split()) for t in text.to_pylist())
            for u in b.column("url").to_pylist():
                if u:
                    h = (urlsplit(u).hostname or "").removeprefix("www.")
                    domains[h] += 1
            for m in b.column("metadata").to_pylist():
                m = json.loads(m)
                langs[m.get("language", "(none)")] += 1
                lics[m.get("license", "(none)")] += 1
                classes[m.get("license_class", "(none)")] += 1
                opt[str(m.get("opt_out")).lower()] += 1
    print(json.dumps({"documents": docs, "chars": chars, "text_bytes": nbytes, "words": words,
                      "languages": dict(langs), "licenses": dict(lics), "domains": len(domains)},
                     sort_keys=True))


if __name__ == "__main__":
    main()
