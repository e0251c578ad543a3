// Word similarity and analogy benchmarks (`linsim evaluate-words`): how well a similarity space
// whose rows are words agrees with human similarity scores (WordSim-353, SimLex-999, MEN, Stanford
// Rare Words), measured by Spearman's ρ, and how often it answers the analogy questions of
// Mikolov et al. (questions-words.txt) by 3CosAdd and 3CosMul.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/evaluate/rank_correlation.h"
#include "linsim/similarity/measure.h"

namespace linsim {

// Two words and the similarity people gave them, with the line of the file it was read from.
struct RatedPair {
  std::string first;
  std::string second;
  double score = 0;
  std::int64_t line = 0;
};

struct WordPairSet {
  std::string name;  // as reports show it ("simlex999")
  std::string path;
  std::vector<RatedPair> pairs;
};

// Reads a word-pair file in any of the layouts the standard sets are distributed in (WordSim-353's
// combined.csv / combined.tab / set1.tab and its similarity and relatedness splits, SimLex-999.txt,
// MEN in natural and lemma form, Stanford Rare Words' rw.txt), by one rule:
// - lines starting with '#' and blank lines are skipped; a CR before the LF is dropped; the file
//   may be gzip-compressed;
// - fields are split on tabs if the first line read has one, else on commas if it has one, else on
//   runs of blanks; fields split on tabs or commas are trimmed of surrounding blanks;
// - the first two fields are the words, lower-cased by lowercase_word (text/tokenize.h);
// - the score is the first field after the words that reads as a number (SimLex's POS column is
//   passed over that way);
// - the first line is a header when it has no number in the field where the next line has its
//   score (or, in a one-line file, none after the words at all);
// - when every word of the file ends in a part-of-speech tag "-n", "-v", "-j" or "-a" (MEN's
//   lemma form, "sun-n sunlight-n 50.0"), the tags are removed.
// A data line with fewer than 3 fields, without a numeric score, with an empty word or with a
// score that is not finite ("nan", "inf") is an InputError naming the file and line; a missing
// file, or one without pairs, is an Error naming it.
WordPairSet read_word_pairs(const std::string& path, const std::string& name);

// One question "a is to b as c is to d" (words lower-cased) of the section it appeared in.
struct AnalogyQuestion {
  std::string section;
  std::array<std::string, 4> words;  // a, b, c, d
  std::int64_t line = 0;
};

// Reads questions-words.txt: ": name" lines open a section, every other line holds 4 words
// separated by blanks. Questions before the first section line belong to the section "". Blank
// and '#' lines are skipped. A line of another number of words is an InputError naming the file
// and line; a missing file, or one without questions, is an Error naming it.
std::vector<AnalogyQuestion> read_analogies(const std::string& path);

// The words of a space's rows as benchmark files are matched against them: by the lower-cased
// form (lowercase_word) of each row's id. Where several rows share a form ("Paris" and "paris" in
// word2vec files), the first row stands for the word (in word2vec and GloVe files, the most
// frequent spelling); the others still exist as rows but name the same word.
class WordIndex {
 public:
  explicit WordIndex(const IdMap& rows);
  // Number of rows of the space.
  Index rows() const { return static_cast<Index>(word_of_row_.size()); }
  // The row standing for a lower-cased word, or nullopt when no row has that form.
  std::optional<Index> find(std::string_view word) const;
  // The row standing for the word of `row`: `row` itself, unless an earlier row has its form.
  Index word_of(Index row) const { return word_of_row_[static_cast<size_t>(row)]; }

 private:
  IdMap forms_;                     // distinct lower-cased forms, in order of their first row
  std::vector<Index> first_row_;    // form → its first row
  std::vector<Index> word_of_row_;  // row → first row of its form
};

// Agreement of one space with one pair set: the pairs whose two words are both in the
// vocabulary are covered; ρ is the Spearman correlation of their human scores with the space's
// similarities (NaN with fewer than 2 covered pairs or a constant side).
struct PairAgreement {
  Index total = 0;
  Index covered = 0;
  double spearman = 0;
};

// Scores the distinct first words of the covered pairs against every row (for_each_score_block)
// and reads off the second words', so every space works: factor spaces, raw and EASE alike.
PairAgreement evaluate_pairs(const SimilaritySpace& space, const WordIndex& vocabulary,
                             const WordPairSet& set, const Context& ctx);

// Questions answered right by each method, out of those asked.
struct AnalogyCounts {
  Index total = 0;        // questions
  Index covered = 0;      // questions whose 4 words are all in the vocabulary
  Index correct_add = 0;  // 3CosAdd's answer is d
  Index correct_mul = 0;  // 3CosMul's answer is d
};

// correct / covered (NaN when nothing is covered) and correct / total.
double accuracy_covered(Index correct, const AnalogyCounts& counts);
double accuracy_all(Index correct, const AnalogyCounts& counts);

struct AnalogyResult {
  std::vector<std::pair<std::string, AnalogyCounts>> sections;  // in the order of the file
  AnalogyCounts overall;
};

// The questions and their coverage by section, with no answers (correct counts 0).
AnalogyResult analogy_coverage(const WordIndex& vocabulary, const std::vector<AnalogyQuestion>& questions);

// Whether a space can answer analogies: only spaces over dense embedding rows (dense_factors()).
bool supports_analogies(const SimilaritySpace& space);

// Answers every covered question "a : b :: c : ?" with the row d, other than the rows of a, b and
// c (and their case variants, WordIndex::word_of), that maximises
//   3CosAdd: s(d, b) − s(d, a) + s(d, c)
//   3CosMul: s'(d, b) s'(d, c) / (s'(d, a) + 0.001),  s' = (s + 1) / 2
// (Levy & Goldberg 2014, "Linguistic Regularities in Sparse and Explicit Word Representations";
// 3CosMul assumes similarities in [−1, 1], as cosine and projected are). An answer is right when it
// stands for the same word as d. Ties go to the lower row. The questions are scored in blocks of
// rows of a, b and c against all rows (about 128 MB of scores at a time); results do not depend on
// the thread count. Throws InvalidArgument for a space without dense factors.
AnalogyResult evaluate_analogies(const SimilaritySpace& space, const WordIndex& vocabulary,
                                 const std::vector<AnalogyQuestion>& questions, const Context& ctx);

// Everything `linsim evaluate-words` reports: every benchmark under every measure.
struct WordEvaluation {
  std::string source_kind;  // "model" or "vectors"
  std::string source;       // the model directory or the vectors file
  Index vocabulary = 0;     // rows of the spaces
  std::vector<std::string> measures;

  struct PairBenchmark {
    std::string name;
    std::string path;
    Index total = 0;
    Index covered = 0;
    std::vector<double> spearman;  // one per measure, in the order of `measures`
  };
  std::vector<PairBenchmark> pairs;

  struct AnalogyBenchmark {
    std::string path;
    AnalogyResult coverage;  // analogy_coverage: the same for every measure
    // One per measure, in the order of `measures`; nullopt: the measure has no dense factors.
    std::vector<std::optional<AnalogyResult>> results;
  };
  std::optional<AnalogyBenchmark> analogies;
};

// The space of a measure, built when its turn comes (so that only one is held at a time).
using WordSpaceFactory = std::function<std::unique_ptr<SimilaritySpace>(const std::string& measure)>;

// Evaluates every pair set, and the analogies when given, under every measure of `measures`, with
// the spaces make_space builds over rows named by `rows`. Every space must have rows.size() rows.
WordEvaluation evaluate_words(const IdMap& rows, const std::vector<std::string>& measures,
                              const WordSpaceFactory& make_space, const std::vector<WordPairSet>& sets,
                              const std::vector<AnalogyQuestion>* analogies,
                              const std::string& analogies_path, const Context& ctx,
                              const ProgressFn& progress = {});

// words.json: {"source": {"kind", "path"}, "vocabulary", "measures",
//   "pairs": [{"name", "path", "total", "covered", "spearman": {measure: ρ or null}}],
//   "analogies": null or {"path", "total", "covered",
//     "overall": {measure: null (no dense factors) or {"3cosadd": {"correct", "accuracy_covered",
//                 "accuracy_all"}, "3cosmul": {...}}},
//     "sections": [{"name", "total", "covered", "results": {measure: as in overall}}]}}.
// Undefined numbers (NaN) are null.
nlohmann::json words_json(const WordEvaluation& evaluation);

// The table `linsim evaluate-words` prints: one row per benchmark with its coverage
// ("covered/total"), one column per measure: Spearman's ρ for pair sets, "3CosAdd / 3CosMul"
// accuracy over the covered questions for analogies ("n/a" for measures without embeddings).
std::string words_table(const WordEvaluation& evaluation);

// words.md: a heading naming the source, the table, and the analogy sections in detail.
std::string words_markdown(const WordEvaluation& evaluation);

}  // namespace linsim
