#!/usr/bin/env bash
# Regenerates docs/results.md: top-N accuracy (linsim evaluate) and similarity-vs-metadata
# (linsim evaluate-similarity) on MovieLens 100K, the MovieLens 1M subset and Last.fm 2K.
# Needs LINSIM_DATA_DIR (a folder with ml-100k/, ml-1m-partial/, hetrec2011-lastfm-2k/).
# About 20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LINSIM_DATA_DIR:?set LINSIM_DATA_DIR to the folder holding ml-100k/, ml-1m-partial/, hetrec2011-lastfm-2k/}"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target linsim-cli >/dev/null
linsim=./build/release/linsim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
D='$LINSIM_DATA_DIR'

chosen() {  # chosen() results.json model param
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%g" % [m["params"][sys.argv[3]] for m in d["models"] if m["name"]==sys.argv[2]][0])' "$@"
}

section() {  # section name input labels read-options grid models
  local name=$1 input=$2 labels=$3 read=$4 grid=$5 models=$6
  local eval_cmd="linsim evaluate --input $D/$input $read --heldout-users 0.1 --seed 42 --models $models --grid \"$grid\""
  echo "== $name: evaluate" >&2
  # shellcheck disable=SC2086
  $linsim evaluate --input "$LINSIM_DATA_DIR/$input" $read --heldout-users 0.1 --seed 42 --models "$models" \
    --grid "$grid" --out "$work/$name-eval" >/dev/null
  local rank l1 l2 le ease_opt=""
  rank=$(chosen "$work/$name-eval/results.json" eq2 rank)
  l1=$(chosen "$work/$name-eval/results.json" eq1 lambda)
  l2=$(chosen "$work/$name-eval/results.json" eq2 lambda)
  if [[ $models == *ease* ]]; then
    le=$(chosen "$work/$name-eval/results.json" ease lambda)
    ease_opt="--lambda-ease $le"
  fi
  local sim_cmd="linsim evaluate-similarity --input $D/$input $read --labels $D/$labels --rank $rank --lambda-eq1 $l1 --lambda-eq2 $l2 $ease_opt"
  echo "== $name: evaluate-similarity" >&2
  # shellcheck disable=SC2086
  $linsim evaluate-similarity --input "$LINSIM_DATA_DIR/$input" $read --labels "$LINSIM_DATA_DIR/$labels" \
    --rank "$rank" --lambda-eq1 "$l1" --lambda-eq2 "$l2" $ease_opt --out "$work/$name-sim" >/dev/null
  {
    echo "## $name"
    echo
    echo "Top-N accuracy on held-out users:"
    echo
    echo '```sh'
    echo "$eval_cmd"
    echo '```'
    echo
    tail -n +5 "$work/$name-eval/results.md"
    echo
    echo "Item neighbours against metadata (the models refitted on all users with the parameters chosen above):"
    echo
    echo '```sh'
    echo "$sim_cmd"
    echo '```'
    echo
    tail -n +3 "$work/$name-sim/similarity.md"
    echo
  }
}

out=$work/results.md
{
  cat docs/results-intro.md
  echo
  section "MovieLens 100K" ml-100k/u.data ml-100k/u.item "--min-value 4" \
    "rank=50,100,200,400 eq1.lambda=100,1000,10000 eq2.lambda=3,10,30 ease.lambda=100,300,1000 sppmi.rank=50,100,200 cosine.rank=50,100 cosine.lambda=10" \
    popularity,itemknn,eq1,eq2,ease,sppmi,cosine
  section "MovieLens 1M (users 1-2999)" ml-1m-partial/ratings.dat.gz ml-1m-partial/movies.dat "--min-value 4" \
    "rank=100,200,400,800 eq1.lambda=100,1000,10000 eq2.lambda=3,10,30 ease.lambda=100,300,1000 sppmi.rank=100,200 cosine.rank=100 cosine.lambda=10" \
    popularity,itemknn,eq1,eq2,ease,sppmi,cosine
  section "Last.fm 2K (artists with at least 5 listeners)" hetrec2011-lastfm-2k/user_artists.dat \
    hetrec2011-lastfm-2k/user_taggedartists.dat "--binarize --min-item-users 5" \
    "rank=50,100,200,400 eq1.lambda=10,100,1000 eq2.lambda=3,10,30 ease.lambda=30,100,300 sppmi.rank=50,100,200 cosine.rank=50,100 cosine.lambda=10" \
    popularity,itemknn,eq1,eq2,ease,sppmi,cosine
} >"$out"
cp "$out" docs/results.md
echo "wrote docs/results.md" >&2
