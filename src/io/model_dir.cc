#include "linsim/io/model_dir.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "linsim/core/error.h"
#include "linsim/io/npy.h"

namespace linsim {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json summary_json(const InputSummary& s, const InteractionMatrix& data) {
  return {{"path", s.path},
          {"format", s.format},
          {"separator", s.separator},
          {"header", s.header},
          {"binarized", s.binarized},
          {"min_value", s.min_value ? json(*s.min_value) : json(nullptr)},
          {"lines", s.lines},
          {"dropped_below_min", s.dropped_below_min},
          {"dropped_zero", s.dropped_zero},
          {"duplicates", s.duplicates},
          {"min_item_users", s.min_item_users},
          {"dropped_items", s.dropped_items},
          {"n_users", data.n_users()},
          {"n_items", data.n_items()},
          {"nnz", data.nnz()}};
}

template <typename Dense>
void check_shape(const Dense& M, Index rows, Index cols, const std::string& what) {
  if (M.rows() != rows || M.cols() != cols) {
    throw Error(fmt::format("{} has shape {} x {}, expected {} x {}", what, M.rows(), M.cols(), rows, cols));
  }
}

}  // namespace

IdMap read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot open '{}'", path));
  IdMap ids;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const Index before = ids.size();
    if (ids.add(line) != before) throw InputError(path, number, fmt::format("duplicate id '{}'", line));
  }
  return ids;
}

void write_ids(const std::string& path, const IdMap& ids) {
  std::ofstream out(path);
  for (const std::string& id : ids.ids()) {
    if (id.find_first_of("\t\n\r") != std::string::npos) {
      throw Error(fmt::format("id '{}' contains a tab, newline or carriage return and cannot be stored in '{}'", id, path));
    }
    out << id << '\n';
  }
  out.flush();
  if (!out) throw Error(fmt::format("cannot write '{}'", path));
}

void write_model_dir(AtomicDirectory& out, const ModelBundle& bundle) {
  const Model& m = bundle.model;
  const bool factors = m.has_embeddings();
  json meta = {{"format", "linsim-model"},
               {"format_version", kModelFormatVersion},
               {"linsim_version", LINSIM_VERSION},
               {"model", model_name(m.options.kind)},
               {"gauge", m.options.kind == ModelKind::kEq1 ? json(m.options.gauge.name) : json(nullptr)},
               {"rank", m.options.rank},
               {"lambda", m.options.lambda},
               {"solver", m.solver},
               {"solver_reason", m.solver_reason},
               {"solver_tol", m.options.kind == ModelKind::kEase || m.options.kind == ModelKind::kSppmi
                                  ? json(nullptr)
                                  : json(m.options.solver_tol)},
               {"dtype", m.options.kind == ModelKind::kEase ? json(dtype_name(m.options.dtype)) : json(nullptr)},
               {"weighting", m.options.weighting.spec()},
               {"sppmi", nullptr},
               {"cosine", nullptr},
               {"input", summary_json(bundle.input, bundle.data)}};
  if (m.options.kind == ModelKind::kSppmi) {
    meta["lambda"] = nullptr;
    meta["sppmi"] = {{"negatives", m.options.sppmi.negatives},
                     {"smoothing", m.options.sppmi.smoothing},
                     {"eigen_power", m.options.sppmi.eigen_power}};
  }
  if (m.options.kind == ModelKind::kCosine) {
    const Convergence& c = m.convergence;
    meta["cosine"] = {{"epochs", m.options.cosine.epochs},
                      {"tol", m.options.cosine.tol},
                      {"scale", m.scale},
                      {"warm_start", "eq2 with the same rank and lambda"},
                      {"convergence", {{"converged", c.converged},
                                       {"reason", c.reason},
                                       {"iterations", c.iterations},
                                       {"evaluations", c.evaluations},
                                       {"initial_objective", c.initial_objective},
                                       {"final_objective", c.final_objective},
                                       {"seconds", c.seconds},
                                       {"objective_history", c.history}}}};
  }
  if (factors) {
    write_npy(out.file("item_embeddings.npy"), m.item_embeddings);
    write_npy(out.file("user_embeddings.npy"), m.user_embeddings);
    write_npy(out.file("encoder.npy"), m.encoder);
    write_npy(out.file("singular_values.npy"), m.singular_values);
  } else {
    m.with_weights([&](const auto& W) { write_npy(out.file("weights.npy"), W); });
  }
  write_ids(out.file("item_ids.tsv"), bundle.data.items);
  write_ids(out.file("user_ids.tsv"), bundle.data.users);
  const SparseMatrix& X = bundle.data.X;
  write_npy(out.file("interactions_indptr.npy"),
            std::vector<std::int64_t>(X.outerIndexPtr(), X.outerIndexPtr() + X.rows() + 1));
  write_npy(out.file("interactions_indices.npy"),
            std::vector<std::int64_t>(X.innerIndexPtr(), X.innerIndexPtr() + X.nonZeros()));
  write_npy(out.file("interactions_data.npy"), Vector(Eigen::Map<const Vector>(X.valuePtr(), X.nonZeros())));
  std::ofstream json_out(out.file("model.json"));
  json_out << meta.dump(2) << '\n';
  json_out.flush();
  if (!json_out) throw Error(fmt::format("cannot write model.json in '{}'", out.target()));
}

ModelBundle read_model_dir(const std::string& dir) {
  const fs::path root(dir);
  const fs::path meta_path = root / "model.json";
  if (!fs::is_directory(root)) throw Error(fmt::format("model directory '{}' does not exist", dir));
  std::ifstream in(meta_path);
  if (!in) throw Error(fmt::format("'{}' is not a model directory (no model.json)", dir));
  json meta;
  try {
    meta = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(fmt::format("'{}': invalid JSON: {}", meta_path.string(), e.what()));
  }
  ModelBundle b;
  try {
    if (meta.at("format") != "linsim-model") throw Error("not a linsim model");
    const int version = meta.at("format_version").get<int>();
    if (version < 1 || version > kModelFormatVersion) {
      throw Error(fmt::format("format version {} is not supported (this linsim reads {})", version,
                              kModelFormatVersion));
    }
    Model& m = b.model;
    m.options.kind = parse_model_kind(meta.at("model").get<std::string>());
    if (m.options.kind == ModelKind::kEq1) m.options.gauge = parse_gauge(meta.at("gauge").get<std::string>());
    m.options.rank = meta.at("rank").get<Index>();
    m.options.lambda = meta.at("lambda").is_null() ? 0.0 : meta.at("lambda").get<double>();
    m.options.weighting = parse_weighting(meta.value("weighting", "none"));
    if (meta.contains("dtype") && !meta.at("dtype").is_null()) {
      m.options.dtype = parse_dtype(meta.at("dtype").get<std::string>());
    }
    if (m.options.kind == ModelKind::kSppmi) {
      const json& o = meta.at("sppmi");
      m.options.sppmi.negatives = o.at("negatives").get<double>();
      m.options.sppmi.smoothing = o.at("smoothing").get<double>();
      m.options.sppmi.eigen_power = o.at("eigen_power").get<double>();
    }
    if (m.options.kind == ModelKind::kCosine) {
      const json& o = meta.at("cosine");
      m.options.cosine.epochs = o.at("epochs").get<Index>();
      m.options.cosine.tol = o.at("tol").get<double>();
      m.scale = o.at("scale").get<double>();
      const json& c = o.at("convergence");
      m.convergence.converged = c.at("converged").get<bool>();
      m.convergence.reason = c.at("reason").get<std::string>();
      m.convergence.iterations = c.at("iterations").get<Index>();
      m.convergence.initial_objective = c.at("initial_objective").get<double>();
      m.convergence.final_objective = c.at("final_objective").get<double>();
      m.convergence.scale = m.scale;
    }
    m.solver = meta.at("solver").get<std::string>();
    m.solver_reason = meta.value("solver_reason", "");
    if (meta.contains("solver_tol") && !meta.at("solver_tol").is_null()) {
      m.options.solver_tol = meta.at("solver_tol").get<double>();
    }
    const json& input = meta.at("input");
    b.input.path = input.value("path", "");
    b.input.format = input.value("format", "");
    b.input.binarized = input.value("binarized", false);
  } catch (const json::exception& e) {
    throw Error(fmt::format("'{}': {}", meta_path.string(), e.what()));
  } catch (const InvalidArgument& e) {  // an unknown model, gauge, weighting or dtype name in the file
    throw Error(fmt::format("'{}': {}", meta_path.string(), e.what()));
  }
  auto file = [&](const char* name) { return (root / name).string(); };
  b.data.items = read_ids(file("item_ids.tsv"));
  b.data.users = read_ids(file("user_ids.tsv"));
  const Index n = b.data.users.size();
  const Index p = b.data.items.size();
  const auto indptr = read_npy_int64(file("interactions_indptr.npy"));
  const auto indices = read_npy_int64(file("interactions_indices.npy"));
  const Vector data = read_npy_vector(file("interactions_data.npy"));
  if (static_cast<Index>(indptr.size()) != n + 1 || indptr.back() != static_cast<std::int64_t>(indices.size()) ||
      static_cast<Index>(indices.size()) != data.size()) {
    throw Error(fmt::format("'{}': interaction arrays do not match {} users", dir, n));
  }
  SparseMatrix& X = b.data.X;
  X.resize(n, p);
  X.reserve(data.size());
  for (Index u = 0; u <= n; ++u) X.outerIndexPtr()[u] = static_cast<int>(indptr[static_cast<size_t>(u)]);
  for (Index q = 0; q < data.size(); ++q) {
    const std::int64_t j = indices[static_cast<size_t>(q)];
    if (j < 0 || j >= p) throw Error(fmt::format("'{}': interaction item index {} out of range", dir, j));
    X.innerIndexPtr()[q] = static_cast<int>(j);
    X.valuePtr()[q] = data(q);
  }
  X.resizeNonZeros(data.size());
  Model& m = b.model;
  // The weighting's statistics are a deterministic function of the training interactions.
  m.weighting = fit_weighting(m.options.weighting, X);
  if (m.has_embeddings()) {
    m.item_embeddings = read_npy_matrix(file("item_embeddings.npy"));
    m.user_embeddings = read_npy_matrix(file("user_embeddings.npy"));
    m.encoder = read_npy_matrix(file("encoder.npy"));
    m.singular_values = read_npy_vector(file("singular_values.npy"));
    const Index k = m.options.rank;
    check_shape(m.item_embeddings, p, k, "item_embeddings.npy");
    check_shape(m.user_embeddings, n, k, "user_embeddings.npy");
    check_shape(m.encoder, p, k, "encoder.npy");
  } else {
    if (m.options.dtype == Dtype::kFloat32) {
      m.weights32 = read_npy_matrix_float32(file("weights.npy"));
    } else {
      m.weights = read_npy_matrix(file("weights.npy"));
    }
    m.with_weights([&](const auto& W) { check_shape(W, p, p, "weights.npy"); });
  }
  return b;
}

}  // namespace linsim
