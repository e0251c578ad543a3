#!/usr/bin/env bash
# `linsim audit` on embeddings that do not come from linsim: the GloVe 6B 50-d subset (word2vec
# text whose header under-counts its lines) against SimLex-999. It runs, reads every vector,
# says that without user vectors the scale cannot be checked, and reports per measure the
# Spearman correlation that an independent numpy/scipy computation on the same files gives.
# Exit 77 (skipped) when LINSIM_DATA_DIR is unset (or numpy/scipy are missing); exit 1 when it is
# set but a file is missing.
set -euo pipefail
linsim=$1
work=$2
if [ -z "${LINSIM_DATA_DIR:-}" ]; then
  echo "SKIP: LINSIM_DATA_DIR is not set (set it to the folder holding glove-6b-50d-4k/ and simlex999/)"
  exit 77
fi
glove=$LINSIM_DATA_DIR/glove-6b-50d-4k/glove50_4k.txt
simlex=$LINSIM_DATA_DIR/simlex999/SimLex-999.txt
missing=0
for f in "$glove" "$simlex"; do
  if [ ! -f "$f" ]; then
    echo "FAIL: LINSIM_DATA_DIR is set to $LINSIM_DATA_DIR, but $f is missing"
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1
if ! /usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null; then
  echo "SKIP: numpy/scipy are not available to /usr/bin/python3"
  exit 77
fi
rm -rf "$work"
"$linsim" audit --items "$glove" --truth "$simlex" --out "$work" >/dev/null
/usr/bin/python3 - "$work/audit.json" "$glove" "$simlex" <<'PY'
import json, sys
import numpy as np
from scipy.stats import spearmanr

a = json.load(open(sys.argv[1]))
# Independent reading of both files: word2vec text ("count dim" header, then "word v1 ... v50"),
# SimLex-999 (tab-separated, header, score in column 4); words matched exactly, then lower-cased.
with open(sys.argv[2]) as f:
    header = f.readline().split()
    vectors = {}
    for line in f:
        fields = line.split()
        vectors[fields[0]] = np.array(fields[1:], dtype=float)
pairs = []
with open(sys.argv[3]) as f:
    next(f)
    for line in f:
        w1, w2, _, score = line.rstrip("\n").split("\t")[:4]
        pairs.append((w1, w2, float(score)))


def vec(w):
    return vectors.get(w, vectors.get(w.lower()))


found = [(vec(w1), vec(w2), s) for w1, w2, s in pairs if vec(w1) is not None and vec(w2) is not None]
human = [s for _, _, s in found]
want = {
    "cosine": spearmanr([u @ v / np.linalg.norm(u) / np.linalg.norm(v) for u, v, _ in found], human)[0],
    "dot": spearmanr([u @ v for u, v, _ in found], human)[0],
}
problems = []
if header != ["4196", "50"] or len(vectors) != 4197: problems.append(f"unexpected data: header {header}, {len(vectors)} vectors")
if a["items"] != len(vectors): problems.append(f"read {a['items']} vectors, the file has {len(vectors)}")
if a["dimension"] != 50: problems.append(f"dimension {a['dimension']}, the file has 50")
if not any(f"header says 4196 vectors, the file has {len(vectors)}" in n for n in a["notes"]): problems.append("no note about the header count")
if a["balance"]["imbalance"] is not None: problems.append("imbalance without users")
if "Without user embeddings" not in a["verdict"]: problems.append("verdict does not say the scale cannot be checked")
t = a["truth"]
if t["pairs_in_file"] != len(pairs): problems.append(f"pairs_in_file {t['pairs_in_file']}, the file has {len(pairs)}")
if t["pairs_found"] != len(found): problems.append(f"pairs_found {t['pairs_found']}, numpy finds {len(found)}")
s = t["spearman"]
for m, w in want.items():
    if s is None or s.get(m) is None: problems.append(f"no Spearman for {m}")
    elif abs(s[m] - w) > 1e-9: problems.append(f"Spearman {m}: linsim {s[m]!r}, numpy/scipy {w!r}")
print("\n".join(problems) if problems else
      f"ok: {len(found)} pairs, Spearman cosine {s['cosine']:.4f} dot {s['dot']:.4f} (as numpy/scipy); verdict: {a['verdict']}")
sys.exit(1 if problems else 0)
PY
