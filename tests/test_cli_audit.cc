// `linsim audit` and `linsim export` end to end, for inputs that used to give wrong numbers or
// leave files behind: ids of .npy rows against the interactions' ids, truth files that cannot
// score, numbers the input cannot define, option ranges, binary word2vec, export from the audit's
// inputs, and several output files committed together. Exit codes: 0 ok, 1 runtime, 2 usage.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Eigen/Dense>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "linsim/io/npy.h"
#include "cli_runner.h"

namespace {
namespace fs = std::filesystem;
using linsim::Index;
using linsim::Matrix;

using Result = linsim::test::CliResult;

class CliAudit : public linsim::test::CliTest {
 protected:
  std::string npy(const std::string& name, const Matrix& M) {
    linsim::write_npy(path(name), M);
    return path(name);
  }
  std::vector<std::string> lines(const std::string& file) {
    std::vector<std::string> out;
    std::istringstream in(slurp(path(file)));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // A 1-based interaction file over `items` items: every user u (1..users) has items u % items + 1
  // and (u + 3) % items + 1, so every item occurs.
  std::string one_based(Index users, Index items) {
    std::string text;
    for (Index u = 1; u <= users; ++u) {
      text += std::to_string(u) + "\t" + std::to_string(u % items + 1) + "\n";
      text += std::to_string(u) + "\t" + std::to_string((u + 3) % items + 1) + "\n";
    }
    return write("u.data", text);
  }
};

TEST_F(CliAudit, ImplicitRowIdsThatDoNotMatchTheInteractionsAreRefusedWithAHint) {
  const std::string B = npy("emb.npy", linsim::test::random_matrix(12, 3, 1));
  // 1-based ids that mention id 12 (= the number of rows): no row 12.
  Result r = run("audit --items " + B + " --interactions " + one_based(30, 12) + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("--item-ids"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1-based"), std::string::npos) << r.err;
  // 1-based ids that never reach 12: before, this ran with every item shifted by one.
  std::string text;
  for (int u = 1; u <= 30; ++u) text += fmt::format("{}\t{}\n", u, u % 11 + 1);  // ids 1..11
  r = run("audit --items " + B + " --interactions " + write("shifted.tsv", text) + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("never names item 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--item-ids"), std::string::npos) << r.err;
  expect_only({"emb.npy", "u.data", "shifted.tsv"});
  // The id file the message asks for settles it.
  std::string ids;
  for (int i = 1; i <= 12; ++i) ids += std::to_string(i) + "\n";
  r = run("audit --items " + B + " --item-ids " + write("ids.txt", ids) + " --interactions " + path("shifted.tsv") +
          " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(path("a/audit.json")));
  EXPECT_EQ(j["input"]["item_ids"], path("ids.txt"));
  // With an id file, an unknown id names the option and the line.
  r = run("audit --items " + B + " --item-ids " + path("ids.txt") + " --interactions " +
          write("x.tsv", "1\t1\n1\t2\n2\t13\n") + " --top 3 --out " + path("b"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("x.tsv:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--item-ids"), std::string::npos) << r.err;
}

TEST_F(CliAudit, UserIdsMatchTheUserRowsToTheInteractions) {
  const std::string B = npy("emb.npy", linsim::test::random_matrix(12, 3, 1));
  const std::string P = npy("users.npy", linsim::test::random_matrix(30, 3, 2));
  std::string user_ids, text;
  for (int u = 1; u <= 30; ++u) {
    user_ids += fmt::format("user{}\n", u);
    text += fmt::format("user{}\t{}\nuser{}\t{}\n", u, u % 12, u, (u + 5) % 12);
  }
  const std::string X = write("x.tsv", text);
  Result r = run("audit --items " + B + " --users " + P + " --interactions " + X + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--user-ids"), std::string::npos) << r.err;
  r = run("audit --items " + B + " --users " + P + " --user-ids " + write("user_ids.txt", user_ids) +
          " --interactions " + X + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(path("a/audit.json")))["input"]["user_ids"], path("user_ids.txt"));
  EXPECT_EQ(run("audit --items " + B + " --user-ids " + path("user_ids.txt") + " --out " + path("b")).code, 2);
}

TEST_F(CliAudit, InputWarningsReachStderr) {
  // A word2vec header that under-counts its lines (as the GloVe 6B subset does), and a pair file
  // only part of which the vectors cover.
  std::string text = "3 2\n";
  for (int i = 0; i < 8; ++i) text += fmt::format("w{} {} {}\n", i, std::cos(i), std::sin(i * 1.7) + 0.1 * i);
  const std::string V = write("v.txt", text);
  const std::string pairs = write("pairs.tsv", "w0\tw1\t1\nw2\tw3\t2\nw4\tw5\t3\nw6\tyak\t4\n");
  const Result r = run("audit --items " + V + " --truth " + pairs + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("linsim: warning: '" + V + "': the header says 3 vectors, the file has 8"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("linsim: warning: only 3 of the 4 pairs"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("over 3 of 4 pairs"), std::string::npos) << r.out;
}

TEST_F(CliAudit, TruthFilesThatCannotScoreAreErrors) {
  std::string text;
  for (int i = 0; i < 8; ++i) text += fmt::format("w{} {} {}\n", i, std::cos(i), std::sin(i));
  const std::string V = write("v.txt", text);
  // NaN scores: an error at the line, not a clusters file.
  Result r = run("audit --items " + V + " --truth " + write("nan.tsv", "w0\tw1\tnan\nw2\tw3\tnan\n") + " --top 3 --out " +
                 path("a"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nan.tsv:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a finite number"), std::string::npos) << r.err;
  r = run("audit --items " + V + " --truth " + write("none.tsv", "a\tb\t1\nc\td\t2\n") + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("none of its 2 pairs"), std::string::npos) << r.err;
  r = run("audit --items " + V + " --truth " + write("one.tsv", "w0\tw1\t1\nc\td\t2\n") + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("only 1 of its 2 pairs"), std::string::npos) << r.err;
  // An item in two clusters: an error at the second line (was: the last line won, silently). The
  // same cluster twice is no conflict.
  std::string clusters;
  for (int i = 0; i < 8; ++i) clusters += fmt::format("w{}\t{}\n", i, i % 2);
  r = run("audit --items " + V + " --truth " + write("same.tsv", clusters + "w3\t1\n") + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 0) << r.err;
  std::filesystem::remove_all(path("a"));
  r = run("audit --items " + V + " --truth " + write("twice.tsv", clusters + "w3\t0\n") + " --top 3 --out " + path("a"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("twice.tsv:9: item 'w3' is in cluster '0' here and in cluster '1' on line 4"), std::string::npos)
      << r.err;
  expect_only({"v.txt", "nan.tsv", "none.tsv", "one.tsv", "same.tsv", "twice.tsv"});
}

TEST_F(CliAudit, NumbersTheInputCannotDefineArePrintedAsUndefined) {
  // `simulate --clusters 1`: every item in one cluster, so no same-cluster AUC exists.
  ASSERT_EQ(run("simulate --users 300 --items 40 --clusters 1 --seed 3 --out " + path("x.tsv") + " --truth " +
                path("truth.tsv")).code, 0);
  ASSERT_EQ(run("fit --input " + path("x.tsv") + " --model eq2 --rank 4 --lambda 5 --out " + path("m")).code, 0);
  const Result r = run("audit --items " + path("m") + " --truth " + path("truth.tsv") + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cosine           undefined (every labelled item is in the same cluster"), std::string::npos)
      << r.out;
  const std::string truth = r.out.substr(r.out.find("\ntruth "));
  EXPECT_EQ(truth.find("0."), std::string::npos) << truth;  // never a number standing in for "undefined"
  const auto j = nlohmann::json::parse(slurp(path("a/audit.json")));
  EXPECT_TRUE(j["truth"]["auc"]["cosine"].is_null());
  EXPECT_TRUE(j["undefined"].contains("truth.auc.cosine"));
  EXPECT_NE(slurp(path("a/audit.html")).find("<td class=\"v\">undefined</td>"), std::string::npos);
}

TEST_F(CliAudit, OptionsOutsideTheirRangesAreUsageErrors) {
  const std::string B = npy("emb.npy", linsim::test::random_matrix(200, 8, 4));
  for (const std::string bad : {"--random-gauges 100000000", "--random-spread 1e308", "--random-spread 0",
                                "--queries 0", "--queries 1000000", "--top 5000", "--truth-kind bogus",
                                "--truth-kind pairs"}) {  // the last two without --truth
    const Result r = run("audit --items " + B + " " + bad + " --out " + path("a"));
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find(bad.substr(0, bad.find(' '))), std::string::npos) << r.err;
  }
  expect_only({"emb.npy"});
}

using linsim::test::binary_word2vec;

TEST_F(CliAudit, BinaryWord2vecIsAuditedAndExported) {
  const Matrix M = linsim::test::random_matrix(10, 4, 5);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(fmt::format("word{}", i));
  const std::string bin = write("v.bin", binary_word2vec(ids, M));
  Result r = run("audit --items " + bin + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(path("a/audit.json")));
  EXPECT_EQ(j["input"]["items_format"], "word2vec-binary");
  EXPECT_EQ(j["items"], 10);
  r = run("export --items " + bin + " --measure dot --format word2vec --out " + path("v.txt"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto text = lines("v.txt");
  ASSERT_EQ(text.size(), 11u);
  EXPECT_EQ(text[0], "10 4");
  EXPECT_EQ(text[3].substr(0, 6), "word2 ");
}

TEST_F(CliAudit, ExportTakesTheAuditsInputsAndWritesIdsBesideNpy) {
  const Matrix B = linsim::test::random_matrix(12, 3, 6);
  const Matrix P = linsim::test::random_matrix(20, 3, 7);
  npy("B.npy", B);
  npy("P.npy", P);
  Result r = run("export --items " + path("B.npy") + " --users " + path("P.npy") + " --out " + path("c.npy") +
                 " --partner-out " + path("p.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  // Oracle (MATH.md M4): the exported rows' cosine is the cosine between the columns of P Bᵀ.
  const Matrix C = linsim::read_npy_matrix(path("c.npy"));
  const Matrix want = linsim::test::cosine_matrix(Matrix((P * B.transpose()).transpose()));
  EXPECT_LT((linsim::test::cosine_matrix(C) - want).cwiseAbs().maxCoeff(), 1e-9);
  const Matrix partner = linsim::read_npy_matrix(path("p.npy"));
  EXPECT_LT((partner.transpose() * partner - Matrix::Identity(3, 3)).norm(), 1e-9);
  EXPECT_EQ(lines("c.ids.tsv").size(), 12u);
  EXPECT_EQ(lines("c.ids.tsv")[11], "11");
  EXPECT_EQ(lines("p.ids.tsv").size(), 20u);
  // From interactions alone: least-squares users P = X B (BᵀB)⁻¹, so P Bᵀ = X H with the hat
  // matrix H = B (BᵀB)⁻¹ Bᵀ; the export's cosine is that of the columns of X H.
  std::string text, item_ids;
  Matrix X = Matrix::Zero(20, 12);
  for (int u = 0; u < 20; ++u) {
    for (const int i : {u % 12, (u * 5 + 1) % 12, (u + 7) % 12}) {
      if (X(u, i) == 0) text += fmt::format("user{}\tfilm{}\n", u, i);
      X(u, i) = 1;
    }
  }
  for (int i = 0; i < 12; ++i) item_ids += fmt::format("film{}\n", i);
  write("x.tsv", text);
  write("item_ids.txt", item_ids);
  const std::string inputs = "--items " + path("B.npy") + " --item-ids " + path("item_ids.txt") + " --interactions " +
                             path("x.tsv");
  r = run("export " + inputs + " --out " + path("ls.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  const Matrix H = B * (B.transpose() * B).inverse() * B.transpose();
  const Matrix want_ls = linsim::test::cosine_matrix(Matrix((X * H).transpose()));
  EXPECT_LT((linsim::test::cosine_matrix(linsim::read_npy_matrix(path("ls.npy"))) - want_ls).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(lines("ls.ids.tsv")[3], "film3");
  // The users side: the least-squares users themselves, with the interactions' user ids.
  r = run("export " + inputs + " --side users --measure dot --format tsv --out " + path("users.tsv"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = lines("users.tsv");
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows[0].substr(0, 6), "user0\t");
  EXPECT_FALSE(fs::exists(path("users.ids.tsv")));  // TSV carries its ids
  // Usage errors: --model with --items, projected without users, --users with --interactions.
  EXPECT_EQ(run("export --model " + path("m") + " --items " + path("B.npy") + " --out " + path("y.npy")).code, 2);
  r = run("export --items " + path("B.npy") + " --out " + path("y.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--users"), std::string::npos) << r.err;
  EXPECT_EQ(run("export " + inputs + " --users " + path("P.npy") + " --out " + path("y.npy")).code, 2);
  EXPECT_EQ(run("export --items " + path("B.npy") + " --out " + path("c.npy") + " --measure cosine").code, 2);  // exists
  EXPECT_FALSE(fs::exists(path("y.npy")));
  EXPECT_FALSE(fs::exists(path("y.ids.tsv")));
}

TEST_F(CliAudit, ExportWritesAllItsFilesOrNone) {
  ASSERT_EQ(run("fit --input " + fixture() + " --model eq1 --gauge symmetric --rank 3 --lambda 5 --out " + path("m")).code, 0);
  // An unwritable partner: before, ok.npy was left behind.
  Result r = run("export --model " + path("m") + " --out " + path("ok.npy") + " --partner-out /nonexistent/x.npy");
  EXPECT_EQ(r.code, 1) << r.err;
  expect_only({"m"});
  // An existing ids file is not replaced without --force, and nothing else appears.
  write("ok.ids.tsv", "mine\n");
  r = run("export --model " + path("m") + " --out " + path("ok.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ok.ids.tsv"), std::string::npos) << r.err;
  expect_only({"m", "ok.ids.tsv"});
  EXPECT_EQ(slurp(path("ok.ids.tsv")), "mine\n");
  // --force replaces it; the ids are the model's item ids, in row order.
  ASSERT_EQ(run("export --model " + path("m") + " --out " + path("ok.npy") + " --partner-out " + path("p.npy") +
                " --force").code, 0);
  EXPECT_EQ(lines("ok.ids.tsv"), lines("m/item_ids.tsv"));
  EXPECT_EQ(lines("p.ids.tsv"), lines("m/user_ids.tsv"));
  expect_only({"m", "ok.npy", "ok.ids.tsv", "p.npy", "p.ids.tsv"});
  // Two outputs with one name are refused before anything is written.
  EXPECT_EQ(run("export --model " + path("m") + " --out " + path("q.npy") + " --partner-out " + path("q.npy")).code, 2);
  EXPECT_FALSE(fs::exists(path("q.npy")));
}

// Export defects a review found (docs/reliability.md):
// - a tsv export's ids with blanks read back split or trimmed ("a b" as two fields, " lead" as
//   "lead"); a line with a tab is now split at tabs only;
// - `-o -` with a --partner-out whose ids the format cannot hold wrote the whole vector set to
//   standard output before failing;
// - projected vectors of values whose squares overflow or underflow came out as rows of NaN or 0
//   (exit 0); they are refused as the audit refuses them;
// - --item-ids replaced a word2vec or tsv file's own ids.
TEST_F(CliAudit, ExportIdsWithBlanksPartnerIdsAndVectorScalesAreHandled) {
  npy("v.npy", Matrix::Identity(3, 3));
  write("ids.txt", " lead\ntrail \na b\n");
  Result r = run("export --items " + path("v.npy") + " --item-ids " + path("ids.txt") +
                 " --measure dot --format tsv -o " + path("v.tsv"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("export --items " + path("v.tsv") + " --measure dot -o " + path("back.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(path("back.ids.tsv")), " lead\ntrail \na b\n");
  EXPECT_EQ(linsim::read_npy_matrix(path("back.npy")), Matrix::Identity(3, 3));
  // An upper-case .NPY gets its ids beside it as a lower-case one does (was: C.NPY.ids.tsv).
  ASSERT_EQ(run("export --items " + path("v.tsv") + " --measure dot -o " + path("C.NPY")).code, 0);
  EXPECT_EQ(slurp(path("C.ids.tsv")), " lead\ntrail \na b\n");
  // A tab line with an empty id is an error at its line.
  write("empty-id.tsv", "\t1\t2\n");
  r = run("export --items " + path("empty-id.tsv") + " --measure dot -o " + path("e.npy"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("empty-id.tsv:1: the id (the first tab-separated field) is empty"), std::string::npos) << r.err;
  // The partner's ids are checked before standard output gets a byte.
  npy("P.npy", linsim::test::random_matrix(4, 3, 2));
  write("user-ids.txt", "u0\nu 1\nu2\nu3\n");
  r = run("export --items " + path("v.npy") + " --users " + path("P.npy") + " --user-ids " + path("user-ids.txt") +
          " --format word2vec -o - --partner-out " + path("p.w2v"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("id 'u 1' cannot be written in word2vec format"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("p.w2v")));
  // Vectors whose squares leave double's range export as those of any other scale: the projected
  // vectors and the partner are scale-free (was: refused, and before that rows of NaN and 0).
  const Matrix bi = linsim::test::random_matrix(5, 2, 3), bu = linsim::test::random_matrix(6, 2, 4);
  npy("bi.npy", bi);
  npy("bu.npy", bu);
  ASSERT_EQ(run("export --items " + path("bi.npy") + " --users " + path("bu.npy") + " -o " + path("c1.npy") +
                " --partner-out " + path("p1.npy"))
                .code,
            0);
  for (const double scale : {1e200, 1e-300}) {
    SCOPED_TRACE(scale);
    npy("bi.npy", bi * scale);
    npy("bu.npy", bu * scale);
    r = run("export --items " + path("bi.npy") + " --users " + path("bu.npy") + " -o " + path("c2.npy") +
            " --partner-out " + path("p2.npy") + " --force");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_LT((linsim::read_npy_matrix(path("c2.npy")) - linsim::read_npy_matrix(path("c1.npy"))).norm(), 1e-12);
    EXPECT_LT((linsim::read_npy_matrix(path("p2.npy")) - linsim::read_npy_matrix(path("p1.npy"))).norm(), 1e-12);
    // The least-squares users of interactions, too (BᵀB would overflow or underflow).
    write("x.tsv", "u1\t0\nu1\t1\nu2\t2\nu2\t3\nu3\t4\nu3\t0\n");
    r = run("export --items " + path("bi.npy") + " --interactions " + path("x.tsv") + " -o " + path("c3.npy") +
            " --force");
    ASSERT_EQ(r.code, 0) << r.err;
    npy("bi1.npy", bi);
    ASSERT_EQ(run("export --items " + path("bi1.npy") + " --interactions " + path("x.tsv") + " -o " + path("c4.npy") +
                  " --force")
                  .code,
              0);
    EXPECT_LT((linsim::read_npy_matrix(path("c3.npy")) - linsim::read_npy_matrix(path("c4.npy"))).norm(), 1e-12);
  }
  // Least-squares users that would overflow (item vectors of 1e-306, interaction values of 1e9):
  // the projected path takes them scaled (was: "user 'u1' (row 0) has a value that is not a finite
  // number", of users linsim computed).
  write("x9.tsv", "u1\t0\t1e9\nu1\t1\t2e9\nu2\t2\t1e9\nu2\t3\t3e9\nu3\t4\t1e9\nu3\t0\t1e9\n");
  npy("b306.npy", bi * 1e-306);
  r = run("export --items " + path("b306.npy") + " --interactions " + path("x9.tsv") +
          " --no-binarize -o " + path("c5.npy") + " --force");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(run("export --items " + path("bi1.npy") + " --interactions " + path("x9.tsv") + " --no-binarize -o " +
                path("c6.npy") + " --force")
                .code,
            0);
  EXPECT_LT((linsim::read_npy_matrix(path("c5.npy")) - linsim::read_npy_matrix(path("c6.npy"))).norm(), 1e-12);
  // Cosine normalises by scaled sums: tiny vectors (bi.npy holds 1e-300 B now) export as unit vectors.
  r = run("export --items " + path("bi.npy") + " --measure cosine -o " + path("tiny.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT((linsim::read_npy_matrix(path("tiny.npy")).rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-12);
  // Rows without a direction (0, or below 1e-10 of the longest) are written as zeros, with a warning
  // naming the first (was: silently); dot writes them as they are, without one.
  Matrix short_rows = Matrix::Identity(4, 2);
  short_rows.row(2) << 1e-12, 0;
  npy("short.npy", short_rows);
  write("short-ids.txt", "a\nb\nfaint\nnothing\n");
  r = run("export --items " + path("short.npy") + " --item-ids " + path("short-ids.txt") + " --measure cosine -o " +
          path("short-out.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 2 of 4 item vectors are written as zeros (the first: 'faint'): their length is 0 or "
                       "below 1e-10 of the longest"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(linsim::read_npy_matrix(path("short-out.npy")).bottomRows(2).isZero(0.0));
  r = run("export --items " + path("short.npy") + " --measure dot -o " + path("short-dot.npy"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("written as zeros"), std::string::npos) << r.err;
  // A path ending in '/' names a directory: refused before any work (was: at the final rename).
  r = run("export --items " + path("v.npy") + " --measure dot --format tsv -o " + path("newdir/"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("output '" + path("newdir/") + "' ends in '/', which names a directory: give a file name"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("newdir")));
  // A missing input says why it cannot be opened (was: "cannot open 'FILE'" alone).
  r = run("export --items " + path("absent.tsv") + " --measure dot -o " + path("a.npy"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot open '" + path("absent.tsv") + "': No such file or directory"), std::string::npos) << r.err;
  // --item-ids with a file that has ids.
  r = run("export --items " + path("v.tsv") + " --item-ids " + path("ids.txt") + " --measure dot -o " + path("r.npy"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--item-ids names the rows of an .npy; '" + path("v.tsv") + "' (word2vec) carries its own ids"),
            std::string::npos)
      << r.err;
}

TEST_F(CliAudit, FollowingTheVerdictsAdviceGivesCanonicalVectors) {
  // Third-party item vectors and interactions: the verdict recommends `linsim export --measure
  // projected`, which now takes the same inputs; the exported vectors then audit as canonical.
  ASSERT_EQ(run("fit --input " + fixture() + " --model eq1 --gauge symmetric --rank 3 --lambda 5 --out " + path("m")).code, 0);
  // The item vectors in another gauge B D (the same model up to P → P D⁻¹), as a third party might ship them.
  const Matrix B = linsim::read_npy_matrix(path("m/item_embeddings.npy"));
  npy("items.npy", B * Eigen::Vector3d(1.0, 6.0, 0.15).asDiagonal());
  const std::string inputs = "--items " + path("items.npy") + " --item-ids " + path("m/item_ids.tsv") +
                             " --interactions " + fixture();
  Result r = run("audit " + inputs + " --top 3 --out " + path("a"));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_NE(r.out.find("linsim export --measure projected"), std::string::npos) << r.out;
  ASSERT_EQ(run("export " + inputs + " --measure projected --out " + path("c.npy") + " --partner-out " + path("p.npy")).code, 0);
  r = run("audit --items " + path("c.npy") + " --item-ids " + path("c.ids.tsv") + " --users " + path("p.npy") +
          " --user-ids " + path("p.ids.tsv") + " --interactions " + fixture() + " --top 3 --out " + path("b"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("projected overlap  1.000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("already canonical"), std::string::npos) << r.out;
}

}  // namespace
