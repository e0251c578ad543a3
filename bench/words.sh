#!/usr/bin/env bash
# Counting throughput of `linsim cooccur` beside gensim's vocabulary build on the same tokens, with
# peak memory (bench/README.md, "Words from text"). The corpus: gutenberg-nltk's 14 books
# concatenated REPEAT times (default 10: ~19 million tokens), so that the timings are not start-up.
# Needs LINSIM_DATA_DIR and Debian's python3-gensim. Usage: bench/words.sh [REPEAT]
# (LINSIM=path times that binary; without it the release preset's CLI is built first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LINSIM_DATA_DIR:?set LINSIM_DATA_DIR to the folder holding gutenberg-nltk/}"
repeat=${1:-10}
if [[ -z "${LINSIM:-}" ]]; then  # a binary given is timed as it is: nothing to install or build
  bash scripts/install-deps.sh --bench >/dev/null
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target linsim-cli >/dev/null
fi
linsim=${LINSIM:-$PWD/build/release/linsim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((r = 0; r < repeat; r++)); do
  for f in "$LINSIM_DATA_DIR"/gutenberg-nltk/*.txt; do cat "$f"; printf '\n\n'; done
done >"$work/corpus.txt"
"$linsim" tokenize "$work/corpus.txt" --invalid-utf8 latin1 -o "$work/tokens.txt"
tokens=$(wc -w <"$work/tokens.txt")
mb=$(du -m "$work/corpus.txt" | cut -f1)
echo "corpus: $mb MB, $tokens tokens (gutenberg-nltk x $repeat)"

row() {  # row LABEL SECONDS [PEAK_KB]: seconds, tokens/s and, when given, peak RSS
  /usr/bin/python3 -c 'import sys; w, t = float(sys.argv[2]), int(sys.argv[3]); print("%-58s %7.2f s %6.2f M tokens/s" % (sys.argv[1], w, t / w / 1e6) + (" %6.0f MB" % (int(sys.argv[4]) / 1024) if len(sys.argv) > 4 else ""))' \
    "$1" "$2" "$tokens" "${@:3}"
}

measure() {  # measure LABEL COMMAND...: wall seconds, tokens/s, peak RSS of the whole process
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall rss <"$work/time"
  row "$label" "$wall" "$rss"
}

common=(--invalid-utf8 latin1 --window 5 --min-count 5 --distance-weight linear)
measure "linsim cooccur, 2 threads (vocabulary + counts + TSV)" \
  "$linsim" cooccur "$work/corpus.txt" "${common[@]}" --threads 2 -o "$work/c2.tsv"
measure "linsim cooccur, 1 thread" "$linsim" cooccur "$work/corpus.txt" "${common[@]}" --threads 1 -o "$work/c1.tsv"
cmp -s "$work/c1.tsv" "$work/c2.tsv" || { echo "outputs differ between 1 and 2 threads" >&2; exit 1; }
measure "linsim cooccur, 2 threads, --memory 16 (runs merged on disk)" \
  "$linsim" cooccur "$work/corpus.txt" "${common[@]}" --threads 2 --memory 16 -o "$work/c3.tsv"
cmp -s "$work/c2.tsv" "$work/c3.tsv" || { echo "outputs differ with runs on disk" >&2; exit 1; }
echo "nonzeros: $(($(wc -l <"$work/c2.tsv") - 1)), words: $(tail -n +2 "$work/c2.tsv" | cut -f1 | sort -u | wc -l)"
measure "linsim tokenize (1 thread; text to token file)" "$linsim" tokenize "$work/corpus.txt" --invalid-utf8 latin1 -o "$work/t.txt"
cat >"$work/vocab.py" <<'PY'
import sys
import time

from gensim.models import Word2Vec


class Lines:
    def __init__(self, path):
        self.path = path

    def __iter__(self):
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                yield line.split()


model = Word2Vec(vector_size=100, window=5, min_count=5, sg=1, workers=2)
t = time.perf_counter()
model.build_vocab(Lines(sys.argv[1]))
print(time.perf_counter() - t, len(model.wv))
PY
# build_vocab is timed inside the process (Python's start-up and `import gensim` are not its
# work); GNU time's wall and peak are those of the whole process.
whole=$(measure "gensim, whole process (start-up, import, build_vocab)" /usr/bin/python3 "$work/vocab.py" "$work/tokens.txt")
read -r vocab_s words <"$work/out"
row "gensim Word2Vec.build_vocab (pre-split token file)" "$vocab_s"
echo "$whole"
echo "gensim vocabulary: $words words"
