#!/usr/bin/env python3
"""Writes Python fastText's lid.176 predictions on the Tatoeba sample, the reference that
filters/tests/language_id_agreement.rs compares quarry's `language_id` against.

Preprocessing is datatrove's (LanguageFilter / FT176LID): newlines become spaces. The call is
`model.f.predict(text + "\\n", k=1, ...)`, exactly what fastText's Python `predict()` does after its
newline check; going through the low-level binding avoids the wrapper's numpy (fasttext-wheel 0.9.2
breaks on numpy 2, which datatrove 0.10 requires).

Output: filters/tests/data/fasttext_lid176_tatoeba.tsv with columns `line` (1-based data line of
the TSV, header excluded), `label` (without `__label__`), `score` (probability, 8 decimals).

Usage: /work/venvs/filters/bin/python scripts/filters/fasttext_reference.py   (pip: fasttext-wheel)
"""
import os
from importlib.metadata import version
from pathlib import Path

import fasttext

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("QUARRY_TEST_DATA", ROOT.parent / "shared" / "data"))
if not DATA.exists():
    DATA = Path("/work/shared/data")
OUT = ROOT / "filters" / "tests" / "data" / "fasttext_lid176_tatoeba.tsv"


def main():
    model = fasttext.load_model(str(DATA / "lid" / "lid.176.ftz"))
    rows = []
    with open(DATA / "text" / "tatoeba_long.cld2-sample.tsv", encoding="utf-8") as f:
        next(f)
        for i, line in enumerate(f, start=1):
            text = line.rstrip("\n").split("\t")[3]
            [(prob, label)] = model.f.predict(text.replace("\n", " ") + "\n", 1, 0.0, "strict")
            rows.append(f"{i}\t{label.removeprefix('__label__')}\t{prob:.8f}")
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(f"# fasttext-wheel {version('fasttext-wheel')}, lid.176.ftz\nline\tlabel\tscore\n" + "\n".join(rows) + "\n")
    tmp.replace(OUT)
    print(f"wrote {OUT} ({len(rows)} sentences)")


if __name__ == "__main__":
    main()
