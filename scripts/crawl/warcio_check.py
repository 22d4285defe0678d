#!/usr/bin/env python3
"""Reads WARC files with warcio (an independent reader) and prints record counts as JSON.

Used by tests/crawl.rs on `quarry crawl` output: counts records per WARC-Type, checks every
block and payload digest warcio can check, and counts responses carrying WARC-Robots-AI-Disallow.
Usage: warcio_check.py FILE.warc.gz...
"""
import json
import sys

from warcio.archiveiterator import ArchiveIterator


def main(paths):
    counts = {"digest_errors": 0, "ai_disallow_headers": 0, "records": 0}
    for p in paths:
        with open(p, "rb") as f:
            it = ArchiveIterator(f, check_digests="raise")
            for rec in it:
                counts["records"] += 1
                t = rec.rec_type
                counts[t] = counts.get(t, 0) + 1
                try:
                    rec.raw_stream.read()
                except Exception:  # noqa: BLE001 - a bad digest or body is what we count
                    counts["digest_errors"] += 1
                if t == "response" and rec.rec_headers.get_header("WARC-Robots-AI-Disallow"):
                    counts["ai_disallow_headers"] += 1
    json.dump(counts, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
