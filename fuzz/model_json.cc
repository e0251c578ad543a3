// read_model_dir with a fuzzed model.json. A small valid model directory is written once per
// process (a tiny eq2 model fitted with the library, plus an EASE weight matrix so that every
// model kind finds its arrays); each input replaces only model.json. The arrays have 4 users,
// 5 items and rank 2, the shapes of the seeds in fuzz/corpus/model_json.
#include <vector>

#include "fuzz_common.h"
#include "linsim/data/readers.h"
#include "linsim/io/model_dir.h"
#include "linsim/io/npy.h"
#include "linsim/models/model.h"

namespace {

std::string make_model_dir() {
  using namespace linsim;
  const std::string triplets = linsim_fuzz::scratch_path("train.tsv");
  const std::string text =
      "u1\ti1\t1\nu1\ti2\t1\nu1\ti4\t1\nu2\ti2\t1\nu2\ti3\t1\nu3\ti1\t1\n"
      "u3\ti3\t1\nu3\ti5\t1\nu4\ti4\t1\nu4\ti5\t1\nu4\ti1\t1\n";
  linsim_fuzz::write_file(triplets, text.data(), text.size());
  const InteractionMatrix data = read_interactions(triplets, ReadOptions{}).data;
  FitOptions options;
  options.kind = ModelKind::kEq2;
  options.rank = 2;
  options.lambda = 0.1;
  options.solver = Solver::kGram;
  Context ctx;
  ctx.threads = 1;
  const Model m = fit_model(data.X, options, ctx);
  const std::string dir = linsim_fuzz::scratch_path("model");
  std::filesystem::create_directory(dir);
  const auto file = [&](const char* name) { return dir + "/" + name; };
  write_npy(file("item_embeddings.npy"), m.item_embeddings);
  write_npy(file("user_embeddings.npy"), m.user_embeddings);
  write_npy(file("encoder.npy"), m.encoder);
  write_npy(file("singular_values.npy"), m.singular_values);
  write_npy(file("weights.npy"), Matrix(Matrix::Identity(data.n_items(), data.n_items())));
  write_ids(file("item_ids.tsv"), data.items);
  write_ids(file("user_ids.tsv"), data.users);
  const SparseMatrix& X = data.X;
  write_npy(file("interactions_indptr.npy"),
            std::vector<std::int64_t>(X.outerIndexPtr(), X.outerIndexPtr() + X.rows() + 1));
  write_npy(file("interactions_indices.npy"),
            std::vector<std::int64_t>(X.innerIndexPtr(), X.innerIndexPtr() + X.nonZeros()));
  write_npy(file("interactions_data.npy"), Vector(Eigen::Map<const Vector>(X.valuePtr(), X.nonZeros())));
  if (data.n_users() != 4 || data.n_items() != 5 || m.item_embeddings.cols() != 2) {
    linsim_fuzz::harness_failure("unexpected model shape", dir);
  }
  return dir;
}

std::string model_dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linsim_fuzz::single_threaded();
  model_dir = make_model_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  linsim_fuzz::write_file(model_dir + "/model.json", data, size);
  linsim_fuzz::expect_library_errors([&] { linsim::read_model_dir(model_dir); });
  return 0;
}
