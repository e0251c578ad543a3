#!/usr/bin/env bash
# linsim's Python package side by side with the CLI, the C++ call and scipy/numpy (bench/python.py;
# results: bench/README.md, "Python package"). Needs the package built in build/py (its CLI too) and
# linsim_bench built with BM_SimilarItemsOneQuery (build/bench-py, see bench/README.md); ML100K
# from $LINSIM_DATA_DIR/ml-100k/u.data (its rows are skipped when unset).
# Usage: bench/python.sh [fit] [call] [peers]   (default: all; RUNS, CALLS, THREADS, WORK: see python.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/build/py/python${PYTHONPATH:+:$PYTHONPATH}
exec /usr/bin/python3 bench/python.py "$@"
