#!/usr/bin/env bash
# linsim's Python package side by side with the CLI, the C++ call and scipy/numpy (bench/python.py;
# results: bench/README.md, "Python package"). Needs the release preset's build: the package in
# build/release/python, the CLI and linsim_bench (LINSIM_CLI, LINSIM_BENCH choose others); ML100K
# from $LINSIM_DATA_DIR/ml-100k/u.data (its rows are skipped when unset).
# Usage: bench/python.sh [fit] [call] [peers]   (default: all; RUNS, CALLS, THREADS, WORK: see python.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/build/release/python${PYTHONPATH:+:$PYTHONPATH}
exec /usr/bin/python3 bench/python.py "$@"
