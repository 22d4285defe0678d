#!/usr/bin/env bash
# Write Megatron and OLMo shards of the real dolma CC documents with quarry, then check them with the
# independent numpy reader (scripts/tokens/check_shards.py), which also re-encodes every document with
# Python `tokenizers` and requires identical ids. Exits non-zero on any mismatch.
# Needs a Python with numpy + tokenizers (PY, default .venv/bin/python).
# Usage: scripts/tokens/check_all.sh [DATA_DIR=$QUARRY_TEST_DATA or ../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-${QUARRY_TEST_DATA:-../shared/data}}
PY=${PY:-.venv/bin/python}
DOCS=$DATA/text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz
OLMO_TOK=$DATA/tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json
OUR_TOK=corpus/tests/data/tokens/dolma-2k.tokenizer.json
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cargo build -q -p quarry-corpus --example tokens
BIN=${CARGO_TARGET_DIR:-target}/debug/examples/tokens
"$BIN" tokenize --tokenizer "$OLMO_TOK" --out "$OUT/meg" --format megatron --shard-tokens 300000 "$DOCS" >/dev/null
"$BIN" tokenize --tokenizer "$OUR_TOK" --out "$OUT/olmo" --format olmo --shard-tokens 500000 "$DOCS" >/dev/null
"$BIN" tokenize --tokenizer "$OUR_TOK" --out "$OUT/olmo-shuf" --format olmo --shuffle-seed 7 "$DOCS" >/dev/null
"$PY" scripts/tokens/check_shards.py --format megatron --tokenizer "$OLMO_TOK" --docs "$DOCS" "$OUT/meg"
"$PY" scripts/tokens/check_shards.py --format olmo --tokenizer "$OUR_TOK" --docs "$DOCS" "$OUT/olmo"
"$PY" scripts/tokens/check_shards.py --format olmo --tokenizer "$OUR_TOK" --docs "$DOCS" --any-order "$OUT/olmo-shuf"
