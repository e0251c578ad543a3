#!/usr/bin/env bash
# Installs the Debian packages linsim needs to build, test and benchmark.
#   Eigen 3.4       dense/sparse linear algebra; its own GEMM compiled for the host is fast
#                   without depending on how a BLAS library detects the CPU.
#   libopenblas0-pthread   optional at run time: linsim loads it (dlopen) for the single-threaded
#                   GEMM tiles of EASE's inverse and the all-items search, with the core type
#                   chosen from the CPU's flags (include/linsim/core/setup.h); Eigen otherwise.
#   Spectra 1.0     Lanczos eigen-solver over an operator (never forms XᵀX).
#   CLI11, fmt      command line and formatting (g++ 12 has no <format>).
#   nlohmann-json   model.json and reports.
#   zlib            gzip input.
#   cairo + DejaVu  figures: heatmaps with text, written as PNG (cairo encodes through libpng).
#   GoogleTest, Google Benchmark   tests and kernels.
#   python3-numpy, python3-scipy   independent cross-checks in the test suite and peers in bench/.
#   time            GNU time, for peak memory in bench/.
#   pybind11-dev, python3-dev   the Python package (python/, docs/python.md); python3-venv and
#                   python3-pip for `pip install .`; python3-pandas for DataFrame input.
#   libopenmpi-dev, openmpi-bin, libscalapack-openmpi-dev   linsim-mpi (mpi/, docs/distributed.md):
#                   the fits across MPI ranks, EASE's inverse on ScaLAPACK; mpirun for its tests.
#   python3-pytest, python3-gensim, python3-sklearn, python3-faiss   (with --test only) the
#                   Python package's tests and its walk-through (docs/python.md): KeyedVectors,
#                   TruncatedSVD factors and a faiss index of exported vectors.
#   chromium        (with --test only) headless browser that checks the audit's HTML report.
#   python3-sklearn, python3-gensim, libfaiss-dev, libopenblas-dev   (with --bench only) the
#                   peers of bench/peers.sh and bench/words.sh: scikit-learn, gensim's word2vec, and
#                   faiss (a static library that links BLAS and LAPACK through libopenblas-dev).
#   clang, libclang-rt-dev, libomp-dev, llvm   (with --fuzz only) fuzz/run.sh: clang++ with its
#                   libFuzzer/ASan/UBSan runtimes (libclang-rt-14-dev, only recommended by clang, so
#                   not pulled in by --no-install-recommends), LLVM's OpenMP for clang (libomp-14-dev),
#                   and llvm-symbolizer for readable stack traces.
# Usage: install-deps.sh [--test] [--bench] [--fuzz]
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libeigen3-dev libspectra-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  zlib1g-dev libcairo2-dev fonts-dejavu-core
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-numpy python3-scipy time libopenblas0-pthread
  pybind11-dev python3-dev python3-venv python3-pip python3-pandas
  libopenmpi-dev openmpi-bin libscalapack-openmpi-dev
)
for option in "$@"; do
  case "$option" in
    --test) packages+=(chromium python3-pytest python3-gensim python3-sklearn python3-faiss) ;;
    --bench) packages+=(python3-sklearn python3-gensim libfaiss-dev libopenblas-dev) ;;
    --fuzz) packages+=(clang libclang-rt-dev libomp-dev llvm) ;;
    *) echo "usage: install-deps.sh [--test] [--bench] [--fuzz]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
