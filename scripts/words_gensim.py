#!/usr/bin/env python3
"""The word2vec peer of docs/results-words.md: skip-gram with negative sampling (gensim), trained on
exactly the tokens `linsim tokenize` wrote (one window unit per line), saved as word2vec text for
`linsim evaluate-words --vectors`, with gensim's own Spearman on the saved vectors (the file linsim
reads) as a cross-check of linsim's.

usage: words_gensim.py TOKENS OUT.vec WINDOW MIN_COUNT DIM SEED [NAME=PAIRS ...]
Prints one JSON object: training time, vocabulary size, gensim's Spearman and coverage per set.
"""
import json
import sys
import time

import gensim
from gensim.models import KeyedVectors, Word2Vec

# gensim's training truncates a sentence at 10,000 tokens; cut longer lines into such pieces.
MAX_TOKENS = 10000


class Lines:
    def __init__(self, path):
        self.path = path

    def __iter__(self):
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                words = line.split()
                for start in range(0, len(words), MAX_TOKENS):
                    yield words[start:start + MAX_TOKENS]


def main():
    tokens, out, window, min_count, dim, seed = sys.argv[1:7]
    pairs = [arg.split("=", 1) for arg in sys.argv[7:]]
    started = time.perf_counter()
    model = Word2Vec(vector_size=int(dim), window=int(window), min_count=int(min_count), sg=1, negative=5,
                     sample=1e-3, workers=2, seed=int(seed), epochs=5)
    sentences = Lines(tokens)
    model.build_vocab(sentences)
    vocab_seconds = time.perf_counter() - started
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - started
    model.wv.save_word2vec_format(out)
    result = {"gensim": gensim.__version__, "seconds": seconds, "vocab_seconds": vocab_seconds,
              "vocabulary": len(model.wv), "pairs": {}}
    saved = KeyedVectors.load_word2vec_format(out)
    for name, path in pairs:
        # Delimiter as the files have it; gensim's reader takes tab-separated "w1 w2 score" lines only,
        # so the set is rewritten that way by the caller.
        pearson, spearman, oov = saved.evaluate_word_pairs(path, delimiter="\t", case_insensitive=True)
        result["pairs"][name] = {"spearman": float(spearman[0]), "oov_percent": float(oov)}
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
