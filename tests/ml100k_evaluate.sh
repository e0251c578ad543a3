#!/usr/bin/env bash
# On MovieLens 100K: `linsim evaluate` is reproducible for a fixed seed, EASE and the tuned
# eq1/eq2 clearly beat popularity, and EASE is at least as good as item-kNN (NDCG@100).
# Exit 77 (skipped) when LINSIM_DATA_DIR is unset; exit 1 when it is set but u.data is missing.
set -euo pipefail
linsim=$1
if [ -z "${LINSIM_DATA_DIR:-}" ]; then
  echo "SKIP: LINSIM_DATA_DIR is not set (set it to the folder holding ml-100k/)"
  exit 77
fi
data=$LINSIM_DATA_DIR/ml-100k/u.data
if [ ! -f "$data" ]; then
  echo "FAIL: LINSIM_DATA_DIR is set to $LINSIM_DATA_DIR, but $data is missing"
  exit 1
fi
run() {
  "$linsim" evaluate --input "$data" --min-value 4 --heldout-users 0.1 --seed 7 \
    --grid "rank=100,200 eq1.lambda=1000,10000 eq2.lambda=10,30 ease.lambda=300,1000"
}
first=$(run)
second=$(run)
[ "$first" = "$second" ] || { echo "FAIL: two runs with the same seed differ"; exit 1; }
echo "$first"
# The table's shape: the header names the NDCG@100 column (found by name, not by position), and
# 94 of the 943 users are held out (--heldout-users 0.1).
col=$(echo "$first" | awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == " NDCG@100 ") print i }')
[ -n "$col" ] || { echo "FAIL: no NDCG@100 column in the table header"; exit 1; }
# (grep -q reads from a here-string, not a pipe: it stops at its match, and under pipefail an echo
# still writing the lines after it would fail with SIGPIPE: a CI run failed so.)
grep -q '^Test users: 94 ' <<<"$first" || { echo "FAIL: expected 94 test users"; exit 1; }
# NDCG@100 of one model: its row must appear exactly once and hold a number in [0, 1].
ndcg() {
  local rows v
  rows=$(echo "$first" | awk -F'|' -v m=" $1 " '$2 == m' | wc -l)
  [ "$rows" = 1 ] || { echo "FAIL: $rows rows for model $1" >&2; return 1; }
  v=$(echo "$first" | awk -F'|' -v m=" $1 " -v c="$col" '$2 == m { split($c, a, " "); print a[1] }')
  [[ "$v" =~ ^(0\.[0-9]+|1\.0+)$ ]] || { echo "FAIL: NDCG@100 of $1 is '$v', not a number in [0, 1]" >&2; return 1; }
  echo "$v"
}
# The chosen parameters come from the grid.
for pattern in '^\| eq1 \| lambda=(1000|10000), rank=(100|200) \|' '^\| eq2 \| lambda=(10|30), rank=(100|200) \|' \
  '^\| ease \| lambda=(300|1000) \|'; do
  grep -Eq "$pattern" <<<"$first" || { echo "FAIL: no row matches $pattern"; exit 1; }
done
pop=$(ndcg popularity)
knn=$(ndcg itemknn)
for model in eq1 eq2 ease; do
  v=$(ndcg "$model")
  awk -v v="$v" -v p="$pop" 'BEGIN { exit !(v + 0 > p + 0.1) }' || { echo "FAIL: $model NDCG@100 $v vs popularity $pop"; exit 1; }
done
ease=$(ndcg ease)
awk -v e="$ease" -v k="$knn" 'BEGIN { exit !(e + 0 >= k + 0) }' || { echo "FAIL: EASE $ease < item-kNN $knn"; exit 1; }
echo "ok: popularity $pop, item-kNN $knn, EASE $ease"
