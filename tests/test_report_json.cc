// The result documents (results.json, results.md) of `reproduce` and `evaluate` are built by the
// library, so that the command line and the Python module return the same content: the
// documents hold the values of the result structs, and the command line writes exactly them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "linsim/core/error.h"
#include "linsim/data/readers.h"
#include "linsim/evaluate/report.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/json_text.h"
#include "linsim/simulate/reproduction.h"
#include "test_util.h"

namespace linsim {
namespace {

using nlohmann::json;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string read_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A value as it reads back from the written text: NaN (an undefined metric) becomes null.
json written(double v) {
  return std::isnan(v) ? json(nullptr) : json(v);
}

void expect_summary(const json& j, const Summary& s) {
  EXPECT_EQ(j.at("mean"), written(s.mean));
  EXPECT_EQ(j.at("sd"), written(s.sd));
}

ReproductionResult hand_made_reproduction() {
  ReproductionResult r;
  ReproductionOptions& o = r.options;
  o.simulation.users = 321;
  o.simulation.items = 45;
  o.simulation.clusters = 3;
  o.simulation.activity_scale = 0;  // reported as the number of items
  o.simulation.seed = 7;
  o.seeds = 2;
  o.rank = 4;
  o.lambda_eq1 = 12.5;
  o.lambda_eq2 = 0.25;
  o.top = 5;
  o.remedies.enabled = false;
  o.remedies.ips_beta = 0.3;
  r.seeds = {7, 8};
  const Variant truth{"ground truth", "truth", "", "cosine", true, "", false};
  const Variant eq1{"eq1 symmetric cosine", "eq1", "symmetric", "cosine", true, "", false};
  r.variants.push_back(
      {truth, {{1.0, 1.0, 52.5, 45}, {1.0, 0.8, 49.0, 44}}, {1.0, 0.0}, {0.9, 0.1}, {50.75, 2.5}});
  r.variants.push_back(
      {eq1, {{kNaN, 0.4, 61.0, 0}, {0.75, 0.6, 70.0, 45}}, {kNaN, kNaN}, {0.5, 0.2}, {65.5, 6.0}});
  r.gauge_spread_auc = kNaN;
  r.warnings = {"seed 7, eq2: λ = 0.25 leaves 1 of the 4 dimensions nonzero"};
  return r;
}

TEST(ReportJson, ReproductionDocumentHoldsTheResult) {
  const ReproductionResult r = hand_made_reproduction();
  // Through its text, as results.json holds it.
  const json doc = json::parse(reproduction_json(r).dump(2));
  const ReproductionOptions& o = r.options;
  const SimulationOptions& s = o.simulation;
  const json& opt = doc.at("options");
  EXPECT_EQ(opt.at("users"), s.users);
  EXPECT_EQ(opt.at("items"), s.items);
  EXPECT_EQ(opt.at("clusters"), s.clusters);
  EXPECT_EQ(opt.at("beta_min"), s.beta_min);
  EXPECT_EQ(opt.at("beta_max"), s.beta_max);
  EXPECT_EQ(opt.at("user_beta"), s.user_beta);
  EXPECT_EQ(opt.at("cluster_concentration"), s.cluster_concentration);
  EXPECT_EQ(opt.at("preference_concentration"), s.preference_concentration);
  EXPECT_EQ(opt.at("activity_scale"), static_cast<double>(s.items));  // 0 means the number of items
  EXPECT_EQ(opt.at("max_items_per_user"), s.max_items_per_user);
  EXPECT_EQ(opt.at("seed"), s.seed);
  EXPECT_EQ(opt.at("seeds"), o.seeds);
  EXPECT_EQ(opt.at("rank"), o.rank);
  EXPECT_EQ(opt.at("lambda_eq1"), o.lambda_eq1);
  EXPECT_EQ(opt.at("lambda_eq2"), o.lambda_eq2);
  EXPECT_EQ(opt.at("top"), o.top);
  EXPECT_EQ(opt.at("remedies"), o.remedies.enabled);
  EXPECT_EQ(opt.at("ips_beta"), o.remedies.ips_beta);
  EXPECT_EQ(opt.at("sppmi_negatives"), o.remedies.sppmi.negatives);
  EXPECT_EQ(opt.at("sppmi_smoothing"), o.remedies.sppmi.smoothing);
  EXPECT_EQ(opt.at("sppmi_eigen_power"), o.remedies.sppmi.eigen_power);
  EXPECT_EQ(opt.at("cosine_epochs"), o.remedies.cosine_epochs);
  EXPECT_EQ(opt.at("linsim_version"), LINSIM_VERSION);
  EXPECT_EQ(opt.size(), 23u);
  EXPECT_EQ(doc.at("seeds").get<std::vector<std::uint64_t>>(), r.seeds);
  EXPECT_EQ(doc.at("gauge_spread_auc"), written(r.gauge_spread_auc));
  EXPECT_EQ(doc.at("warnings").get<std::vector<std::string>>(), r.warnings);
  EXPECT_EQ(doc.at("cosine_fits"), json::array());  // no remedies: no cosine-trained fits
  EXPECT_EQ(doc.size(), 6u);
  ASSERT_EQ(doc.at("variants").size(), r.variants.size());
  for (size_t v = 0; v < r.variants.size(); ++v) {
    const VariantResult& want = r.variants[v];
    const json& got = doc.at("variants")[v];
    SCOPED_TRACE(want.variant.name);
    EXPECT_EQ(got.at("name"), want.variant.name);
    EXPECT_EQ(got.at("model"), want.variant.model);
    EXPECT_EQ(got.at("gauge"), want.variant.gauge.empty() ? json(nullptr) : json(want.variant.gauge));
    EXPECT_EQ(got.at("measure"), want.variant.measure);
    expect_summary(got.at("auc"), want.auc);
    expect_summary(got.at("precision_at_k"), want.precision);
    expect_summary(got.at("popularity_percentile_at_k"), want.popularity);
    const json& per_seed = got.at("per_seed");
    ASSERT_EQ(per_seed.at("auc").size(), want.per_seed.size());
    for (size_t k = 0; k < want.per_seed.size(); ++k) {
      EXPECT_EQ(per_seed.at("auc")[k], written(want.per_seed[k].auc));
      EXPECT_EQ(per_seed.at("precision_at_k")[k], written(want.per_seed[k].precision_at_k));
      EXPECT_EQ(per_seed.at("popularity_percentile_at_k")[k],
                written(want.per_seed[k].popularity_percentile_at_k));
    }
    EXPECT_EQ(got.size(), 8u);
  }
}

TEST(ReportJson, ReproductionMarkdownNamesTheRun) {
  ReproductionResult r = hand_made_reproduction();
  const std::string md = reproduction_markdown(r);
  EXPECT_EQ(
      md.rfind(
          "# Reproduction of the paper's simulation\n\n321 users × 45 items, 3 clusters; eq1 with λ = 12.5, "
          "eq2 with λ = 0.25, rank 4; mean ± sd over 2 seeds (7–8).\n\n",
          0),
      0u)
      << md;
  EXPECT_NE(md.find(reproduction_table(r)), std::string::npos);
  EXPECT_NE(md.find("**Warning:** " + r.warnings[0] + "\n"), std::string::npos) << md;
  r.seeds.clear();
  EXPECT_THROW(reproduction_markdown(r), InvalidArgument);
  EXPECT_NO_THROW(reproduction_json(r));
}

TEST(ReportJson, WriteReproductionWritesTheLibraryDocuments) {
  ReproductionOptions o;
  o.simulation.users = 600;
  o.simulation.items = 60;
  o.seeds = 1;
  o.rank = 5;
  o.lambda_eq1 = 100;
  o.lambda_eq2 = 5;
  o.remedies.enabled = false;
  const ReproductionResult r = reproduce(o, Context{});
  const test::TempDir scratch;
  const std::string dir = (scratch.path() / "reproduction").string();
  {
    AtomicDirectory out(dir, false, "results.json");
    write_reproduction(out, r);
    out.commit();
  }
  EXPECT_EQ(read_text(dir + "/results.json"), reproduction_json(r).dump(2) + "\n");
  EXPECT_EQ(read_text(dir + "/results.md"), reproduction_markdown(r));
}

ModelEvaluation evaluation(const std::string& name, std::map<std::string, double> params, double base) {
  auto summary = [](double b, Index users) {
    return RankingSummary{{b, b / 10}, {b + 0.1, b / 20}, {b + 0.2, b / 30}, users};
  };
  ModelEvaluation e{name, params, summary(base, 6), summary(base + 0.05, 7), {}, {}};
  if (params.empty()) {
    e.trials.push_back({params, e.validation});
  } else {
    std::map<std::string, double> other = params;
    for (auto& [k, v] : other) v *= 2;
    e.trials.push_back({other, summary(base - 0.1, 6)});
    e.trials.push_back({params, e.validation});
  }
  return e;
}

void expect_ranking(const json& j, const RankingSummary& r) {
  EXPECT_EQ(j.at("recall@20").at("mean"), r.recall20.mean);
  EXPECT_EQ(j.at("recall@20").at("se"), r.recall20.se);
  EXPECT_EQ(j.at("recall@50").at("mean"), r.recall50.mean);
  EXPECT_EQ(j.at("recall@50").at("se"), r.recall50.se);
  EXPECT_EQ(j.at("ndcg@100").at("mean"), r.ndcg100.mean);
  EXPECT_EQ(j.at("ndcg@100").at("se"), r.ndcg100.se);
  EXPECT_EQ(j.at("users"), r.users);
  EXPECT_EQ(j.size(), 4u);
}

TEST(ReportJson, EvaluationDocumentHoldsTheResults) {
  SplitOptions options;
  options.heldout = 6;
  options.min_interactions = 3;
  options.fold_in = 0.75;
  options.seed = 9;
  StrongSplit split;
  // Seven users per held-out set; the summaries below score 7 test and 6 validation users (one
  // validation user without a target).
  split.train_users = {0, 1, 2, 3};
  split.valid_users = {4, 5, 6, 7, 8, 9, 10};
  split.test_users = {11, 12, 13, 14, 15, 16, 17};
  std::vector<ModelEvaluation> results = {evaluation("popularity", {}, 0.2),
                                          evaluation("eq1", {{"lambda", 100}, {"rank", 3}}, 0.4)};
  results[1].warnings = {"eq1 at the chosen grid point lambda=100 rank=3: λ = 100 leaves 1 of the 3 dimensions"};
  const EvaluationInput file{"data/ratings.tsv", 11, 40, 123, 3.5};
  const EvaluationInput memory{std::nullopt, 11, 40, 123, std::nullopt};
  for (const EvaluationInput& input : {file, memory}) {
    SCOPED_TRACE(input.path.value_or("in memory"));
    const json doc =
        json::parse(evaluation_json(input, options, split, results, "rank=3 lambda=100").dump(2));
    EXPECT_EQ(doc.size(), 2u);
    const json& p = doc.at("protocol");
    EXPECT_EQ(p.at("name"), "strong generalization (Liang et al. 2018)");
    EXPECT_EQ(p.at("input"), input.path ? json(*input.path) : json(nullptr));
    EXPECT_EQ(p.at("n_users"), input.n_users);
    EXPECT_EQ(p.at("n_items"), input.n_items);
    EXPECT_EQ(p.at("nnz"), input.nnz);
    EXPECT_EQ(p.at("min_value"), input.min_value ? json(*input.min_value) : json(nullptr));
    EXPECT_EQ(p.at("heldout_users_per_set"), split.valid_users.size());
    EXPECT_EQ(p.at("min_interactions"), options.min_interactions);
    EXPECT_EQ(p.at("fold_in"), options.fold_in);
    EXPECT_EQ(p.at("seed"), options.seed);
    EXPECT_EQ(p.at("selection"), "validation ndcg@100");
    EXPECT_EQ(p.at("grid"), "rank=3 lambda=100");
    EXPECT_EQ(p.at("warnings").get<std::vector<std::string>>(), protocol_warnings(split));
    EXPECT_EQ(p.size(), 13u);
    ASSERT_EQ(doc.at("models").size(), results.size());
    for (size_t m = 0; m < results.size(); ++m) {
      const ModelEvaluation& want = results[m];
      const json& got = doc.at("models")[m];
      SCOPED_TRACE(want.name);
      EXPECT_EQ(got.at("name"), want.name);
      EXPECT_EQ((got.at("params").get<std::map<std::string, double>>()), want.params);
      expect_ranking(got.at("validation"), want.validation);
      expect_ranking(got.at("test"), want.test);
      ASSERT_EQ(got.at("trials").size(), want.trials.size());
      for (size_t t = 0; t < want.trials.size(); ++t) {
        EXPECT_EQ((got.at("trials")[t].at("params").get<std::map<std::string, double>>()),
                  want.trials[t].first);
        expect_ranking(got.at("trials")[t].at("validation"), want.trials[t].second);
      }
      EXPECT_EQ(got.at("warnings").get<std::vector<std::string>>(), want.warnings);
      EXPECT_EQ(got.size(), 6u);
    }
  }
  // The text: the summary table of the test results, under a heading naming what exists.
  const std::string summary = evaluation_summary(split, results);
  EXPECT_NE(
      summary.find("| eq1 | lambda=100, rank=3 | 0.4500 ± 0.0450 | 0.5500 ± 0.0225 | 0.6500 ± 0.0150 |\n"),
      std::string::npos)
      << summary;
  EXPECT_NE(summary.find("| popularity | – |"), std::string::npos) << summary;
  EXPECT_NE(
      summary.find("Test users: 7 (mean ± standard error over users); parameters chosen on 6 (of 7 held out; the "
                   "others have no target: one interaction, kept as input) validation users by NDCG@100."),
      std::string::npos)
      << summary;
  EXPECT_EQ(
      evaluation_markdown(file, split, results),
      "# Top-N evaluation: data/ratings.tsv\n\n11 users × 40 items, 123 interactions (binarised, values >= "
      "3.5).\n\n**Warning:** " + results[1].warnings[0] + "\n\n" +
          summary);
  results[1].warnings.clear();
  EXPECT_EQ(evaluation_markdown(memory, split, results),
            "# Top-N evaluation\n\n11 users × 40 items, 123 interactions (binarised).\n\n" + summary);
}

// `linsim evaluate` writes the documents the library builds from the same data and options.
using ReportCli = test::CliTest;

TEST_F(ReportCli, EvaluateWritesTheLibraryDocuments) {
  const std::string grid = "rank=2,3 eq1.lambda=1,10 eq2.lambda=0.5 ease.lambda=1,5";
  const test::CliResult r = run("evaluate --input " + fixture() + " --min-value 3 --heldout-users 4 " +
                                "--min-interactions 3 --seed 5 --grid \"" + grid + "\" --out " + path("ev"));
  ASSERT_EQ(r.code, 0) << r.err;
  ReadOptions read;
  read.min_value = 3;
  read.binarize = true;
  const ReadResult data = read_interactions(fixture(), read);
  SplitOptions options;
  options.heldout = 4;
  options.min_interactions = 3;
  options.seed = 5;
  const StrongSplit split = strong_generalization_split(data.data.X, options);
  const auto results =
      evaluate_models(split, {"popularity", "itemknn", "eq1", "eq2", "ease"}, parse_grid(grid), Context{});
  const EvaluationInput input{fixture(), data.data.n_users(), data.data.n_items(), data.data.nnz(), 3.0};
  EXPECT_EQ(slurp(path("ev") + "/results.json"),
            evaluation_json(input, options, split, results, grid).dump(2) + "\n");
  EXPECT_EQ(slurp(path("ev") + "/results.md"), evaluation_markdown(input, split, results));
  EXPECT_EQ(r.out, evaluation_summary(split, results));
}

// JSON text is Unicode; a path or an id is bytes. json_text writes a byte that does not start a
// valid UTF-8 sequence as \xNN and everything else as it is. The JSON parser is the oracle of
// validity (it refuses invalid UTF-8).
TEST(JsonText, BytesThatAreNotUtf8AreEscapedAndTheRestKept) {
  const json valid = {{"path", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"}, {"n", 3}, {"list", {"a", 1.5, nullptr}}};
  EXPECT_EQ(json_text(valid), valid.dump(2));
  EXPECT_EQ(json_text(valid, -1), valid.dump());
  const json invalid = {{"latin1", "caf\xE9"},
                        {"overlong", "\xC0\xAF"},
                        {"surrogate", "\xED\xA0\x80"},
                        {"truncated", "ok\xE2\x82"},
                        {"beyond", "\xF4\x90\x80\x80"},
                        {"k\xFF", {"x\xFEy", {{"deep", "\x80"}}}}};
  const json back = json::parse(json_text(invalid));
  EXPECT_EQ(back.at("latin1"), "caf\\xe9");
  EXPECT_EQ(back.at("overlong"), "\\xc0\\xaf");
  EXPECT_EQ(back.at("surrogate"), "\\xed\\xa0\\x80");
  EXPECT_EQ(back.at("truncated"), "ok\\xe2\\x82");
  EXPECT_EQ(back.at("beyond"), "\\xf4\\x90\\x80\\x80");
  EXPECT_EQ(back.at("k\\xff").at(0), "x\\xfey");
  EXPECT_EQ(back.at("k\\xff").at(1).at("deep"), "\\x80");
}

// A data file whose name is not UTF-8 (a Latin-1 file system) is read, and every document that
// names it (model.json, results.json, audit.json) is valid JSON with the name's bytes escaped.
TEST_F(ReportCli, AnInputWhoseNameIsNotUtf8IsNamedInValidJson) {
  const std::string input = path("ratings-caf\xE9.tsv");
  std::filesystem::copy_file(fixture(), input);
  test::CliResult r = run("fit --input '" + input + "' --rank 3 --lambda 1 --out " + path("m"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("evaluate --input '" + input + "' --models popularity --heldout-users 3 --min-interactions 2 --out " +
          path("ev"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("audit --items " + path("m") + " --interactions '" + input + "' --top 3 --queries 5 --out " + path("au"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto document = [&](const std::string& file) { return json::parse(slurp(path(file))); };
  EXPECT_NE(document("m/model.json").at("input").at("path").get<std::string>().find("ratings-caf\\xe9.tsv"),
            std::string::npos);
  EXPECT_NE(document("ev/results.json").at("protocol").at("input").get<std::string>().find("ratings-caf\\xe9.tsv"),
            std::string::npos);
  EXPECT_NE(document("au/audit.json").dump().find("ratings-caf\\\\xe9.tsv"), std::string::npos);
}

}  // namespace
}  // namespace linsim
