#!/usr/bin/env bash
# Benchmark of `quarry card` on a generated multi-GB corpus: time and peak RSS (release build).
# Usage: scripts/card/bench.sh [TEXT_GB] [WORK_DIR]   (needs python3 with pyarrow, /usr/bin/time)
# The generated data is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
gb="${1:-4}"
work="${2:-$(mktemp -d)}"
export QUARRY_TEST_DATA="${QUARRY_TEST_DATA:-$(cd .. && pwd)/shared/data}"
py="${QUARRY_PYTHON:-python3}"
cargo build --release --bin quarry -j 2 >&2
bin="${CARGO_TARGET_DIR:-target}/release/quarry"
trap 'rm -rf "$work"' EXIT
"$py" scripts/card/make_bench_corpus.py "$work/corpus" --text-gb "$gb" >&2
du -sh "$work/corpus" >&2
for threads in 1 2; do
  rm -rf "$work/card"
  /usr/bin/time -v env RAYON_NUM_THREADS=$threads "$bin" card --corpus "$work/corpus" --out "$work" 2> "$work/time.txt" || { cat "$work/time.txt"; exit 1; }
  docs=$(python3 -c "import json;print(json.load(open('$work/stats.json'))['documents'])")
  bytes=$(python3 -c "import json;print(json.load(open('$work/stats.json'))['text_bytes'])")
  wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
  echo "| quarry card | $threads | $(du -sb "$work/corpus" | cut -f1) | $docs | $bytes | $wall | $((rss / 1024)) |"
done
