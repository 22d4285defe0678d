#!/usr/bin/env bash
# Extraction benchmark: quarry beside datatrove (WarcReader + Trafilatura), same ≥200 MB WARC.gz,
# same run. Prints one table: MB/s and docs/s for read only, read + extract, and the full
# extract → Parquet run, on 1 thread and on all threads, with peak RSS.
#
#   scripts/bench.sh              # builds .bench/bench.warc.gz (200 MB) once, then measures
#   SIZE_MB=50 scripts/bench.sh   # a smaller input for a quick look
#   SKIP_DATATROVE=1 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/.bench}
size_mb=${SIZE_MB:-200}
export QUARRY_TEST_DATA="${QUARRY_TEST_DATA:-$(cd "$root/.." && pwd)/shared/data}"
mkdir -p "$bench"

venv="${BENCH_VENV:-$bench/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check warcio "datatrove[io,processing]" trafilatura lxml_html_clean
fi
py="$venv/bin/python"

warc="$bench/bench-${size_mb}mb.warc.gz"
if [ ! -f "$warc" ]; then
  "$py" scripts/bench/make_bench_warc.py "$warc" "$size_mb" --data "$QUARRY_TEST_DATA"
fi
bytes=$(stat -c %s "$warc")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

cargo build --release --locked --quiet
q="${CARGO_TARGET_DIR:-$root/target}/release/quarry"
cores=$(nproc)

rows=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
# measure LABEL THREADS CMD...: runs CMD under /usr/bin/time, reads docs from the manifest or stderr.
measure() {
  local label=$1 threads=$2; shift 2
  local out="$bench/out" log="$bench/time.log" err="$bench/stderr.log"
  rm -rf "$out"
  /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" >/dev/null 2>"$err" || { echo "failed: $*" >&2; cat "$err" >&2; exit 1; }
  local secs rss docs usr sys
  read -r secs rss usr sys <"$log"
  if [ -f "$out/manifest.json" ]; then
    docs=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["reader"]["documents"])' "$out/manifest.json")
  else
    docs=$(grep -oE '[0-9]+ documents' "$err" | head -1 | grep -oE '[0-9]+')
  fi
  rows+=("$(printf '%-34s %7s %8.2f %9.1f %9.0f %9.0f %9.0f' "$label" "$threads" "$secs" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / 1e6 / s }')" \
    "$(awk -v d="$docs" -v s="$secs" 'BEGIN { print d / s }')" \
    "$(awk -v d="$docs" -v u="$usr" -v y="$sys" 'BEGIN { print d / (u + y) }')" \
    "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')")")
}

measure "quarry read only"                 1 "$q" inspect --limit 1 "$warc"
# Both extractors: `quarry` (own single-pass) and `trafilatura` (the port, the reference).
for ex in quarry trafilatura; do
  measure "read + extract ($ex)"            1 "$q" extract --extractor "$ex" --no-progress --threads 1 --format null -i "$warc" -o "$bench/out"
  measure "read + extract ($ex)"        "$cores" "$q" extract --extractor "$ex" --no-progress --format null -i "$warc" -o "$bench/out"
  measure "extract → Parquet ($ex)"         1 "$q" extract --extractor "$ex" --no-progress --threads 1 -i "$warc" -o "$bench/out"
  measure "extract → Parquet ($ex)"     "$cores" "$q" extract --extractor "$ex" --no-progress -i "$warc" -o "$bench/out"
done
# The whole per-input stage of the default recipe (license → url_filter → extract → language_id →
# 4 quality filters → pii → Parquet), for the cost model (docs/slurm.md); needs the lid.176 model.
if [ -n "${QUARRY_LID_MODEL:-}" ]; then
  "$q" build --print-recipe \
    | sed "s|paths = \\[\"quarry-out/input/\\*.warc.gz\"\\]|paths = [\"$warc\"]|; s|path = \"quarry-out/corpus\"|path = \"$bench/out\"|" \
    > "$bench/default-recipe.toml"
  measure "default recipe, per-input stages"  1 "$q" run "$bench/default-recipe.toml" --threads 1 --no-progress
  measure "default recipe, per-input stages" "$cores" "$q" run "$bench/default-recipe.toml" --no-progress
fi
if [ -z "${SKIP_DATATROVE:-}" ]; then
  json=$(/usr/bin/time -f "%e %M %U %S" -o "$bench/time.log" "$py" scripts/bench/datatrove_extract.py --no-dedup "$warc" 2>"$bench/stderr.log" | tail -1)
  read -r secs rss usr sys <"$bench/time.log"
  docs=$(echo "$json" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["docs"])')
  # CPU includes datatrove's extraction sandbox subprocess (children are counted by time(1)).
  rows+=("$(printf '%-34s %7s %8.2f %9.1f %9.0f %9.0f %9.0f' "datatrove WarcReader+Trafilatura" 1 "$secs" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / 1e6 / s }')" \
    "$(awk -v d="$docs" -v s="$secs" 'BEGIN { print d / s }')" \
    "$(awk -v d="$docs" -v u="$usr" -v y="$sys" 'BEGIN { print d / (u + y) }')" \
    "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')")")
fi

echo
echo "input: $warc ($mb MB compressed), $(nproc) cores, load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %7s %8s %9s %9s %9s %9s\n' "run" "threads" "seconds" "MB/s" "docs/s" "docs/CPUs" "RSS MB"
printf '%s\n' "${rows[@]}"
