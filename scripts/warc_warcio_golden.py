#!/usr/bin/env python3
"""Writes corpus/tests/data/warc-golden/warcio_records.tsv: every record warcio 1.8.1 reads from the
well-formed real WARC/WET/WAT files of the test-data kit, with its offset (warcio's
get_record_offset(): the gzip member's offset, or the record's first byte), type and id.
The Rust test corpus/tests/warc_real.rs compares quarry's reader with this file.

Run manually:
  python3 -m venv /tmp/v && /tmp/v/bin/pip install warcio==1.8.1
  /tmp/v/bin/python scripts/warc_warcio_golden.py /path/to/shared/data
"""
import os
import sys

from warcio.archiveiterator import ArchiveIterator

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
out_path = os.path.join(os.path.dirname(__file__), "..", "corpus", "tests", "data", "warc-golden", "warcio_records.tsv")
rows = ["file\toffset\ttype\trecord_id"]
for sub in ("commoncrawl", "other"):
    for name in sorted(os.listdir(os.path.join(data, "warc", sub))):
        rel = f"{sub}/{name}"
        with open(os.path.join(data, "warc", rel), "rb") as f:
            it = ArchiveIterator(f)
            for rec in it:
                rid = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip("<>")
                rows.append(f"{rel}\t{it.get_record_offset()}\t{rec.rec_type}\t{rid}")
with open(out_path, "w") as f:
    f.write("\n".join(rows) + "\n")
print(f"{len(rows) - 1} records -> {out_path}")
