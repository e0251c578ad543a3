#!/usr/bin/env bash
# `pip install .` as docs/python.md tells a user to run it, offline: a virtual environment that
# sees Debian's packages, pip without build isolation, from a copy of the checkout's files. The
# extension is built in the given CMake build tree (LINSIM_BUILD_DIR; the test build's, so that
# this test does not compile the library a second time), then the installed package is imported
# from outside the source tree and used. Usage: pip_install.sh SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
source_dir=$1 build_dir=$2 python=$3
if ! "$python" -c "import ensurepip" 2>/dev/null; then
  echo "skipped: $python has no ensurepip (Debian: python3-venv)"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/linsim-pip.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
# The checkout's files without build trees or virtual environments.
(cd "$source_dir" && tar --exclude='./build*' --exclude='./.venv' --exclude='./.git' -cf - .) | tar -xf - -C "$work/src"
"$python" -m venv --system-site-packages "$work/venv"
LINSIM_BUILD_DIR="$build_dir" "$work/venv/bin/pip" install --no-build-isolation --no-index --no-deps -q "$work/src"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import os
import linsim
assert "/venv/lib/" in linsim.__file__, linsim.__file__  # the installed copy, not a build tree
X, _ = linsim.simulate(users=300, items=40, clusters=2, seed=1)
model = linsim.EQ2(rank=4, lam=2.0, progress=False).fit(X)
ids, scores = model.similar_items(0, N=3)
assert ids.shape == (3,)
print("installed", linsim.__version__, "at", os.path.dirname(linsim.__file__))
PY
