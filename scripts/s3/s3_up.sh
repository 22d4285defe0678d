#!/usr/bin/env bash
# Bring up a real S3-compatible server (s3s-fs, from crates.io) on 127.0.0.1, idempotently.
#
#   source <(bash scripts/s3/s3_up.sh --print-env)   # or: bash scripts/s3/s3_up.sh; source $QUARRY_S3_BASE/env
#
# s3s-fs is the S3 protocol implementation of the s3s crate served over a folder: it signs and checks
# SigV4, does multipart uploads, Range GETs and conditional requests, and writes each object to a
# temporary file renamed into place, so an object is visible only when complete (as on S3).
#
# Env knobs:
#   QUARRY_S3_BASE   working dir (data, log, pid, env)       default ${TMPDIR:-/tmp}/quarry-s3s
#   QUARRY_S3_PORT   port                                      default: a free port, kept across calls
#   S3S_FS_BIN       an s3s-fs binary to use (skips the build) default $QUARRY_TOOLS/s3s-fs/bin/s3s-fs
#   QUARRY_TOOLS     where tools are built and cached          default ${XDG_CACHE_HOME:-$HOME/.cache}/quarry
#   S3_BUCKET        bucket created at start                   default quarry-test
# Writes $QUARRY_S3_BASE/env: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# QUARRY_S3_ENDPOINT (the variable the tests look for), QUARRY_S3_BUCKET.
set -euo pipefail

BASE=${QUARRY_S3_BASE:-${TMPDIR:-/tmp}/quarry-s3s}
TOOLS=${QUARRY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/quarry}
BIN=${S3S_FS_BIN:-$TOOLS/s3s-fs/bin/s3s-fs}
BUCKET=${S3_BUCKET:-quarry-test}
# s3s-fs 0.17 needs rustc 1.96; 0.14.1 is the newest that builds with this toolchain (1.95).
VERSION=${S3S_FS_VERSION:-0.14.1}
PRINT_ENV=0
[[ ${1:-} == --print-env ]] && PRINT_ENV=1
mkdir -p "$BASE/data"
log() { echo "[s3_up] $*" >&2; }

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null && [[ $(awk '{print $3}' /proc/"$(cat "$1")"/stat 2>/dev/null) != Z ]]; }

if [[ ! -x $BIN ]]; then
  log "building s3s-fs $VERSION from crates.io into $TOOLS/s3s-fs (about 3 min on 2 cores, once)"
  mkdir -p "$TOOLS/s3s-fs"
  CARGO_TARGET_DIR=$TOOLS/s3s-fs/target cargo install s3s-fs --version "$VERSION" --locked \
    --features binary --root "$TOOLS/s3s-fs" -j "${S3S_BUILD_JOBS:-2}" >"$TOOLS/s3s-fs/build.log" 2>&1 \
    || { log "build failed; see $TOOLS/s3s-fs/build.log"; exit 1; }
  rm -rf "$TOOLS/s3s-fs/target"
  BIN=$TOOLS/s3s-fs/bin/s3s-fs
fi

PID=$BASE/s3s-fs.pid
if ! alive "$PID"; then
  port=${QUARRY_S3_PORT:-}
  if [[ -z $port ]]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  fi
  key=quarry-test-key
  secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$BASE/data/$BUCKET"   # a bucket is a folder for s3s-fs
  log "starting s3s-fs on 127.0.0.1:$port over $BASE/data"
  RUST_LOG=${RUST_LOG:-warn} nohup "$BIN" --host 127.0.0.1 --port "$port" \
    --access-key "$key" --secret-key "$secret" "$BASE/data" >"$BASE/s3s-fs.log" 2>&1 &
  echo $! >"$PID"
  cat >"$BASE/env" <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export QUARRY_S3_ENDPOINT=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=$key
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export QUARRY_S3_BUCKET=$BUCKET
export QUARRY_S3_DATA=$BASE/data
ENV
fi
# shellcheck disable=SC1091
source "$BASE/env"
mkdir -p "$QUARRY_S3_DATA/$BUCKET"
hostport=${AWS_ENDPOINT_URL#http://}
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}") 2>/dev/null; then
    if [[ $PRINT_ENV == 1 ]]; then cat "$BASE/env"; else log "s3s-fs up at $AWS_ENDPOINT_URL; source $BASE/env"; fi
    exit 0
  fi
  sleep 0.1
done
log "s3s-fs did not answer; see $BASE/s3s-fs.log"
exit 1
