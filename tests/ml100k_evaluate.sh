#!/usr/bin/env bash
# On MovieLens 100K: `linsim evaluate` is reproducible for a fixed seed, EASE and the tuned
# eq1/eq2 clearly beat popularity, and EASE is at least as good as item-kNN (NDCG@100).
# Exit 77 (skipped) without the data.
set -euo pipefail
linsim=$1
data=${LINSIM_DATA_DIR:-}/ml-100k/u.data
if [ -z "${LINSIM_DATA_DIR:-}" ] || [ ! -f "$data" ]; then
  echo "SKIP: MovieLens 100K not found; set LINSIM_DATA_DIR to the folder holding ml-100k/"
  exit 77
fi
run() {
  "$linsim" evaluate --input "$data" --min-value 4 --heldout-users 0.1 --seed 7 \
    --grid "rank=100,200 eq1.lambda=1000,10000 eq2.lambda=10,30 ease.lambda=300,1000"
}
first=$(run)
second=$(run)
[ "$first" = "$second" ] || { echo "FAIL: two runs with the same seed differ"; exit 1; }
echo "$first"
ndcg() { echo "$first" | awk -F'|' -v m=" $1 " '$2 == m { split($6, a, " "); print a[1] }'; }
pop=$(ndcg popularity)
knn=$(ndcg itemknn)
for model in eq1 eq2 ease; do
  v=$(ndcg "$model")
  awk -v v="$v" -v p="$pop" 'BEGIN { exit !(v > p + 0.1) }' || { echo "FAIL: $model NDCG@100 $v vs popularity $pop"; exit 1; }
done
ease=$(ndcg ease)
awk -v e="$ease" -v k="$knn" 'BEGIN { exit !(e >= k) }' || { echo "FAIL: EASE $ease < item-kNN $knn"; exit 1; }
echo "ok: popularity $pop, item-kNN $knn, EASE $ease"
