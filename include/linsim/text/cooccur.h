// Word–context co-occurrence counts from a text corpus (`linsim cooccur`, docs/words.md), the
// matrix that word embeddings factorise (Levy & Goldberg 2014; Levy, Goldberg & Dagan 2015).
//
// Two passes over the corpus (tokenize.h splits it into tokens):
//  1. the vocabulary: every token's count; kept are the words with count ≥ min_count, at most
//     max_vocab of them (the most frequent; ties by byte order), numbered by decreasing count;
//  2. the counts: tokens outside the vocabulary are removed first (as word2vec does, so a window
//     reaches past them), then each remaining token is dropped with word2vec's subsampling
//     probability 1 − (√(f/t) + 1) t/f (f = its count over the kept tokens, t = subsample; not at
//     all for t = 0; never when the value is negative, i.e. for f below about 2.6 t), drawn from a
//     stream fixed by (seed, part of the corpus). Within a window of
//     `window` tokens on each side, never across a boundary (tokenize.h), each ordered pair of
//     positions i ≠ j adds the weight w(|i − j|) to X[token_i, token_j]:
//        none 1,  harmonic 1/d (GloVe),  linear (W − d + 1)/W (word2vec's dynamic window, in
//        expectation).
//     X is symmetric; its diagonal counts a word near itself (each such pair twice: both orders).
//
// Weights are summed as integers in units of 1/lcm(1..W) (harmonic) or 1/W (linear), so the counts
// are exact and the result does not depend on the thread count or on how the work was split.
// The corpus is cut into parts at boundaries; each thread counts its parts into its own table,
// which is sorted and written to a run file in `spill_dir` (`linsim cooccur`: beside the output)
// when it outgrows its share of `memory_bytes`; the runs are merged on disk into the output, so the pair table never has to
// fit in memory (the vocabulary of pass 1 does: one entry per distinct token). A merge reads at
// most `merge_fan_in` runs at once; more are first merged into longer runs, that many at a time,
// so open files and merge buffers stay bounded however many runs a count writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/text/tokenize.h"

namespace linsim {

enum class DistanceWeight { kNone, kHarmonic, kLinear };

// "none", "harmonic" or "linear"; anything else is an InvalidArgument naming --distance-weight.
DistanceWeight parse_distance_weight(const std::string& name);
const char* distance_weight_name(DistanceWeight weight);

struct CooccurOptions {
  int window = 5;                 // tokens on each side, 1..100 (harmonic: 1..20)
  DistanceWeight weight = DistanceWeight::kNone;
  TextBoundary boundary = TextBoundary::kParagraph;
  std::int64_t min_count = 5;     // ≥ 1
  std::int64_t max_vocab = 0;     // 0: no cap
  double subsample = 0;           // t ≥ 0 (word2vec's -sample; 0: off)
  std::size_t memory_bytes = std::size_t{1} << 30;  // pair tables in memory, all threads together
  std::string spill_dir;          // where run files go (an existing directory); "" = the system's temporary directory
  std::uint64_t part_bytes = std::uint64_t{8} << 20;  // nominal size of a part (tests make it small)
  int merge_fan_in = 64;          // runs merged at once, ≥ 2 (tests make it small): open files and buffers of a merge
  bool latin1_fallback = false;   // read bytes that are not UTF-8 as Latin-1 instead of failing

  void validate() const;  // InvalidArgument naming the option
};

// A file of the corpus: where it is, and the name messages give it ("<stdin>" for a copy of the
// standard input).
struct CorpusFile {
  std::string path;
  std::string name;
};

// The files of a corpus: each path is a file, or a directory whose regular files (recursively,
// through symbolic links too, sorted by path, hidden ones skipped, only names ending in `suffix`
// when it is not empty) are taken. A missing path or a directory without such files is an Error,
// and so is, inside a directory, a broken link, an entry that is neither a file nor a directory
// (a FIFO, socket or device), or a directory reached a second time (a link loop, two links to it).
std::vector<CorpusFile> corpus_files(const std::vector<std::string>& paths, const std::string& suffix = "");

// Refuses one file reached twice (by two paths, or as a file and inside a directory): an
// InvalidArgument naming both. corpus_files calls it; so must a caller that joins its lists.
void check_distinct_corpus_files(const std::vector<CorpusFile>& files);

struct Vocabulary {
  std::vector<std::string> words;    // by decreasing count, ties by byte order
  std::vector<std::int64_t> counts;  // occurrences in the corpus
  std::int64_t tokens = 0;           // all tokens of the corpus
  std::int64_t distinct = 0;         // distinct tokens before min_count / max_vocab
  std::int64_t kept_tokens = 0;      // tokens of vocabulary words
  std::int64_t latin1_bytes = 0;     // bytes read as Latin-1 (latin1_fallback)
};

struct CooccurStats {
  std::int64_t bytes = 0;
  std::int64_t parts = 0;
  std::int64_t sampled_tokens = 0;  // vocabulary tokens left after subsampling
  std::int64_t pairs = 0;           // distinct unordered pairs {w, c} with a count
  std::int64_t entries = 0;         // nonzeros of X (both orders; the diagonal once)
  std::int64_t runs_spilled = 0;    // run files written
  std::int64_t table_bytes = 0;     // the pair tables' peak allocations, summed over threads (≤ memory_bytes)
  double scale = 1;                 // the weights' integer unit: a count is (integer) / scale
};

// The integer unit of the weights: a count is (integer units) / scale — lcm(1..W) for harmonic
// weights, W for linear ones, 1 for none. CooccurStats::scale after counting.
std::uint64_t cooccur_scale(const CooccurOptions& options);

// One nonzero of X: word and context (vocabulary numbers), and its weight as an integer in units
// of 1/scale. Entries come grouped by the unordered pair: (w, c) then (c, w), pairs in increasing
// (min, max) order — deterministic.
using CooccurSink = std::function<void(std::int32_t word, std::int32_t context, std::uint64_t units)>;

// The corpus's tokens in order, one part after the other on the calling thread: on_token(token)
// and on_boundary() as scan_text (tokenize.h) calls them, plus a boundary at the end of each file.
// `linsim tokenize` writes them, so that other programs can be given exactly linsim's tokens.
// Returns the number of bytes read as Latin-1 (options.latin1_fallback).
std::int64_t for_each_token(const std::vector<CorpusFile>& files, const CooccurOptions& options,
                    const std::function<void(std::string_view)>& on_token, const std::function<void()>& on_boundary);

// Pass 1. ctx: threads; progress (may be empty) gets a line now and then.
Vocabulary count_vocabulary(const std::vector<CorpusFile>& files, const CooccurOptions& options, const Context& ctx,
                            const ProgressFn& progress = {});

// Pass 2: calls sink for every nonzero of X, in the order above.
CooccurStats count_cooccurrences(const std::vector<CorpusFile>& files, const Vocabulary& vocabulary,
                                 const CooccurOptions& options, const Context& ctx, const CooccurSink& sink,
                                 const ProgressFn& progress = {});

}  // namespace linsim
