#!/usr/bin/env bash
# Builds the fuzz preset (clang, libFuzzer + ASan + UBSan) and fuzzes every target (fuzz/README.md).
#
#   fuzz/run.sh [SECONDS]       each target for SECONDS (default 30), on a scratch copy of its
#                               committed corpus fuzz/corpus/<target> (the checkout is not modified)
#   fuzz/run.sh --replay [FILE...]
#                               runs each reproducer once, fuzz/findings/<target>-* by default
#                               (the target is the file name up to its first '-'); no fuzzing
#
# Environment: FUZZ_TARGETS="npy truth" (a subset), FUZZ_JOBS (targets run at once; default: the
# number of cores), FUZZ_NO_DEPS=1 (skip scripts/install-deps.sh).
# Exit status: 0 when no target found anything; 1 otherwise, after printing for each finding the
# target, what it was (crash, leak, timeout, out-of-memory), the path of the input that triggers
# it (kept under build/fuzz/findings/) and the end of libFuzzer's log.
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD

all_targets=(interactions_triplets interactions_movielens interactions_mtx interactions_gzip
             interactions_shared npy embeddings truth item_labels model_json word_pairs corpus_text)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"
jobs=${FUZZ_JOBS:-$(nproc)}

# Options of every run. -rss_limit_mb also bounds a single malloc (libFuzzer's malloc_limit_mb
# defaults to it), so a reader that allocates what a header claims is an out-of-memory finding.
# -len_control=0: inputs up to -max_len from the start; libFuzzer's default grows the length
# from the seeds' so slowly that a 20 s run of the interaction readers stayed under 100 bytes.
fuzz_options=(-max_len=65536 -len_control=0 -rss_limit_mb=2048 -timeout=10)
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export OMP_NUM_THREADS=1

mode=fuzz
if [ "${1:-}" = "--replay" ]; then
  mode=replay
  shift
else
  seconds=${1:-30}
  case "$seconds" in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] | --replay [FILE...]" >&2; exit 2 ;; esac
fi

if [ "${FUZZ_NO_DEPS:-}" != 1 ]; then bash scripts/install-deps.sh --fuzz; fi
build_start=$SECONDS
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
echo "fuzz: build took $((SECONDS - build_start)) s"
bin="$root/build/fuzz/fuzz"

if [ "$mode" = replay ]; then
  files=("$@")
  if [ ${#files[@]} -eq 0 ]; then
    shopt -s nullglob
    files=("$root"/fuzz/findings/*)
    if [ ${#files[@]} -eq 0 ]; then echo "fuzz: no open findings in fuzz/findings/"; exit 0; fi
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/linsim-fuzz-replay.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  failed=0
  for f in "${files[@]}"; do
    case "$f" in /*) ;; *) f="$caller_dir/$f" ;; esac
    name=$(basename "$f")
    target=${name%%-*}
    if [ ! -x "$bin/fuzz_$target" ]; then
      echo "fuzz: $f: no target '$target' (name files <target>-<what>)" >&2
      failed=1
      continue
    fi
    if "$bin/fuzz_$target" "${fuzz_options[@]}" -artifact_prefix="$work/" "$f" >"$work/log" 2>&1; then
      echo "fuzz: PASS $target $f"
    else
      echo "fuzz: FAIL $target $f"
      grep -E "ERROR|SUMMARY|terminate called|what\(\)|runtime error| in linsim::" "$work/log" | head -20 || true
      failed=1
    fi
  done
  exit "$failed"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/linsim-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
findings="$root/build/fuzz/findings"
rm -rf "$findings"
mkdir -p "$findings"

fuzz_one() {
  local t=$1
  local corpus="$scratch/corpus/$t"
  mkdir -p "$corpus" "$findings/$t"
  cp "$root/fuzz/corpus/$t/"* "$corpus/"
  local args=("${fuzz_options[@]}" -max_total_time="$seconds" -print_final_stats=1
              -artifact_prefix="$findings/$t/")
  if [ -f "$root/fuzz/dict/$t.dict" ]; then args+=(-dict="$root/fuzz/dict/$t.dict"); fi
  # The target's own scratch files go under $scratch too (TMPDIR).
  TMPDIR="$scratch" "$bin/fuzz_$t" "${args[@]}" "$corpus" >"$scratch/$t.log" 2>&1
}

fuzz_start=$SECONDS
echo "== fuzzing ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
declare -A target_of=()  # pid -> target
status=0
report() {  # target exit-status
  local t=$1 rc=$2 log="$scratch/$1.log"
  local execs
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: ok       $t ($execs inputs)"
    return
  fi
  status=1
  echo "fuzz: FINDING  $t (exit $rc, $execs inputs)"
  grep -Eo 'Test unit written to .*' "$log" | sed 's/^Test unit written to /  input: /' || true
  cp "$log" "$findings/$t.log"
  echo "  log:   $findings/$t.log; its end:"
  grep -vE '^(#[0-9]+|INFO:|MS:|base unit:|0x|\\x)' "$log" | tail -40 | sed 's/^/    /'
}
reap_one() {
  local pid rc
  set +e
  wait -n -p pid
  rc=$?
  set -e
  report "${target_of[$pid]}" "$rc"
  unset "target_of[$pid]"
}
for t in "${targets[@]}"; do
  if [ ! -d "$root/fuzz/corpus/$t" ] || [ ! -x "$bin/fuzz_$t" ]; then
    echo "fuzz: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
  while [ "${#target_of[@]}" -ge "$jobs" ]; do reap_one; done
  fuzz_one "$t" &
  target_of[$!]=$t
done
while [ "${#target_of[@]}" -gt 0 ]; do reap_one; done
echo "fuzz: fuzzing took $((SECONDS - fuzz_start)) s"
if [ "$status" -ne 0 ]; then
  echo "fuzz: findings above; their inputs are under $findings (fuzz/README.md: turning one into a regression test)"
else
  echo "fuzz: no findings"
fi
exit "$status"
