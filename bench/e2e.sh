#!/usr/bin/env bash
# End-to-end timings of the command-line tool on generated data (results: bench/README.md).
#   1. simulate 138,000 users x 20,000 items (~10M interactions)
#   2. fit eq2 at rank 200 on it
#   3. similar-items --all --top 100 over the 20,000 items (projected measure)
#   4. the paper's data (20,000 x 1,000, ~6.7M interactions): the remedies' fits
#   5. the main job: reproduce with and without the remedies
#   6. audit of 100,000 x 256 float32 embeddings (rank-32 structure plus noise)
# Usage: bench/e2e.sh [work-dir]   (needs a release build and GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
linsim=./build/release/linsim
# Nothing here is reused by a later run: a folder of our own is removed on exit.
if [[ -n "${1:-}" ]]; then
  work=$1
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
measure() {  # measure label command...: "label: wall, peak"; a failing step's stderr, then exit 1
  local label=$1
  shift
  # GNU time writes to its own file, so the command's stderr stays apart and can be shown.
  if ! /usr/bin/time -f "$label: %e s wall, %M KB peak" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt"; then
    echo "e2e.sh: step $label failed:" >&2
    cat "$work/err.txt" >&2
    exit 1
  fi
  cat "$work/time.txt"
}
measure simulate $linsim simulate --users 138000 --items 20000 --activity-scale 217 --seed 1 \
  --out "$work/big.tsv" --force
measure fit-eq2-rank200 $linsim fit --input "$work/big.tsv" --model eq2 --rank 200 --lambda 10 \
  --out "$work/model" --force
grep -E '"(solver|nnz)"' "$work/model/model.json" | tr -d ' ,'
measure similar-items-all-top100 $linsim similar-items --model "$work/model" --measure projected --all \
  --top 100 --output "$work/neighbours.tsv" --force
wc -l <"$work/neighbours.tsv"
measure simulate-paper $linsim simulate --seed 42 --out "$work/paper.tsv" --force
measure fit-cosine-200-epochs $linsim fit --input "$work/paper.tsv" --model cosine --rank 50 --epochs 200 \
  --out "$work/cosine" --force
grep -E '"(iterations|converged|seconds)"' "$work/cosine/model.json" | tr -d ' ,'
measure fit-sppmi $linsim fit --input "$work/paper.tsv" --model sppmi --rank 50 --out "$work/sppmi" --force
measure fit-eq2-ips-standardize $linsim fit --input "$work/paper.tsv" --model eq2 --rank 50 \
  --weighting ips:0.5,standardize --out "$work/weighted" --force
measure reproduce $linsim reproduce --out "$work/reproduction" --force
measure reproduce-no-remedies $linsim reproduce --no-remedies --out "$work/reproduction" --force
/usr/bin/python3 -c "
import numpy as np, sys
rng = np.random.default_rng(0)
Z, W = rng.standard_normal((100000, 32)), rng.standard_normal((32, 256))
np.save(sys.argv[1], (Z @ W + 0.5 * rng.standard_normal((100000, 256))).astype(np.float32))" "$work/big.npy"
measure audit-100k-x-256 $linsim audit --items "$work/big.npy" --out "$work/audit" --force
