// The command-line tool end to end: output format, exit codes (0 ok, 1 runtime, 2 usage) and
// the guarantee that a failed run leaves no partial output behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "linsim/io/model_dir.h"
#include "linsim/io/npy.h"
#include "cli_runner.h"

#include <Eigen/LU>

namespace {
namespace fs = std::filesystem;

std::vector<std::string> parse_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

using Result = linsim::test::CliResult;
using Cli = linsim::test::CliTest;

TEST_F(Cli, FitThenSimilarItemsAndRecommend) {
  Result r = run("fit --input " + fixture() + " --model eq1 --gauge symmetric --rank 4 --lambda 5 --out " + path("m"));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"model.json", "item_embeddings.npy", "user_embeddings.npy", "encoder.npy",
                        "singular_values.npy", "item_ids.tsv", "user_ids.tsv"}) {
    EXPECT_TRUE(fs::exists(dir_ / "m" / f)) << f;
  }
  r = run("similar-items --model " + path("m") + " --measure projected --items film00,film07 --top 3");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "query\trank\tneighbor\tscore");
  int rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 3) << line;
  }
  EXPECT_EQ(rows, 6);
  {
    // Oracle: the projected similarity is the cosine between columns of X̂ = P Bᵀ (MATH.md M4),
    // computed densely from the stored factors; the table must list exactly its top 3 (ties by
    // lower index) with the same scores.
    using namespace linsim;
    const Matrix B = read_npy_matrix(path("m/item_embeddings.npy"));
    const Matrix P = read_npy_matrix(path("m/user_embeddings.npy"));
    const Matrix S = test::cosine_matrix(Matrix((P * B.transpose()).transpose()));
    const std::vector<std::string> ids = parse_lines(slurp(path("m/item_ids.tsv")));
    std::vector<std::string> expected;  // "query<TAB>rank<TAB>neighbor", and the score apart
    std::vector<double> expected_scores;
    for (const std::string query : {"film00", "film07"}) {
      const auto q = static_cast<Index>(std::find(ids.begin(), ids.end(), query) - ids.begin());
      std::vector<Index> order;
      for (Index j = 0; j < S.cols(); ++j) {
        if (j != q) order.push_back(j);
      }
      std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return S(q, a) > S(q, b); });
      for (size_t rank = 0; rank < 3; ++rank) {
        expected.push_back(query + "\t" + std::to_string(rank + 1) + "\t" + ids[static_cast<size_t>(order[rank])]);
        expected_scores.push_back(S(q, order[rank]));
      }
    }
    const std::vector<std::string> table = parse_lines(r.out);
    ASSERT_EQ(table.size(), expected.size() + 1);
    for (size_t i = 0; i < expected.size(); ++i) {
      const std::string& row = table[i + 1];
      EXPECT_EQ(row.substr(0, row.rfind('\t')), expected[i]);
      EXPECT_NEAR(std::stod(row.substr(row.rfind('\t') + 1)), expected_scores[i], 1e-9) << row;
    }
  }
  r = run("similar-users --model " + path("m") + " --measure raw --all --top 2 --output " + path("users.tsv"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string table = slurp(path("users.tsv"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 1 + 36 * 2);
  r = run("recommend --model " + path("m") + " --users u00 --top 20");
  ASSERT_EQ(r.code, 0) << r.err;
  // u00's own items never come back.
  std::ifstream fixture_in(fixture());
  while (std::getline(fixture_in, line)) {
    if (line.rfind("u00\t", 0) == 0) {
      const std::string item = line.substr(4, line.find('\t', 4) - 4);
      EXPECT_EQ(r.out.find("\t" + item + "\t"), std::string::npos) << item;
    }
  }
  r = run("recommend --model " + path("m") + " --input " + write("new.tsv", "new\tfilm00\nnew\tfilm01\n") + " --top 3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("new\t1\tfilm0"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // A user whose entries are all 0 has nothing to fold in: no rows, and a warning naming it.
  r = run("recommend --model " + path("m") + " --input " +
          write("zeros.tsv", "new\tfilm00\t1\ncold\tfilm00\t0\ncold\tfilm01\t0\n") + " --top 3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("new\t1\t"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("cold"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("1 user of"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no recommendations for it (cold)"), std::string::npos) << r.err;
  // A fit counts such users in model.json: b and d below have only zeros.
  r = run("fit --input " + write("fitzeros.tsv", "a\tx\t1\nb\tx\t0\nc\ty\t2\na\ty\t1\nd\tx\t0\n") +
          " --rank 1 --lambda 0 --out " + path("z"));
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json input = nlohmann::json::parse(slurp(path("z/model.json"))).at("input");
  EXPECT_EQ(input.at("users_without_entries"), 2) << input;
  EXPECT_EQ(input.at("dropped_zero"), 2) << input;
  EXPECT_EQ(parse_lines(slurp(path("z/user_ids.tsv"))), (std::vector<std::string>{"a", "c"}));
}

// A comment line that reads as an interaction (a user id that begins with '#'?) is skipped, as
// docs/formats.md says, and every command that reads interactions warns of it, naming its place;
// model.json counts such lines.
TEST_F(Cli, CommentLinesThatReadAsInteractionsAreWarnedOf) {
  const std::string data = write("hash.tsv", "a\tx\t1\nb\ty\t1\n#c\tx\t1\na\ty\t2\nc\tx\t1\n");
  Result r = run("fit --input " + data + " --rank 1 --lambda 0 --out " + path("m"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: " + data + ":3: this line begins with '#' and is skipped as a comment"),
            std::string::npos) << r.err;
  const nlohmann::json input = nlohmann::json::parse(slurp(path("m/model.json"))).at("input");
  EXPECT_EQ(input.at("commented_data_lines"), 1) << input;
  EXPECT_EQ(input.at("lines"), 4) << input;
  r = run("recommend --model " + path("m") + " --input " + write("fold.tsv", "n\tx\n#m\tx\n#k\ty\n") + " --top 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 2 lines of '" + path("fold.tsv") + "' begin with '#'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(the first: " + path("fold.tsv") + ":2)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("#"), std::string::npos) << r.out;
  // Before the first data line too (bytewise sorted data puts '#' users first), also from standard
  // input, which has no separator until that line gives it.
  const std::string sorted = write("sorted.tsv", "#alice\tx\t1\n#bob\ty\t1\na\tx\t1\nb\ty\t1\na\ty\t2\n");
  for (const std::string& from : {sorted, std::string("-")}) {
    r = run("fit --input " + from + " --rank 1 --lambda 0 --force --out " + path("s") + (from == "-" ? " < " + sorted : ""));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: 2 lines of " + (from == "-" ? std::string("standard input") : "'" + sorted + "'") +
                         " begin with '#'"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("(the first: " + (from == "-" ? std::string("standard input") : sorted) + ":1)"), std::string::npos)
        << r.err;
  }
  // Comments that do not read as interactions are not warned of.
  r = run("fit --input " + write("plain.tsv", "# made by hand\na\tx\t1\n# b\ty\t1\nb\ty\t1\n") +
          " --rank 1 --lambda 0 --out " + path("p"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST_F(Cli, EaseInFloat32IsStoredAndServedInFloat32) {
  Result r = run("fit --input " + fixture() + " --model ease --dtype float32 --lambda 5 --out " + path("e32"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("e32/model.json")).find("\"dtype\": \"float32\""), std::string::npos);
  EXPECT_NE(slurp(path("e32/weights.npy")).find("'descr': '<f4'"), std::string::npos);
  ASSERT_EQ(run("fit --input " + fixture() + " --model ease --lambda 5 --out " + path("e64")).code, 0);
  EXPECT_NE(slurp(path("e64/model.json")).find("\"dtype\": \"float64\""), std::string::npos);
  // The same neighbours and recommendations as the float64 model on the fixture's clusters.
  for (const char* command : {"similar-items --measure projected --items film00,film07 --top 3",
                              "similar-items --measure dot --items film00 --top 3", "recommend --users u00,u05 --top 5"}) {
    const Result r32 = run(std::string(command) + " --model " + path("e32"));
    const Result r64 = run(std::string(command) + " --model " + path("e64"));
    ASSERT_EQ(r32.code, 0) << r32.err;
    ASSERT_EQ(r64.code, 0) << r64.err;
    auto ranking = [](const std::string& table) {  // query, rank, neighbour: the scores differ in rounding
      std::istringstream in(table);
      std::string line, out;
      while (std::getline(in, line)) out += line.substr(0, line.rfind('\t')) + "\n";
      return out;
    };
    EXPECT_EQ(ranking(r32.out), ranking(r64.out)) << command;
  }
  // A model.json naming an unknown dtype is a broken model directory: a runtime error naming it.
  std::string meta = slurp(path("e32/model.json"));
  meta.replace(meta.find("\"float32\""), 9, "\"float16\"");
  std::ofstream(path("e32/model.json")) << meta;
  r = run("similar-items --model " + path("e32") + " --items film00");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("model.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("float16"), std::string::npos) << r.err;
}

TEST_F(Cli, HelpAndVersionExitZero) {
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("fit --help").code, 0);
  EXPECT_EQ(run("--version").code, 0);
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("frobnicate").code, 2);
}

TEST_F(Cli, UsageErrorsExitTwoAndLeaveNothing) {
  const std::string base = "fit --input " + fixture() + " --out " + path("m");
  Result r = run(base + " --lambda -1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--lambda"), std::string::npos) << r.err;
  r = run(base + " --rank 1000");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--rank"), std::string::npos) << r.err;
  // Unknown names: the message says which option's value it is and what is valid.
  for (const auto& [bad, words] : std::vector<std::pair<std::string, std::string>>{
           {" --model eq3", "unknown model 'eq3' (valid: eq1"},
           {" --model eq1 --gauge power:2", "unknown gauge 'power:2' (valid:"},
           {" --solver qr", "unknown solver 'qr' (valid: auto"},
           {" --model eq2 --gauge symmetric", "--gauge applies to --model eq1 only"},
           // A solver the model has no use for is refused, not ignored (sppmi ran Lanczos instead).
           {" --model ease --solver gram", "--solver gram does not apply to --model ease"},
           {" --model sppmi --solver randomized", "--solver randomized does not apply to --model sppmi"}}) {
    r = run(base + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
  }
  for (const char* bad : {" --model eq2 --dtype float32", " --model ease --dtype float16"}) {
    r = run(base + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("dtype"), std::string::npos) << r.err;
  }
  for (const char* bad : {" --solver-tol 0", " --solver-tol 1", " --solver-tol -1e-3", " --model ease --solver-tol 1e-3"}) {
    r = run(base + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("--solver-tol"), std::string::npos) << r.err;
  }
  expect_only({});
  ASSERT_EQ(run(base + " --rank 3 --lambda 1").code, 0);
  r = run(base + " --rank 3 --lambda 1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(run(base + " --rank 2 --lambda 1 --force --solver randomized --solver-tol 1e-3").code, 0);
  expect_only({"m"});
  EXPECT_NE(slurp(path("m/model.json")).find("\"solver_tol\": 0.001"), std::string::npos);
  r = run("similar-items --model " + path("m") + " --items nosuchfilm");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nosuchfilm"), std::string::npos) << r.err;
  for (const char* command : {"similar-users", "recommend"}) {
    r = run(std::string(command) + " --model " + path("m") + " --users nosuchuser");
    EXPECT_EQ(r.code, 2) << command;
    EXPECT_NE(r.err.find("unknown user id 'nosuchuser'"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run("similar-items --model " + path("m")).code, 2);
  EXPECT_EQ(run("similar-items --model " + path("m") + " --all --top 0").code, 2);
  EXPECT_EQ(run("similar-items --model " + path("m") + " --all --measure cosinus").code, 2);
  // --float32 on named queries is honoured (it was refused: "applies to --all searches only").
  r = run("similar-items --model " + path("m") + " --items film00 --float32 --measure cosine");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "query\trank\tneighbor\tscore");
  r = run("similar-items --model " + path("m") + " --items film00 --measure raw --float32");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("embeddings"), std::string::npos) << r.err;
  r = run("similar-items --model " + path("m") + " --all --measure raw --float32");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("embeddings"), std::string::npos) << r.err;
}

TEST_F(Cli, RuntimeErrorsExitOneAndLeaveNothing) {
  Result r = run("fit --input " + write("bad.tsv", "u1\ti1\t1\nu2 i2 1\n") + " --sep tab --out " + path("m"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.tsv:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("u2 i2 1"), std::string::npos) << r.err;
  r = run("fit --input " + write("nan.tsv", "u1\ti1\tnan\n") + " --out " + path("m"));
  EXPECT_EQ(r.code, 1);
  r = run("fit --input " + write("empty.tsv", "") + " --out " + path("m"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no interactions"), std::string::npos) << r.err;
  r = run("fit --input " + path("missing.tsv") + " --out " + path("m"));
  EXPECT_EQ(r.code, 1);
  r = run("fit --input " + fixture() + " --rank 2 --out " + path("no/such/dir/m"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
  // A parent that exists but cannot be written to: refused before the input is read (the bad
  // line of bad.tsv is never reached). Root may write to a directory of mode 0500, so root
  // takes sysfs's top directory, where nobody may create one.
  const std::string unwritable = geteuid() == 0 ? std::string("/sys") : path("readonly");
  if (geteuid() != 0) {
    fs::create_directory(unwritable);
    fs::permissions(unwritable, fs::perms::owner_read | fs::perms::owner_exec);
  }
  if (mkdir((unwritable + "/probe").c_str(), 0755) == 0) {
    rmdir((unwritable + "/probe").c_str());
    std::cout << "[   NOTE   ] '" << unwritable << "' can be written to here: the unwritable parent is not tested\n";
  } else {
    r = run("fit --input " + path("bad.tsv") + " --sep tab --out " + unwritable + "/m");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot create output directory '" + unwritable + "/m'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("bad.tsv"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(unwritable + "/m"));
  }
  if (geteuid() != 0) {
    fs::permissions(unwritable, fs::perms::owner_all);
    fs::remove(unwritable);
  }
  r = run("similar-items --model " + path("nomodel") + " --all");
  EXPECT_EQ(r.code, 1);
  expect_only({"bad.tsv", "nan.tsv", "empty.tsv"});
}

// The reading options: a threshold that is not a finite number or one that cannot apply is a usage
// error (exit 2); thresholds that leave no interactions are an error about the file (exit 1, as an
// empty file is). Each names the option and its value; nothing is written.
TEST_F(Cli, ReadingOptionsThatLeaveNothingOrCannotApplyAreNamed) {
  const std::string fit = "fit --input " + fixture() + " --rank 2 --lambda 1 --out " + path("m");
  for (const char* value : {"nan", "inf", "-inf"}) {
    const Result r = run(fit + " --min-value " + value);
    EXPECT_EQ(r.code, 2) << value << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("--min-value must be a finite number, got ") + (value[0] == 'n' ? "nan" : value)),
              std::string::npos)
        << r.err;
  }
  Result r = run(fit + " --min-item-users 1000000");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("'" + fixture() + "' has no interactions left after --min-item-users 1000000"), std::string::npos)
      << r.err;
  r = run(fit + " --min-value 1e300");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no interactions left after --min-value 1e+300"), std::string::npos) << r.err;
  expect_only({});
  // recommend --input maps the file's items to the model's: dropping items would change the model's.
  ASSERT_EQ(run(fit).code, 0);
  r = run("recommend --model " + path("m") + " --input " + fixture() + " --min-item-users 2 --output " + path("r.tsv"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--min-item-users cannot be used with a model's item ids"), std::string::npos) << r.err;
  expect_only({"m"});
}

TEST_F(Cli, SimulateIsDeterministicAndFitReadsIt) {
  const std::string opts = " --users 400 --items 60 --seed 5";
  ASSERT_EQ(run("simulate --out " + path("a.tsv") + " --truth " + path("ta.tsv") + opts).code, 0);
  ASSERT_EQ(run("simulate --out " + path("b.tsv") + " --truth " + path("tb.tsv") + opts + " --threads 1").code, 0);
  EXPECT_EQ(slurp(path("a.tsv")), slurp(path("b.tsv")));
  EXPECT_EQ(slurp(path("ta.tsv")), slurp(path("tb.tsv")));
  EXPECT_EQ(slurp(path("ta.tsv")).substr(0, 24), "item\tcluster\tpopularity\n");
  ASSERT_EQ(run("simulate --out " + path("c.tsv") + opts.substr(0, opts.size() - 1) + "6").code, 0);
  EXPECT_NE(slurp(path("a.tsv")), slurp(path("c.tsv")));
  EXPECT_EQ(run("simulate --out " + path("a.tsv") + opts).code, 2);  // exists
  EXPECT_EQ(run("simulate --out " + path("d.tsv") + " --users 0").code, 2);
  // An unwritable truth file fails before anything is written.
  EXPECT_EQ(run("simulate --out " + path("e.tsv") + " --truth " + path("no/dir/t.tsv") + opts).code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "e.tsv"));
  EXPECT_EQ(run("fit --input " + path("a.tsv") + " --rank 5 --lambda 1 --out " + path("m")).code, 0);
  // "-" is standard output (was: a file named '-'); the truth file comes only with all of it.
  Result r = run("simulate --out - --truth " + path("tf.tsv") + opts);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, slurp(path("a.tsv")));
  EXPECT_EQ(slurp(path("tf.tsv")), slurp(path("ta.tsv")));
  EXPECT_FALSE(fs::exists(dir_ / "-"));
  r = run("simulate --out - --truth " + path("tg.tsv") + opts + " > /dev/full");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot write to standard output"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "tg.tsv"));
}

TEST_F(Cli, ReproduceWritesFiguresTablesAndJson) {
  Result r = run("reproduce --out " + path("rep") +
                 " --users 800 --items 80 --seeds 2 --rank 5 --lambda-eq1 300 --lambda-eq2 8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| eq1 symmetric cosine |"), std::string::npos) << r.out;
  for (const char* f : {"figure1.png", "figure1-extended.png", "results.json", "results.md"}) {
    EXPECT_TRUE(fs::exists(dir_ / "rep" / f)) << f;
  }
  EXPECT_EQ(run("reproduce --out " + path("rep") + " --users 800 --items 80 --seeds 1 --rank 5").code, 2);
  EXPECT_EQ(run("reproduce --out " + path("rep2") + " --seeds 0").code, 2);
  EXPECT_EQ(run("reproduce --out " + path("rep2") + " --items 80 --rank 81").code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "rep2"));
}

TEST_F(Cli, RemediesFitRecordTheirSettingsAndScoreFoldedInUsers) {
  // Weighted, SPPMI and cosine-trained models through the CLI; model.json records the settings.
  const std::string base = "fit --input " + fixture() + " --rank 3 ";
  Result r = run(base + "--weighting ips:0.5,user-norm:0.5,standardize --lambda 1 --out " + path("w"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("w") + "/model.json").find("\"weighting\": \"ips:0.5,user-norm:0.5,standardize\""),
            std::string::npos);
  r = run(base + "--model sppmi --negatives 2 --smoothing 0.5 --eigen-power 0.25 --out " + path("s"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("s") + "/model.json").find("\"eigen_power\": 0.25"), std::string::npos);
  r = run(base + "--model cosine --epochs 30 --lambda 0.5 --out " + path("c"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string meta = slurp(path("c") + "/model.json");
  for (const char* key : {"\"convergence\"", "\"objective_history\"", "\"scale\"", "\"converged\""}) {
    EXPECT_NE(meta.find(key), std::string::npos) << key;
  }
  // A training user folded in through --input gets the same recommendations as by id.
  for (const char* m : {"w", "s", "c"}) {
    SCOPED_TRACE(m);
    const Result by_id = run("recommend --model " + path(m) + " --users u00 --top 4");
    ASSERT_EQ(by_id.code, 0) << by_id.err;
    std::string rows = "user\titem\trating\n";
    std::ifstream in(fixture());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("u00\t", 0) == 0) rows += line + "\n";
    }
    const Result folded = run("recommend --model " + path(m) + " --input " + write("u00.tsv", rows) + " --top 4");
    ASSERT_EQ(folded.code, 0) << folded.err;
    const auto a = parse_lines(by_id.out), b = parse_lines(folded.out);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 1; i < a.size(); ++i) EXPECT_EQ(a[i].substr(a[i].find('\t')), b[i].substr(b[i].find('\t')));
  }
  // Options that do not belong to the model, and bad values, are usage errors; nothing is left.
  for (const char* bad : {"--weighting ips:2", "--weighting standardize,ips", "--weighting nope",
                          "--model sppmi --weighting ips", "--model sppmi --lambda 3", "--model sppmi --negatives 0.5",
                          "--model eq2 --negatives 5", "--model eq2 --epochs 5", "--model cosine --epochs 0",
                          // beyond int, as model.json's integers are read back (was: fitted, written, unloadable)
                          "--model cosine --epochs 2147483648", "--model cosine --tol -1", "--model sppmi --smoothing 0", "--model sppmi --rank 14"}) {
    SCOPED_TRACE(bad);
    r = run(base + bad + " --out " + path("bad"));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  expect_only({"w", "s", "c", "u00.tsv"});
}

// Users folded in through recommend --input are read as the training rows were: binarised when
// the model's were (here by the training file's name, u.data), and cut at its --min-value, whatever
// the fold-in file is called (was: the fold-in file's own name decided, and the same user's raw
// ratings scored ~4 times higher, in another order, than its training row). An option given says
// otherwise, with a warning where it departs from the model.
TEST_F(Cli, FoldedInUsersAreReadAsTheTrainingRowsWere) {
  std::filesystem::create_directories(path("ml"));
  std::filesystem::copy_file(fixture(), path("ml/u.data"));
  std::string rows = "user\titem\trating\n";
  {
    std::ifstream in(fixture());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("u03\t", 0) == 0) rows += line + "\n";
    }
  }
  const std::string fold = write("u03.tsv", rows);
  for (const auto& [name, fit] : {std::pair{"binarised by name", "--input " + path("ml/u.data")},
                                  std::pair{"cut at --min-value 3", "--input " + fixture() + " --min-value 3"}}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(run("fit " + fit + " --model eq2 --rank 4 --lambda 1 --out " + path("m") + " --force").code, 0);
    const Result by_id = run("recommend --model " + path("m") + " --users u03 --top 5");
    ASSERT_EQ(by_id.code, 0) << by_id.err;
    const Result folded = run("recommend --model " + path("m") + " --input " + fold + " --top 5");
    ASSERT_EQ(folded.code, 0) << folded.err;
    EXPECT_EQ(folded.err, "");
    const auto a = parse_lines(by_id.out), b = parse_lines(folded.out);
    ASSERT_EQ(a.size(), 6u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 1; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
  }
  // The training data were binarised: --no-binarize folds in the ratings, and says that it departs.
  ASSERT_EQ(run("fit --input " + path("ml/u.data") + " --model eq2 --rank 4 --lambda 1 --out " + path("m") + " --force").code, 0);
  const Result raw = run("recommend --model " + path("m") + " --input " + fold + " --top 5 --no-binarize");
  ASSERT_EQ(raw.code, 0) << raw.err;
  EXPECT_NE(raw.err.find("warning: the model was fitted on binarised values, and --no-binarize folds in unbinarised ones"),
            std::string::npos)
      << raw.err;
  // A user of the file whose entries are all 0 has no row: asked for by id, the error says why
  // (was: only "unknown user id", though the id is in the file).
  const std::string zeros = write("zeros.tsv", "n1\tfilm00\t1\nn2\tfilm01\t0\n");
  const Result missing = run("recommend --model " + path("m") + " --input " + zeros + " --users n2");
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("unknown user id 'n2': --users names users of --input '" + zeros + "' ('" + zeros +
                             "' has no row for 1 user whose entries were all 0 or below --min-value, as warned above)"),
            std::string::npos)
      << missing.err;
  // A training user that the file does not hold: the message says whose ids --users names (was:
  // "unknown user id 'u00'", as if the model lacked it).
  const Result training = run("recommend --model " + path("m") + " --input " + zeros + " --users u00");
  EXPECT_EQ(training.code, 2) << training.err;
  EXPECT_NE(training.err.find("unknown user id 'u00': --users names users of --input '" + zeros + "'"), std::string::npos)
      << training.err;
}

TEST_F(Cli, AuditWritesJsonAndHtmlAndRejectsBadInput) {
  ASSERT_EQ(run("fit --input " + fixture() + " --model eq1 --gauge symmetric --rank 3 --lambda 5 --out " + path("m")).code, 0);
  Result r = run("audit --items " + path("m") + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Verdict:"), std::string::npos) << r.out;
  const std::string doc = slurp(path("a") + "/audit.json");
  for (const char* key : {"\"gauge_sensitivity\"", "\"mean_jaccard\"", "\"worst_jaccard\"", "\"imbalance\"",
                          "\"norm_spearman\"", "\"hubness_skew\"", "\"verdict\""}) {
    EXPECT_NE(doc.find(key), std::string::npos) << key;
  }
  EXPECT_NE(slurp(path("a") + "/audit.html").find("data:image/png;base64,"), std::string::npos);
  // Canonical vectors with their partner: cosine = projected.
  ASSERT_EQ(run("export --model " + path("m") + " --measure projected --out " + path("c.npy") + " --partner-out " +
                path("p.npy")).code, 0);
  r = run("audit --items " + path("c.npy") + " --users " + path("p.npy") + " --top 3 --out " + path("ac"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("projected overlap  1.000"), std::string::npos) << r.out;
  // word2vec text with ids, and a pair truth file.
  ASSERT_EQ(run("export --model " + path("m") + " --measure dot --format word2vec --out " + path("v.txt")).code, 0);
  r = run("audit --items " + path("v.txt") + " --top 3 --truth " + write("pairs.tsv", "film00\tfilm01\t5\nfilm02\tfilm03\t1\nfilm04\tfilm09\t3\n") +
          " --out " + path("av"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("av") + "/audit.json").find("\"spearman\": {"), std::string::npos);
  // Bad inputs: usage errors (exit 2) or runtime errors (exit 1), nothing written.
  EXPECT_EQ(run("audit --items " + path("m") + " --top 15 --out " + path("x")).code, 2);  // 15 items
  EXPECT_EQ(run("audit --items " + path("m") + " --top 0 --out " + path("x")).code, 2);
  EXPECT_EQ(run("audit --items " + path("m") + " --out " + path("a")).code, 2);  // exists
  EXPECT_EQ(run("audit --items " + write("nan.txt", "a 1 2\nb nan 1\n") + " --out " + path("x")).code, 1);
  EXPECT_EQ(run("audit --items " + path("c.npy") + " --users " + write("u.txt", "u 1 2\n") + " --out " + path("x")).code, 2);
  EXPECT_EQ(run("audit --items " + path("nothing.npy") + " --out " + path("x")).code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

TEST_F(Cli, EvaluateAndEvaluateSimilarity) {
  Result r = run("evaluate --input " + fixture() + " --heldout-users 5 --min-interactions 3 --grid \"rank=2,3 "
                 "eq1.lambda=1,10 eq2.lambda=0.5 ease.lambda=1,5\" --out " + path("ev"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| ease | lambda="), std::string::npos) << r.out;
  const auto doc = slurp(path("ev") + "/results.json");
  for (const char* key : {"\"protocol\"", "\"recall@20\"", "\"recall@50\"", "\"ndcg@100\"", "\"se\"", "\"trials\""}) {
    EXPECT_NE(doc.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(run("evaluate --input " + fixture() + " --heldout-users 30").code, 2);  // not enough users
  EXPECT_EQ(run("evaluate --input " + fixture() + " --heldout-users 5 --models svd").code, 2);
  EXPECT_EQ(run("evaluate --input " + fixture() + " --heldout-users 5 --grid \"rank=x\"").code, 2);
  std::string labels = "item\tlabel\n";
  for (int i = 0; i < 15; ++i) labels += "film" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "\tg" + std::to_string(i / 5) + "\n";
  r = run("evaluate-similarity --input " + fixture() + " --labels " + write("labels.tsv", labels) +
          " --rank 3 --lambda-eq1 5 --lambda-eq2 0.5 --lambda-ease 5 --top 3 --out " + path("sim"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| eq1 projected |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| ease projected |"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "sim" / "similarity.json"));
  EXPECT_EQ(run("evaluate-similarity --input " + fixture() + " --labels " + path("nolabels.tsv")).code, 1);
}

// A malformed line in any metadata format --labels reads is a runtime error (exit 1) naming the
// file and the line; nothing is written.
TEST_F(Cli, MalformedLabelFilesNameTheFileAndLine) {
  for (const char* sub : {"ml100k", "ml1m", "ml20m", "lastfm"}) fs::create_directory(dir_ / sub);
  const std::string flags(19, '0');
  std::string pipes;
  for (char c : flags) pipes += std::string("|") + c;
  struct Case {
    std::string file, text, message;
  };
  const std::vector<Case> cases = {
      {"ml100k/u.item", "film00|A film|01-Jan-1995||http://x" + pipes + "\nfilm01|Too few|01-Jan-1995\n",
       ":2: expected 24 '|'-separated fields, got 3"},
      {"ml100k/u.item", "film00|A film|01-Jan-1995||http://x" + pipes + "\nfilm01|Bad flag|01-Jan-1995||http://x" +
                            pipes.substr(0, 36) + "|x\n",
       ":2: the flag of genre 'Western' (field 24) is 'x', expected 0 or 1"},
      {"ml1m/movies.dat", "film00::A film (1995)::Drama\nfilm01::No genres (1995)\n", ":2: expected 'id::title::genres'"},
      {"ml20m/movies.csv", "movieId,title,genres\nfilm00,A film,Drama\nfilm01 without commas\n",
       ":3: expected 'movieId,title,genres'"},
      {"lastfm/user_taggedartists.dat", "userID\tartistID\ttagID\nu1\tfilm00\t7\nu1\tfilm01\trock\n",
       ":3: tag id 'rock' is not an integer"},
      {"lastfm/user_taggedartists.dat", "userID\tartistID\ttagID\nu1\tfilm00\t12x\n", ":2: tag id '12x' is not an integer"},
      {"lastfm/user_taggedartists.dat", "userID\tartistID\ttagID\nu1\tfilm00\n",
       ":2: expected 'userID<TAB>artistID<TAB>tagID...'"},
      {"labels.tsv", "item\tlabel\nfilm00\tg1\nfilm01 g2\n",
       ":3: expected 'item<TAB>label[|label...]' (two tab-separated fields), got 1 field in 'film01 g2'"},
      // A third field (was: dropped without a word); a line of blanks before it is skipped.
      {"labels.tsv", "film00\tg1\n   \nfilm01\tg2\tg1\n",
       ":3: expected 'item<TAB>label[|label...]' (two tab-separated fields), got 3 fields in 'film01\tg2\tg1'"},
  };
  for (const Case& c : cases) {
    const std::string file = write(c.file, c.text);
    const Result r = run("evaluate-similarity --input " + fixture() + " --labels " + file +
                         " --rank 3 --lambda-eq1 5 --lambda-eq2 0.5 --lambda-ease 5 --top 3 --out " + path("sim"));
    EXPECT_EQ(r.code, 1) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(file + c.message), std::string::npos) << c.file << ": " << r.err;
    expect_only({"ml100k", "ml1m", "ml20m", "lastfm", "labels.tsv"});
  }
}

// evaluate-similarity (and reproduce, evaluate: their models share one spectrum) check the data as
// fit does: values whose squares overflow are named (was: exit 2 with a λ message that blamed
// σ_1 = 7e199 and advised "λ well below inf").
TEST_F(Cli, EvaluateSimilarityChecksTheDataAsFitDoes) {
  const std::string data = write("big.tsv", "u1\ti1\t1e200\nu1\ti2\t1\nu2\ti2\t3\nu3\ti3\t1\nu3\ti1\t2\nu4\ti3\t5\n");
  const std::string labels = write("labels.tsv", "i1\tA\ni2\tA\ni3\tB\n");
  const Result r = run("evaluate-similarity -i " + data + " --labels " + labels + " --no-binarize -k 1 --top 1 -o " +
                       path("sim"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("the interaction values are too large: their sum of squares overflows (largest |value| 1e+200)"),
            std::string::npos)
      << r.err;
  expect_only({"big.tsv", "labels.tsv"});
}

// Parses the neighbour table into (query, neighbour) -> score.
std::map<std::pair<std::string, std::string>, double> parse_table(const std::string& text) {
  std::map<std::pair<std::string, std::string>, double> scores;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string q, rank, nb, score;
    std::getline(f, q, '\t');
    std::getline(f, rank, '\t');
    std::getline(f, nb, '\t');
    std::getline(f, score, '\t');
    scores[{q, nb}] = std::stod(score);
  }
  return scores;
}

TEST_F(Cli, ExportedCanonicalVectorsGiveTheProjectedSimilarityInAnyGauge) {
  ASSERT_EQ(run("fit --input " + fixture() + " --model eq1 --gauge symmetric --rank 4 --lambda 5 --out " + path("m")).code, 0);
  const auto table = parse_table(run("similar-items --model " + path("m") + " --measure projected --all --top 14").out);
  ASSERT_EQ(table.size(), 15u * 14u);
  // --float32: the same pairs (every neighbour is listed here), scores equal up to float32 rounding.
  const auto table32 =
      parse_table(run("similar-items --model " + path("m") + " --measure projected --all --top 14 --float32").out);
  ASSERT_EQ(table32.size(), table.size());
  for (const auto& [key, score] : table) {
    ASSERT_TRUE(table32.count(key)) << key.first << " " << key.second;
    EXPECT_NEAR(table32.at(key), score, 1e-6);
    EXPECT_EQ(static_cast<double>(static_cast<float>(table32.at(key))), table32.at(key));  // a float's value
  }
  // Named queries in float32 (chunks of single-precision products, not the all-items kernel): the
  // same pairs and scores up to the same rounding.
  const std::string first = table.begin()->first.first, last = table.rbegin()->first.first;
  const auto named32 = parse_table(
      run("similar-items --model " + path("m") + " --measure projected --items " + last + "," + first + " --top 14 --float32").out);
  ASSERT_EQ(named32.size(), 28u);
  for (const auto& [key, score] : named32) {
    ASSERT_TRUE(table.count(key)) << key.first << " " << key.second;
    EXPECT_NEAR(table.at(key), score, 1e-6);
    EXPECT_EQ(static_cast<double>(static_cast<float>(score)), score);  // printed in full: a float's value
  }
  // Reparametrise the stored embeddings: P -> P M, B -> B M^-T (same predictions, new gauge).
  linsim::ModelBundle bundle = linsim::read_model_dir(path("m"));
  const linsim::Matrix M = linsim::test::random_matrix(4, 4, 3) + 2.0 * linsim::Matrix::Identity(4, 4);
  bundle.model.user_embeddings = bundle.model.user_embeddings * M;
  bundle.model.item_embeddings = bundle.model.item_embeddings * M.inverse().transpose();
  bundle.model.encoder = bundle.model.encoder * M;
  {
    linsim::AtomicDirectory out(path("m2"), false, "model.json");
    linsim::write_model_dir(out, bundle);
    out.commit();
  }
  for (const std::string model : {"m", "m2"}) {
    ASSERT_EQ(run("export --model " + path(model) + " --measure projected --format npy --out " + path(model + ".npy")).code, 0);
    const linsim::Matrix C = linsim::read_npy_matrix(path(model + ".npy"));
    ASSERT_EQ(C.rows(), 15);
    const linsim::Matrix cos = linsim::test::cosine_matrix(C);
    for (const auto& [key, score] : table) {
      const auto i = *bundle.data.items.find(key.first);
      const auto j = *bundle.data.items.find(key.second);
      EXPECT_NEAR(cos(i, j), score, 1e-9) << model << " " << key.first << " " << key.second;
    }
  }
  // The plain cosine of the reparametrised embeddings differs (the paper's point).
  EXPECT_NE(run("similar-items --model " + path("m") + " --measure cosine --items film00 --top 3").out,
            run("similar-items --model " + path("m2") + " --measure cosine --items film00 --top 3").out);
  ASSERT_EQ(run("export --model " + path("m") + " --format word2vec --out " + path("v.txt")).code, 0);
  const std::string w2v = slurp(path("v.txt"));
  EXPECT_EQ(w2v.substr(0, 5), "15 4\n");
  EXPECT_EQ(std::count(w2v.begin(), w2v.end(), '\n'), 16);
  ASSERT_EQ(run("export --model " + path("m") + " --measure dot --format tsv --side users --out " + path("u.tsv")).code, 0);
  const std::string users_tsv = slurp(path("u.tsv"));
  EXPECT_EQ(std::count(users_tsv.begin(), users_tsv.end(), '\n'), 36);
  EXPECT_EQ(run("export --model " + path("m") + " --format xml --out " + path("x")).code, 2);
  EXPECT_EQ(run("export --model " + path("m") + " --measure raw --out " + path("x")).code, 2);
  EXPECT_EQ(run("export --model " + path("m") + " --out " + path("v.txt")).code, 2);  // exists
}

}  // namespace
