#!/usr/bin/env bash
# Near-duplicate quality benchmark, ours beside datatrove in the same run.
# Usage: scripts/dedup/run_quality.sh [BENCH_DIR] ; needs a venv with datatrove (PY=/path/to/python).
set -euo pipefail
BENCH=${1:-/tmp/quarry-dedup-bench}
PY=${PY:-/work/venvs/dedup/bin/python}
export QUARRY_TEST_DATA=${QUARRY_TEST_DATA:-/work/shared/data}
cargo run -q --release -p quarry-dedup --example dedup_quality -- gen "$BENCH" --tasks 14
"$PY" "$(dirname "$0")/datatrove_bench.py" "$BENCH"
cargo run -q --release -p quarry-dedup --example dedup_quality -- eval "$BENCH"
