#!/usr/bin/env bash
# Sets up (Debian packages), builds the release preset and runs every test with ctest.
# Tests that need the public data sets read them from $LINSIM_DATA_DIR and are reported as
# skipped when it is unset. Chromium (for the audit report's browser test) is installed too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release -j "$(nproc)" "$@"
