#!/usr/bin/env bash
# S3 write/read MB/s against local disk: a MB-sized file (default 256) written to disk, uploaded to a
# real S3-compatible server on loopback (s3s-fs) as one PUT and as a multipart upload, and read back.
#
#   scripts/bench/s3.sh [MB] [DIR]
#
# Builds/starts s3s-fs through scripts/s3/s3_up.sh (idempotent). The example is built with the dev
# profile (dependencies at opt-level 3; the hot path is object_store + reqwest + the kernel).
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash scripts/s3/s3_up.sh --print-env)"
cargo run -q -j "${JOBS:-2}" -p quarry-corpus --example s3_bench -- "${1:-256}" "${2:-${TMPDIR:-/tmp}}"
