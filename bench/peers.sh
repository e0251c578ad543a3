#!/usr/bin/env bash
# linsim side by side with the routes a Python user would take (numpy, scipy, scikit-learn) on the
# same generated data, in one run; results: bench/README.md.
#   a  top-100 spectrum of a 138,000 x 20,000 matrix, ~10M interactions, read from TSV:
#      linsim fit --model eq2 --rank 100 vs scipy svds, scipy X.T@X + eigsh, sklearn randomized_svd
#   b  EASE at p = 20,000: linsim fit --model ease vs numpy inv, in float64 and in float32
#   c  all-items top-100 cosine neighbours of 20,000 random 200-dim vectors: linsim's kernel
#      (linsim_bench BM_AllItemsTopN, float64 and float32) vs faiss IndexFlatIP (bench/faiss_peer.cc,
#      same vectors) and numpy blocked float32 matmul + argpartition
#   d  the operator path on 1,000,000 users x 200,000 items (~50M interactions), top-100
#      singular values against single-vector Lanczos at tolerance 1e-10
# (a) and (d) run on linsim's simulator and again on a second generator that is not linsim's
# (bench/peers.py powerlaw), so that the spectrum is not one linsim was tuned on.
# Each peer runs as it comes (Debian's OpenBLAS, which misdetects this CPU) and in its best
# configuration (OPENBLAS_CORETYPE for this CPU's flags, as bench/openblas_core.sh chooses it,
# set before the library loads); linsim runs as it comes (no OPENBLAS_CORETYPE: it picks its
# kernels itself).
# Wall time and peak memory come from GNU time around each process. A run that fails prints
# "failed" on its row, and so do the rows that need its result, and the script goes on and exits
# 1 at the end; a run stopped at LIMIT prints "> LIMIT s" (a result: that route is slower).
# Usage: bench/peers.sh [a] [b] [c] [d]   (default: a b; needs a release build, GNU time, numpy,
#        scipy and scikit-learn from Debian's python3-* packages). WORK=dir keeps the data;
#        LIMIT=seconds stops any one process (default 900); SLOW=1 adds numpy EASE as it comes;
#        LINSIM=path runs another build of the command-line tool; OPENBLAS_CORETYPE=name chooses
#        the "best BLAS" core type.
set -euo pipefail
cd "$(dirname "$0")/.."
linsim=${LINSIM:-./build/release/linsim}
py=/usr/bin/python3
limit=${LIMIT:-900}
# Without WORK the data (several GB) cannot be found again by a later run: removed on exit.
if [[ -n "${WORK:-}" ]]; then
  work=$WORK
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
sections=${*:-a b}
failed=0

source bench/openblas_core.sh  # coretype: OpenBLAS's kernels for this CPU
# "as it comes" must not inherit a core type from the caller's environment.
best=(env -u OPENBLAS_CORETYPE ${coretype:+OPENBLAS_CORETYPE=$coretype})
as_it_comes=(env -u OPENBLAS_CORETYPE)

measure() {  # measure label command...: prints "label: wall s, peak MB" and the command's JSON; 1 if it failed
  local label=$1 status=0
  shift
  timeout "$limit" /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || status=$?
  if ((status == 124)); then  # a route slower than LIMIT is a result (a row "> LIMIT s"), not a failure
    printf '%-44s > %s s (stopped at LIMIT)\n' "$label" "$limit"
    return 1
  elif ((status != 0)); then
    printf '%-44s failed (exit %s): %s\n' "$label" "$status" "$(tail -1 "$work/err.txt")"
    failed=1
    return 1
  fi
  read -r wall kb <"$work/time.txt"
  printf '%-44s %8.1f s wall %8.0f MB peak  %s\n' "$label" "$wall" "$((kb / 1024))" "$(grep -h '^{' "$work/out.txt" || true)"
}

have() {  # have label file...: true if every file is there, else prints the row as failed
  local label=$1 f
  shift
  for f; do
    if [[ ! -f "$f" ]]; then
      printf '%-44s failed: no %s (a run above failed)\n' "$label" "${f#"$work/"}"
      failed=1
      return 1
    fi
  done
}

show() {  # show pattern model-dir: the lines of its model.json that match
  grep -E "$1" "$2/model.json" | tr -s ' ' || true
}

compare() {  # compare label A B: accuracy of singular values A against B, when both runs gave them
  have "$1" "$2" "$3" && measure "$1" $py bench/peers.py compare "$2" "$3"
}

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2/1048576}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$coretype" ]]; then echo "best BLAS: OPENBLAS_CORETYPE=$coretype"
else echo "best BLAS: no core type known for this CPU (the best rows run as they come)"; fi
[[ -n "${WORK:-}" ]] || echo "peers.sh: data in $work (removed at the end; WORK=dir keeps it)" >&2

if [[ " $sections " == *" a "* || " $sections " == *" b "* ]]; then
  [[ -f "$work/a.tsv" ]] || $linsim simulate --users 138000 --items 20000 --activity-scale 217 --seed 1 \
    --out "$work/a.tsv" --force
fi

# Each output is removed before the run that writes it, so that a failed run leaves nothing of an
# earlier one for the rows after it to read.
if [[ " $sections " == *" a "* ]]; then
  echo "== (a) top-100 spectrum, 138,000 x 20,000 (read from TSV included)"
  rm -rf "$work/a-model" "$work/svds.npy" "$work/svds-as-it-comes.npy"
  measure "linsim fit eq2 rank 100 (auto solver)" "${as_it_comes[@]}" $linsim fit --input "$work/a.tsv" --model eq2 --rank 100 \
    --lambda 10 --out "$work/a-model" --force && show '"solver' "$work/a-model"
  measure "scipy svds k=100 [best BLAS]" "${best[@]}" $py bench/peers.py svds "$work/a.tsv" 100 "$work/svds.npy" || true
  measure "scipy svds k=100 [as it comes]" "${as_it_comes[@]}" $py bench/peers.py svds "$work/a.tsv" 100 \
    "$work/svds-as-it-comes.npy" || true
  compare "accuracy: linsim vs svds" "$work/a-model/singular_values.npy" "$work/svds.npy" || true
  measure "scipy X.T@X + eigsh k=100 [best BLAS]" "${best[@]}" $py bench/peers.py eigsh "$work/a.tsv" 100 || true
  if have "sklearn randomized_svd k=100 [best BLAS]" "$work/svds.npy"; then
    measure "sklearn randomized_svd k=100 [best BLAS]" "${best[@]}" $py bench/peers.py rsvd "$work/a.tsv" 100 \
      "$work/svds.npy" || true
  fi
  echo "== (a) again on the second generator (bench/peers.py powerlaw: Zipf users and items, not linsim's simulator)"
  [[ -f "$work/a2.tsv" ]] || $py bench/peers.py powerlaw 138000 20000 11000000 7 "$work/a2.tsv"
  rm -rf "$work/a2-model" "$work/svds2.npy"
  measure "linsim fit eq2 rank 100 (auto solver)" "${as_it_comes[@]}" $linsim fit --input "$work/a2.tsv" --model eq2 --rank 100 \
    --lambda 10 --out "$work/a2-model" --force && show '"solver_reason' "$work/a2-model"
  measure "scipy svds k=100 [best BLAS]" "${best[@]}" $py bench/peers.py svds "$work/a2.tsv" 100 "$work/svds2.npy" || true
  compare "accuracy: linsim vs svds" "$work/a2-model/singular_values.npy" "$work/svds2.npy" || true
fi

if [[ " $sections " == *" b "* ]]; then
  echo "== (b) EASE, p = 20,000 (float64, then float32)"
  rm -rf "$work/ease-model" "$work/ease32-model"
  measure "linsim fit ease" "${as_it_comes[@]}" $linsim fit --input "$work/a.tsv" --model ease --lambda 500 --out "$work/ease-model" \
    --force || true
  measure "numpy inv EASE [best BLAS]" "${best[@]}" $py bench/peers.py ease "$work/a.tsv" 500 || true
  if [[ -n "${SLOW:-}" ]]; then
    measure "numpy inv EASE [as it comes]" "${as_it_comes[@]}" $py bench/peers.py ease "$work/a.tsv" 500 || true
  fi
  measure "linsim fit ease --dtype float32" "${as_it_comes[@]}" $linsim fit --input "$work/a.tsv" --model ease --lambda 500 \
    --dtype float32 --out "$work/ease32-model" --force || true
  measure "numpy inv EASE float32 [best BLAS]" "${best[@]}" $py bench/peers.py ease "$work/a.tsv" 500 float32 || true
  if have "accuracy: float32 vs float64 weights" "$work/ease32-model/weights.npy" "$work/ease-model/weights.npy"; then
    measure "accuracy: float32 vs float64 weights" $py bench/peers.py weights "$work/ease32-model/weights.npy" \
      "$work/ease-model/weights.npy" || true
  fi
fi

if [[ " $sections " == *" c "* ]]; then
  echo "== (c) all-items top-100, 20,000 x 200"
  measure "linsim kernel (BM_AllItemsTopN, f64 and f32)" "${as_it_comes[@]}" ./build/release/bench/linsim_bench \
    --benchmark_filter='BM_AllItems|BM_Gemm<float>' --benchmark_format=json &&
    { grep -E '"(name|real_time|GFLOP/s)"' "$work/out.txt" | tr -s ' ' || true; }
  if [[ -x ./build/release/bench/linsim_faiss_peer ]]; then
    measure "faiss IndexFlatIP [best BLAS]" "${best[@]}" ./build/release/bench/linsim_faiss_peer 20000 200 100 || true
    measure "faiss IndexFlatIP [as it comes]" "${as_it_comes[@]}" ./build/release/bench/linsim_faiss_peer 20000 200 100 ||
      true
  else
    echo "faiss peer not built (needs libfaiss-dev and libopenblas-dev: scripts/install-deps.sh --bench)"
  fi
  measure "numpy float32 matmul + argpartition [best BLAS]" "${best[@]}" $py bench/peers.py topn 20000 200 100 || true
  measure "numpy float32 matmul + argpartition [as it comes]" "${as_it_comes[@]}" $py bench/peers.py topn 20000 200 100 ||
    true
fi

if [[ " $sections " == *" d "* ]]; then
  echo "== (d) operator path, 1,000,000 x 200,000"
  [[ -f "$work/d.tsv" ]] || $linsim simulate --users 1000000 --items 200000 --activity-scale 150 --seed 2 \
    --out "$work/d.tsv" --force
  # The target asks for sigma within 1e-4: --solver-tol 2e-4 is that contract (each sigma_i^2 to
  # 2e-4, so sigma_i to 1e-4); the default tolerance (1e-6) is run too.
  rm -rf "$work/d-model" "$work/d-model-default"
  measure "linsim fit eq2 rank 100, --solver-tol 2e-4" "${as_it_comes[@]}" $linsim fit --input "$work/d.tsv" --model eq2 --rank 100 \
    --lambda 10 --solver-tol 2e-4 --out "$work/d-model" --force && show '"(solver|nnz)' "$work/d-model"
  measure "linsim fit eq2 rank 100, default tol 1e-6" "${as_it_comes[@]}" $linsim fit --input "$work/d.tsv" --model eq2 --rank 100 \
    --lambda 10 --out "$work/d-model-default" --force && show '"solver_reason' "$work/d-model-default"
  if [[ -f "$work/d-reference/singular_values.npy" ]]; then  # 14 minutes: kept from an earlier run in WORK
    echo "reference: kept from an earlier run in $work/d-reference"
  else
    rm -rf "$work/d-reference"
    measure "reference: linsim --solver lanczos (tol 1e-10)" "${as_it_comes[@]}" $linsim fit --input "$work/d.tsv" --model eq2 --rank 100 \
      --lambda 10 --solver lanczos --solver-tol 1e-10 --out "$work/d-reference" --force || true
  fi
  compare "accuracy: --solver-tol 2e-4 vs reference" "$work/d-model/singular_values.npy" \
    "$work/d-reference/singular_values.npy" || true
  compare "accuracy: default tol vs reference" "$work/d-model-default/singular_values.npy" \
    "$work/d-reference/singular_values.npy" || true
  echo "== (d) again on the second generator (bench/peers.py powerlaw); reference: linsim at the default tol"
  [[ -f "$work/d2.tsv" ]] || $py bench/peers.py powerlaw 1000000 200000 55000000 8 "$work/d2.tsv"
  rm -rf "$work/d2-model" "$work/d2-model-default"
  measure "linsim fit eq2 rank 100, --solver-tol 2e-4" "${as_it_comes[@]}" $linsim fit --input "$work/d2.tsv" --model eq2 --rank 100 \
    --lambda 10 --solver-tol 2e-4 --out "$work/d2-model" --force && show '"(solver|nnz)' "$work/d2-model"
  measure "linsim fit eq2 rank 100, default tol 1e-6" "${as_it_comes[@]}" $linsim fit --input "$work/d2.tsv" --model eq2 --rank 100 \
    --lambda 10 --out "$work/d2-model-default" --force || true
  compare "accuracy: --solver-tol 2e-4 vs default tol" "$work/d2-model/singular_values.npy" \
    "$work/d2-model-default/singular_values.npy" || true
fi
exit "$failed"
