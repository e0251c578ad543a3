#!/usr/bin/env bash
# The library as another project sees it: installs this build into a temporary prefix, builds
# tests/consumer against it with find_package(linsim) and runs it (docs/api.md, "Building against
# the library"). Usage: installed_library.sh BUILD_DIR CONSUMER_SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$1 consumer=$2 compiler=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/linsim-installed.XXXXXX")
trap 'rm -rf "$work"' EXIT
run() {  # quiet unless it fails
  if ! "$@" > "$work/log" 2>&1; then
    cat "$work/log"
    echo "failed: $*" >&2
    exit 1
  fi
}
run cmake --install "$build" --prefix "$work/prefix"
for file in liblinsim.a model.h linsimConfig.cmake linsimTargets.cmake; do
  [[ -n "$(find "$work/prefix" -name "$file" -print -quit)" ]] || { echo "not installed: $file" >&2; exit 1; }
done
run cmake -S "$consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$compiler" \
  -DCMAKE_PREFIX_PATH="$work/prefix"
grep -q "linsim found in $work/prefix/" "$work/log" || { cat "$work/log"; echo "not the installed linsim" >&2; exit 1; }
run cmake --build "$work/build" -j 2
"$work/build/linsim_consumer"
