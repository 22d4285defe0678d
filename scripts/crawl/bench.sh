#!/usr/bin/env bash
# Crawler throughput on a local static site with politeness off: quarry crawl (concurrency 1 and
# 8) against GNU wget --recursive --warc-file (sequential, the peer a user would pick for a
# WARC-writing crawl), same site, same server, same run. Prints a table.
#
# Usage: scripts/crawl/bench.sh [PAGES] [PAGE_BYTES]   (defaults 3000 pages, 5000 bytes)
# Needs: a release build (cargo build --release), python3, wget (optional).
set -euo pipefail
cd "$(dirname "$0")/../.."
pages=${1:-3000}
size=${2:-5000}
bin=${QUARRY_BIN:-${CARGO_TARGET_DIR:-target}/release/quarry}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set QUARRY_BIN)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT
python3 scripts/crawl/make_site.py "$work/site" "$pages" "$size"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2",0)); print(s.getsockname()[1])')
python3 scripts/crawl/serve.py "$work/site" 127.0.0.2 "$port" &
srv=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.2:$port/robots.txt" >/dev/null && break; sleep 0.1; done
seed="http://127.0.0.2:$port/p0.html"
echo "$seed" > "$work/seeds.txt"

now() { python3 -c 'import time; print(time.time())'; }
row() { # name pages seconds warc_bytes
  python3 -c "import sys; n,p,s,b=sys.argv[1:]; p=int(p); s=float(s); print(f'| {n:<28} | {p:>6} | {s:>7.2f} | {p/s:>8.0f} | {int(b)/1e6:>8.2f} |')" "$@"
}
echo "site: $pages pages of ~$size bytes on 127.0.0.2 (python ThreadingHTTPServer, keep-alive)"
echo "| crawler                      |  pages |       s |  pages/s | WARC MB |"
echo "|------------------------------|--------|---------|----------|---------|"
for c in 1 8; do
  out="$work/quarry-c$c"
  t0=$(now)
  "$bin" -q crawl --seeds "$work/seeds.txt" --out "$out" --allow-private --delay-ms 0 \
    --concurrency "$c" --max-depth 1000 >/dev/null 2>&1
  t1=$(now)
  n=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['outcomes']['fetched'])" "$out/crawl-report.json")
  b=$(cat "$out"/*.warc.gz | wc -c)
  row "quarry crawl -c $c" "$n" "$(python3 -c "print($t1-$t0)")" "$b"
done
if command -v wget >/dev/null; then
  out="$work/wget"; mkdir -p "$out"
  t0=$(now)
  (cd "$out" && wget -q --recursive --level=inf --no-parent --warc-file=bench \
     --no-warc-keep-log --delete-after "$seed" >/dev/null 2>&1 || true)
  t1=$(now)
  b=$(cat "$out"/bench.warc.gz | wc -c)
  n=$(python3 -c "
import gzip,sys
n=0
with gzip.open(sys.argv[1],'rb') as f:
    for line in f:
        if line.startswith(b'WARC-Type: response'): n+=1
print(n-1)  # minus robots.txt
" "$out/bench.warc.gz")
  row "wget --recursive --warc-file" "$n" "$(python3 -c "print($t1-$t0)")" "$b"
fi
