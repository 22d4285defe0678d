#!/usr/bin/env bash
# Dedup speed and scale: signature MB per CPU-second beside datatrove, minhash-rs beside ours, then the
# four stages (exact + MinHash) on synthetic 1M, 3M and 10M documents (10M: ~4 GB of intermediates,
# ~10 CPU-minutes). Usage: scripts/dedup/run_speed.sh [BENCH_DIR] [WORK_DIR] [SIZES...]
# BENCH_DIR must hold a benchmark from scripts/dedup/run_quality.sh (or `dedup_quality gen`).
set -euo pipefail
BENCH=${1:-/tmp/quarry-dedup-bench}
WORK=${2:-/tmp/quarry-dedup-scale}
PY=${PY:-/work/venvs/dedup/bin/python}
if [ $# -ge 2 ]; then shift 2; else set --; fi
SIZES=${*:-1000000 3000000 10000000}
cargo build -q --release -p quarry-dedup --example dedup_speed --example dedup_minhash_rs
EX=${CARGO_TARGET_DIR:-target}/release/examples
"$EX/dedup_speed" sig "$BENCH"
"$PY" "$(dirname "$0")/datatrove_speed.py" "$BENCH"
"$EX/dedup_minhash_rs" "$BENCH"
for n in $SIZES; do
  "$EX/dedup_speed" scale "$n" "$WORK" --tasks 16
  rm -rf "$WORK"
done
rm -rf "$WORK"
