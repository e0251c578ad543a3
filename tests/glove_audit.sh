#!/usr/bin/env bash
# `linsim audit` on embeddings that do not come from linsim: the GloVe 6B 50-d subset (word2vec
# text whose header under-counts its lines) against SimLex-999. It runs, reads every vector,
# says that without user vectors the scale cannot be checked, and reports Spearman per measure.
# Exit 77 (skipped) without the data.
set -euo pipefail
linsim=$1
work=$2
glove=${LINSIM_DATA_DIR:-}/glove-6b-50d-4k/glove50_4k.txt
simlex=${LINSIM_DATA_DIR:-}/simlex999/SimLex-999.txt
if [ -z "${LINSIM_DATA_DIR:-}" ] || [ ! -f "$glove" ] || [ ! -f "$simlex" ]; then
  echo "SKIP: GloVe or SimLex-999 not found; set LINSIM_DATA_DIR to the folder holding glove-6b-50d-4k/ and simlex999/"
  exit 77
fi
rm -rf "$work"
"$linsim" audit --items "$glove" --truth "$simlex" --out "$work" >/dev/null
/usr/bin/python3 - "$work/audit.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
problems = []
if a["items"] != 4197: problems.append(f"read {a['items']} vectors, the file has 4197")
if not any("header says 4196" in n for n in a["notes"]): problems.append("no note about the header count")
if a["balance"]["imbalance"] is not None: problems.append("imbalance without users")
if "Without user embeddings" not in a["verdict"]: problems.append("verdict does not say the scale cannot be checked")
s = a["truth"]["spearman"]
if s is None or not all(k in s for k in ("cosine", "dot")): problems.append("no Spearman per measure")
elif not 0.1 < s["cosine"] < 0.6: problems.append(f"implausible Spearman for GloVe on SimLex: {s['cosine']}")
if a["truth"]["pairs_found"] < 300: problems.append(f"only {a['truth']['pairs_found']} SimLex pairs matched")
print("\n".join(problems) if problems else f"ok: verdict: {a['verdict']}")
sys.exit(1 if problems else 0)
PY
