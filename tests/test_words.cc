// Word benchmarks (evaluate/words.h, rank_correlation.h) and `linsim evaluate-words`: Spearman's ρ
// against ranks counted by brute force, the layouts of the standard pair files, coverage, analogies
// on vectors whose answers are known by construction, bad input and the command end to end.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "linsim/core/error.h"
#include "linsim/evaluate/rank_correlation.h"
#include "linsim/evaluate/words.h"
#include "linsim/io/npy.h"
#include "linsim/similarity/measure.h"
#include "test_util.h"

namespace linsim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Average ranks by counting: rank_i = #{x_j < x_i} + (#{x_j = x_i} + 1) / 2.
Vector counted_ranks(const Vector& x) {
  Vector r(x.size());
  for (Index i = 0; i < x.size(); ++i) {
    double below = 0, equal = 0;
    for (Index j = 0; j < x.size(); ++j) {
      below += x(j) < x(i) ? 1 : 0;
      equal += x(j) == x(i) ? 1 : 0;
    }
    r(i) = below + (equal + 1) / 2;
  }
  return r;
}

double pearson(const Vector& a, const Vector& b) {
  const Vector ca = a.array() - a.mean(), cb = b.array() - b.mean();
  return ca.dot(cb) / (ca.norm() * cb.norm());
}

Vector values(std::initializer_list<double> v) {
  Vector out(static_cast<Index>(v.size()));
  Index i = 0;
  for (double x : v) out(i++) = x;
  return out;
}

TEST(WordsSpearman, MatchesPearsonOfRanksCountedByBruteForce) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> small(0, 4);  // many ties
  std::normal_distribution<double> z;
  for (int trial = 0; trial < 200; ++trial) {
    const Index n = 2 + trial % 30;
    Vector x(n), y(n);
    for (Index i = 0; i < n; ++i) {
      x(i) = trial % 2 == 0 ? small(rng) : z(rng);
      y(i) = trial % 3 == 0 ? small(rng) : z(rng);
    }
    const Vector rx = counted_ranks(x), ry = counted_ranks(y);
    EXPECT_EQ(average_ranks(x), rx);
    const bool constant = rx.minCoeff() == rx.maxCoeff() || ry.minCoeff() == ry.maxCoeff();
    if (constant) {
      EXPECT_TRUE(std::isnan(spearman(x, y)));
    } else {
      EXPECT_NEAR(spearman(x, y), pearson(rx, ry), 1e-12) << "trial " << trial;
    }
  }
}

TEST(WordsSpearman, KnownIdentities) {
  const Vector x = values({0.3, -1.2, 4.0, 2.5, 0.0, 9.1});
  EXPECT_NEAR(spearman(x, x.array().exp().matrix()), 1.0, 1e-15);       // monotone transform
  EXPECT_NEAR(spearman(x, (-x.array().cube()).matrix()), -1.0, 1e-15);  // reversed
  // Ties take their average rank: {1, 2, 2, 3} → {1, 2.5, 2.5, 4}.
  EXPECT_EQ(average_ranks(values({10, 20, 20, 30})), values({1, 2.5, 2.5, 4}));
  EXPECT_NEAR(spearman(values({1, 2, 2, 3}), values({1, 2, 3, 4})),
              pearson(values({1, 2.5, 2.5, 4}), values({1, 2, 3, 4})), 1e-15);
  EXPECT_TRUE(std::isnan(spearman(x, Vector::Constant(6, 2.0))));  // constant side
  EXPECT_TRUE(std::isnan(spearman(values({1}), values({2}))));     // one value
  EXPECT_TRUE(std::isnan(spearman(Vector(0), Vector(0))));
  EXPECT_TRUE(std::isnan(spearman(values({1, std::nan(""), 3}), values({1, 2, 3}))));
  EXPECT_THROW(spearman(values({1, 2}), values({1, 2, 3})), InvalidArgument);
}

class WordsFiles : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_.file(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // The message of the Error that reading `path` as pairs throws ("" when none is thrown).
  static std::string pair_error(const std::string& path) {
    try {
      read_word_pairs(path, "x");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  test::TempDir dir_;
};

void expect_pairs(const WordPairSet& set, const std::vector<RatedPair>& expected) {
  ASSERT_EQ(set.pairs.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(set.pairs[i].first, expected[i].first) << i;
    EXPECT_EQ(set.pairs[i].second, expected[i].second) << i;
    EXPECT_EQ(set.pairs[i].score, expected[i].score) << i;
    EXPECT_EQ(set.pairs[i].line, expected[i].line) << i;
  }
}

TEST_F(WordsFiles, EveryLayoutOfTheStandardSetsIsRead) {
  // WordSim-353 combined.csv: comma, header, CRLF, capitals.
  WordPairSet s = read_word_pairs(
      write("combined.csv", "Word 1,Word 2,Human (mean)\r\nLove,sex,6.77\r\nTiger,cat,7.35\r\n"), "ws353");
  EXPECT_EQ(s.name, "ws353");
  expect_pairs(s, {{"love", "sex", 6.77, 2}, {"tiger", "cat", 7.35, 3}});
  // set1.tab: the per-rater columns are named by numbers, the score column is not.
  s = read_word_pairs(write("set1.tab", "Word 1\tWord 2\tHuman (mean)\t1\t2\t3\nlove\tsex\t6.77\t9\t6\t8\n"),
                      "set1");
  expect_pairs(s, {{"love", "sex", 6.77, 2}});
  // SimLex-999: the POS column is passed over, the score is the 4th field.
  s = read_word_pairs(write("SimLex-999.txt",
                            "word1\tword2\tPOS\tSimLex999\tconc(w1)\nold\tnew\tA\t1.58\t2.72\n"
                            "smart\tintelligent\tA\t9.2\t1.75\n"),
                      "simlex999");
  expect_pairs(s, {{"old", "new", 1.58, 2}, {"smart", "intelligent", 9.2, 3}});
  // MEN lemma form: every word tagged, tags removed.
  s = read_word_pairs(write("men_lemma",
                            "sun-n sunlight-n 50.000000\nautomobile-n car-n 50.000000\nrun-v jog-v 40.0\n"
                            "happy-j glad-a 45\n"),
                      "men");
  expect_pairs(s, {{"sun", "sunlight", 50, 1},
                   {"automobile", "car", 50, 2},
                   {"run", "jog", 40, 3},
                   {"happy", "glad", 45, 4}});
  // Blank-separated, not every word tagged: nothing removed; runs of blanks separate.
  s = read_word_pairs(write("men_natural", "sun   sunlight 50.000000\nbest-n\tgood 40\n"), "men");
  expect_pairs(s, {{"sun", "sunlight", 50, 1}, {"best-n", "good", 40, 2}});
  // Agirre et al. split and Rare Words (tab, no header, rater columns after the mean).
  s = read_word_pairs(write("wordsim_similarity_goldstandard.txt", "tiger\tcat\t7.35\ntiger\ttiger\t10.00\n"),
                      "ws353-sim");
  expect_pairs(s, {{"tiger", "cat", 7.35, 1}, {"tiger", "tiger", 10, 2}});
  s = read_word_pairs(write("rw.txt", "squishing\tsquirt\t5.88\t7\t7\t6\n"), "rw");
  expect_pairs(s, {{"squishing", "squirt", 5.88, 1}});
  // Comments and blank lines are skipped, keeping the line numbers of the file.
  s = read_word_pairs(write("commented.txt", "# pairs\n\nA B 1\n  \n# more\nC D -2.5e-1\n"), "c");
  expect_pairs(s, {{"a", "b", 1, 3}, {"c", "d", -0.25, 6}});
}

TEST_F(WordsFiles, BadPairFilesNameFileAndLine) {
  const std::string missing = dir_.file("missing.txt");
  EXPECT_NE(pair_error(missing).find("missing.txt"), std::string::npos);
  EXPECT_NE(pair_error(write("empty.txt", "")).find("empty.txt' has no word pairs"), std::string::npos);
  EXPECT_NE(pair_error(write("comments.txt", "# nothing\n\n")).find("no word pairs"), std::string::npos);
  EXPECT_NE(pair_error(write("header.csv", "Word 1,Word 2,Human (mean)\n")).find("only a header"),
            std::string::npos);
  // Malformed lines: InputError with file and line.
  auto input_error = [&](const std::string& name, const std::string& text, const std::string& where,
                         const std::string& what) {
    try {
      read_word_pairs(write(name, text), "x");
      ADD_FAILURE() << name << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(name + ":" + where + ":"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  input_error("two_fields.tsv", "a\tb\t1\nc\td\n", "2", "got 2 fields");
  input_error("no_score.txt", "a b 1\nc d x\n", "2", "no numeric score");
  input_error("nan.txt", "a b 1\n\nc d nan\n", "3", "'nan' is not a finite number");
  input_error("inf.csv", "w1,w2,score\na,b,inf\n", "2", "'inf' is not a finite number");
  input_error("first_nan.txt", "a b nan\n", "1", "not a finite number");  // a number gone wrong, not a header
  // A number beyond a double is a number: on the first line it is no header, elsewhere no "no score".
  input_error("first_huge.csv", "the,of,1e400\na,b,1\nc,d,2\n", "1", "'1e400' is not a finite number");
  input_error("huge.csv", "a,b,1\nc,d,-1e400\n", "2", "'-1e400' is not a finite number");
  input_error("empty_word.csv", "a,b,1\n,d,2\n", "2", "a word is empty");
}

TEST_F(WordsFiles, AnalogiesAreReadBySection) {
  const auto q = read_analogies(write(
      "questions-words.txt",
      ": capital-common-countries\nAthens Greece Baghdad Iraq\n\n: family\nboy girl  brother sister\r\n"));
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].section, "capital-common-countries");
  EXPECT_EQ(q[0].words, (std::array<std::string, 4>{"athens", "greece", "baghdad", "iraq"}));
  EXPECT_EQ(q[0].line, 2);
  EXPECT_EQ(q[1].section, "family");
  EXPECT_EQ(q[1].words, (std::array<std::string, 4>{"boy", "girl", "brother", "sister"}));
  EXPECT_EQ(q[1].line, 5);
  try {
    read_analogies(write("bad.txt", ": s\na b c d\na b c\n"));
    ADD_FAILURE() << "3 words accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:3: expected 4 words"), std::string::npos) << e.what();
  }
  try {
    read_analogies(write("unnamed.txt", ": s\na b c d\n:\n"));
    ADD_FAILURE() << "a section without a name accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unnamed.txt:3:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_analogies(write("none.txt", ": only sections\n")), Error);
  EXPECT_THROW(read_analogies(dir_.file("missing.txt")), Error);
}

IdMap ids_of(const std::vector<std::string>& words) {
  IdMap ids;
  for (const auto& w : words) ids.add(w);
  return ids;
}

TEST(WordsVocabulary, CaseVariantsNameTheWordOfTheirFirstRow) {
  const WordIndex v(ids_of({"Paris", "france", "paris", "FRANCE", "x"}));
  EXPECT_EQ(v.rows(), 5);
  EXPECT_EQ(v.find("paris"), Index{0});
  EXPECT_EQ(v.find("france"), Index{1});
  EXPECT_FALSE(v.find("Paris"));  // words are looked up lower-cased
  EXPECT_EQ(v.word_of(2), 0);
  EXPECT_EQ(v.word_of(3), 1);
  EXPECT_EQ(v.word_of(4), 4);
}

TEST(WordsPairs, CoverageAndSpearmanEqualTheRhoOfTheDotProductsByHand) {
  const std::vector<std::string> words = {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"};
  const IdMap ids = ids_of(words);
  const Matrix F = test::random_matrix(8, 3, 11);
  WordPairSet set{"s", "s.txt", {}};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 10);
  for (int a = 0; a < 8; ++a) {
    for (int b = a + 1; b < 8; b += 2)
      set.pairs.push_back({words[static_cast<size_t>(a)], words[static_cast<size_t>(b)], u(rng), 0});
  }
  const Index in_vocabulary = static_cast<Index>(set.pairs.size());
  set.pairs.push_back({"w1", "unknown", 3, 0});
  set.pairs.push_back({"nothing", "w2", 4, 0});
  std::vector<double> dots, human;
  for (Index t = 0; t < in_vocabulary; ++t) {
    const RatedPair& p = set.pairs[static_cast<size_t>(t)];
    dots.push_back(F.row(*ids.find(p.first)).dot(F.row(*ids.find(p.second))));
    human.push_back(p.score);
  }
  const Vector hv = Eigen::Map<const Vector>(human.data(), in_vocabulary);
  const Vector dv = Eigen::Map<const Vector>(dots.data(), in_vocabulary);
  const WordIndex vocabulary(ids);
  const auto space = make_factor_space(F);
  const PairAgreement a = evaluate_pairs(*space, vocabulary, set, Context{});
  EXPECT_EQ(a.total, in_vocabulary + 2);
  EXPECT_EQ(a.covered, in_vocabulary);
  EXPECT_NEAR(a.spearman, spearman(hv, dv), 1e-12);
  // A space that is no factor space (EASE's and raw's kind) gives the same through its scores.
  const auto explicit_space = make_explicit_space(F * F.transpose());
  EXPECT_FALSE(supports_analogies(*explicit_space));
  EXPECT_NEAR(evaluate_pairs(*explicit_space, vocabulary, set, Context{}).spearman, a.spearman, 1e-12);
  // Nothing covered: ρ undefined.
  const WordPairSet none{"n", "n.txt", {{"a", "b", 1, 1}, {"c", "d", 2, 2}}};
  const PairAgreement b = evaluate_pairs(*space, vocabulary, none, Context{});
  EXPECT_EQ(b.covered, 0);
  EXPECT_TRUE(std::isnan(b.spearman));
  // A space of another size is refused.
  EXPECT_THROW(evaluate_pairs(*make_factor_space(F.topRows(5)), vocabulary, set, Context{}), InvalidArgument);
}

AnalogyQuestion question(const std::string& section, const std::string& a, const std::string& b,
                         const std::string& c, const std::string& d) {
  return {section, {a, b, c, d}, 0};
}

TEST(WordsAnalogies, ConstructedCaseWhere3CosAddAnd3CosMulDisagree) {
  // a, b, c are the first three axes, so s(d, a), s(d, b), s(d, c) are d's first three
  // coordinates; the fourth makes every row a unit vector.
  //   add: s(d,b) − s(d,a) + s(d,c)      mul: s'(d,b) s'(d,c) / (s'(d,a) + 0.001)
  //   d1 = (0, 0.9, −0.2, ·):   0.70                 0.95 · 0.40 / 0.501  = 0.758
  //   d2 = (0.25, 0.45, 0.45, ·): 0.65               0.725² / 0.626       = 0.840
  // b itself would win both (add 1, mul 0.998): it must be excluded.
  auto unit = [](double x, double y, double z) {
    Eigen::RowVector4d r(x, y, z, std::sqrt(1 - x * x - y * y - z * z));
    return r;
  };
  Matrix F(5, 4);
  F.row(0) = unit(1, 0, 0);
  F.row(1) = unit(0, 1, 0);
  F.row(2) = unit(0, 0, 1);
  F.row(3) = unit(0, 0.9, -0.2);
  F.row(4) = unit(0.25, 0.45, 0.45);
  const WordIndex vocabulary(ids_of({"a", "b", "c", "d1", "d2"}));
  const auto space = make_factor_space(F);
  ASSERT_TRUE(supports_analogies(*space));
  const std::vector<AnalogyQuestion> q = {
      question("s1", "a", "b", "c", "d1"), question("s2", "a", "b", "c", "d2"),
      question("s2", "a", "b", "c", "b"), question("s2", "a", "b", "c", "missing")};
  const AnalogyResult r = evaluate_analogies(*space, vocabulary, q, Context{});
  ASSERT_EQ(r.sections.size(), 2u);
  EXPECT_EQ(r.sections[0].first, "s1");
  EXPECT_EQ(r.sections[0].second.covered, 1);
  EXPECT_EQ(r.sections[0].second.correct_add, 1);  // d1 by 3CosAdd
  EXPECT_EQ(r.sections[0].second.correct_mul, 0);
  EXPECT_EQ(r.sections[1].second.total, 3);
  EXPECT_EQ(r.sections[1].second.covered, 2);  // "missing" is not a word of the space
  EXPECT_EQ(r.sections[1].second.correct_add, 0);
  EXPECT_EQ(r.sections[1].second.correct_mul, 1);  // d2 by 3CosMul; "b" is never an answer
  EXPECT_EQ(r.overall.total, 4);
  EXPECT_EQ(r.overall.covered, 3);
  EXPECT_EQ(r.overall.correct_add, 1);
  EXPECT_EQ(r.overall.correct_mul, 1);
  EXPECT_DOUBLE_EQ(accuracy_covered(r.overall.correct_add, r.overall), 1.0 / 3);
  EXPECT_DOUBLE_EQ(accuracy_all(r.overall.correct_add, r.overall), 1.0 / 4);
  // Spaces without embeddings are refused.
  EXPECT_THROW(evaluate_analogies(*make_explicit_space(F * F.transpose()), vocabulary, q, Context{}),
               InvalidArgument);
}

TEST(WordsAnalogies, AgreeWithADenseOracleForEveryThreadCountWithTiesToTheLowerRow) {
  const Index n = 40;
  Matrix F = test::random_matrix(n, 5, 21);
  F.row(9) *= 4;         // long: its copies are the best answers to questions whose b is w9
  F.row(17) = F.row(9);  // equal scores everywhere: the lower row must win
  F.row(30) = F.row(9);
  std::vector<std::string> words;
  for (Index i = 0; i < n; ++i) words.push_back("w" + std::to_string(i));
  const WordIndex vocabulary(ids_of(words));
  const Matrix S = F * F.transpose();
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<Index> pick(0, n - 1);
  std::vector<AnalogyQuestion> q;
  Index expected_add = 0, expected_mul = 0;
  for (int t = 0; t < 300; ++t) {
    const Index a = pick(rng), b = pick(rng), c = pick(rng);
    // The oracle's answers over the whole dense score matrix.
    Index best_add = -1, best_mul = -1;
    for (Index d = 0; d < n; ++d) {
      if (d == a || d == b || d == c) continue;
      auto add = [&](Index e) { return S(e, b) - S(e, a) + S(e, c); };
      auto mul = [&](Index e) { return (S(e, b) + 1) / 2 * (S(e, c) + 1) / 2 / ((S(e, a) + 1) / 2 + 0.001); };
      if (best_add < 0 || add(d) > add(best_add)) best_add = d;
      if (best_mul < 0 || mul(d) > mul(best_mul)) best_mul = d;
    }
    // Ask for 3CosAdd's answer, 3CosMul's, or a random word.
    const Index d = t % 3 == 0 ? best_add : t % 3 == 1 ? best_mul : pick(rng);
    q.push_back(question("s" + std::to_string(t % 4), words[static_cast<size_t>(a)],
                         words[static_cast<size_t>(b)], words[static_cast<size_t>(c)],
                         words[static_cast<size_t>(d)]));
    expected_add += d == best_add ? 1 : 0;
    expected_mul += d == best_mul ? 1 : 0;
  }
  const auto space = make_factor_space(F);
  Context one, two;
  one.threads = 1;
  two.threads = 2;
  const AnalogyResult r1 = evaluate_analogies(*space, vocabulary, q, one);
  const AnalogyResult r2 = evaluate_analogies(*space, vocabulary, q, two);
  EXPECT_EQ(r1.overall.covered, 300);
  EXPECT_EQ(r1.overall.correct_add, expected_add);
  EXPECT_EQ(r1.overall.correct_mul, expected_mul);
  ASSERT_EQ(r1.sections.size(), r2.sections.size());
  for (size_t s = 0; s < r1.sections.size(); ++s) {
    EXPECT_EQ(r1.sections[s].second.correct_add, r2.sections[s].second.correct_add);
    EXPECT_EQ(r1.sections[s].second.correct_mul, r2.sections[s].second.correct_mul);
  }
  // b = w9: its copies w17 and w30 tie for 3CosAdd's answer (⟨f_17, f_9⟩ = ‖f_9‖² is large);
  // the lower row, w17, wins.
  Index best = -1;
  for (Index d = 0; d < n; ++d) {
    if (d == 0 || d == 9 || d == 1) continue;
    if (best < 0 || S(d, 9) - S(d, 0) + S(d, 1) > S(best, 9) - S(best, 0) + S(best, 1)) best = d;
  }
  ASSERT_EQ(best, 17) << "the data no longer makes the copies of w9 win";
  const std::vector<AnalogyQuestion> twins = {question("t", "w0", "w9", "w1", "w17"),
                                              question("t", "w0", "w9", "w1", "w30")};
  const AnalogyResult rt = evaluate_analogies(*space, vocabulary, twins, two);
  EXPECT_EQ(rt.overall.correct_add, 1);
  const AnalogyResult r30 = evaluate_analogies(*space, vocabulary, {twins[1]}, two);
  EXPECT_EQ(r30.overall.correct_add, 0);
}

TEST(WordsReport, JsonAndTablesShowEveryMeasureAndNullForUndefined) {
  const IdMap ids = ids_of({"a", "b", "c", "d1", "d2"});
  Matrix F = test::random_matrix(5, 3, 2);
  const std::vector<WordPairSet> sets = {
      {"one", "one.txt", {{"a", "b", 1, 1}, {"a", "c", 2, 2}, {"b", "zz", 3, 3}}},
      {"few", "few.txt", {{"a", "b", 1, 1}}}};
  const std::vector<AnalogyQuestion> q = {question("s", "a", "b", "c", "d1"),
                                          question("s", "a", "b", "c", "nope")};
  const WordSpaceFactory make = [&](const std::string& m) -> std::unique_ptr<SimilaritySpace> {
    if (m == "dot") return make_factor_space(F);
    return make_explicit_space(F * F.transpose());
  };
  WordEvaluation ev = evaluate_words(ids, {"dot", "raw"}, make, sets, &q, "q.txt", Context{});
  ev.source_kind = "vectors";
  ev.source = "v.txt";
  const json j = words_json(ev);
  EXPECT_EQ(j["vocabulary"], 5);
  EXPECT_EQ(j["measures"], json({"dot", "raw"}));
  EXPECT_EQ(j["pairs"][0]["covered"], 2);
  EXPECT_EQ(j["pairs"][0]["total"], 3);
  EXPECT_TRUE(j["pairs"][0]["spearman"]["dot"].is_number());
  EXPECT_TRUE(j["pairs"][1]["spearman"]["dot"].is_null());  // one pair: undefined
  EXPECT_EQ(j["analogies"]["covered"], 1);
  EXPECT_TRUE(j["analogies"]["overall"]["raw"].is_null());
  EXPECT_TRUE(j["analogies"]["overall"]["dot"]["3cosadd"]["accuracy_all"].is_number());
  EXPECT_EQ(j["analogies"]["sections"][0]["name"], "s");
  const std::string table = words_table(ev);
  EXPECT_NE(table.find("| benchmark | coverage | dot | raw |"), std::string::npos) << table;
  EXPECT_NE(table.find("| one | 2/3 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| few | 1/1 | undefined | undefined |"), std::string::npos) << table;
  EXPECT_NE(table.find("| analogies (3CosAdd / 3CosMul) | 1/2 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| n/a |"), std::string::npos) << table;
  EXPECT_NE(words_markdown(ev).find("## Analogies by section"), std::string::npos);
}

// The command end to end.
using Result = test::CliResult;

class WordsCli : public test::CliTest {
 protected:
  // A word × context count matrix of 12 words in three topics (users = words, items = words).
  std::string cooccurrences() {
    const std::vector<std::string> topics[] = {
        {"cat", "dog", "horse", "cow"}, {"red", "green", "blue", "yellow"}, {"car", "bus", "train", "plane"}};
    std::string text = "word\tcontext\tcount\n";
    for (int t = 0; t < 3; ++t) {
      for (int i = 0; i < 4; ++i) {
        for (int s = 0; s < 3; ++s) {
          for (int j = 0; j < 4; ++j) {
            const int count = s == t ? 3 + (i + j) % 3 : (i * j + s + t) % 5 == 0 ? 1 : 0;
            if (count > 0) text += topics[t][i] + "\t" + topics[s][j] + "\t" + std::to_string(count) + "\n";
          }
        }
      }
    }
    return write("co.tsv", text);
  }
  std::string pairs_file() {
    return write("pairs.csv",
                 "Word 1,Word 2,Human (mean)\nCat,dog,8.5\ncat,car,1.0\nred,blue,7.0\nbus,train,8.0\n"
                 "dog,green,0.5\nhorse,cow,7.5\ncat,unicorn,2\n");
  }
  std::string model() {
    const Result r =
        run("fit --input " + cooccurrences() + " --model eq2 --rank 3 --lambda 1 --out " + path("m"));
    EXPECT_EQ(r.code, 0) << r.err;
    return path("m");
  }
  std::string cli() const { return std::string(LINSIM_CLI_PATH); }
};

TEST_F(WordsCli, ModelWithPairsAndAnalogiesWritesJsonThatMatchesTheEmbeddings) {
  const std::string m = model();
  write("q.txt", ": animals\ncat dog horse cow\n: colours\nred green blue yellow\nred green blue unicorn\n");
  const Result r = run("evaluate-words --model " + m + " --pairs sim=" + pairs_file() + " --analogies " +
                       path("q.txt") + " --out " + path("res"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| benchmark | coverage | dot | cosine | projected | raw |"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| sim | 6/7 |"), std::string::npos) << r.out;
  const json j = json::parse(slurp(path("res/words.json")));
  EXPECT_TRUE(fs::exists(dir_ / "res" / "words.md"));
  EXPECT_EQ(j["source"]["kind"], "model");
  EXPECT_EQ(j["measures"], json({"dot", "cosine", "projected", "raw"}));
  EXPECT_EQ(j["vocabulary"], 12);
  ASSERT_EQ(j["pairs"].size(), 1u);
  EXPECT_EQ(j["pairs"][0]["name"], "sim");
  EXPECT_EQ(j["pairs"][0]["covered"], 6);
  EXPECT_EQ(j["pairs"][0]["total"], 7);
  // ρ of dot and cosine from the stored item embeddings.
  const Matrix B = read_npy_matrix(path("m/item_embeddings.npy"));
  std::vector<std::string> ids;
  {
    std::ifstream in(path("m/item_ids.tsv"));
    for (std::string line; std::getline(in, line);) ids.push_back(line);
  }
  auto row = [&](const std::string& w) {
    return static_cast<Index>(std::find(ids.begin(), ids.end(), w) - ids.begin());
  };
  const std::vector<std::pair<std::string, std::string>> covered = {
      {"cat", "dog"}, {"cat", "car"}, {"red", "blue"}, {"bus", "train"}, {"dog", "green"}, {"horse", "cow"}};
  const Vector human = values({8.5, 1.0, 7.0, 8.0, 0.5, 7.5});
  Vector dot(6), cosine(6);
  for (Index t = 0; t < 6; ++t) {
    const auto& [a, b] = covered[static_cast<size_t>(t)];
    dot(t) = B.row(row(a)).dot(B.row(row(b)));
    cosine(t) = dot(t) / (B.row(row(a)).norm() * B.row(row(b)).norm());
  }
  EXPECT_NEAR(j["pairs"][0]["spearman"]["dot"].get<double>(), spearman(human, dot), 1e-12);
  EXPECT_NEAR(j["pairs"][0]["spearman"]["cosine"].get<double>(), spearman(human, cosine), 1e-12);
  EXPECT_TRUE(j["pairs"][0]["spearman"]["raw"].is_number());
  EXPECT_EQ(j["analogies"]["total"], 3);
  EXPECT_EQ(j["analogies"]["covered"], 2);
  EXPECT_TRUE(j["analogies"]["overall"]["raw"].is_null());
  EXPECT_TRUE(j["analogies"]["overall"]["projected"]["3cosmul"]["correct"].is_number());
  EXPECT_EQ(j["analogies"]["sections"][1]["name"], "colours");
  // --force replaces; without it the directory is refused.
  EXPECT_EQ(
      run("evaluate-words --model " + m + " --pairs " + path("pairs.csv") + " --out " + path("res")).code, 2);
  const Result forced = run("evaluate-words --model " + m + " --measures cosine --pairs " +
                            path("pairs.csv") + " --out " + path("res") + " --force");
  ASSERT_EQ(forced.code, 0) << forced.err;
  const json k = json::parse(slurp(path("res/words.json")));
  EXPECT_EQ(k["pairs"][0]["name"], "pairs");  // the file's base name
  EXPECT_EQ(k["measures"], json({"cosine"}));
  EXPECT_TRUE(k["analogies"].is_null());
}

TEST_F(WordsCli, EaseModelsGetTheirMeasuresAndNoAnalogies) {
  ASSERT_EQ(run("fit --input " + cooccurrences() + " --model ease --lambda 5 --out " + path("e")).code, 0);
  write("q.txt", "cat dog horse cow\n");
  const Result r = run("evaluate-words --model " + path("e") + " --pairs " + pairs_file() + " --analogies " +
                       path("q.txt") + " --out " + path("res"));
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(slurp(path("res/words.json")));
  EXPECT_EQ(j["measures"], json({"dot", "projected", "raw"}));
  for (const char* m : {"dot", "projected", "raw"}) {
    EXPECT_TRUE(j["pairs"][0]["spearman"][m].is_number()) << m;
    EXPECT_TRUE(j["analogies"]["overall"][m].is_null()) << m;
  }
  EXPECT_NE(r.out.find("| n/a | n/a | n/a |"), std::string::npos) << r.out;
  const Result cosine =
      run("evaluate-words --model " + path("e") + " --measures cosine --pairs " + path("pairs.csv"));
  EXPECT_EQ(cosine.code, 2);
  EXPECT_NE(cosine.err.find("EASE model has no embeddings"), std::string::npos) << cosine.err;
}

TEST_F(WordsCli, VectorsAndStandardSetsUnderADataDirectory) {
  write("v.txt", "4 2\nKing 1 0.1\nqueen 0.9 0.5\nman 0.2 -1\nwoman 0.1 -0.4\n");
  fs::create_directories(dir_ / "data" / "simlex999");
  write("data/simlex999/SimLex-999.txt",
        "word1\tword2\tPOS\tSimLex999\nking\tqueen\tN\t8\nman\twoman\tN\t7\n"
        "king\tman\tN\t3\nqueen\twoman\tN\t4\n");
  Result r = run("evaluate-words --vectors " + path("v.txt") + " --data-dir " + path("data") + " --out " +
                 path("res"));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* missing : {"ws353 (wordsim353/combined.csv)", "men (", "rw (rw/rw.txt)"}) {
    EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  }
  EXPECT_EQ(r.err.find("simlex999 ("), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ws353-sim"), std::string::npos) << r.err;  // optional: not missed
  // Said once (was twice: the sets were looked up for the path check and again to read them).
  EXPECT_EQ(r.err.find("standard sets not found"), r.err.rfind("standard sets not found")) << r.err;
  json j = json::parse(slurp(path("res/words.json")));
  EXPECT_EQ(j["source"]["kind"], "vectors");
  EXPECT_EQ(j["measures"], json({"cosine", "dot"}));
  EXPECT_EQ(j["pairs"][0]["name"], "simlex999");
  EXPECT_EQ(j["pairs"][0]["covered"], 4);  // "King" is matched lower-cased
  // LINSIM_DATA_DIR stands in for --data-dir when no --pairs are given.
  r = shell("LINSIM_DATA_DIR=" + path("data") + " " + cli() + " evaluate-words --vectors " + path("v.txt"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| simlex999 | 4/4 |"), std::string::npos) << r.out;
  // Measures that need a model are refused for vectors.
  r = run("evaluate-words --vectors " + path("v.txt") + " --measures cosine,projected --data-dir " +
          path("data"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs a model directory"), std::string::npos) << r.err;
}

// A --weighting sppmi:k whose shift removes every pair left EASE an all-zero model (exit 0, every
// neighbour at score 0 in id order) and made the spectral fits blame --rank. With k far above any
// ratio of these small counts (at most a few hundred) the matrix is zero; k = 1 keeps pairs.
TEST_F(WordsCli, AWeightingThatLeavesNothingIsRefused) {
  const std::string co = cooccurrences();
  for (const char* model : {"ease", "eq2 --rank 2 --lambda 0"}) {
    Result r = run("fit -i " + co + " --weighting sppmi:1e12:0.75 --model " + std::string(model) + " -o " + path("z") + " --force");
    EXPECT_EQ(r.code, 2) << model << "\n" << r.err;
    EXPECT_NE(r.err.find("--weighting sppmi:1000000000000:0.75: the SPPMI matrix is zero"), std::string::npos) << r.err;
    r = run("fit -i " + co + " --weighting sppmi:1:0.75 --model " + std::string(model) + " -o " + path("z") + " --force");
    EXPECT_EQ(r.code, 0) << model << "\n" << r.err;
  }
  // At k = 1 there is no smaller k to advise (it did: "a smaller k keeps more pairs").
  write("same.tsv", "w\tc\tn\nthe\tthe\t10\n");
  const Result one = run("fit -i " + path("same.tsv") + " --weighting sppmi:1:0.75 --model eq2 --rank 1 --lambda 0 -o " +
                         path("z1"));
  EXPECT_EQ(one.code, 2) << one.err;
  EXPECT_NE(one.err.find("(the shift log k); these data give SPPMI nothing to embed"), std::string::npos) << one.err;
}

// The corpus: a FIFO is refused instead of waited on for ever (open() blocks for a writer); an
// empty standard input is an empty corpus, not "cannot copy"; a symbolic link inside a corpus
// directory to the file --output names is refused, as the link itself given on the command line is.
TEST_F(WordsCli, ACorpusFifoEmptyStandardInputAndALinkToTheOutput) {
  ASSERT_EQ(mkfifo(path("ff").c_str(), 0600), 0);
  Result r = shell("timeout 20 " + cli() + " cooccur " + path("ff") + " -o " + path("y.tsv"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("ff: not a regular file (a FIFO"), std::string::npos) << r.err;
  r = shell(": | " + cli() + " cooccur -");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("<stdin>: the corpus holds no words"), std::string::npos) << r.err;
  r = shell(": | " + cli() + " tokenize -");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::filesystem::create_directory(path("corpus"));
  write("input.txt", "keep this text safe\n");
  std::filesystem::create_symlink("../input.txt", path("corpus/x.txt"));
  for (const std::string& command : {"tokenize " + path("corpus") + " -o " + path("input.txt") + " --force",
                                    "cooccur " + path("corpus") + " --min-count 1 -o " + path("input.txt") + " --force"}) {
    r = run(command);
    EXPECT_EQ(r.code, 2) << command;
    EXPECT_NE(r.err.find("would replace the input corpus file '" + path("corpus/x.txt") + "'"), std::string::npos)
        << r.err;
    EXPECT_EQ(slurp(path("input.txt")), "keep this text safe\n");
  }
  expect_only({"ff", "corpus", "input.txt", "co.tsv"});
}

TEST_F(WordsCli, BadInputIsAClearErrorAndLeavesNothing) {
  const std::string m = model();
  const std::string pairs = pairs_file();
  Result r = run("evaluate-words --model " + m + " --vectors " + pairs + " --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  r = run("evaluate-words --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("give --model DIR or --vectors FILE"), std::string::npos) << r.err;
  r = shell("env -u LINSIM_DATA_DIR " + cli() + " evaluate-words --model " + m);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nothing to evaluate"), std::string::npos) << r.err;
  r = run("evaluate-words --model " + m + " --measures dot,nope --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  r = run("evaluate-words --model " + m + " --measures dot,dot --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--measures: 'dot' is given twice"), std::string::npos) << r.err;
  // A malformed pair file: exit 1 naming file and line, no output directory.
  write("bad.txt", "cat dog 1\ncat\n");
  r = run("evaluate-words --model " + m + " --pairs " + path("bad.txt") + " --out " + path("res"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.txt:2:"), std::string::npos) << r.err;
  write("badq.txt", ": s\ncat dog cow\n");
  r = run("evaluate-words --model " + m + " --pairs " + pairs + " --analogies " + path("badq.txt") +
          " --out " + path("res"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("badq.txt:2:"), std::string::npos) << r.err;
  r = run("evaluate-words --model " + m + " --pairs " + path("missing.txt") + " --out " + path("res"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot open '" + path("missing.txt") + "'"), std::string::npos) << r.err;
  r = run("evaluate-words --model " + m + " --pairs " + pairs + " --analogies " + path("missingq.txt") + " --out " +
          path("res"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot open '" + path("missingq.txt") + "'"), std::string::npos) << r.err;
  write("empty.txt", "");
  r = run("evaluate-words --model " + m + " --pairs " + path("empty.txt"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has no word pairs"), std::string::npos) << r.err;
  // An unwritable --out fails before any work.
  r = run("evaluate-words --model " + m + " --pairs " + pairs + " --out " + path("no/such/dir/res"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
  // Two sets of one name.
  r = run("evaluate-words --model " + m + " --pairs " + pairs + " --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("two pair sets are named 'pairs'"), std::string::npos) << r.err;
  // .npy vectors have no words.
  r = run("export --model " + m + " --measure dot --format npy --out " + path("v.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("evaluate-words --vectors " + path("v.npy") + " --pairs " + pairs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no words"), std::string::npos) << r.err;
  expect_only({"co.tsv", "m", "pairs.csv", "bad.txt", "badq.txt", "empty.txt", "v.npy", "v.ids.tsv"});
}

}  // namespace
}  // namespace linsim
