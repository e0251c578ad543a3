#!/usr/bin/env bash
# linsim-mpi on 1 and 2 ranks beside the single-process linsim and SLEPc, on the same generated data,
# in one run; results: bench/README.md ("Across MPI ranks").
#   fit    top-100 spectrum of the 138,000 x 20,000 matrix of bench/peers.sh (a) (~10M interactions,
#          read from TSV): linsim fit eq2 --rank 100 --solver randomized (tol 1e-6) vs linsim-mpi on 1
#          and 2 ranks vs SLEPc's thick-restart Lanczos (bench/slepc_svd.c) on 1 and 2 ranks, on the
#          same matrix converted once to PETSc's binary format (bench/petsc_binary.py; the conversion
#          is timed apart and not counted), k = 100 at the matching tolerance; sigma compared
#   ease   EASE at p = 20,000 on the same data: linsim fit --model ease vs linsim-mpi on 1 and 2 ranks
#          (ScaLAPACK), float64, then float32 on 2 ranks; weights compared
#   check  correctness only: 4 ranks (oversubscribed) against linsim fit on a 20,000 x 2,000 draw,
#          eq2 rank 20 (sigma to 1e-10 relative) and EASE (weights to 1e-10)
# Wall time and peak memory come from GNU time around each process (around mpirun: the whole job's
# wall, and the peak of its largest process, not the sum over ranks); with linsim-mpi's --stats,
# each rank's wall time, time inside MPI and peak memory are printed under its row. One rank runs
# with --bind-to none, so its threads have every core as linsim fit's do; 2 ranks take one core each
# (Open MPI's default binding). SLEPc runs one thread per rank (OPENBLAS_NUM_THREADS=1) with
# OpenBLAS's kernels for this CPU (OPENBLAS_CORETYPE, as linsim-mpi chooses them itself).
# Usage: bench/mpi.sh [fit] [ease] [check]   (default: all; needs a release build with linsim-mpi,
#        Open MPI, GNU time, numpy, scipy and pandas from Debian's python3-* packages, and for the
#        SLEPc rows slepc-dev). LINSIM=, LINSIM_MPI= choose the binaries; WORK=dir keeps the data;
#        LIMIT=seconds stops any one process (default 1200); USERS=, ITEMS=, ACTIVITY= change the data
#        of fit and ease; RANK=, LAMBDA=, TOL= the fit (EASE's lambda stays 500, that of
#        bench/peers.sh (b)); SMALL=1 runs every row on small sizes (a smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
linsim=${LINSIM:-./build/release/linsim}
linsim_mpi=${LINSIM_MPI:-./build/release/mpi/linsim-mpi}
py=/usr/bin/python3
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
# Kept for a later run (WORK=dir): the data, its PETSc conversion, the SLEPc program.
[[ -n "${WORK:-}" ]] || echo "mpi.sh: work dir $work (kept: WORK=$work reuses it)" >&2
sections=${*:-fit ease check}
limit=${LIMIT:-1200}

if [[ -n "${SMALL:-}" ]]; then
  users=${USERS:-5000} items=${ITEMS:-500} activity=${ACTIVITY:-20} rank=${RANK:-20} lambda=${LAMBDA:-1}
  check_users=3000 check_items=300 check_activity=20
else
  users=${USERS:-138000} items=${ITEMS:-20000} activity=${ACTIVITY:-217} rank=${RANK:-100} lambda=${LAMBDA:-10}
  check_users=20000 check_items=2000 check_activity=30
fi
tol=${TOL:-1e-6}
ease_lambda=500  # fixed: the EASE rows of bench/peers.sh (b) use it too
# The data of bench/peers.sh (a) keeps its name, so one WORK serves both scripts.
if [[ "$users x $items x $activity" == "138000 x 20000 x 217" ]]; then data=$work/a.tsv; else data=$work/a-${users}x${items}.tsv; fi

source bench/openblas_core.sh  # coretype: OpenBLAS's kernels for this CPU, for the SLEPc ranks

mpirun_np() {  # mpirun_np N: the launcher's arguments for N ranks on this machine
  local args=(mpirun -np "$1")
  [[ $(id -u) == 0 ]] && args+=(--allow-run-as-root)
  (($1 == 1)) && args+=(--bind-to none)
  (($1 > $(nproc))) && args+=(--oversubscribe --bind-to none)
  echo "${args[@]}"
}

if [[ ! -x "$linsim_mpi" ]]; then
  echo "mpi.sh: no $linsim_mpi (a build with Open MPI and ScaLAPACK makes it; LINSIM_MPI= names another)" >&2
  exit 2
fi
stats=()
if "$linsim_mpi" --help 2>/dev/null | grep -q -- --stats; then stats=(--stats); fi

runs=0
rm -f "$work"/err-[0-9]*.txt  # only this run's in WORK
measure() {  # measure label command...: prints "label: wall s, peak MB", the command's JSON, --stats lines
  local label=$1 err
  shift
  runs=$((runs + 1))
  err=$(printf '%s/err-%02d.txt' "$work" "$runs")  # one per run: a later run must not overwrite it
  if ! timeout "$limit" /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$err"; then
    printf '%-48s did not finish within %s s (or failed): %s\n' "$label" "$limit" \
      "$(grep -v -E '^-+$|^$' "$err" | grep -v '^linsim-mpi: rank' | head -1)"
    echo "mpi.sh: $label: its stderr ($err):" >&2
    sed 's/^/    /' "$err" >&2
    return 1
  fi
  read -r wall kb <"$work/time.txt"
  printf '%-48s %8.1f s wall %8.0f MB peak  %s\n' "$label" "$wall" "$((kb / 1024))" \
    "$(grep -h '^{' "$work/out.txt" | sed -E 's/"sigma": \[[^]]*\]/"sigma": [...]/' || true)"
  grep -h '^linsim-mpi: rank' "$err" | sed 's/^linsim-mpi: /    /' || true
}

compare() {  # compare sigma|weights A B: one line, the largest relative difference of A from B; 1 if
             # the counts (shapes) differ or there is nothing to compare
  $py - "$@" <<'EOF'
import json, sys
import numpy as np
mode, a, b = sys.argv[1:4]
if mode == "sigma":  # .npy from linsim, or the JSON line of slepc_svd
    def load(path):
        if path.endswith(".json"):
            with open(path) as f:
                return np.array(json.loads(next(l for l in f if l.startswith("{")))["sigma"])
        return np.load(path)
    # Largest first in both, whatever order each program gave them in.
    x, y = np.sort(load(a))[::-1], np.sort(load(b))[::-1]
    n = min(len(x), len(y))
    if n == 0:
        print("no singular values to compare"); sys.exit(1)
    rel = np.abs(x[:n] - y[:n]) / np.abs(y[:n])
    print(f"max |dsigma|/sigma {rel.max():.2e} over the largest {n} values (worst at i = {int(rel.argmax()) + 1})"
          + ("" if len(x) == len(y) else f"; {len(x)} vs {len(y)} values"))
    sys.exit(0 if len(x) == len(y) else 1)
else:  # weights: memory-mapped, a block of rows at a time
    x, y = np.load(a, mmap_mode="r"), np.load(b, mmap_mode="r")
    if x.shape != y.shape:
        print(f"shapes differ: {x.shape} vs {y.shape}"); sys.exit(1)
    diff = scale = 0.0
    step = max(1, (1 << 24) // max(1, x.shape[1]))
    for i in range(0, x.shape[0], step):
        xb, yb = np.asarray(x[i:i + step], dtype=np.float64), np.asarray(y[i:i + step], dtype=np.float64)
        diff, scale = max(diff, float(np.abs(xb - yb).max())), max(scale, float(np.abs(yb).max()))
    print(f"max |dW|/max |W| {diff / scale if scale else diff:.2e} ({x.shape[0]} x {x.shape[1]}, "
          f"{x.dtype} vs {y.dtype})")
EOF
}

check_line() {  # check_line label bound compare-args...: the comparison and PASS/FAIL against bound
  local label=$1 bound=$2
  shift 2
  local line value compared=0
  if [[ ! -f "$2" || ! -f "$3" ]]; then
    printf '%-48s FAIL  no result to compare (a run above failed)\n' "$label"
    failed=1
    return 0
  fi
  line=$(compare "$@") || compared=$?  # not 0: counts or shapes differ, a FAIL whatever the values
  value=$(grep -o -m1 -E '[0-9]\.[0-9]+e[+-][0-9]+' <<<"$line" | head -1 || true)
  if ((compared == 0)) && [[ -n "$value" ]] && $py -c "import sys; sys.exit(0 if float('$value') <= $bound else 1)"; then
    printf '%-48s PASS  %s\n' "$label" "$line"
  else
    printf '%-48s FAIL  %s (bound %s)\n' "$label" "$line" "$bound"
    failed=1
  fi
}

slepc_ready() {  # builds $work/slepc_svd from bench/slepc_svd.c when missing or older; 1 if SLEPc is absent
  local bin=$work/slepc_svd
  [[ -x "$bin" && "$bin" -nt bench/slepc_svd.c ]] && return 0
  local flags=()
  if pkg-config --exists slepc 2>/dev/null; then
    read -r -a flags <<<"$(pkg-config --cflags --libs slepc)"
  elif [[ -d /usr/lib/slepcdir/slepc-real && -d /usr/lib/petscdir/petsc-real ]]; then  # Debian's layout
    flags=(-I/usr/lib/slepcdir/slepc-real/include -I/usr/lib/petscdir/petsc-real/include
      -L/usr/lib/slepcdir/slepc-real/lib -L/usr/lib/petscdir/petsc-real/lib -lslepc_real -lpetsc_real)
  else
    echo "SLEPc rows skipped: SLEPc is not installed (Debian: apt-get install slepc-dev)"
    return 1
  fi
  if ! command -v mpicc >/dev/null; then
    echo "SLEPc rows skipped: no mpicc (Debian: libopenmpi-dev)"
    return 1
  fi
  if ! mpicc -O2 bench/slepc_svd.c -o "$bin" "${flags[@]}" 2>"$work/slepc-build.txt"; then
    echo "SLEPc rows skipped: bench/slepc_svd.c did not compile: $(head -3 "$work/slepc-build.txt")"
    return 1
  fi
}

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2/1048576}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
echo "mpi:     $(mpirun --version 2>/dev/null | head -1); SLEPc $(pkg-config --modversion slepc 2>/dev/null || echo 'not installed')"
if ((${#stats[@]} == 0)); then
  echo "note:    $linsim_mpi has no --stats: per-rank time inside MPI and memory are not shown"
fi
failed=0

if [[ " $sections " == *" fit "* || " $sections " == *" ease "* ]]; then
  [[ -f "$data" ]] || $linsim simulate --users "$users" --items "$items" --activity-scale "$activity" --seed 1 \
    --out "$data" --force
  # The draw can leave asked-for users and items without any interaction: the headers give the
  # shape of the data itself.
  read -r data_users data_items < <(awk -F'\t' 'NR > 1 { if (!($1 in u)) { u[$1]; nu++ }
    if (!($2 in i)) { i[$2]; ni++ } } END { print nu + 0, ni + 0 }' "$data")
fi

if [[ " $sections " == *" fit "* ]]; then
  echo "== fit: top-$rank spectrum, $data_users x $data_items (read from TSV included), eq2 randomized, tol $tol"
  rm -rf "$work"/fit-1proc "$work"/fit-mpi[12] "$work"/slepc-[12].json
  fit=(fit --input "$data" --model eq2 --rank "$rank" --lambda "$lambda" --solver randomized --solver-tol "$tol")
  measure "linsim fit (1 process)" $linsim "${fit[@]}" --out "$work/fit-1proc" --force || true
  grep -E '"(solver_reason|nnz)"' "$work/fit-1proc/model.json" 2>/dev/null | tr -s ' ' || true
  for np in 1 2; do
    measure "linsim-mpi fit, $np rank$( ((np > 1)) && echo s)" $(mpirun_np $np) $linsim_mpi "${stats[@]}" \
      "${fit[@]}" --out "$work/fit-mpi$np" --force || true
  done
  for np in 1 2; do
    [[ -f "$work/fit-mpi$np/singular_values.npy" && -f "$work/fit-1proc/singular_values.npy" ]] &&
      printf '%-48s %s\n' "accuracy: $np rank(s) vs 1 process" \
        "$(compare sigma "$work/fit-mpi$np/singular_values.npy" "$work/fit-1proc/singular_values.npy")"
  done
  if slepc_ready; then
    petsc=${data%.tsv}.petsc
    if [[ ! -f "$petsc" ]]; then
      measure "convert TSV to PETSc binary (not counted)" $py bench/petsc_binary.py "$data" "$petsc.part" &&
        mv "$petsc.part" "$petsc"
    fi
    for np in 1 2; do
      if measure "SLEPc trlanczos k=$rank, $np rank$( ((np > 1)) && echo s)" $(mpirun_np $np) \
        ${coretype:+-x OPENBLAS_CORETYPE=$coretype} -x OPENBLAS_NUM_THREADS=1 \
        "$work/slepc_svd" -file "$petsc" -k "$rank" -tol "$tol"; then
        cp "$work/out.txt" "$work/slepc-$np.json"
        [[ -f "$work/fit-1proc/singular_values.npy" ]] &&
          printf '%-48s %s\n' "accuracy: SLEPc $np rank(s) vs linsim" \
            "$(compare sigma "$work/slepc-$np.json" "$work/fit-1proc/singular_values.npy")"
      fi
    done
  fi
fi

if [[ " $sections " == *" ease "* ]]; then
  echo "== ease: p = $data_items, lambda $ease_lambda (read from TSV included)"
  rm -rf "$work"/ease-1proc "$work"/ease-mpi[12] "$work"/ease32-mpi2
  ease=(fit --input "$data" --model ease --lambda "$ease_lambda")
  measure "linsim fit ease (1 process)" $linsim "${ease[@]}" --out "$work/ease-1proc" --force || true
  for np in 1 2; do
    measure "linsim-mpi fit ease, $np rank$( ((np > 1)) && echo s)" $(mpirun_np $np) $linsim_mpi "${stats[@]}" \
      "${ease[@]}" --out "$work/ease-mpi$np" --force || true
  done
  measure "linsim-mpi fit ease --dtype float32, 2 ranks" $(mpirun_np 2) $linsim_mpi "${stats[@]}" \
    "${ease[@]}" --dtype float32 --out "$work/ease32-mpi2" --force || true
  [[ -f "$work/ease-mpi2/weights.npy" && -f "$work/ease-1proc/weights.npy" ]] &&
    printf '%-48s %s\n' "accuracy: 2 ranks vs 1 process, float64" \
      "$(compare weights "$work/ease-mpi2/weights.npy" "$work/ease-1proc/weights.npy")"
  [[ -f "$work/ease32-mpi2/weights.npy" && -f "$work/ease-1proc/weights.npy" ]] &&
    printf '%-48s %s\n' "accuracy: float32 2 ranks vs float64 1 process" \
      "$(compare weights "$work/ease32-mpi2/weights.npy" "$work/ease-1proc/weights.npy")"
fi

if [[ " $sections " == *" check "* ]]; then
  echo "== check: 4 ranks (oversubscribed) vs 1 process, $check_users x $check_items, correctness only"
  cdata=$work/check-${check_users}x${check_items}.tsv
  [[ -f "$cdata" ]] || $linsim simulate --users "$check_users" --items "$check_items" \
    --activity-scale "$check_activity" --seed 3 --out "$cdata" --force
  rm -rf "$work"/check-1proc "$work"/check-mpi4 "$work"/check-ease-1proc "$work"/check-ease-mpi4
  cfit=(fit --input "$cdata" --model eq2 --rank 20 --lambda 1 --solver randomized)
  cease=(fit --input "$cdata" --model ease --lambda "$ease_lambda")
  measure "linsim fit eq2 rank 20 (1 process)" $linsim "${cfit[@]}" --out "$work/check-1proc" --force || true
  measure "linsim-mpi fit eq2 rank 20, 4 ranks" $(mpirun_np 4) $linsim_mpi "${cfit[@]}" \
    --out "$work/check-mpi4" --force || true
  check_line "check: eq2 sigma, 4 ranks vs 1 process" 1e-10 sigma "$work/check-mpi4/singular_values.npy" \
    "$work/check-1proc/singular_values.npy"
  measure "linsim fit ease (1 process)" $linsim "${cease[@]}" --out "$work/check-ease-1proc" --force || true
  measure "linsim-mpi fit ease, 4 ranks" $(mpirun_np 4) $linsim_mpi "${cease[@]}" \
    --out "$work/check-ease-mpi4" --force || true
  check_line "check: ease weights, 4 ranks vs 1 process" 1e-10 weights "$work/check-ease-mpi4/weights.npy" \
    "$work/check-ease-1proc/weights.npy"
fi
echo "work dir: $work"
exit "$failed"
