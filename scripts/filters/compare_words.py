#!/usr/bin/env python3
"""Diffs our English word splitter against datatrove's `split_into_words` (spaCy) document by document.

Usage:
  cargo run -p quarry-filters --example words -- DOCS.jsonl > /tmp/ours.jsonl
  python scripts/filters/compare_words.py DOCS.jsonl /tmp/ours.jsonl [LANG3]
DOCS.jsonl has one {"id", "text"} object per line (gzip allowed). Prints how many documents get an
identical word list and the first differing words of the others.
"""
import difflib
import gzip
import json
import sys

from datatrove.utils.text import split_into_words


def read(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main():
    docs = read(sys.argv[1])
    ours = {d["id"]: d["words"] for d in read(sys.argv[2])}
    same = 0
    for d in docs:
        ref = split_into_words(d["text"], sys.argv[3] if len(sys.argv) > 3 else "eng")
        got = ours[d["id"]]
        if ref == got:
            same += 1
            continue
        sm = difflib.SequenceMatcher(a=ref, b=got, autojunk=False)
        diffs = [(op, ref[i1:i2], got[j1:j2]) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal"]
        print(f"{d['id']}: ref {len(ref)} ours {len(got)} words; {diffs[:4]}")
    print(f"identical word lists: {same}/{len(docs)}")


if __name__ == "__main__":
    main()
