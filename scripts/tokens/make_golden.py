#!/usr/bin/env python3
"""Encode fixed real texts with Python `tokenizers` (and `transformers`) and write the golden ids the
Rust test `corpus/tests/tokens_tokenizer.rs` compares against, so CI needs no Python.

Usage: make_golden.py DATA_DIR OUT_JSON NAME=TOKENIZER_JSON [NAME=TOKENIZER_JSON ...]

Texts (no text is copied into the golden file except our own edge-case strings):
  - dolma CC docs: every 35th line of text/dolma_cc-licensed-docs...jsonl.gz (20 docs), by line number;
  - tinyshakespeare: 3 slices given as character ranges;
  - EDGE strings below (ours).
Per tokenizer and text we store the id count, the sha256 of the ids as little-endian uint32, the first
32 ids (all ids for edge strings), and the tokenizer file's sha256 so a stale golden is detected.
"""
import gzip
import hashlib
import json
import struct
import sys

from tokenizers import Tokenizer

try:
    from transformers import PreTrainedTokenizerFast
except Exception:  # transformers is optional; tokenizers is the reference
    PreTrainedTokenizerFast = None

DOLMA = "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
SHAKESPEARE = "text/tinyshakespeare.txt"
DOC_LINES = list(range(0, 697, 35))
SHAKESPEARE_RANGES = [(0, 4000), (500_000, 506_000), (1_100_000, 1_115_394)]
EDGE = [
    "Hello world",
    "",
    " ",
    "   leading spaces and trailing   ",
    "tabs\tand\nnewlines\r\n\r\nand  double  spaces",
    "numbers 1234567 3.14159 1,000,000",
    "contractions: I'm, you're, they'll, it's, WE'VE, he'd",
    "unicode: naïve café, Zürich, Ελληνικά, русский, 日本語のテキスト, 中文, 한국어, emoji 🚀🔥",
    "special in text: end<|endoftext|>start <|padding|>",
    "code: fn main() { println!(\"{}\", x); }   // comment",
    "\u00a0non-breaking\u2009thin\u3000ideographic spaces",
]


def ids_sha(ids):
    return hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()


def main():
    data_dir, out = sys.argv[1], sys.argv[2]
    toks = [a.split("=", 1) for a in sys.argv[3:]]
    with gzip.open(f"{data_dir}/{DOLMA}", "rt", encoding="utf-8") as f:
        lines = f.readlines()
    with open(f"{data_dir}/{SHAKESPEARE}", encoding="utf-8") as f:
        shakespeare = f.read()
    texts = []
    for i in DOC_LINES:
        texts.append(({"dolma_line": i}, json.loads(lines[i])["text"]))
    for a, b in SHAKESPEARE_RANGES:
        texts.append(({"shakespeare_chars": [a, b]}, shakespeare[a:b]))
    for s in EDGE:
        texts.append(({"edge": s}, s))

    result = {"tokenizers_version": __import__("tokenizers").__version__, "tokenizers": []}
    for name, path in toks:
        tok = Tokenizer.from_file(path)
        hf = PreTrainedTokenizerFast(tokenizer_file=path) if PreTrainedTokenizerFast else None
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        cases = []
        batch = tok.encode_batch([t for _, t in texts], add_special_tokens=False)
        for (ref, text), enc in zip(texts, batch):
            ids = tok.encode(text, add_special_tokens=False).ids
            assert ids == enc.ids, f"{name}: encode and encode_batch differ on {ref}"
            if hf is not None:
                hf_ids = hf.encode(text, add_special_tokens=False)
                assert hf_ids == ids, f"{name}: transformers and tokenizers differ on {ref}"
            case = dict(ref)
            case.update(n=len(ids), sha256=ids_sha(ids), head=ids[:32])
            if "edge" in ref:
                case["ids"] = ids
            cases.append(case)
        result["tokenizers"].append(
            {
                "name": name,
                "file_sha256": sha,
                "transformers_checked": hf is not None,
                "eos_id": tok.token_to_id("<|endoftext|>"),
                "cases": cases,
            }
        )
        print(f"{name}: {len(cases)} texts, {sum(c['n'] for c in cases)} ids", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
