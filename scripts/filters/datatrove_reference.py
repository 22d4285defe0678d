#!/usr/bin/env python3
"""Runs datatrove's heuristic filters on real documents and writes the golden file that
filters/tests/datatrove_agreement.rs compares quarry's verdicts against.

Documents (all from /work/shared/data, or $QUARRY_TEST_DATA):
  * the 697 Common Crawl documents of text/dolma_cc-licensed-docs...jsonl.gz (ids as in the file);
  * tinyshakespeare cut into chunks of 40 speeches (speeches are separated by blank lines),
    ids `shakespeare-<k>`: dialogue, short lines, repetition;
  * Tatoeba sentences grouped by CLD2 language code in file order, joined with "\\n", ids
    `tatoeba-<code>`: 80+ languages and scripts, CJK and Thai without spaces.
The Rust test rebuilds the same documents with the same rules (see `load_docs` there).

Each filter runs with datatrove's defaults (language "eng"), independently on the original text.
Output (gzip JSONL, one object per document):
  {"id", "gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality", "c4_text_sha256"}
where each filter field is "keep" or datatrove's drop reason, and c4_text_sha256 is the first 16 hex
digits of sha256 of the text C4QualityFilter leaves (only for kept documents). The first line is a
header with versions.

Usage: /work/venvs/filters/bin/python scripts/filters/datatrove_reference.py [--bench]
  --bench instead times each filter, fastText LID, PII and the chain of the four heuristic filters on
  the same documents on one core and prints docs/s and MB/s (the Rust bench example runs this itself
  to print both tables in one run: `cargo run -p quarry-filters --example filters_bench -- --datatrove PY`).
"""
import gzip
import hashlib
import json
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("QUARRY_TEST_DATA", ROOT.parent / "shared" / "data"))
if not DATA.exists():
    DATA = Path("/work/shared/data")
OUT = ROOT / "filters" / "tests" / "data" / "datatrove_reference.jsonl.gz"
SPEECHES_PER_CHUNK = 40


def load_docs():
    docs = []
    dolma = next((DATA / "text").glob("dolma_cc-licensed-docs*.jsonl.gz"))
    with gzip.open(dolma, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs.append((d["id"], d["text"]))
    text = (DATA / "text" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    speeches = text.split("\n\n")
    for k in range(0, len(speeches), SPEECHES_PER_CHUNK):
        docs.append((f"shakespeare-{k // SPEECHES_PER_CHUNK}", "\n\n".join(speeches[k : k + SPEECHES_PER_CHUNK])))
    groups = {}
    with open(DATA / "text" / "tatoeba_long.cld2-sample.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            groups.setdefault(cols[0], []).append(cols[3])
    for code, sents in groups.items():
        docs.append((f"tatoeba-{code}", "\n".join(sents)))
    return docs


FILTERS = {
    "gopher_repetition": GopherRepetitionFilter,
    "gopher_quality": GopherQualityFilter,
    "c4_quality": C4QualityFilter,
    "fineweb_quality": FineWebQualityFilter,
}


def verdict(result):
    if isinstance(result, tuple):
        ok, reason = result
        return "keep" if ok else reason
    return "keep" if result else "dropped"


def main():
    docs = load_docs()
    filters = {name: cls() for name, cls in FILTERS.items()}
    if "--bench" in sys.argv:
        bench(docs, filters)
        return
    rows = []
    for doc_id, text in docs:
        row = {"id": doc_id}
        for name, f in filters.items():
            d = Document(text=text, id=doc_id)
            row[name] = verdict(f.filter(d))
            if name == "c4_quality" and row[name] == "keep":
                row["c4_text_sha256"] = hashlib.sha256(d.text.encode("utf-8")).hexdigest()[:16]
        rows.append(row)
    header = {
        "header": True,
        "datatrove": version("datatrove"),
        "spacy": version("spacy"),
        "docs": len(rows),
    }
    tmp = OUT.with_suffix(".tmp")
    with gzip.GzipFile(tmp, "wb", mtime=0) as raw:
        raw.write((json.dumps(header) + "\n").encode())
        for r in rows:
            raw.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
    tmp.replace(OUT)
    print(f"wrote {OUT} ({len(rows)} docs, datatrove {header['datatrove']}, spaCy {header['spacy']})")
    for name in FILTERS:
        kept = sum(r[name] == "keep" for r in rows)
        print(f"  {name}: kept {kept}/{len(rows)}")


def bench(docs, filters):
    import fasttext
    from datatrove.pipeline.formatters import PIIFormatter

    # datatrove's LanguageFilter refuses to load with fasttext-wheel under numpy 2, so this times the
    # work its FT176LID.predict does: one fastText call with k=-1 on the newline-free text, top label.
    ft = fasttext.load_model(str(DATA / "lid" / "lid.176.ftz"))

    def lid(d):
        preds = ft.f.predict(d.text.replace("\n", " ") + "\n", -1, 0.0, "strict")
        best = max(preds)
        d.metadata["language"], d.metadata["language_score"] = best[1][9:], best[0]
        return best[1] == "__label__en" and best[0] > 0.65

    pii = PIIFormatter()
    mb = sum(len(t.encode("utf-8")) for _, t in docs) / 1e6
    print(f"datatrove {version('datatrove')} (Python {sys.version.split()[0]}), {len(docs)} docs, {mb:.2f} MB, one core")
    print("| step | docs/s | MB/s |")
    print("|---|---|---|")
    steps = [(n, f.filter) for n, f in filters.items()]
    steps += [("language_id", lid), ("pii", lambda d: pii.format(d.text)), ("chain", None)]
    for name, fn in steps:
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            for doc_id, text in docs:
                d = Document(text=text, id=doc_id)
                if fn is not None:
                    fn(d)
                    continue
                for g in filters.values():
                    r = g.filter(d)
                    if r is False or (isinstance(r, tuple) and not r[0]):
                        break
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        print(f"| {name} | {len(docs) / best:.0f} | {mb / best:.2f} |", flush=True)


if __name__ == "__main__":
    main()
