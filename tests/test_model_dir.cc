// Loading a model directory that was edited, damaged or written by something else: every array is
// checked against the others and against the id files, so a bad directory fails with the file
// named instead of crashing or serving NaN scores (regression tests of the hardening issue,
// docs/reliability.md).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "linsim/core/error.h"
#include "linsim/io/model_dir.h"
#include "linsim/io/npy.h"
#include "test_util.h"

namespace linsim {
namespace {
namespace fs = std::filesystem;

class ModelDir : public ::testing::Test {
 protected:
  // A small eq2 model and an EASE model, written as linsim writes them.
  void SetUp() override {
    X_ = test::random_binary(30, 12, 0.3, 7);
    for (const auto& [name, kind] : {std::pair<std::string, ModelKind>{"eq2", ModelKind::kEq2}, {"ease", ModelKind::kEase}}) {
      ModelBundle b;
      b.model = fit_model(X_, test::exact_options(kind, 4, 1.0), Context{});
      b.data.X = X_;
      for (Index u = 0; u < X_.rows(); ++u) b.data.users.add("u" + std::to_string(u));
      for (Index i = 0; i < X_.cols(); ++i) b.data.items.add("i" + std::to_string(i));
      AtomicDirectory out(path(name), false, "model.json");
      write_model_dir(out, b);
      out.commit();
    }
  }
  std::string path(const std::string& name) const { return dir_.file(name); }
  // The message read_model_dir throws for `model`, or "no error".
  std::string error_of(const std::string& model) const {
    try {
      read_model_dir(path(model));
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }
  std::vector<std::int64_t> indptr() const { return read_npy_int64(path("eq2/interactions_indptr.npy")); }

  test::TempDir dir_;
  SparseMatrix X_;
};

TEST_F(ModelDir, AsWrittenItLoads) {
  EXPECT_EQ(error_of("eq2"), "no error");
  EXPECT_EQ(error_of("ease"), "no error");
}

// X is stored as scipy stores CSR (int32 offsets and indices); directories with int64 arrays, as
// earlier builds wrote them, load to the same matrix.
TEST_F(ModelDir, InteractionsAreInt32AndInt64FilesLoadTheSame) {
  for (const char* file : {"interactions_indptr.npy", "interactions_indices.npy"}) {
    std::ifstream in(path(std::string("eq2/") + file), std::ios::binary);
    std::string head(128, '\0');
    in.read(head.data(), 128);
    EXPECT_NE(head.find("'descr': '<i4'"), std::string::npos) << file;
  }
  const SparseMatrix as_written = read_model_dir(path("eq2")).data.X;
  EXPECT_EQ((as_written - X_).norm(), 0.0);
  write_npy(path("eq2/interactions_indptr.npy"), indptr());
  write_npy(path("eq2/interactions_indices.npy"), read_npy_int64(path("eq2/interactions_indices.npy")));
  const SparseMatrix from_int64 = read_model_dir(path("eq2")).data.X;
  EXPECT_EQ((from_int64 - X_).norm(), 0.0);
  EXPECT_EQ(from_int64.nonZeros(), X_.nonZeros());
}

TEST_F(ModelDir, InteractionOffsetsMustStartAtZeroAndNeverDecrease) {
  auto negative = indptr();
  negative[1] = -5;
  write_npy(path("eq2/interactions_indptr.npy"), negative);
  EXPECT_NE(error_of("eq2").find("is below offset 0"), std::string::npos) << error_of("eq2");
  auto decreasing = indptr();
  decreasing = read_npy_int64(path("ease/interactions_indptr.npy"));
  std::swap(decreasing[3], decreasing[4]);
  write_npy(path("ease/interactions_indptr.npy"), decreasing);
  EXPECT_NE(error_of("ease").find("interactions_indptr.npy': offset 4"), std::string::npos) << error_of("ease");
}

TEST_F(ModelDir, OffsetsBeyondTheIndicesAndIndicesOutOfRangeOrUnsorted) {
  auto big = indptr();
  big.back() = 1'000'000'000'000;
  write_npy(path("eq2/interactions_indptr.npy"), big);
  EXPECT_NE(error_of("eq2").find("interactions_indptr.npy': offsets must run from 0"), std::string::npos) << error_of("eq2");
  auto indices = read_npy_int64(path("ease/interactions_indices.npy"));
  const auto saved = indices;
  indices[0] = 12;  // p = 12
  write_npy(path("ease/interactions_indices.npy"), indices);
  EXPECT_NE(error_of("ease").find("interactions_indices.npy': item index 12 at position 0 is outside [0, 12)"),
            std::string::npos)
      << error_of("ease");
  indices = saved;
  std::swap(indices[0], indices[1]);
  write_npy(path("ease/interactions_indices.npy"), indices);
  EXPECT_NE(error_of("ease").find("interactions_indices.npy': the items of user 0 are not strictly increasing at position 1"),
            std::string::npos)
      << error_of("ease");
}

TEST_F(ModelDir, NonFiniteValuesInAnyArrayAreRefused) {
  for (const std::string file : {"item_embeddings.npy", "user_embeddings.npy", "encoder.npy"}) {
    const Matrix saved = read_npy_matrix(path("eq2/" + file));
    Matrix bad = saved;
    bad(1, 2) = std::numeric_limits<double>::quiet_NaN();
    write_npy(path("eq2/" + file), bad);
    EXPECT_NE(error_of("eq2").find(file + "': entry (1, 2) is nan"), std::string::npos) << error_of("eq2");
    write_npy(path("eq2/" + file), saved);
  }
  Vector sigma = read_npy_vector(path("eq2/singular_values.npy"));
  sigma(0) = std::numeric_limits<double>::infinity();
  write_npy(path("eq2/singular_values.npy"), sigma);
  EXPECT_NE(error_of("eq2").find("singular_values.npy': entry (0, 0) is inf"), std::string::npos) << error_of("eq2");
  Matrix W = read_npy_matrix(path("ease/weights.npy"));
  W(3, 4) = std::numeric_limits<double>::quiet_NaN();
  write_npy(path("ease/weights.npy"), W);
  EXPECT_NE(error_of("ease").find("weights.npy': entry (3, 4) is nan"), std::string::npos) << error_of("ease");
  // A diagonal entry that is not 0: not EASE's weights (was: served, projected similarities changed).
  W(3, 4) = 0.5;
  W(2, 2) = 100;
  write_npy(path("ease/weights.npy"), W);
  EXPECT_NE(error_of("ease").find("weights.npy': entry (2, 2) is 100, but EASE's weights have a zero diagonal"),
            std::string::npos)
      << error_of("ease");
  W(2, 2) = 0;
  write_npy(path("ease/weights.npy"), W);
  EXPECT_EQ(error_of("ease"), "no error");
  Vector data = read_npy_vector(path("ease/interactions_data.npy"));
  data(2) = std::numeric_limits<double>::quiet_NaN();
  write_npy(path("ease/interactions_data.npy"), data);
  EXPECT_NE(error_of("ease").find("interactions_data.npy': value nan at position 2 is not a finite number"),
            std::string::npos)
      << error_of("ease");
}

// Values whose squares overflow: every score built from them would be inf or nan (a tampered array
// of 1e200s listed every item at score inf, in id order, with exit 0). The largest finite sum of
// squares passes: the oracle is the sum itself, computed here.
TEST_F(ModelDir, ValuesWhoseSquaresOverflowAreRefused) {
  const auto scaled = [](Matrix M, double by) { return Matrix(M * by); };
  for (const std::string file : {"item_embeddings.npy", "user_embeddings.npy", "encoder.npy"}) {
    const Matrix saved = read_npy_matrix(path("eq2/" + file));
    const double largest = saved.cwiseAbs().maxCoeff();
    // Scaled so that the largest entry is 1e150: its square alone is finite, the sum too.
    write_npy(path("eq2/" + file), scaled(saved, 1e150 / largest));
    ASSERT_TRUE(std::isfinite((saved * (1e150 / largest)).squaredNorm()));
    EXPECT_EQ(error_of("eq2"), "no error");
    write_npy(path("eq2/" + file), scaled(saved, 1e200 / largest));
    EXPECT_NE(error_of("eq2").find(file + "': the sum of squares of its values overflows (largest |value| 1e+200)"),
              std::string::npos)
        << error_of("eq2");
    write_npy(path("eq2/" + file), saved);
  }
  const Matrix W = read_npy_matrix(path("ease/weights.npy"));
  write_npy(path("ease/weights.npy"), scaled(W, 1e200 / W.cwiseAbs().maxCoeff()));
  EXPECT_NE(error_of("ease").find("weights.npy': the sum of squares of its values overflows"), std::string::npos)
      << error_of("ease");
  write_npy(path("ease/weights.npy"), W);
  Vector data = read_npy_vector(path("ease/interactions_data.npy"));
  data(0) = 1e300;
  write_npy(path("ease/interactions_data.npy"), data);
  EXPECT_NE(error_of("ease").find("interactions_data.npy': the sum of squares of its values overflows"),
            std::string::npos)
      << error_of("ease");
}

// A cosine model's fold-in scores are its scale times cosines: a scale of 0 (or not a number) in
// an edited model.json gave every score 0.
TEST_F(ModelDir, ACosineModelsScaleMustBeAFiniteNonzeroNumber) {
  ModelBundle b;
  CosineOptions cosine;
  cosine.epochs = 3;
  FitOptions options = test::exact_options(ModelKind::kCosine, 3, 1.0);
  options.cosine = cosine;
  b.model = fit_model(X_, options, Context{});
  b.data.X = X_;
  for (Index u = 0; u < X_.rows(); ++u) b.data.users.add("u" + std::to_string(u));
  for (Index i = 0; i < X_.cols(); ++i) b.data.items.add("i" + std::to_string(i));
  AtomicDirectory out(path("cosine"), false, "model.json");
  write_model_dir(out, b);
  out.commit();
  ASSERT_EQ(error_of("cosine"), "no error");
  std::ifstream in(path("cosine/model.json"));
  nlohmann::json meta = nlohmann::json::parse(in);
  ASSERT_NE(meta.at("cosine").at("scale").get<double>(), 0.0);
  meta["cosine"]["scale"] = 0.0;
  std::ofstream(path("cosine/model.json")) << meta.dump();
  EXPECT_NE(error_of("cosine").find("model.json': the cosine model's \"scale\" 0 is not a finite nonzero number"),
            std::string::npos)
      << error_of("cosine");
}

// A value of the wrong type names its key ('"lambda": "1"' said only "type must be number").
TEST_F(ModelDir, AValueOfTheWrongTypeNamesItsKey) {
  std::ifstream in(path("eq2/model.json"));
  nlohmann::json meta = nlohmann::json::parse(in);
  meta["lambda"] = "1";
  std::ofstream(path("eq2/model.json")) << meta.dump();
  EXPECT_NE(error_of("eq2").find("model.json': \"lambda\" is \"1\" (string), not a number"), std::string::npos)
      << error_of("eq2");
  meta["lambda"] = 1.0;
  meta["solver"] = nullptr;
  std::ofstream(path("eq2/model.json")) << meta.dump();
  EXPECT_NE(error_of("eq2").find("\"solver\" is null (null), not a string"), std::string::npos) << error_of("eq2");
}

// An id file with a tab or CR inside an id gave tables whose rows have extra fields; the writer
// refuses such ids, and so now does the reader, naming the line.
TEST_F(ModelDir, AnIdWithATabOrCarriageReturnIsRefusedWhenLoading) {
  for (const std::string bad : {"a\tb", "a\rb"}) {
    std::ifstream in(path("eq2/item_ids.tsv"));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const auto second = text.find('\n') + 1;
    const auto end = text.find('\n', second);
    std::ofstream(path("eq2/item_ids.tsv")) << text.substr(0, second) << bad << text.substr(end);
    EXPECT_NE(error_of("eq2").find(path("eq2/item_ids.tsv") + ":2: id '" + printable_message(bad) +
                                   "' contains a tab or carriage return"),
              std::string::npos)
        << error_of("eq2");
    std::ofstream(path("eq2/item_ids.tsv")) << text;
  }
  EXPECT_EQ(error_of("eq2"), "no error");
}

TEST_F(ModelDir, ShapesMustAgreeWithTheIdsAndTheRank) {
  write_npy(path("eq2/singular_values.npy"), Vector(Vector::Ones(3)));
  EXPECT_NE(error_of("eq2").find("singular_values.npy' has shape 3 x 1, expected 4 x 1 (rank 4)"), std::string::npos)
      << error_of("eq2");
  write_npy(path("eq2/singular_values.npy"), Vector(Vector::Ones(4)));
  // One more item id (a blank line at the end of the file is an empty id): the message says where
  // the expected shape comes from.
  // One id fewer: X's indices name the file whose count they exceed.
  {
    std::ifstream in(path("eq2/item_ids.tsv"));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(path("eq2/item_ids.tsv")) << text.substr(0, text.rfind('\n', text.size() - 2) + 1);
    EXPECT_NE(error_of("eq2").find("is outside [0, 11) (11 ids in item_ids.tsv)"), std::string::npos) << error_of("eq2");
    std::ofstream(path("eq2/item_ids.tsv")) << text;
  }
  std::ofstream(path("eq2/item_ids.tsv"), std::ios::app) << "\n";
  EXPECT_NE(error_of("eq2").find("item_embeddings.npy' has shape 12 x 4, expected 13 x 4 (13 ids in item_ids.tsv, rank 4)"),
            std::string::npos)
      << error_of("eq2");
  std::ofstream(path("ease/user_ids.tsv"), std::ios::app) << "extra-user\n";
  EXPECT_NE(error_of("ease").find("offsets for 31 users"), std::string::npos) << error_of("ease");
}

TEST_F(ModelDir, InvalidOptionsAndAModelJsonThatIsNotAFile) {
  std::ifstream in(path("eq2/model.json"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("\"lambda\": 1.0");
  ASSERT_NE(at, std::string::npos) << text;
  std::ofstream(path("eq2/model.json")) << text.substr(0, at) << "\"lambda\": -5.0" << text.substr(at + 13);
  EXPECT_NE(error_of("eq2").find("model.json': lambda -5 is not a finite number >= 0"), std::string::npos)
      << error_of("eq2");
  // Found by fuzzing (fuzz/corpus/model_json/finding-*): integers that are not JSON integers.
  for (const char* rank : {"1e30", "2.5", "-1", "4294967296"}) {
    const auto r = text.find("\"rank\": 4");
    ASSERT_NE(r, std::string::npos);
    std::ofstream(path("eq2/model.json")) << text.substr(0, r) << "\"rank\": " << rank << text.substr(r + 9);
    const std::string message = error_of("eq2");
    EXPECT_TRUE(message.find("'rank' must be an integer") != std::string::npos ||
                message.find("rank -1 is not positive") != std::string::npos)
        << rank << ": " << message;
  }
  // An unsigned integer beyond int64's range (was: read as -1, "rank -1 is not positive"), and a
  // value nested 60,000 deep (was: a stack overflow writing it into the message).
  const auto r = text.find("\"rank\": 4");
  for (const std::string& rank : {std::string("18446744073709551615"), std::string(60000, '[') + std::string(60000, ']')}) {
    std::ofstream(path("eq2/model.json")) << text.substr(0, r) << "\"rank\": " << rank << text.substr(r + 9);
    const std::string message = error_of("eq2");
    EXPECT_NE(message.find("'rank' must be an integer within the range of int, got "), std::string::npos) << message;
    EXPECT_LT(message.size(), 300u) << message;
  }
  fs::remove(path("ease/model.json"));
  fs::create_directory(path("ease/model.json"));
  EXPECT_NE(error_of("ease").find("is not a regular file"), std::string::npos) << error_of("ease");
  std::ofstream(path("file.tsv")) << "u\ti\n";
  EXPECT_NE(error_of("file.tsv").find("is not a directory"), std::string::npos) << error_of("file.tsv");
  // A FIFO in place of an array: refused, not opened (opening waits for a writer that never comes).
  std::ofstream(path("eq2/model.json")) << text;  // as written again
  fs::remove(path("eq2/encoder.npy"));
  ASSERT_EQ(mkfifo(path("eq2/encoder.npy").c_str(), 0600), 0);
  EXPECT_NE(error_of("eq2").find("encoder.npy' is not a regular file"), std::string::npos) << error_of("eq2");
}

// Every damaged model.json names the file (exit 1 in the CLI: an Error, not an InvalidArgument),
// as do a repeated id in either id file.
TEST_F(ModelDir, ABadModelJsonOrARepeatedIdNamesTheFile) {
  std::ifstream in(path("eq2/model.json"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string json_path = path("eq2/model.json");
  // model.json with `from` replaced by `to`; the message read_model_dir gives for it.
  const auto error_with = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in " << text;
    if (at == std::string::npos) return std::string("'" + from + "' not found");
    std::ofstream(json_path) << text.substr(0, at) << to << text.substr(at + from.size());
    return error_of("eq2");
  };
  std::string message = error_with("\"model\": \"eq2\"", "\"model\": \"eq9\"");
  EXPECT_NE(message.find("'" + json_path + "': unknown model 'eq9'"), std::string::npos) << message;
  message = error_with("\"solver\": \"gram\",", "");
  EXPECT_NE(message.find("'" + json_path + "': "), std::string::npos) << message;
  EXPECT_NE(message.find("'solver'"), std::string::npos) << message;
  const std::string future = std::to_string(kModelFormatVersion + 1);
  message = error_with("\"format_version\": " + std::to_string(kModelFormatVersion),
                       "\"format_version\": " + future);
  EXPECT_NE(message.find("'" + json_path + "': format version " + future + " is not supported"), std::string::npos)
      << message;
  message = error_with("\"rank\": 4,", "\"rank\": 4,,");
  EXPECT_NE(message.find("'" + json_path + "': invalid JSON"), std::string::npos) << message;
  // Entries that may be left out, given with another type: named by their key, as the others are
  // (was: "[json.exception.type_error.302] type must be boolean, but is string").
  message = error_with("\"binarized\": false", "\"binarized\": \"yes\"");
  EXPECT_NE(message.find("'" + json_path + "': \"binarized\" is \"yes\" (string), not true or false"), std::string::npos)
      << message;
  message = error_with("\"weighting\": \"none\"", "\"weighting\": [1]");
  EXPECT_NE(message.find("\"weighting\" is an array of 1 entries (array), not a string"), std::string::npos) << message;
  // A missing entry in json's words, without its tag.
  message = error_with("\"solver\": \"gram\",", "");
  EXPECT_EQ(message, "'" + json_path + "': key 'solver' not found");
  std::ofstream(json_path) << text;
  ASSERT_EQ(error_of("eq2"), "no error");
  // A repeated id: the file, the line of the repetition and the id.
  std::ofstream(path("eq2/user_ids.tsv"), std::ios::app) << "u3\n";
  message = error_of("eq2");
  EXPECT_NE(message.find(path("eq2/user_ids.tsv") + ":31: duplicate id 'u3'"), std::string::npos) << message;
  std::ofstream(path("ease/item_ids.tsv"), std::ios::app) << "i0\n";
  message = error_of("ease");
  EXPECT_NE(message.find(path("ease/item_ids.tsv") + ":13: duplicate id 'i0'"), std::string::npos) << message;
}

// An id that a line-per-id file cannot hold is refused when saving; nothing is left behind.
TEST_F(ModelDir, AnIdWithATabOrLineBreakIsRefusedWhenSaving) {
  for (const std::string bad : {"a\tb", "a\nb", "a\rb"}) {
    for (const bool user : {true, false}) {
      ModelBundle b;
      b.model = fit_model(X_, test::exact_options(ModelKind::kEq2, 4, 1.0), Context{});
      b.data.X = X_;
      for (Index u = 0; u < X_.rows(); ++u) b.data.users.add(user && u == 5 ? bad : "u" + std::to_string(u));
      for (Index i = 0; i < X_.cols(); ++i) b.data.items.add(!user && i == 5 ? bad : "i" + std::to_string(i));
      try {
        AtomicDirectory out(path("bad"), false, "model.json");
        write_model_dir(out, b);
        out.commit();
        ADD_FAILURE() << "saved an id with a tab or line break";
      } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("id '" + printable_message(bad) + "' contains a tab, newline or carriage return and cannot be stored in"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find(user ? "user_ids.tsv" : "item_ids.tsv"), std::string::npos) << message;
      }
      for (const auto& entry : fs::directory_iterator(dir_.path())) {
        const std::string name = entry.path().filename().string();
        EXPECT_TRUE(name == "eq2" || name == "ease") << "left behind: " << name;
      }
    }
  }
}

// Ids are bytes: any that a line can hold comes back from save and load as it was, including a
// first id that begins with a byte-order mark (the reader skips one mark at the start of a file,
// so the writer puts one more there), bytes that are not UTF-8 and an empty id. model.json stays
// valid JSON when the input's path is not UTF-8 (its bytes are written as \xNN).
TEST_F(ModelDir, IdsOfAnyBytesRoundTripAndModelJsonStaysValid) {
  const std::string bom = "\xEF\xBB\xBF";
  ModelBundle b;
  b.model = fit_model(X_, test::exact_options(ModelKind::kEq2, 4, 1.0), Context{});
  b.data.X = X_;
  std::vector<std::string> users, items;
  for (Index u = 0; u < X_.rows(); ++u) {
    users.push_back(u == 0 ? bom + "u0" : u == 1 ? bom + bom : u == 2 ? "caf\xE9" : u == 3 ? "" : "u" + std::to_string(u));
  }
  for (Index i = 0; i < X_.cols(); ++i) items.push_back(i == 0 ? bom : i == 1 ? "\xFF\xFE" : "i" + std::to_string(i));
  for (const std::string& id : users) b.data.users.add(id);
  for (const std::string& id : items) b.data.items.add(id);
  b.input.path = "l\xE9\xC3(1.tsv";  // a lone Latin-1 byte, then a lead byte without its continuation
  AtomicDirectory out(path("bytes"), false, "model.json");
  write_model_dir(out, b);
  out.commit();
  const ModelBundle back = read_model_dir(path("bytes"));
  EXPECT_EQ(back.data.users.ids(), users);
  EXPECT_EQ(back.data.items.ids(), items);
  // The JSON parser is the oracle: it accepts the file, and the path reads with its bytes escaped.
  std::ifstream in(path("bytes/model.json"));
  const nlohmann::json meta = nlohmann::json::parse(in);
  EXPECT_EQ(meta.at("input").at("path").get<std::string>(), "l\\xe9\\xc3(1.tsv");
  EXPECT_EQ(back.input.path, "l\\xe9\\xc3(1.tsv");
}

}  // namespace
}  // namespace linsim
