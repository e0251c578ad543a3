#!/usr/bin/env bash
# The main job: sets up (Debian packages), builds, and reproduces the paper's experiment on
# simulated data (no download). Writes reproduction/ (figures, results.json, results.md) and
# prints the summary table. Extra arguments go to `linsim reproduce` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target linsim-cli
./build/release/linsim reproduce --out reproduction --force "$@"
