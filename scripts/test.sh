#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, starts the services they
# use, then runs `cargo test` over the workspace. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Real test data lives beside the repository (never copied into it).
export QUARRY_TEST_DATA="${QUARRY_TEST_DATA:-$(cd "$root/.." && pwd)/shared/data}"
if [ ! -d "$QUARRY_TEST_DATA" ]; then
  echo "test data not found at $QUARRY_TEST_DATA (set QUARRY_TEST_DATA)" >&2
  exit 2
fi

# The language-ID model of the default recipe comes from the test data (no network in CI).
export QUARRY_LID_MODEL="${QUARRY_LID_MODEL:-$QUARRY_TEST_DATA/lid/lid.176.ftz}"

# Python is used only by the independent-reader checks (numpy), never to produce expected values.
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import numpy, tokenizers" >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "numpy<3" "tokenizers>=0.20,<0.24" \
      || echo "numpy/tokenizers not installed; the independent token-shard check will be skipped" >&2
  fi
fi

# warcio, the independent WARC reader tests/crawl.rs checks `quarry crawl` output with.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import warcio" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "warcio>=1.7,<2" \
    || echo "warcio not installed; the crawler's warcio check will be skipped" >&2
fi

# An S3-compatible server for the s3:// reader tests (moto's server, started by the tests themselves).
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]" || echo "moto not installed; S3 tests will be skipped" >&2
fi

echo "== cargo test (workspace) =="
cargo test --workspace --locked --no-fail-fast 2>&1
