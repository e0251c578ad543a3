#!/usr/bin/env bash
# Sets up (Debian packages), builds the release preset and runs every test with ctest.
# Tests that need the public data sets read them from $LINSIM_DATA_DIR and are reported as
# skipped when it is unset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release -j "$(nproc)" "$@"
