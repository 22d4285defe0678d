#!/usr/bin/env bash
# Regenerate the tokenizer fixtures the Rust tests compare against:
#   corpus/tests/data/tokens/dolma-2k.tokenizer.json  (trained by quarry: vocab 2048, 1 MB sample, seed 0)
#   corpus/tests/data/tokens/golden_ids.json          (ids from Python tokenizers + transformers)
# Only needed when the training code or the golden texts change on purpose.
# Needs a Python with tokenizers (+ transformers for the extra check): PY, default .venv/bin/python.
# Usage: scripts/tokens/make_golden.sh [DATA_DIR=$QUARRY_TEST_DATA or ../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-${QUARRY_TEST_DATA:-../shared/data}}
PY=${PY:-.venv/bin/python}
FIX=corpus/tests/data/tokens
cargo build -q -p quarry-corpus --example tokens
BIN=${CARGO_TARGET_DIR:-target}/debug/examples/tokens
"$BIN" train --vocab-size 2048 --sample-bytes 1000000 --seed 0 --out "$FIX/dolma-2k.tokenizer.json" \
  "$DATA/text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
"$PY" scripts/tokens/make_golden.py "$DATA" "$FIX/golden_ids.json" \
  "olmo1=$DATA/tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json" "dolma2k=$FIX/dolma-2k.tokenizer.json"
