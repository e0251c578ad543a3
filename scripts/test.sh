#!/usr/bin/env bash
# Sets up (Debian packages), builds the release preset and runs every test with ctest.
# Tests that need the public data sets read them from $LINSIM_DATA_DIR and are reported as
# skipped when it is unset. Chromium (for the audit report's browser test) is installed too.
# LINSIM_PRESET selects another configure/build/test preset: CI uses "ci" (the release build
# with warnings as errors, in build/ci); the default "release" does not make warnings fatal, so
# a newer compiler's new warning never stops a newcomer's first build.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${LINSIM_PRESET:-release}"
bash scripts/install-deps.sh --test
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)" "$@"
