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

# A real S3-compatible server (s3s-fs, built once from crates.io into ~/.cache/quarry) for the S3
# tests (tests/s3.rs); this exports QUARRY_S3_ENDPOINT and the AWS_* variables the tests use.
eval "$(bash scripts/s3/s3_up.sh --print-env)"

# A one-node Slurm cluster for tests/slurm.rs (installs slurm + munge from Debian when missing, starts
# the daemons by hand). Its failure does not stop the suite, but is loud, and the Slurm test then skips.
if [ -z "${QUARRY_SLURM:-}" ]; then
  if bash "$root/scripts/slurm/up.sh" >&2; then
    export QUARRY_SLURM=up
  else
    export QUARRY_SLURM=failed
    echo "!!!!!!!! scripts/slurm/up.sh FAILED: the Slurm end-to-end test will be SKIPPED !!!!!!!!" >&2
  fi
fi

# mlcroissant (MLCommons' reference Croissant implementation) and pyarrow for the dataset-card check
# (tests/card.rs validates croissant.json and reads every record through them; skipped when absent).
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import mlcroissant, pyarrow" >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check mlcroissant pyarrow \
      || echo "mlcroissant/pyarrow not installed; the Croissant check will be skipped" >&2
  fi
fi

# warcio, the independent WARC reader tests/crawl.rs checks `quarry crawl` output with.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import warcio" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "warcio>=1.7,<2" \
    || echo "warcio not installed; the crawler's warcio check will be skipped" >&2
fi

echo "== cargo test (workspace) =="
cargo test --workspace --locked --no-fail-fast 2>&1
