#!/usr/bin/env bash
# Dedup speed and scale: signature MB/s per core beside datatrove, then the four stages (exact + MinHash)
# on synthetic 100k and 1M documents. Usage: scripts/dedup/run_speed.sh [BENCH_DIR] [WORK_DIR]
# BENCH_DIR must hold a benchmark from scripts/dedup/run_quality.sh (or `dedup_quality gen`).
set -euo pipefail
BENCH=${1:-/tmp/quarry-dedup-bench}
WORK=${2:-/tmp/quarry-dedup-scale}
PY=${PY:-/work/venvs/dedup/bin/python}
cargo build -q --release -p quarry-dedup --example dedup_speed
EX=${CARGO_TARGET_DIR:-target}/release/examples/dedup_speed
"$EX" sig "$BENCH"
"$PY" "$(dirname "$0")/datatrove_speed.py" "$BENCH"
for n in 100000 1000000; do
  "$EX" scale "$n" "$WORK" --tasks 16
done
rm -rf "$WORK"
