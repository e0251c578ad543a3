#!/usr/bin/env bash
# Sets up, builds, and runs a first fit and similarity query on the bundled tiny fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target linsim-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./build/release/linsim fit --input tests/data/tiny.tsv --model eq1 --gauge symmetric --rank 4 --lambda 5 \
  --out "$out/model"
for measure in cosine projected; do
  echo "== eq1 (symmetric gauge), measure: $measure"
  ./build/release/linsim similar-items --model "$out/model" --measure "$measure" --items film00,film05,film10 --top 3
done
