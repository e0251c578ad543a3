// The tokeniser, the co-occurrence counter (against a brute-force count of the same tokens), the
// sppmi weighting step (against its formula on a dense matrix) and `linsim cooccur` / `tokenize`.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "cli_runner.h"
#include "linsim/core/error.h"
#include "linsim/core/random.h"
#include "linsim/data/weighting.h"
#include "linsim/text/cooccur.h"
#include "linsim/text/tokenize.h"
#include "test_util.h"

namespace linsim {
namespace {

using test::TempDir;

std::vector<std::string> tokens_of(const std::string& text, TextBoundary boundary = TextBoundary::kParagraph,
                                   std::int64_t* latin1 = nullptr) {
  std::vector<std::string> out;
  scan_text(text, 0, "t.txt", boundary, latin1, [&](std::string_view t) { out.emplace_back(t); },
            [&] { out.emplace_back("|"); });
  return out;
}

std::string error_of(const std::string& text) {
  try {
    tokens_of(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Tokenize, SplitsOnEverythingButWordCharactersAndLowerCases) {
  using V = std::vector<std::string>;
  EXPECT_EQ(tokens_of("Don't stop, WELL-known 42x!"), (V{"don", "t", "stop", "well", "known", "42x"}));
  EXPECT_EQ(tokens_of("Straße ÉCOLE Ünïcode ŁÓDŹ"), (V{"straße", "école", "ünïcode", "łódź"}));
  EXPECT_EQ(tokens_of("ΑΘΗΝΑ Москва"), (V{"αθηνα", "москва"}));
  EXPECT_EQ(tokens_of("İSTANBUL ıi ſ"), (V{"istanbul", "ıi", "ſ"}));
  // Curly quotes, dashes, the multiplication sign and a byte-order mark separate.
  EXPECT_EQ(tokens_of("\xEF\xBB\xBF\xE2\x80\x9Cyes\xE2\x80\x9D\xE2\x80\x94no a\xC3\x97" "b"), (V{"yes", "no", "a", "b"}));
  EXPECT_EQ(lowercase_word("ÉCOLE"), "école");
  EXPECT_EQ(lowercase_word("FBI"), "fbi");
}

TEST(Tokenize, BoundariesAtBlankLinesLinesOrFiles) {
  using V = std::vector<std::string>;
  const std::string text = "a b\nc\n  \t\r\nd\n";
  EXPECT_EQ(tokens_of(text, TextBoundary::kParagraph), (V{"a", "b", "c", "|", "d"}));
  EXPECT_EQ(tokens_of(text, TextBoundary::kLine), (V{"a", "b", "|", "c", "|", "|", "d", "|"}));
  EXPECT_EQ(tokens_of(text, TextBoundary::kFile), (V{"a", "b", "c", "d"}));
  // A line of punctuation is not blank.
  EXPECT_EQ(tokens_of("a\n* * *\nb"), (V{"a", "b"}));
}

TEST(Tokenize, InvalidUtf8AndNulAreErrorsWithTheByteOffset) {
  EXPECT_NE(error_of("ab\xC3(").find("t.txt: invalid UTF-8 at byte offset 2 (byte 0xC3"), std::string::npos);
  EXPECT_NE(error_of("abc\xE2\x82").find("byte offset 3"), std::string::npos);        // truncated at the end
  EXPECT_NE(error_of("\xC0\xAF").find("byte offset 0"), std::string::npos);           // overlong
  EXPECT_NE(error_of("x \xED\xA0\x80").find("byte offset 2"), std::string::npos);     // surrogate
  EXPECT_NE(error_of("x\xF4\x90\x80\x80").find("byte offset 1"), std::string::npos);  // above U+10FFFF
  EXPECT_NE(error_of("\x80").find("byte offset 0"), std::string::npos);               // stray continuation
  EXPECT_NE(error_of(std::string("ab\0c", 4)).find("a NUL byte at byte offset 2"), std::string::npos);
  // A token of kMaxTokenBytes bytes is a token; one byte more (ASCII or not) is an error naming
  // where the token starts (was: any length, and a 9 MiB token made a matrix fit refuses).
  const std::string longest(kMaxTokenBytes, 'Q');
  EXPECT_EQ(tokens_of("a " + longest + " b"), (std::vector<std::string>{"a", std::string(kMaxTokenBytes, 'q'), "b"}));
  EXPECT_NE(error_of("a, " + longest + "q").find("t.txt: a token of more than 65536 bytes at byte offset 3: not running text"),
            std::string::npos);
  std::string wide = "\n";
  while (wide.size() <= kMaxTokenBytes + 1) wide += "\xC3\x89";  // É, lower-cased to é: two bytes each
  EXPECT_NE(error_of(wide).find("a token of more than 65536 bytes at byte offset 1:"), std::string::npos);
  std::int64_t latin1 = 0;
  EXPECT_EQ(tokens_of("C\xE6sar caf\xE9", TextBoundary::kParagraph, &latin1),
            (std::vector<std::string>{"cæsar", "café"}));
  EXPECT_EQ(latin1, 2);
}

// ---- the counter against brute force --------------------------------------------------------

// Random text over a small vocabulary with blank lines, single line breaks and punctuation.
std::string random_text(std::mt19937_64& rng, int words) {
  static const char* vocab[] = {"the", "Cat", "sat", "on", "mat", "dog", "ran", "far", "éclair", "x", "y", "z", "rare"};
  std::string text;
  for (int i = 0; i < words; ++i) {
    const size_t w = std::min<size_t>(rng() % 16, 12);  // "rare" only at 12: sometimes below min count
    text += vocab[w];
    const int r = static_cast<int>(rng() % 20);
    text += r == 0 ? "\n\n" : r == 1 ? "\n" : r == 2 ? ", " : r == 3 ? " \xE2\x80\x94 " : " ";
  }
  return text;
}

using Counts = std::map<std::pair<std::string, std::string>, double>;

// X[w, c] by definition: over the units between boundaries of the kept-token sequence, every
// ordered pair of positions i ≠ j with |i − j| ≤ W adds w(|i − j|).
Counts brute_force(const std::vector<std::string>& texts, const CooccurOptions& o, const Vocabulary& v) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < v.words.size(); ++i) index[v.words[i]] = i;
  Counts counts;
  for (size_t f = 0; f < texts.size(); ++f) {
    Rng rng(42, f);  // each file is one part (part_bytes is large): the stream of part f
    std::vector<std::vector<std::string>> units(1);
    for (const std::string& t : tokens_of(texts[f], o.boundary)) {
      if (t == "|") {
        units.emplace_back();
        continue;
      }
      const auto it = index.find(t);
      if (it == index.end()) continue;
      if (o.subsample > 0) {
        const double c = static_cast<double>(v.counts[it->second]);
        const double th = o.subsample * static_cast<double>(v.kept_tokens);
        const double keep = (std::sqrt(c / th) + 1.0) * th / c;
        if (keep < 1.0 && static_cast<double>(rng() >> 11) * 0x1.0p-53 >= keep) continue;
      }
      units.back().push_back(t);
    }
    for (const auto& u : units) {
      for (size_t i = 0; i < u.size(); ++i) {
        for (size_t j = 0; j < u.size(); ++j) {
          const size_t d = i > j ? i - j : j - i;
          if (d == 0 || d > static_cast<size_t>(o.window)) continue;
          const double w = o.weight == DistanceWeight::kNone       ? 1.0
                           : o.weight == DistanceWeight::kHarmonic ? 1.0 / static_cast<double>(d)
                                                                   : (o.window - static_cast<double>(d) + 1) / o.window;
          counts[{u[i], u[j]}] += w;
        }
      }
    }
  }
  return counts;
}

struct Counted {
  Vocabulary vocabulary;
  Counts counts;
  std::vector<std::tuple<int, int, std::uint64_t>> entries;  // in emission order
  CooccurStats stats;
};

Counted count(const std::vector<CorpusFile>& files, const CooccurOptions& o, int threads) {
  Context ctx;
  ctx.threads = threads;
  Counted r;
  r.vocabulary = count_vocabulary(files, o, ctx);
  r.stats = count_cooccurrences(files, r.vocabulary, o, ctx, [&](std::int32_t w, std::int32_t c, std::uint64_t units) {
    r.entries.emplace_back(w, c, units);
    r.counts[{r.vocabulary.words[static_cast<size_t>(w)], r.vocabulary.words[static_cast<size_t>(c)]}] +=
        static_cast<double>(units);
  });
  for (auto& [key, value] : r.counts) value /= r.stats.scale;
  return r;
}

void expect_same_counts(const Counts& expected, const Counts& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [key, value] : expected) {
    const auto it = actual.find(key);
    ASSERT_NE(it, actual.end()) << key.first << " " << key.second;
    EXPECT_NEAR(it->second, value, 1e-9 * value) << key.first << " " << key.second;
  }
}

TEST(Cooccur, CountsEqualABruteForceCountForEveryWeightWindowAndBoundary) {
  TempDir dir;
  std::mt19937_64 rng(7);
  std::vector<std::string> texts;
  std::vector<CorpusFile> files;
  for (int f = 0; f < 3; ++f) {
    texts.push_back(random_text(rng, 400 + 100 * f));
    const std::string path = dir.file("f" + std::to_string(f) + ".txt");
    std::ofstream(path, std::ios::binary) << texts.back();
    files.push_back({path, path});
  }
  for (const DistanceWeight weight : {DistanceWeight::kNone, DistanceWeight::kHarmonic, DistanceWeight::kLinear}) {
    for (const int window : {1, 2, 5}) {
      for (const TextBoundary boundary : {TextBoundary::kParagraph, TextBoundary::kLine, TextBoundary::kFile}) {
        CooccurOptions o;
        o.weight = weight;
        o.window = window;
        o.boundary = boundary;
        o.min_count = 30;  // "rare" (and maybe more) left out: windows reach past them
        const Counted r = count(files, o, 2);
        SCOPED_TRACE(::testing::Message() << distance_weight_name(weight) << " window " << window << " "
                                          << text_boundary_name(boundary));
        expect_same_counts(brute_force(texts, o, r.vocabulary), r.counts);
        EXPECT_EQ(r.stats.entries, static_cast<std::int64_t>(r.counts.size()));
      }
    }
  }
}

TEST(Cooccur, VocabularyCountsMinCountAndCap) {
  TempDir dir;
  const std::string path = dir.file("v.txt");
  std::ofstream(path) << "b b b a a a c c d\n";
  CooccurOptions o;
  o.min_count = 2;
  Context ctx;
  const Vocabulary v = count_vocabulary({{path, path}}, o, ctx);
  EXPECT_EQ(v.words, (std::vector<std::string>{"a", "b", "c"}));  // ties by byte order
  EXPECT_EQ(v.counts, (std::vector<std::int64_t>{3, 3, 2}));
  EXPECT_EQ(v.tokens, 9);
  EXPECT_EQ(v.distinct, 4);
  EXPECT_EQ(v.kept_tokens, 8);
  o.max_vocab = 2;
  EXPECT_EQ(count_vocabulary({{path, path}}, o, ctx).words, (std::vector<std::string>{"a", "b"}));
}

TEST(Cooccur, SubsamplingFollowsItsSeededDrawsAndNeverTheThreads) {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::vector<std::string> texts;
  std::vector<CorpusFile> files;
  for (int f = 0; f < 2; ++f) {
    texts.push_back(random_text(rng, 3000));
    const std::string path = dir.file("s" + std::to_string(f) + ".txt");
    std::ofstream(path, std::ios::binary) << texts.back();
    files.push_back({path, path});
  }
  CooccurOptions o;
  o.subsample = 0.02;  // frequent words (f ≈ 1/14) are dropped about half the time
  o.window = 3;
  o.weight = DistanceWeight::kHarmonic;
  const Counted one = count(files, o, 1);
  expect_same_counts(brute_force(texts, o, one.vocabulary), one.counts);
  // The number kept is the sum of independent draws: within 5 standard deviations of its mean.
  double mean = 0, variance = 0;
  for (size_t i = 0; i < one.vocabulary.words.size(); ++i) {
    const double c = static_cast<double>(one.vocabulary.counts[i]);
    const double th = o.subsample * static_cast<double>(one.vocabulary.kept_tokens);
    const double keep = std::min(1.0, (std::sqrt(c / th) + 1.0) * th / c);
    mean += c * keep;
    variance += c * keep * (1 - keep);
  }
  EXPECT_LT(mean, 0.85 * static_cast<double>(one.vocabulary.kept_tokens));  // the test subsamples at all
  EXPECT_NEAR(static_cast<double>(one.stats.sampled_tokens), mean, 5 * std::sqrt(variance));
  for (const int threads : {2, 3}) EXPECT_EQ(count(files, o, threads).entries, one.entries);
}

TEST(Cooccur, SmallPartsAndSpilledRunsGiveTheSameEntriesInTheSameOrder) {
  TempDir dir;
  std::mt19937_64 rng(3);
  std::vector<CorpusFile> files;
  for (int f = 0; f < 3; ++f) {
    const std::string path = dir.file("p" + std::to_string(f) + ".txt");
    std::ofstream(path, std::ios::binary) << random_text(rng, 20000);
    files.push_back({path, path});
  }
  CooccurOptions o;
  o.weight = DistanceWeight::kLinear;
  o.min_count = 1;
  o.window = 8;
  const Counted whole = count(files, o, 1);
  EXPECT_EQ(whole.stats.runs_spilled, 0);
  o.part_bytes = 997;            // many parts, cut at blank lines
  o.memory_bytes = 1 << 20;      // the minimum: on 2 threads, tables of at most 16,384 entries (2/3 of a share, rounded down to a power of two)
  o.spill_dir = dir.path().string();
  CooccurOptions tiny = o;
  const Counted parts = count(files, o, 3);
  EXPECT_EQ(parts.entries, whole.entries);
  // 13 words cannot fill a table of the smallest size: runs go to disk with 2,000 words, whose
  // ~170,000 pairs overflow 2 × 16,384 entries several times.
  std::vector<CorpusFile> big;
  {
    const std::string path = dir.file("big.txt");
    std::ofstream out(path);
    std::mt19937_64 r(5);
    for (int i = 0; i < 40000; ++i) out << "w" << (r() % 2000) << (i % 50 == 49 ? "\n\n" : " ");
    big.push_back({path, path});
  }
  tiny.min_count = 1;
  tiny.window = 5;
  const Counted in_memory = count(big, [&] { CooccurOptions t = tiny; t.memory_bytes = 1 << 30; return t; }(), 2);
  const Counted spilled = count(big, tiny, 2);
  EXPECT_GT(spilled.stats.runs_spilled, 2);
  EXPECT_EQ(in_memory.stats.runs_spilled, 0);
  EXPECT_EQ(spilled.entries, in_memory.entries);
  // docs/words.md: the tables stay within --memory while they grow (a table and the half-size one
  // it grows from are held together; the largest table was the whole share: 1.5 times it).
  EXPECT_LE(spilled.stats.table_bytes, static_cast<std::int64_t>(tiny.memory_bytes));
  EXPECT_GT(spilled.stats.table_bytes, static_cast<std::int64_t>(tiny.memory_bytes / 3));
  // One thread with 4 MB: its table grows from 65,536 entries and still fills (~170,000 pairs):
  // it peaked at 6 MB (a table of 262,144 entries and the one it grew from).
  CooccurOptions four = tiny;
  four.memory_bytes = 4 << 20;
  const Counted grown = count(big, four, 1);
  EXPECT_GT(grown.stats.runs_spilled, 0);
  EXPECT_LE(grown.stats.table_bytes, static_cast<std::int64_t>(four.memory_bytes));
  EXPECT_EQ(grown.entries, in_memory.entries);
  // Merged two runs at a time (rounds of merges before the last): the same entries.
  CooccurOptions pairwise = tiny;
  pairwise.merge_fan_in = 2;
  const Counted merged = count(big, pairwise, 2);
  EXPECT_GT(merged.stats.runs_spilled, 2);  // how many depends on which thread took which part
  EXPECT_EQ(merged.entries, in_memory.entries);
  pairwise.merge_fan_in = 1;
  EXPECT_THROW(count(big, pairwise, 2), InvalidArgument);
  // No run file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find("run"), std::string::npos) << e.path();
  }
}

TEST(Cooccur, OptionsAreChecked) {
  CooccurOptions o;
  o.window = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.window = 21;
  o.weight = DistanceWeight::kHarmonic;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = CooccurOptions();
  o.subsample = -1;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = CooccurOptions();
  o.min_count = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  EXPECT_THROW(parse_distance_weight("gaussian"), InvalidArgument);
  EXPECT_THROW(parse_text_boundary("sentence"), InvalidArgument);
}

// ---- the sppmi weighting step ------------------------------------------------------------------

TEST(SppmiWeighting, EqualsShiftedPositivePmiWithSmoothedContexts) {
  const SparseMatrix X = test::random_positive(7, 5, 3);
  SparseMatrix Xs = X;
  Xs.coeffRef(2, 3) = 0;  // a zero count stays zero
  Xs.prune(0.0);
  for (const double k : {1.0, 5.0}) {
    for (const double alpha : {1.0, 0.75}) {
      const Weighting w = parse_weighting(fmt::format("sppmi:{}:{}", k, alpha));
      EXPECT_EQ(parse_weighting(w.spec()).spec(), w.spec());
      const SparseMatrix Y = fit_weighting(w, Xs).apply(Xs);
      const Matrix D = Matrix(Xs);
      const Vector row = D.rowwise().sum();
      const Vector col = D.colwise().sum().transpose();
      const double z = col.array().pow(alpha).sum();
      const Matrix Yd = Matrix(Y);
      for (Index u = 0; u < D.rows(); ++u) {
        for (Index i = 0; i < D.cols(); ++i) {
          const double expected =
              D(u, i) > 0 ? std::max(0.0, std::log(D(u, i) * z / (row(u) * std::pow(col(i), alpha))) - std::log(k)) : 0.0;
          EXPECT_NEAR(Yd(u, i), expected, 1e-12);
        }
      }
      // Entries that became zero are gone.
      for (Index q = 0; q < Y.nonZeros(); ++q) EXPECT_GT(Y.valuePtr()[q], 0);
    }
  }
}

TEST(SppmiWeighting, IsCheckedAndMustComeFirst) {
  // Each refusal names the value (docs/reliability.md, "the sppmi weighting").
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sppmi:0.5", "--weighting sppmi:0.5: k (negatives) must be >= 1, got 0.5"},
      {"sppmi:1:0", "--weighting sppmi:1:0: alpha (smoothing) must be in (0, 1], got 0"},
      {"sppmi:1:1.5", "--weighting sppmi:1:1.5: alpha (smoothing) must be in (0, 1], got 1.5"},
      {"ips,sppmi", "--weighting 'ips,sppmi': sppmi cannot be combined with other steps"},
      {"sppmi,user-norm", "--weighting 'sppmi,user-norm': sppmi cannot be combined with other steps"},
      {"sppmi,standardize", "--weighting 'sppmi,standardize': sppmi cannot be combined with other steps"},
  };
  for (const auto& [spec, expected] : cases) {
    try {
      parse_weighting(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << spec << " -> " << e.what();
    }
  }
  SparseMatrix X = test::random_positive(4, 3, 1);
  X.coeffRef(1, 1) = -1;
  try {
    fit_weighting(parse_weighting("sppmi"), X);
    ADD_FAILURE() << "a negative count was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sppmi needs nonnegative counts; the training data has -1"), std::string::npos) << e.what();
  }
}

}  // namespace

// ---- the commands ------------------------------------------------------------------------------

namespace test {
namespace {

class CooccurCli : public CliTest {};

// `lines` lines of 25 words drawn uniformly from 30,000 (~150 bytes a line): nearly every pair is
// distinct, so a small --memory spills many runs.
void write_spilling_corpus(const std::string& file, int lines) {
  std::ofstream corpus(file);
  std::mt19937 draw(1);
  std::uniform_int_distribution<int> word(0, 29999);
  for (int line = 0; line < lines; ++line) {
    for (int w = 0; w < 25; ++w) corpus << 'w' << word(draw) << (w < 24 ? ' ' : '\n');
  }
}

TEST_F(CooccurCli, WritesTheMatrixAndVocabularyThatFitReads) {
  write("a.txt", "The cat sat on the mat.\nThe dog sat.\n\nA cat, a dog!\n");
  const CliResult r = run("cooccur " + path("a.txt") + " --min-count 1 --window 2 -o " + path("c.tsv") + " --vocab " +
                          path("v.tsv"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string c = slurp(path("c.tsv"));
  EXPECT_EQ(c.substr(0, c.find('\n')), "word\tcontext\tcount");
  EXPECT_NE(c.find("\nthe\tsat\t3\n"), std::string::npos);  // the·sat at distances 2, 1 and 1
  EXPECT_NE(c.find("\nthe\tthe\t2\n"), std::string::npos);  // "the mat the": both orders
  EXPECT_EQ(c.find("mat\ta\t"), std::string::npos);          // not across the blank line
  EXPECT_EQ(slurp(path("v.tsv")).substr(0, 27), "word\tcount\nthe\t3\na\t2\ncat\t2\n");
  // Standard input gives the same, and the pipeline goes on through fit and similar-items.
  const CliResult piped = run("cooccur - --min-count 1 --window 2 < " + path("a.txt"));
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, c);
  const CliResult fit = run("fit --input " + path("c.tsv") + " --weighting sppmi --model eq2 --rank 2 --lambda 0 --out " +
                            path("m"));
  ASSERT_EQ(fit.code, 0) << fit.err;
  const CliResult sim = run("similar-items -m " + path("m") + " --items cat -n 2");
  ASSERT_EQ(sim.code, 0) << sim.err;
  EXPECT_NE(sim.out.find("cat\t1\t"), std::string::npos);
  write("pairs.txt", "cat\tdog\t9\ncat\tmat\t5\nsat\ton\t1\ncat\tunicorn\t7\n");
  const CliResult words = run("evaluate-words -m " + path("m") + " --pairs p=" + path("pairs.txt") + " -o " + path("ew"));
  ASSERT_EQ(words.code, 0) << words.err;
  EXPECT_NE(words.out.find("| p | 3/4 |"), std::string::npos) << words.out;
  const CliResult tok = run("tokenize " + path("a.txt"));
  ASSERT_EQ(tok.code, 0) << tok.err;
  EXPECT_EQ(tok.out, "the cat sat on the mat the dog sat\na cat a dog\n");
}

TEST_F(CooccurCli, BadCorporaAreClearErrorsAndWriteNothing) {
  write("empty.txt", "");
  write("punct.txt", "... !!! --\n");
  write("binary.bin", std::string("GIF89a\0\0\x01", 9));
  write("latin1.txt", "na\xEFve text\n");
  write("apart.txt", "alpha\n\nbeta\n");  // two words, each alone in its paragraph
  // docs/reliability.md: a bad corpus is a runtime error (exit 1), a bad option or a request the
  // corpus cannot support a usage error (exit 2); neither leaves an output or a temporary.
  struct Case {
    std::string args, message;
    int code;
  };
  const std::string latin1 = path("latin1.txt") + " --invalid-utf8 latin1";
  const std::vector<Case> cases = {
      {path("empty.txt"), "empty.txt: the corpus holds no words", 1},
      {path("punct.txt"), "the corpus holds no words", 1},
      // Of several files, none is blamed (was: "empty.txt: the corpus holds no words").
      {path("empty.txt") + " " + path("punct.txt"), "the corpus holds no words (none in its 2 files)", 1},
      {path("binary.bin"), "binary.bin: a NUL byte at byte offset 6: not a text file", 1},
      {path("latin1.txt"), "latin1.txt: invalid UTF-8 at byte offset 2 (byte 0xEF", 1},
      {path("missing.txt"), "missing.txt: no such file or directory", 1},
      {latin1 + " --min-count 9", "no word occurs at least --min-count 9 times", 2},
      {path("apart.txt") + " --min-count 1", "no two vocabulary words occur within --window", 2},
      {latin1 + " --min-count 0", "--min-count must be >= 1, got 0", 2},
      {latin1 + " --window 0", "--window must be in [1, 100]", 2},
      {latin1 + " --window 101", "--window must be in [1, 100]", 2},
      {latin1 + " --distance-weight cubic", "--distance-weight must be none, harmonic or linear", 2},
      {latin1 + " --boundary sentence", "--boundary must be paragraph, line or file, got 'sentence'", 2},
      {latin1 + " --subsample -1", "--subsample must be a number >= 0", 2},
      {latin1 + " --memory 0.5", "--memory must be at least 1 (MB), got 0.5", 2},
      {latin1 + " --memory 0", "--memory must be at least 1 (MB), got 0", 2},
      // More than any machine has (was: 1e300 MB cast to a size, an undefined value).
      {latin1 + " --memory 1e300", "--memory 1e+300 (MB) is more than the memory available (", 2},
      {latin1 + " --memory 1e12", "--memory 1000000000000 (MB) is more than the memory available (", 2},
      // A missing --temp-dir is found before the corpus is read (was: when the first run spilled).
      {path("binary.bin") + " --temp-dir " + path("no/dir"), "--temp-dir '" + path("no/dir") + "' is not an existing directory", 2},
  };
  for (const Case& c : cases) {
    const CliResult r = run("cooccur " + c.args + " -o " + path("out.tsv") + " --vocab " + path("vocab.tsv"));
    EXPECT_EQ(r.code, c.code) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    expect_only({"empty.txt", "punct.txt", "binary.bin", "latin1.txt", "apart.txt"});
  }
  const CliResult fallback = run("cooccur " + latin1 + " --min-count 1");
  EXPECT_EQ(fallback.code, 0) << fallback.err;
  EXPECT_NE(fallback.out.find("naïve\ttext\t1"), std::string::npos);
  EXPECT_NE(fallback.err.find("1 byte(s) that are not UTF-8 were read as Latin-1"), std::string::npos);
  // tokenize reads its corpus the same way: an error by default, Latin-1 on request.
  const CliResult strict = run("tokenize " + path("latin1.txt"));
  EXPECT_EQ(strict.code, 1) << strict.err;
  EXPECT_NE(strict.err.find("latin1.txt: invalid UTF-8 at byte offset 2 (byte 0xEF"), std::string::npos) << strict.err;
  EXPECT_EQ(strict.out, "");
  const CliResult tokens = run("tokenize " + latin1);
  EXPECT_EQ(tokens.code, 0) << tokens.err;
  EXPECT_EQ(tokens.out, "naïve text\n");
  EXPECT_NE(tokens.err.find("1 byte(s) that are not UTF-8 were read as Latin-1"), std::string::npos) << tokens.err;
  const CliResult no_temp = run("tokenize - --temp-dir " + path("no/dir"));
  EXPECT_EQ(no_temp.code, 2) << no_temp.err;
  EXPECT_NE(no_temp.err.find("--temp-dir '" + path("no/dir") + "' is not an existing directory"), std::string::npos)
      << no_temp.err;
  const CliResult unknown = run("tokenize " + path("latin1.txt") + " --invalid-utf8 bogus");
  EXPECT_EQ(unknown.code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("--invalid-utf8 must be error or latin1, got 'bogus'"), std::string::npos) << unknown.err;
  // An unwritable --output or --vocab fails (exit 1) before the corpus is read: the binary corpus
  // is never reached, and the other output is not written.
  for (const std::string& outputs : {" -o " + path("no/dir/x.tsv") + " --vocab " + path("vocab.tsv"),
                                    " -o " + path("out.tsv") + " --vocab " + path("no/dir/v.tsv")}) {
    const CliResult r = run("cooccur " + path("binary.bin") + outputs);
    EXPECT_EQ(r.code, 1) << outputs << ": " << r.err;
    EXPECT_NE(r.err.find("cannot write '" + path("no/dir/")), std::string::npos) << outputs << ": " << r.err;
    EXPECT_EQ(r.err.find("NUL byte"), std::string::npos) << outputs << ": " << r.err;
    expect_only({"empty.txt", "punct.txt", "binary.bin", "latin1.txt", "apart.txt"});
  }
}

// docs/words.md: a merge reads at most 64 runs at once, so a count that spills hundreds of runs
// runs under a limit of 100 open files and gives the matrix of a count that never spilled (was:
// every run stayed open, 1,061 runs took 310 MB of buffers and failed under ulimit -n 1024).
TEST_F(CooccurCli, ManySpilledRunsAreMergedWithinTheOpenFileLimit) {
  // ~5 million pairs, nearly all distinct, which --memory 1 spills in ~200 runs of ~23,000 (the
  // count is in the progress line on a terminal).
  write_spilling_corpus(path("big.txt"), 40000);
  const std::string count = std::string(LINSIM_CLI_PATH) + " cooccur " + path("big.txt") + " --min-count 1";
  const CliResult whole = shell(count + " -o " + path("whole.tsv"));
  ASSERT_EQ(whole.code, 0) << whole.err;
  const CliResult spilled = shell("ulimit -n 100; " + count + " --memory 1 -o " + path("spilled.tsv"));
  ASSERT_EQ(spilled.code, 0) << spilled.err;
  EXPECT_TRUE(slurp(path("whole.tsv")) == slurp(path("spilled.tsv")));
  expect_only({"big.txt", "whole.tsv", "spilled.tsv"});
}

// docs/words.md: the run files of a spilling count are removed on SIGINT, SIGTERM and SIGHUP, and
// the output is never committed.
TEST_F(CooccurCli, TerminationSignalsRemoveTheSpilledRuns) {
  // With --memory 1 it spills a run every few thousand lines for more than a second.
  write_spilling_corpus(path("big.txt"), 40000);
  std::filesystem::create_directory(path("spill"));
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(sig);
    const pid_t pid = start({"cooccur", path("big.txt"), "--min-count", "1", "--memory", "1", "--temp-dir",
                             path("spill"), "-o", path("co.tsv")});
    ASSERT_GT(pid, 0);
    auto runs = [&] {
      int count = 0;
      for (const auto& entry : std::filesystem::directory_iterator(path("spill"))) {
        count += entry.path().filename().string().find("-run-") != std::string::npos ? 1 : 0;
      }
      return count;
    };
    const bool spilled = wait_for([&] { return runs() >= 2; });
    const int status = stop(pid, spilled ? sig : SIGKILL);
    ASSERT_TRUE(spilled) << "no run file appeared";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_TRUE(std::filesystem::is_empty(path("spill"))) << runs() << " run files left";
    expect_only({"big.txt", "spill"});
  }
}

// A corpus file that shrinks while it is mapped: the pages past its new end fault (SIGBUS). The
// program names it, ends with status 1 and leaves no output, spilled run or temporary (was: ended
// by SIGBUS with its temporaries left).
TEST_F(CooccurCli, ACorpusThatShrinksWhileMappedIsAnErrorThatLeavesNothing) {
  write_spilling_corpus(path("big.txt"), 80000);  // ~12 MB: seconds of counting after the first run
  std::filesystem::create_directory(path("spill"));
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // as start(), with stderr kept in a file
    const int err = ::open(path("err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, STDERR_FILENO);
    std::vector<std::string> args = {"cooccur", path("big.txt"), "--min-count", "1", "--memory", "1",
                                     "--temp-dir", path("spill"), "-o", path("co.tsv")};
    std::vector<char*> argv{const_cast<char*>(LINSIM_CLI_PATH)};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(LINSIM_CLI_PATH, argv.data());
    _exit(127);
  }
  // A spilled run means the counting pass is reading the mapped corpus, with most of it ahead.
  const bool counting = wait_for([&] {
    for (const auto& entry : std::filesystem::directory_iterator(path("spill"))) {
      if (entry.path().filename().string().find("-run-") != std::string::npos) return true;
    }
    return false;
  });
  std::filesystem::resize_file(path("big.txt"), 0);
  int status = 0;
  if (!counting) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ASSERT_TRUE(counting) << "no run file appeared";
  const std::string err = slurp(path("err.txt"));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << ": " << err;
  EXPECT_NE(err.find("linsim: error: an input file read through a memory map shrank"), std::string::npos) << err;
  EXPECT_NE(err.find("its unfinished output files are removed"), std::string::npos) << err;
  EXPECT_TRUE(std::filesystem::is_empty(path("spill")));
  expect_only({"big.txt", "spill", "err.txt"});
}

TEST_F(CooccurCli, ReadsDirectoriesSortedWithASuffixFilter) {
  std::filesystem::create_directories(path("corpus/sub"));
  write("corpus/b.txt", "beta gamma\n");
  write("corpus/sub/a.txt", "alpha beta\n");
  write("corpus/notes.md", "delta delta\n");
  write("corpus/.hidden.txt", "epsilon epsilon\n");
  const CliResult r = run("tokenize " + path("corpus") + " --suffix .txt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "beta gamma\nalpha beta\n");
  const CliResult none = run("tokenize " + path("corpus") + " --suffix .rst");
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.err.find("no files ending in '.rst'"), std::string::npos) << none.err;
}

// Every file of a corpus stayed open while it was mapped: 300 files under `ulimit -n 64` failed
// with "Too many open files". Oracle: the same texts as paragraphs of one file (windows stop at a
// file's end as at a blank line).
TEST_F(CooccurCli, ACorpusOfMoreFilesThanTheOpenFileLimitIsCounted) {
  std::filesystem::create_directories(path("many"));
  std::string joined;
  for (int i = 0; i < 300; ++i) {
    const std::string text = fmt::format("alpha beta gamma w{}\n", i % 7);
    write(fmt::format("many/f{:03}.txt", i), text);
    joined += text + "\n";
  }
  write("joined.txt", joined);
  const std::string count = std::string(LINSIM_CLI_PATH) + " cooccur --min-count 1 --boundary paragraph ";
  const CliResult many = shell("ulimit -n 64; " + count + path("many") + " -o " + path("many.tsv"));
  ASSERT_EQ(many.code, 0) << many.err;
  const CliResult one = shell(count + path("joined.txt") + " -o " + path("one.tsv"));
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_TRUE(slurp(path("many.tsv")) == slurp(path("one.tsv")));
  const CliResult words = shell("ulimit -n 64; " + std::string(LINSIM_CLI_PATH) + " tokenize " + path("many"));
  ASSERT_EQ(words.code, 0) << words.err;
}

// One file reached twice (two spellings, a link, or a file and its directory) would be counted
// twice: refused, naming both. A link loop is named with the system's reason, not a raw exception.
TEST_F(CooccurCli, AFileGivenTwiceIsRefusedAndALinkLoopIsNamed) {
  std::filesystem::create_directories(path("corpus"));
  write("corpus/a.txt", "alpha beta alpha beta\n");
  std::filesystem::create_symlink(path("corpus/a.txt"), path("link.txt"));
  for (const std::string& twice : {path("corpus/a.txt") + " " + path("corpus/../corpus/a.txt"),
                                   path("corpus/a.txt") + " " + path("link.txt"),
                                   path("corpus") + " " + path("corpus/a.txt")}) {
    for (const char* command : {"cooccur", "tokenize"}) {
      const CliResult r = run(std::string(command) + " " + twice + (command == std::string("cooccur") ? " -o " + path("out.tsv") : ""));
      EXPECT_EQ(r.code, 2) << command << " " << twice << ": " << r.err;
      EXPECT_NE(r.err.find("are one file: the corpus would count it twice"), std::string::npos) << r.err;
    }
  }
  std::filesystem::create_symlink(path("loop1"), path("loop2"));
  std::filesystem::create_symlink(path("loop2"), path("loop1"));
  const CliResult loop = run("tokenize " + path("loop1"));
  EXPECT_EQ(loop.code, 1) << loop.err;
  EXPECT_NE(loop.err.find("loop1: Too many levels of symbolic links"), std::string::npos) << loop.err;
  std::filesystem::create_symlink(path("corpus/inner"), path("corpus/inner"));  // a loop inside a directory
  const CliResult inner = run("tokenize " + path("corpus"));
  EXPECT_EQ(inner.code, 1) << inner.err;
  EXPECT_NE(inner.err.find("inner: Too many levels of symbolic links"), std::string::npos) << inner.err;
  EXPECT_EQ(inner.err.find("filesystem error"), std::string::npos) << inner.err;
  // A hidden entry is skipped unseen, even a loop.
  std::filesystem::create_directories(path("hidden"));
  write("hidden/a.txt", "alpha beta\n");
  std::filesystem::create_symlink(path("hidden/.loop"), path("hidden/.loop"));
  const CliResult hidden = run("tokenize " + path("hidden"));
  EXPECT_EQ(hidden.code, 0) << hidden.err;
  EXPECT_EQ(hidden.out, "alpha beta\n");
  expect_only({"corpus", "link.txt", "loop1", "loop2", "hidden"});
}

// A linked directory inside a corpus is read like one that is there (it was skipped without a
// word); what cannot be read as part of it is named: a broken link, a FIFO, a link back up (a
// loop that would recurse until the path grew too long), two ways into one directory.
TEST_F(CooccurCli, LinkedDirectoriesAreReadAndWhatCannotBeIsNamed) {
  std::filesystem::create_directories(path("corpus/own"));
  std::filesystem::create_directories(path("elsewhere"));
  write("corpus/own/a.txt", "alpha beta\n");
  write("elsewhere/b.txt", "gamma delta\n");
  std::filesystem::create_directory_symlink(path("elsewhere"), path("corpus/linked"));
  const CliResult both = run("tokenize " + path("corpus"));
  ASSERT_EQ(both.code, 0) << both.err;
  EXPECT_EQ(both.out, "gamma delta\nalpha beta\n");  // corpus/linked/b.txt sorts before corpus/own/a.txt
  // With a suffix, entries it excludes are not looked at: a FIFO named otherwise is left alone.
  ASSERT_EQ(mkfifo(path("corpus/pipe").c_str(), 0600), 0);
  std::filesystem::create_symlink(path("corpus/loopy"), path("corpus/loopy"));  // nor a loop so named
  const CliResult suffixed = run("tokenize --suffix .txt " + path("corpus"));
  EXPECT_EQ(suffixed.code, 0) << suffixed.err;
  EXPECT_EQ(suffixed.out, both.out);
  std::filesystem::remove(path("corpus/loopy"));
  const auto refused = [&](const std::string& what, const std::string& message) {
    for (const char* command : {"tokenize", "cooccur"}) {
      const CliResult r = run(std::string(command) + " " + path("corpus") +
                              (command == std::string("cooccur") ? " -o " + path("out.tsv") : ""));
      EXPECT_EQ(r.code, 1) << what << ", " << command << ": " << r.err;
      EXPECT_NE(r.err.find(message), std::string::npos) << what << ", " << command << ": " << r.err;
      EXPECT_TRUE(r.out.empty()) << what << ", " << command;
    }
  };
  refused("a FIFO", "pipe: not a regular file or directory (a FIFO, socket or device) inside the corpus directory");
  std::filesystem::remove(path("corpus/pipe"));
  std::filesystem::create_symlink(path("nowhere.txt"), path("corpus/gone.txt"));
  refused("a broken link", "gone.txt: a broken symbolic link inside the corpus directory");
  std::filesystem::remove(path("corpus/gone.txt"));
  std::filesystem::create_directory_symlink(path("corpus"), path("corpus/own/up"));
  refused("a loop", "up: reaches the directory '" + std::filesystem::canonical(path("corpus")).string() +
                        "' a second time inside the corpus");
  std::filesystem::remove(path("corpus/own/up"));
  std::filesystem::create_directory_symlink(path("elsewhere"), path("corpus/again"));
  refused("two links to one directory", "reaches the directory '" + std::filesystem::canonical(path("elsewhere")).string() +
                                            "' a second time inside the corpus");
  expect_only({"corpus", "elsewhere"});
}

}  // namespace
}  // namespace test
}  // namespace linsim
