#include "linsim/io/model_dir.h"

#include <filesystem>
#include <limits>
#include <cstring>
#include <algorithm>
#include <cmath>
#include <exception>
#include <fstream>
#include <functional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "linsim/core/error.h"
#include "linsim/io/json_text.h"
#include "linsim/io/npy.h"
#include "data/line_reader.h"

namespace linsim {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json summary_json(const InputSummary& s, Index n_users, Index n_items, Index nnz) {
  return {{"path", s.path},
          {"format", s.format},
          {"separator", s.separator},
          {"header", s.header},
          {"binarized", s.binarized},
          {"min_value", s.min_value ? json(*s.min_value) : json(nullptr)},
          {"lines", s.lines},
          {"dropped_below_min", s.dropped_below_min},
          {"dropped_zero", s.dropped_zero},
          {"users_without_entries", s.users_without_entries},
          {"duplicates", s.duplicates},
          {"commented_data_lines", s.commented_data_lines},
          {"min_item_users", s.min_item_users},
          {"dropped_items", s.dropped_items},
          {"n_users", n_users},
          {"n_items", n_items},
          {"nnz", nnz}};
}

// The checks of a model directory's arrays on load: a directory edited by hand, damaged, or written
// by something else must fail with the file named, never crash or serve NaN scores.
template <typename Dense>
void check_shape(const Dense& M, Index rows, Index cols, const std::string& what, const std::string& why) {
  if (M.rows() != rows || M.cols() != cols) {
    throw DataError(fmt::format("'{}' has shape {} x {}, expected {} x {} ({})", what, M.rows(), M.cols(), rows, cols, why));
  }
}

template <typename Dense>
void check_finite(const Dense& M, const std::string& what) {
  if (M.allFinite()) return;
  for (Index c = 0; c < M.cols(); ++c) {
    for (Index r = 0; r < M.rows(); ++r) {
      if (!std::isfinite(M(r, c))) {
        throw DataError(fmt::format("'{}': entry ({}, {}) is {}: the model directory is damaged", what, r, c, M(r, c)));
      }
    }
  }
}

// The scores multiply these values, and norms square them: their sum of squares must be finite, as
// a fit's data and the audit's vectors must (a tampered array of 1e200s gave every score inf, in
// id order, with exit 0). By Cauchy–Schwarz every product of two such rows is then finite.
template <typename Dense>
void check_squares(const Dense& M, const std::string& what) {
  if (M.size() > 0 && !std::isfinite(static_cast<double>(M.squaredNorm()))) {
    throw DataError(fmt::format("'{}': the sum of squares of its values overflows (largest |value| {:.4g}): the model "
                            "directory is damaged",
                            what, static_cast<double>(M.cwiseAbs().maxCoeff())));
  }
}

// A value of model.json as an error message shows it: a number, string or literal as written (its
// first 40 characters), an array or object by its size only — writing out a nested one recurses
// once per level, and 60,000 levels of brackets overflowed the stack.
std::string shown(const json& value) {
  if (value.is_array()) return fmt::format("an array of {} entries", value.size());
  if (value.is_object()) return fmt::format("an object of {} keys", value.size());
  return value.dump().substr(0, 40);
}

// An entry of model.json as type T, its key named where it has another type ('"lambda": "1"').
template <typename T>
T value_at(const json& object, const char* key) {
  const json& value = object.at(key);
  try {
    return value.get<T>();
  } catch (const json::type_error&) {
    throw DataError(fmt::format("\"{}\" is {} ({}), not {}", key, shown(value), value.type_name(),
                            std::is_same_v<T, std::string> ? "a string"
                            : std::is_same_v<T, bool>      ? "true or false"
                            : std::is_arithmetic_v<T>      ? "a number"
                                                           : "a list of strings"));
  }
}

// An entry that model.json may leave out: `fallback` when absent, else value_at's checked value
// (was: json's value(), whose type error named no key: "type must be boolean, but is string").
template <typename T>
T optional_at(const json& object, const char* key, T fallback) {
  return object.contains(key) ? value_at<T>(object, key) : fallback;
}

// An integer entry of model.json: a JSON integer (not 2.5, not 1e30, whose conversion would be
// undefined) within the range of int.
Index integer_at(const json& object, const char* key) {
  const json& value = object.at(key);
  // An unsigned integer beyond int64's range must not be read as one (2^64 − 1 became −1).
  const bool in_range = value.is_number_unsigned() ? value.get<std::uint64_t>() <= std::numeric_limits<int>::max()
                        : value.is_number_integer() ? value.get<std::int64_t>() >= std::numeric_limits<int>::min() &&
                                                          value.get<std::int64_t>() <= std::numeric_limits<int>::max()
                                                    : false;
  if (!in_range) {
    throw DataError(fmt::format("'{}' must be an integer within the range of int, got {}", key, shown(value)));
  }
  return value.get<Index>();
}

// X as CSR from the three arrays: offsets from 0 to nnz, never decreasing; column indices in
// range and strictly increasing within each row; values finite; at most 2^31 − 1 nonzeros.
SparseMatrix interactions_from_arrays(const std::vector<std::int64_t>& indptr, const std::vector<std::int64_t>& indices,
                                      const Vector& data, Index n, Index p, const std::string& dir) {
  const auto nnz = static_cast<std::int64_t>(indices.size());
  const std::string where = (fs::path(dir) / "interactions_indptr.npy").string();
  if (static_cast<Index>(indptr.size()) != n + 1) {
    throw DataError(fmt::format("'{}' has {} offsets for {} users (user_ids.tsv); expected {}", where, indptr.size(), n, n + 1));
  }
  if (static_cast<Index>(data.size()) != nnz) {
    throw DataError(fmt::format("'{}': {} values for {} indices", (fs::path(dir) / "interactions_data.npy").string(),
                            data.size(), nnz));
  }
  if (nnz > std::numeric_limits<int>::max()) {
    throw DataError(fmt::format("'{}': {} interactions; at most 2^31 - 1 are supported", dir, nnz));
  }
  if (indptr.front() != 0 || indptr.back() != nnz) {
    throw DataError(fmt::format("'{}': offsets must run from 0 to {} (the number of indices), got {} to {}", where, nnz,
                            indptr.front(), indptr.back()));
  }
  for (size_t u = 1; u < indptr.size(); ++u) {
    if (indptr[u] < indptr[u - 1]) {
      throw DataError(fmt::format("'{}': offset {} ({}) is below offset {} ({})", where, u, indptr[u], u - 1, indptr[u - 1]));
    }
  }
  SparseMatrix X(n, p);
  X.reserve(static_cast<Index>(nnz));
  const std::string indices_file = (fs::path(dir) / "interactions_indices.npy").string();
  for (Index u = 0; u < n; ++u) {
    const std::int64_t b = indptr[static_cast<size_t>(u)], e = indptr[static_cast<size_t>(u) + 1];
    for (std::int64_t q = b; q < e; ++q) {
      const std::int64_t j = indices[static_cast<size_t>(q)];
      if (j < 0 || j >= p) {
        throw DataError(fmt::format("'{}': item index {} at position {} is outside [0, {}) ({} ids in item_ids.tsv)",
                                indices_file, j, q, p, p));
      }
      if (q > b && j <= indices[static_cast<size_t>(q) - 1]) {
        throw DataError(fmt::format("'{}': the items of user {} are not strictly increasing at position {}", indices_file, u, q));
      }
      if (!std::isfinite(data(q))) {
        throw DataError(fmt::format("'{}': value {} at position {} is not a finite number",
                                (fs::path(dir) / "interactions_data.npy").string(), data(q), q));
      }
    }
    X.outerIndexPtr()[u] = static_cast<int>(b);
  }
  X.outerIndexPtr()[n] = static_cast<int>(nnz);
  for (std::int64_t q = 0; q < nnz; ++q) {
    X.innerIndexPtr()[q] = static_cast<int>(indices[static_cast<size_t>(q)]);
    X.valuePtr()[q] = data(q);
  }
  X.resizeNonZeros(static_cast<Index>(nnz));
  check_squares(data, (fs::path(dir) / "interactions_data.npy").string());
  return X;
}

}  // namespace

IdMap read_ids(const std::string& path) {
  detail::LineReader reader(path);
  IdMap ids;
  std::string_view line;
  while (reader.next(line)) {
    // As write_ids refuses them: an id holding a tab or CR would make tables whose rows cannot be
    // told apart. (An empty id is an id: a line can hold it.)
    if (line.find_first_of("\t\r") != std::string_view::npos) {
      throw InputError(path, reader.line_number(), fmt::format("id '{}' contains a tab or carriage return", line));
    }
    const Index before = ids.size();
    if (ids.add(line) != before) throw InputError(path, reader.line_number(), fmt::format("duplicate id '{}'", line));
    if (ids.size() > std::numeric_limits<int>::max()) {
      throw InputError(path, reader.line_number(), "more than 2^31 - 1 ids are not supported");
    }
  }
  return ids;
}

bool model_dir_file(const std::string& name) {
  const auto ends_with = [&](const std::string& end) {
    return name.size() >= end.size() && name.compare(name.size() - end.size(), end.size(), end) == 0;
  };
  return name == "model.json" || name == "user_ids.tsv" || name == "item_ids.tsv" || ends_with(".npy");
}

void write_ids(const std::string& path, const IdMap& ids) {
  std::ofstream out(path);
  if (ids.size() > 0) out << detail::first_line_prefix(ids.ids().front());
  for (const std::string& id : ids.ids()) {
    if (id.find_first_of("\t\n\r") != std::string::npos) {
      throw Error(fmt::format("id '{}' contains a tab, newline or carriage return and cannot be stored in '{}'", id, path));
    }
    out << id << '\n';
  }
  out.flush();
  if (!out) throw Error(fmt::format("cannot write '{}'", path));
}

void write_model_dir(AtomicDirectory& out, const ModelBundle& bundle, const DistributedUsers* distributed) {
  const Model& m = bundle.model;
  const Index n_users = distributed != nullptr ? distributed->n_users : bundle.data.n_users();
  const Index nnz = distributed != nullptr ? distributed->nnz : bundle.data.nnz();
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
               {"warnings", m.warnings},
               {"input", summary_json(bundle.input, n_users, bundle.data.n_items(), nnz)}};
  if (distributed != nullptr) meta["processes"] = distributed->processes;
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
  // The arrays are independent files: they are written on the caller's threads (a fit's model is
  // hundreds of MB of page-cache copies: X and the user embeddings), largest first; a failure is
  // reported as the first failing file in this list's order would be. The tasks run after this
  // block's locals are gone: they capture only what outlives the call (or copies).
  std::vector<std::pair<double, std::function<void()>>> writes;
  const auto add = [&](double bytes, std::function<void()> write) { writes.emplace_back(bytes, std::move(write)); };
  const auto bytes_of = [](const auto& M) { return static_cast<double>(M.size()) * sizeof(M.data()[0]); };
  if (factors) {
    add(bytes_of(m.item_embeddings), [&] { write_npy(out.file("item_embeddings.npy"), m.item_embeddings); });
    if (distributed == nullptr) {
      add(bytes_of(m.user_embeddings), [&] { write_npy(out.file("user_embeddings.npy"), m.user_embeddings); });
    }
    add(bytes_of(m.encoder), [&] { write_npy(out.file("encoder.npy"), m.encoder); });
    add(bytes_of(m.singular_values), [&] { write_npy(out.file("singular_values.npy"), m.singular_values); });
  } else if (distributed == nullptr) {
    add(m.with_weights([&](const auto& W) { return bytes_of(W); }),
        [&] { m.with_weights([&](const auto& W) { write_npy(out.file("weights.npy"), W); }); });
  }
  add(0, [&] { write_ids(out.file("item_ids.tsv"), bundle.data.items); });
  if (distributed == nullptr) {
    // X as scipy stores CSR below 2^31 entries: int32 offsets and indices (the loader takes int64 too).
    static_assert(sizeof(SparseMatrix::StorageIndex) == sizeof(std::int32_t));
    const SparseMatrix* X = &bundle.data.X;  // copied into the tasks (the name ends with this block)
    const auto rows = static_cast<size_t>(X->rows()), nnz_size = static_cast<size_t>(X->nonZeros());
    add(0, [&] { write_ids(out.file("user_ids.tsv"), bundle.data.users); });
    add(4.0 * static_cast<double>(rows),
        [&out, X, rows] { write_npy(out.file("interactions_indptr.npy"), X->outerIndexPtr(), rows + 1); });
    add(4.0 * static_cast<double>(nnz_size),
        [&out, X, nnz_size] { write_npy(out.file("interactions_indices.npy"), X->innerIndexPtr(), nnz_size); });
    add(8.0 * static_cast<double>(nnz_size),
        [&out, X, nnz_size] { write_npy(out.file("interactions_data.npy"), X->valuePtr(), nnz_size); });
  }
  std::vector<size_t> order(writes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return writes[a].first > writes[b].first; });
  std::vector<std::exception_ptr> failed(writes.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < order.size(); ++i) {
    try {
      writes[order[i]].second();
    } catch (...) {
      failed[order[i]] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  std::ofstream json_out(out.file("model.json"));
  json_out << json_text(meta) << '\n';
  json_out.flush();
  if (!json_out) throw Error(fmt::format("cannot write model.json in '{}'", out.target()));
}

ModelBundle read_model_dir(const std::string& dir) {
  const fs::path root(dir);
  const fs::path meta_path = root / "model.json";
  std::error_code ec;
  const fs::file_type type = fs::status(root, ec).type();
  if (type == fs::file_type::not_found) throw Error(fmt::format("model directory '{}' does not exist", dir));
  if (type != fs::file_type::directory) {
    throw DataError(fmt::format("'{}' is not a directory (a model directory written by 'linsim fit' is expected)", dir));
  }
  const fs::file_type meta_type = fs::status(meta_path, ec).type();
  if (meta_type == fs::file_type::not_found) throw DataError(fmt::format("'{}' is not a model directory (no model.json)", dir));
  // model.json is a few kilobytes (the cosine model's objective history included).
  constexpr std::uintmax_t kMaxMetaBytes = 64 << 20;
  if (meta_type != fs::file_type::regular || fs::file_size(meta_path, ec) > kMaxMetaBytes) {
    throw DataError(fmt::format("'{}' is not a regular file of at most 64 MB", meta_path.string()));
  }
  std::ifstream in(meta_path);
  if (!in) throw Error(fmt::format("cannot open '{}': {}", meta_path.string(), std::strerror(errno)));
  json meta;
  try {
    meta = json::parse(in);
  } catch (const json::exception& e) {
    throw DataError(fmt::format("'{}': invalid JSON: {}", meta_path.string(), e.what()));
  }
  ModelBundle b;
  try {
    if (meta.at("format") != "linsim-model") throw DataError("not a linsim model");
    const auto version = integer_at(meta, "format_version");
    if (version < 1 || version > kModelFormatVersion) {
      throw DataError(fmt::format("format version {} is not supported (this linsim reads {})", version,
                              kModelFormatVersion));
    }
    Model& m = b.model;
    m.options.kind = parse_model_kind(value_at<std::string>(meta, "model"));
    if (m.options.kind == ModelKind::kEq1) m.options.gauge = parse_gauge(value_at<std::string>(meta, "gauge"));
    m.options.rank = integer_at(meta, "rank");
    m.options.lambda = meta.at("lambda").is_null() ? 0.0 : value_at<double>(meta, "lambda");
    m.options.weighting = parse_weighting(optional_at<std::string>(meta, "weighting", "none"));
    if (meta.contains("dtype") && !meta.at("dtype").is_null()) {
      m.options.dtype = parse_dtype(value_at<std::string>(meta, "dtype"));
    }
    if (m.options.kind == ModelKind::kSppmi) {
      const json& o = meta.at("sppmi");
      m.options.sppmi.negatives = value_at<double>(o, "negatives");
      m.options.sppmi.smoothing = value_at<double>(o, "smoothing");
      m.options.sppmi.eigen_power = value_at<double>(o, "eigen_power");
    }
    if (m.options.kind == ModelKind::kCosine) {
      const json& o = meta.at("cosine");
      m.options.cosine.epochs = integer_at(o, "epochs");
      m.options.cosine.tol = value_at<double>(o, "tol");
      m.scale = value_at<double>(o, "scale");
      // A fold-in's scores are scale × cosines: 0 would make every score 0, each user's list the
      // items in id order.
      if (!std::isfinite(m.scale) || m.scale == 0) {
        throw DataError(fmt::format("the cosine model's \"scale\" {} is not a finite nonzero number", m.scale));
      }
      const json& c = o.at("convergence");
      m.convergence.converged = value_at<bool>(c, "converged");
      m.convergence.reason = value_at<std::string>(c, "reason");
      m.convergence.iterations = integer_at(c, "iterations");
      m.convergence.initial_objective = value_at<double>(c, "initial_objective");
      m.convergence.final_objective = value_at<double>(c, "final_objective");
      m.convergence.scale = m.scale;
    }
    if (meta.contains("warnings")) m.warnings = value_at<std::vector<std::string>>(meta, "warnings");
    m.solver = value_at<std::string>(meta, "solver");
    m.solver_reason = optional_at<std::string>(meta, "solver_reason", "");
    if (meta.contains("solver_tol") && !meta.at("solver_tol").is_null()) {
      m.options.solver_tol = value_at<double>(meta, "solver_tol");
    }
    const json& input = meta.at("input");
    b.input.path = optional_at<std::string>(input, "path", "");
    b.input.format = optional_at<std::string>(input, "format", "");
    b.input.binarized = optional_at<bool>(input, "binarized", false);
    if (input.contains("min_value") && !input.at("min_value").is_null()) {
      b.input.min_value = value_at<double>(input, "min_value");
      if (!std::isfinite(*b.input.min_value)) throw DataError(fmt::format("input min_value {} is not finite", *b.input.min_value));
    }
    // The options must be ones a fit accepts (the shapes are checked against the arrays below).
    const FitOptions& o = m.options;
    if (!std::isfinite(o.lambda) || o.lambda < 0) throw DataError(fmt::format("lambda {} is not a finite number >= 0", o.lambda));
    if (o.rank < 1) throw DataError(fmt::format("rank {} is not positive", o.rank));
    if (!(o.solver_tol > 0 && o.solver_tol < 1)) throw DataError(fmt::format("solver_tol {} is outside (0, 1)", o.solver_tol));
    if (o.kind == ModelKind::kSppmi) o.sppmi.validate();
    if (o.kind == ModelKind::kCosine) o.cosine.validate();
  } catch (const json::exception& e) {
    // json's words without its tag: "key 'input' not found", not "[json.exception.out_of_range.403] …"
    const std::string what = e.what();
    const size_t tag = what.rfind("[json.exception.", 0) == 0 ? what.find("] ") : std::string::npos;
    throw DataError(fmt::format("'{}': {}", meta_path.string(), tag == std::string::npos ? what : what.substr(tag + 2)));
  } catch (const std::bad_alloc&) {
    throw;  // the machine's memory, not the file's content
  } catch (const std::exception& e) {  // an unknown name or an invalid value in the file
    throw DataError(fmt::format("'{}': {}", meta_path.string(), e.what()));
  }
  // Each file must be a regular file (or a link to one): opening a FIFO would wait for a writer
  // for ever, a device could be read without end.
  auto file = [&](const char* name) {
    const fs::path path = root / name;
    std::error_code error;
    const fs::file_type kind = fs::status(path, error).type();
    if (kind == fs::file_type::not_found) {  // a model directory always holds it: damaged, or not one
      throw DataError(fmt::format("'{}' is missing from the model directory", path.string()));
    }
    if (kind != fs::file_type::regular) throw DataError(fmt::format("'{}' is not a regular file", path.string()));
    return path.string();
  };
  b.data.items = read_ids(file("item_ids.tsv"));
  b.data.users = read_ids(file("user_ids.tsv"));
  const Index n = b.data.users.size();
  const Index p = b.data.items.size();
  b.data.X = interactions_from_arrays(read_npy_int64(file("interactions_indptr.npy")),
                                      read_npy_int64(file("interactions_indices.npy")),
                                      read_npy_vector(file("interactions_data.npy")), n, p, dir);
  const SparseMatrix& X = b.data.X;
  Model& m = b.model;
  // The weighting's statistics are a deterministic function of the training interactions.
  m.weighting = fit_weighting(m.options.weighting, X);
  if (m.has_embeddings()) {
    m.item_embeddings = read_npy_matrix(file("item_embeddings.npy"));
    m.user_embeddings = read_npy_matrix(file("user_embeddings.npy"));
    m.encoder = read_npy_matrix(file("encoder.npy"));
    m.singular_values = read_npy_vector(file("singular_values.npy"));
    const Index k = m.options.rank;
    const std::string items_why = fmt::format("{} ids in item_ids.tsv, rank {}", p, k);
    check_shape(m.item_embeddings, p, k, file("item_embeddings.npy"), items_why);
    check_shape(m.user_embeddings, n, k, file("user_embeddings.npy"), fmt::format("{} ids in user_ids.tsv, rank {}", n, k));
    check_shape(m.encoder, p, k, file("encoder.npy"), items_why);
    check_shape(m.singular_values, k, 1, file("singular_values.npy"), fmt::format("rank {}", k));
    check_finite(m.item_embeddings, file("item_embeddings.npy"));
    check_finite(m.user_embeddings, file("user_embeddings.npy"));
    check_finite(m.encoder, file("encoder.npy"));
    check_finite(m.singular_values, file("singular_values.npy"));
    check_squares(m.item_embeddings, file("item_embeddings.npy"));
    check_squares(m.user_embeddings, file("user_embeddings.npy"));
    check_squares(m.encoder, file("encoder.npy"));
    check_squares(m.singular_values, file("singular_values.npy"));
  } else {
    if (m.options.dtype == Dtype::kFloat32) {
      m.weights32 = read_npy_matrix_float32(file("weights.npy"));
    } else {
      m.weights = read_npy_matrix(file("weights.npy"));
    }
    m.with_weights([&](const auto& W) {
      check_shape(W, p, p, file("weights.npy"), fmt::format("{} ids in item_ids.tsv", p));
      check_finite(W, file("weights.npy"));
      check_squares(W, file("weights.npy"));
      // Every EASE fit writes an exact 0 there (docs/math.md M3); scores X W ignore it only on
      // seen items, while projected similarities change without a word (found by editing a model).
      for (Index j = 0; j < p; ++j) {
        if (W(j, j) != 0) {
          throw DataError(fmt::format("'{}': entry ({}, {}) is {}, but EASE's weights have a zero diagonal "
                                      "(docs/math.md M3): not weights a fit wrote",
                                      file("weights.npy"), j, j, static_cast<double>(W(j, j))));
        }
      }
    });
  }
  return b;
}

}  // namespace linsim
