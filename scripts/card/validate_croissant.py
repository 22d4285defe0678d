#!/usr/bin/env python3
"""Independent check of a quarry card folder: validates croissant.json with mlcroissant (the MLCommons
reference implementation), reads every record through it, and loads the Parquet shards with pyarrow.

Usage: validate_croissant.py CARD_DIR
Prints one JSON object: {"records", "ids", "pyarrow_rows", "pyarrow_columns", "languages", "warnings"};
exits non-zero on any validation error. The Rust test compares these numbers with the manifests.
"""
import json
import logging
import sys
from pathlib import Path


def main() -> int:
    card = Path(sys.argv[1]).resolve()
    logging.disable(logging.WARNING)
    import mlcroissant as mlc
    import pyarrow.dataset as ds

    # Validation happens when the JSON-LD is loaded: errors raise ValidationError.
    dataset = mlc.Dataset(jsonld=str(card / "croissant.json"))
    warnings = [str(w) for w in dataset.metadata.ctx.issues.warnings]
    records = 0
    ids = set()
    languages = {}
    for rec in dataset.records(record_set="documents"):
        records += 1
        rid = rec["documents/id"]
        ids.add(rid.decode() if isinstance(rid, bytes) else rid)
        meta = rec["documents/metadata"]
        meta = json.loads(meta.decode() if isinstance(meta, bytes) else meta)
        lang = meta.get("language", "(none)")
        languages[lang] = languages.get(lang, 0) + 1

    croissant = json.loads((card / "croissant.json").read_text())
    fileset = next(d for d in croissant["distribution"] if d["@type"] == "cr:FileSet")
    files = sorted(card.glob(fileset["includes"]))
    table = ds.dataset([str(f) for f in files], format="parquet").to_table()
    print(json.dumps({
        "records": records,
        "ids": len(ids),
        "pyarrow_rows": table.num_rows,
        "pyarrow_columns": table.column_names,
        "languages": languages,
        "warnings": warnings,
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
