#!/usr/bin/env bash
# Stop the s3s-fs server started by s3_up.sh (its data folder stays unless --wipe).
set -euo pipefail
BASE=${QUARRY_S3_BASE:-${TMPDIR:-/tmp}/quarry-s3s}
if [[ -f $BASE/s3s-fs.pid ]]; then
  kill "$(cat "$BASE/s3s-fs.pid")" 2>/dev/null || true
  rm -f "$BASE/s3s-fs.pid" "$BASE/env"
fi
[[ ${1:-} == --wipe ]] && rm -rf "$BASE/data"
echo "[s3_down] stopped" >&2
