"""Golden outputs of datatrove's MinHash normalisation, tokenization and signatures, for quarry's tests.

Writes dedup/data/datatrove_golden.jsonl: for a list of tricky strings, datatrove's simplified text and
word tokens; for the first 40 real Common Crawl documents (first 3000 characters each), the number of
5-gram shingles and the full 14x8 signature under datatrove's default MinhashConfig (xxhash, 64-bit,
seed 1). quarry's tests compare its `datatrove` hash scheme against these.

Usage: /work/venvs/dedup/bin/python scripts/dedup/datatrove_golden.py /work/shared/data > dedup/data/datatrove_golden.jsonl
"""
import gzip
import json
import sys

from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.text import simplify_text

TRICKY = [
    "Hello, World!  It's 3.14159 or 2,718 — “quoted” text…",
    "Naïve café, façade and jalapeño; ÀÉÎÕÜ ß",
    "I cannot go, I'm gonna stay; don't you dare, y'all",
    "Prices: £5, 10€, $20 and 5km, 3kg, 100% sure ™ © ®",
    "Tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em-space",
    "Emoji 😀 in the middle😀of words",
    "日本語のテキスト、句読点。そして「括弧」",
    "Ελληνικά ΚΕΙΜΕΝΟ με τόνους",
    "Numbers ١٢٣ and ३४५ and １２３",
    "snake_case and kebab-case and CamelCase and dots.in.words",
]


def main(data):
    step = MinhashDedupSignature(output_folder="/tmp/unused-dt-golden", config=MinhashConfig())
    tok = step.word_tokenizer
    for t in TRICKY:
        s = simplify_text(t)
        print(json.dumps({"text": t, "simplified": s, "tokens": tok.word_tokenize(s)}, ensure_ascii=False))
    path = f"{data}/text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    with gzip.open(path, "rt") as f:
        for i, line in enumerate(f):
            if i >= 40:
                break
            text = json.loads(line)["text"][:3000]
            sh = step.get_shingles(text)
            sig = [x for band in step.get_signature(sh) for x in band] if sh.size else []
            print(json.dumps({"doc": i, "n_shingles": int(sh.size), "sig": sig}))


if __name__ == "__main__":
    main(sys.argv[1])
