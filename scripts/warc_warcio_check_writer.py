#!/usr/bin/env python3
"""Checks that Python warcio 1.8.1 reads the files quarry's WarcWriter writes, with valid digests.

  mkdir -p /tmp/qw && QUARRY_WARC_WRITE_TO=/tmp/qw cargo test -p quarry-corpus --test warc_roundtrip
  /path/to/venv/bin/python scripts/warc_warcio_check_writer.py /tmp/qw
"""
import os
import sys

from warcio.archiveiterator import ArchiveIterator

folder = sys.argv[1]
failures = 0
for name in sorted(os.listdir(folder)):
    n = checked = 0
    problems = []
    with open(os.path.join(folder, name), "rb") as f:
        # 'log' makes warcio verify WARC-Block-Digest and WARC-Payload-Digest while the record is read.
        for rec in ArchiveIterator(f, check_digests="log"):
            rec.raw_stream.read()
            n += 1
            if rec.digest_checker.passed is not None:
                checked += 1
            problems += rec.digest_checker.problems
    print(f"{name}: {n} records, {checked} with digests verified, problems: {len(problems)}")
    failures += len(problems)
sys.exit(1 if failures else 0)
