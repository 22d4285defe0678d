#!/usr/bin/env bash
# Encoding speed: quarry's TextTokenizer vs Python `tokenizers` encode_batch, same texts, same tokenizer,
# 1 and 2 threads. Needs a venv with `tokenizers` (VENV, default .venv) and builds the example with
# full optimisation of our crate (dependencies are always optimised).
# Usage: scripts/tokens/bench.sh [DATA_DIR=$QUARRY_TEST_DATA or ../shared/data] [TOKENIZER] [MB=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-${QUARRY_TEST_DATA:-../shared/data}}
TOK=${2:-$DATA/tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json}
MB=${3:-32}
PY=${VENV:-.venv}/bin/python
IN=${TMPDIR:-/tmp}/quarry_tokens_bench.jsonl
"$PY" scripts/tokens/make_bench_text.py "$DATA" "$IN" "$MB"
CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo build -q -p quarry-corpus --example tokens
BIN=${CARGO_TARGET_DIR:-target}/debug/examples/tokens
echo "# tokenizer: $TOK"
"$BIN" bench --tokenizer "$TOK" --threads 1,2 --reps 3 "$IN"
for n in 1 2; do RAYON_NUM_THREADS=$n "$PY" scripts/tokens/bench_python.py "$TOK" "$IN" 3; done
