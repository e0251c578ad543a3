// linsim._linsim: the extension module under the Python package (docs/python.md). It exposes the
// library's entry points (docs/api.md) on numpy arrays; the pure-Python layer in python/linsim/
// converts the ecosystem's inputs (scipy.sparse, pandas, ids of any type) and gives the models
// their public shape.
//
// Rules every function here keeps:
// - the GIL is released for every computation (arrays are read into C++ views or copies before);
// - threads and the seed come per call (a Context), nothing process-wide is changed;
// - on the main thread, Ctrl-C is checked at the library's interruption points (Context::interrupt)
//   and raises KeyboardInterrupt in the caller; nothing partial is returned;
// - library errors become ValueError (InvalidArgument, InputError), MemoryError (OutOfMemory,
//   std::bad_alloc) or RuntimeError (Error), with the CLI's messages.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <functional>
#include <map>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "linsim/audit/audit.h"
#include "linsim/audit/inputs.h"
#include "linsim/audit/report.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/setup.h"
#include "linsim/data/readers.h"
#include "linsim/evaluate/protocol.h"
#include "linsim/evaluate/report.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/json_text.h"
#include "linsim/io/model_dir.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"
#include "linsim/simulate/reproduction.h"
#include "linsim/simulate/simulation.h"

namespace py = pybind11;
using namespace linsim;

namespace {

using IntArray = py::array_t<int, py::array::c_style>;
using DoubleArray = py::array_t<double, py::array::c_style>;
using Index64Array = py::array_t<std::int64_t, py::array::c_style>;

// --- the execution context -------------------------------------------------------------------

// The thread the interpreter delivers signals to (set at import).
unsigned long main_thread = 0;

// The Ctrl-C check of a call made from the main thread: at an interruption point, at most every
// 20 ms, it takes the GIL and lets Python run its signal handlers; KeyboardInterrupt (or whatever
// a handler raised) then leaves the library as py::error_already_set and reaches the caller.
InterruptFn ctrl_c_check() {
  if (PyThread_get_thread_ident() != main_thread) return {};  // only the main thread gets signals
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last] {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::milliseconds(20)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
}

Context make_context(int threads, std::uint64_t seed) {
  Context ctx;
  ctx.threads = threads;
  ctx.seed = seed;
  ctx.thread_count();  // validates before anything runs
  ctx.interrupt = ctrl_c_check();
  return ctx;
}

// A message for Python: it may quote bytes that are not UTF-8 (a path); they are shown escaped,
// as in errors (a plain conversion raised UnicodeDecodeError). Needs the GIL.
py::str message_to_python(const std::string& message) {
  PyObject* text = PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace");
  if (text == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(text);
}

// A Python callable (or None) as the library's progress callback, called with the GIL held.
ProgressFn make_progress(const py::object& callback) {
  if (callback.is_none()) return {};
  return [callback](const std::string& message) {
    py::gil_scoped_acquire gil;
    callback(message_to_python(message));
  };
}

// --- ids -------------------------------------------------------------------------------------

// Ids are bytes in the library and in files, and not all of them are UTF-8 (a Latin-1 file read
// by `linsim fit` keeps its bytes). They reach Python as str decoded with the surrogateescape
// handler, as Python decodes file names (PEP 383): a byte that is not UTF-8 becomes U+DC80 + byte.
// The Python layer encodes them back the same way (_inputs.id_bytes), so an id survives
// load -> save, and a lookup by the str it was given, byte for byte.
py::list ids_to_python(const std::vector<std::string>& ids) {
  py::list out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    PyObject* text = PyUnicode_DecodeUTF8(ids[i].data(), static_cast<Py_ssize_t>(ids[i].size()), "surrogateescape");
    if (text == nullptr) throw py::error_already_set();  // only MemoryError: surrogateescape takes every byte
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), text);  // steals the reference
  }
  return out;
}

// --- arrays ----------------------------------------------------------------------------------

// A CSR matrix given as three arrays that already have linsim's layout (int32 indptr and indices,
// float64 data, C-contiguous; the Python layer converts, and copies, only what does not fit).
// The view reads them in place: no copy.
struct Csr {
  IntArray indptr, indices;
  DoubleArray data;
  Index rows = 0, cols = 0;

  Eigen::Map<const SparseMatrix> view() const {
    return Eigen::Map<const SparseMatrix>(rows, cols, static_cast<Index>(data.size()), indptr.data(),
                                          indices.data(), data.data());
  }
};

// Checks what the library assumes of a CSR matrix and what the readers check of a file: the
// structure (indptr from 0 to nnz and non-decreasing, column indices in range and strictly
// increasing in each row) and the values (finite; non-negative unless allowed). Names the first
// offending entry.
Csr checked_csr(IntArray indptr, IntArray indices, DoubleArray data, Index rows, Index cols, bool allow_negative,
                const std::string& what) {
  if (rows < 0 || cols < 0 || rows > std::numeric_limits<int>::max() || cols > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("{}: shape ({}, {}) outside [0, 2^31 - 1]", what, rows, cols));
  }
  if (indptr.ndim() != 1 || indices.ndim() != 1 || data.ndim() != 1) {
    throw InvalidArgument(fmt::format("{}: indptr, indices and data must be one-dimensional", what));
  }
  if (indptr.size() != rows + 1) {
    throw InvalidArgument(fmt::format("{}: indptr has {} entries for {} rows", what, indptr.size(), rows));
  }
  const auto nnz = static_cast<Index>(data.size());
  if (static_cast<Index>(indices.size()) != nnz) {
    throw InvalidArgument(fmt::format("{}: {} column indices for {} values", what, indices.size(), nnz));
  }
  const int* ptr = indptr.data();
  const int* col = indices.data();
  const double* value = data.data();
  if (ptr[0] != 0 || ptr[rows] != nnz) {
    throw InvalidArgument(fmt::format("{}: indptr must run from 0 to the {} stored values (runs from {} to {})", what,
                                      nnz, ptr[0], ptr[rows]));
  }
  for (Index r = 0; r < rows; ++r) {
    if (ptr[r + 1] < ptr[r]) throw InvalidArgument(fmt::format("{}: indptr decreases at row {}", what, r));
    for (int q = ptr[r]; q < ptr[r + 1]; ++q) {
      if (col[q] < 0 || col[q] >= cols) {
        throw InvalidArgument(fmt::format("{}: row {} has column index {} outside [0, {})", what, r, col[q], cols));
      }
      if (q > ptr[r] && col[q] <= col[q - 1]) {
        throw InvalidArgument(fmt::format("{}: row {}: column indices not strictly increasing ({} after {})", what,
                                          r, col[q], col[q - 1]));
      }
      if (!std::isfinite(value[q]) || (!allow_negative && value[q] < 0)) {
        throw InvalidArgument(fmt::format("{}: value {} at row {}, column {} ({})", what, value[q], r, col[q],
                                          std::isfinite(value[q]) ? "negative; pass allow_negative=True if intended"
                                                                  : "not finite"));
      }
    }
  }
  return Csr{std::move(indptr), std::move(indices), std::move(data), rows, cols};
}

// A dense Eigen matrix as a read-only numpy view; `owner` keeps the memory alive.
template <typename M>
py::array view_of(const M& m, const py::object& owner) {
  using Scalar = typename M::Scalar;
  py::array out(py::dtype::of<Scalar>(), {m.rows(), m.cols()},
                {static_cast<py::ssize_t>(sizeof(Scalar)), static_cast<py::ssize_t>(sizeof(Scalar) * m.rows())},
                m.data(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

py::array vector_view(const Vector& v, const py::object& owner) {
  py::array out(py::dtype::of<double>(), {v.size()}, {static_cast<py::ssize_t>(sizeof(double))}, v.data(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

// A dense numpy array (any float dtype and order) copied into a column-major double matrix.
Matrix to_matrix(const py::array& a, const std::string& what) {
  if (a.ndim() != 2) throw InvalidArgument(fmt::format("{}: a 2-D array is needed, got {} dimensions", what, a.ndim()));
  const auto f = py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(a);
  if (!f) throw InvalidArgument(fmt::format("{}: cannot be read as float64", what));
  return Eigen::Map<const Matrix>(f.data(), f.shape(0), f.shape(1));
}

// Owned CSR matrix → (indptr, indices, data) arrays (copies).
py::tuple csr_arrays(const SparseMatrix& X) {
  IntArray indptr(X.rows() + 1);
  IntArray indices(X.nonZeros());
  DoubleArray data(X.nonZeros());
  std::copy_n(X.outerIndexPtr(), X.rows() + 1, indptr.mutable_data());
  std::copy_n(X.innerIndexPtr(), X.nonZeros(), indices.mutable_data());
  std::copy_n(X.valuePtr(), X.nonZeros(), data.mutable_data());
  return py::make_tuple(indptr, indices, data, py::make_tuple(X.rows(), X.cols()));
}

// The same arrays for a matrix nothing else holds, without a copy: X moves into a capsule that
// the three arrays keep alive (writable: they are the caller's alone, as copies would be). A copy
// doubled the reader's peak memory, and numpy advises its own large allocations to take huge
// pages, which on some machines fault in many times slower than 4 KiB ones: copying (d)'s 600 MB
// took ~5 s there (bench/README.md, "Python package").
py::tuple csr_arrays(SparseMatrix&& X) {
  X.makeCompressed();
  if (X.nonZeros() == 0) return csr_arrays(std::as_const(X));  // no storage to share
  auto owned = std::make_unique<SparseMatrix>(std::move(X));
  const SparseMatrix& M = *owned;
  py::capsule base(owned.get(), [](void* m) { delete static_cast<SparseMatrix*>(m); });
  owned.release();  // the capsule owns it now
  const auto ints = static_cast<py::ssize_t>(sizeof(int));
  IntArray indptr({static_cast<py::ssize_t>(M.rows() + 1)}, {ints}, M.outerIndexPtr(), base);
  IntArray indices({static_cast<py::ssize_t>(M.nonZeros())}, {ints}, M.innerIndexPtr(), base);
  DoubleArray data({static_cast<py::ssize_t>(M.nonZeros())}, {static_cast<py::ssize_t>(sizeof(double))},
                   M.valuePtr(), base);
  return py::make_tuple(indptr, indices, data, py::make_tuple(M.rows(), M.cols()));
}

// Neighbour lists → (index, score) arrays of shape (queries, width), width the longest list;
// shorter lists are padded with index −1 and score NaN.
py::tuple neighbor_arrays(const NeighborLists& lists) {
  size_t width = 0;
  for (const auto& l : lists) width = std::max(width, l.size());
  Index64Array index({lists.size(), width});
  DoubleArray score({lists.size(), width});
  auto ix = index.mutable_unchecked<2>();
  auto sc = score.mutable_unchecked<2>();
  for (size_t q = 0; q < lists.size(); ++q) {
    for (size_t j = 0; j < width; ++j) {
      const bool have = j < lists[q].size();
      ix(q, j) = have ? lists[q][j].index : -1;
      sc(q, j) = have ? lists[q][j].score : std::numeric_limits<double>::quiet_NaN();
    }
  }
  return py::make_tuple(index, score);
}

std::vector<Index> checked_rows(const Index64Array& rows, Index size, const char* what) {
  std::vector<Index> out(static_cast<size_t>(rows.size()));
  for (py::ssize_t i = 0; i < rows.size(); ++i) {
    const Index r = rows.data()[i];
    if (r < 0 || r >= size) throw InvalidArgument(fmt::format("{} index {} outside [0, {})", what, r, size));
    out[static_cast<size_t>(i)] = r;
  }
  return out;
}

// Keyword options from Python: each known key sets its field (None keeps the default), an unknown
// key is an error naming `what`.
struct Setter {
  std::function<void(const py::handle&)> apply;
  const char* kind;  // what the option takes ("an integer within range"), for the message
};
using Setters = std::map<std::string, Setter>;

void apply_options(const py::dict& options, const Setters& setters, const char* what) {
  for (const auto& [key_handle, value] : options) {
    const std::string key = py::str(key_handle);
    if (value.is_none()) continue;
    const auto setter = setters.find(key);
    if (setter == setters.end()) throw InvalidArgument(fmt::format("unknown {} option '{}'", what, key));
    try {
      setter->second.apply(value);
    } catch (const py::cast_error&) {  // pybind's own message names neither the option nor the value
      throw py::type_error(fmt::format("{} option '{}' must be {}, got {}", what, key, setter->second.kind,
                                       py::repr(value).cast<std::string>()));
    }
  }
}

// What a setter's option takes, for the message when the value does not convert.
template <typename T>
struct Unwrapped {
  using type = T;
};
template <typename T>
struct Unwrapped<std::optional<T>> {
  using type = T;
};

template <typename Field>
const char* kind_of_value() {
  using T = typename Unwrapped<Field>::type;
  if constexpr (std::is_same_v<T, bool>) return "True or False";
  if constexpr (std::is_integral_v<T>) return "an integer within range";
  if constexpr (std::is_floating_point_v<T>) return "a number";
  return "a string";
}

template <typename T>
Setter set(T& field) {
  return {[&field](const py::handle& value) { field = value.cast<T>(); }, kind_of_value<T>()};
}

template <typename T, typename Parse>
Setter set_parsed(T& field, Parse parse) {
  return {[&field, parse](const py::handle& value) { field = parse(value.cast<std::string>()); }, "a string"};
}

// --- the model ---------------------------------------------------------------------------------

// A fitted model with its own copy of the training interactions (raw similarities, EASE's
// projected measure, training users' rows and save need them) and their id maps. The similarity
// spaces are built on first use and kept: building one costs O((n + p) k²) (projected: PᵀP, its
// square root, C = B L and unit rows), far more than one query; a model is immutable once fitted,
// so a space never goes stale.
struct PyModel {
  ModelBundle bundle;

  const SimilaritySpace& space(bool items, Measure measure, const Context& ctx) {
    const std::lock_guard<std::mutex> lock(spaces_mutex);  // calls come without the GIL
    auto& slot = spaces[{items, measure}];
    if (!slot) slot = make_similarity_space(bundle.model, bundle.data.X, items ? Side::kItems : Side::kUsers, measure, ctx);
    return *slot;
  }

 private:
  std::mutex spaces_mutex;
  std::map<std::pair<bool, Measure>, std::unique_ptr<SimilaritySpace>> spaces;
};

FitOptions fit_options(const std::string& kind, const py::dict& o) {
  FitOptions options;
  options.kind = parse_model_kind(kind);
  options.lambda = default_lambda(options.kind);
  apply_options(o,
                {{"rank", set(options.rank)},
                 {"lam", set(options.lambda)},
                 {"gauge", set_parsed(options.gauge, parse_gauge)},
                 {"dtype", set_parsed(options.dtype, parse_dtype)},
                 {"solver", set_parsed(options.solver, parse_solver)},
                 {"solver_tol", set(options.solver_tol)},
                 {"weighting", set_parsed(options.weighting, parse_weighting)},
                 {"negatives", set(options.sppmi.negatives)},
                 {"smoothing", set(options.sppmi.smoothing)},
                 {"eigen_power", set(options.sppmi.eigen_power)},
                 {"epochs", set(options.cosine.epochs)},
                 {"tol", set(options.cosine.tol)}},
                "model");
  if (!(options.solver_tol >= kMinSolverTol && options.solver_tol < 1)) {
    throw InvalidArgument(fmt::format("solver_tol must be in [{:g}, 1), got {}", kMinSolverTol, options.solver_tol));
  }
  check_solver_applies(options, o.contains("solver"));
  if (options.kind == ModelKind::kSppmi) options.sppmi.validate();
  if (options.kind == ModelKind::kCosine) options.cosine.validate();
  return options;
}

IdMap id_map(const std::vector<std::string>& ids, const char* what) {
  IdMap map;
  for (const std::string& id : ids) {
    // A new id takes the next index; a repeat returns its first one (which for a repeat of the id
    // just added is size() - 1 as well, so the size is what tells).
    const Index before = map.size();
    map.add(id);
    if (map.size() == before) throw InvalidArgument(fmt::format("{} id '{}' appears twice", what, id));
  }
  return map;
}

// The ids 0, 1, ..., count - 1 (as decimal strings).
IdMap numbered_ids(Index count) {
  IdMap map;
  for (Index i = 0; i < count; ++i) map.add(fmt::format_int(i).str());
  return map;
}

// Ids given as None are the row or column numbers; they are made after the fit, so that a matrix
// too wide for memory is refused by the fit's estimate before an id is made for every column.
std::shared_ptr<PyModel> fit(const std::string& kind, const py::dict& options, const Csr& X,
                             const std::optional<std::vector<std::string>>& user_ids,
                             const std::optional<std::vector<std::string>>& item_ids, int threads, std::uint64_t seed,
                             const py::object& progress) {
  const FitOptions o = fit_options(kind, options);
  const Context ctx = make_context(threads, seed);
  const ProgressFn report = make_progress(progress);
  const Index n_user_ids = user_ids ? static_cast<Index>(user_ids->size()) : X.rows;
  const Index n_item_ids = item_ids ? static_cast<Index>(item_ids->size()) : X.cols;
  if (n_user_ids != X.rows || n_item_ids != X.cols) {
    throw InvalidArgument(fmt::format("{} user ids and {} item ids for a {} x {} matrix", n_user_ids, n_item_ids,
                                      X.rows, X.cols));
  }
  auto model = std::make_shared<PyModel>();
  if (user_ids) model->bundle.data.users = id_map(*user_ids, "user");
  if (item_ids) model->bundle.data.items = id_map(*item_ids, "item");
  model->bundle.input.path = "<python>";
  model->bundle.input.format = "scipy.sparse";
  {
    py::gil_scoped_release release;
    const auto view = X.view();
    model->bundle.model = fit_model(view, o, ctx, report);
    model->bundle.data.X = view;  // the model's own copy
    if (!user_ids) model->bundle.data.users = numbered_ids(X.rows);
    if (!item_ids) model->bundle.data.items = numbered_ids(X.cols);
  }
  return model;
}

py::tuple neighbors(const std::shared_ptr<PyModel>& m, bool items, const std::string& measure_name,
                    const Index64Array& queries, Index top, bool include_self, bool float32, int threads) {
  const Measure measure = parse_measure(measure_name);
  if (top < 1) throw InvalidArgument(fmt::format("N must be >= 1, got {}", top));
  const Context ctx = make_context(threads, 42);
  const ModelBundle& b = m->bundle;
  const std::vector<Index> rows = checked_rows(queries, items ? b.data.n_items() : b.data.n_users(),
                                               items ? "item" : "user");
  NeighborLists lists;
  {
    py::gil_scoped_release release;
    const SimilaritySpace& space = m->space(items, measure, ctx);
    if (float32 && space.dense_factors() == nullptr) {
      throw InvalidArgument(fmt::format("float32 needs embeddings (dot, cosine or projected on an embedding model); "
                                        "measure {} of this model has none",
                                        measure_name));
    }
    lists = top_neighbors(space, rows, top, include_self, ctx, float32 ? Precision::kFloat32 : Precision::kFloat64);
  }
  return neighbor_arrays(lists);
}

// Recommendations for rows of the training data (fresh == None) or for new users given as rows
// of a CSR matrix over the model's items, folded in through the model without refitting.
py::tuple recommend_rows(const std::shared_ptr<PyModel>& m, const Index64Array& rows, const std::optional<Csr>& fresh,
                         Index top, bool exclude_seen, int threads) {
  if (top < 1) throw InvalidArgument(fmt::format("N must be >= 1, got {}", top));
  const Context ctx = make_context(threads, 42);
  const ModelBundle& b = m->bundle;
  if (fresh && fresh->cols != b.data.n_items()) {
    throw InvalidArgument(fmt::format("user_items has {} columns; the model has {} items", fresh->cols,
                                      b.data.n_items()));
  }
  const std::vector<Index> r = checked_rows(rows, fresh ? fresh->rows : b.data.n_users(), "user");
  NeighborLists lists;
  {
    py::gil_scoped_release release;
    lists = fresh ? recommend(b.model, fresh->view(), r, top, exclude_seen, ctx)
                  : recommend(b.model, b.data.X, r, top, exclude_seen, ctx);
  }
  return neighbor_arrays(lists);
}

py::array export_vectors(const std::shared_ptr<PyModel>& m, bool items, const std::string& measure_name) {
  const Measure measure = parse_measure(measure_name);
  const Model& model = m->bundle.model;
  if (!model.has_embeddings()) {
    throw InvalidArgument("an EASE model has no embeddings to export (its similarities are explicit p x p matrices)");
  }
  Matrix F;
  {
    py::gil_scoped_release release;
    F = items ? measure_factors(measure, model.item_embeddings, model.user_embeddings)
              : measure_factors(measure, model.user_embeddings, model.item_embeddings);
  }
  // A C-ordered copy: the caller owns it (faiss and most libraries want C order).
  py::array_t<double, py::array::c_style> out({F.rows(), F.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), F.rows(), F.cols()) = F;
  return out;
}

py::array score_rows(const std::shared_ptr<PyModel>& m, const Csr& X, bool embed, int threads) {
  const Context ctx = make_context(threads, 42);
  const ModelBundle& b = m->bundle;
  if (X.cols != b.data.n_items()) {
    throw InvalidArgument(fmt::format("user_items has {} columns; the model has {} items", X.cols, b.data.n_items()));
  }
  if (embed && !b.model.has_embeddings()) throw InvalidArgument("an EASE model has no user embeddings");
  // The result is a dense rows × width matrix, made once and copied once into the array: refused
  // up front where it cannot fit (was: a bare MemoryError from deep inside, or the system's kill).
  const Index width = embed ? b.model.item_embeddings.cols() : b.data.n_items();
  const double need = 16.0 * static_cast<double>(X.rows) * static_cast<double>(width);
  if (const auto shortfall = memory_shortfall(need)) {
    throw OutOfMemory(fmt::format("{} for {} rows x {} {} need about {}, {}; pass fewer rows at a time",
                                  embed ? "user vectors" : "scores", X.rows, width, embed ? "dimensions" : "items",
                                  format_bytes(need), shortfall->more_than()));
  }
  Matrix out;
  {
    py::gil_scoped_release release;
    const ThreadScope scope(ctx);
    out = embed ? embed_users(b.model, X.view()) : score_users(b.model, X.view());
  }
  py::array_t<double, py::array::c_style> a({out.rows(), out.cols()});
  Eigen::Map<RowMatrix>(a.mutable_data(), out.rows(), out.cols()) = out;
  return a;
}

void save(const std::shared_ptr<PyModel>& m, const std::string& path, bool force) {
  py::gil_scoped_release release;
  AtomicDirectory out(path, force, "model.json");
  write_model_dir(out, m->bundle);
  out.commit();
}

std::shared_ptr<PyModel> load(const std::string& path) {
  auto m = std::make_shared<PyModel>();
  py::gil_scoped_release release;
  m->bundle = read_model_dir(path);
  return m;
}

py::dict model_info(const std::shared_ptr<PyModel>& m) {
  const Model& model = m->bundle.model;
  const FitOptions& o = model.options;
  py::dict d;
  d["kind"] = model_name(o.kind);
  d["rank"] = o.kind == ModelKind::kEase ? py::object(py::none()) : py::object(py::int_(o.rank));
  d["lam"] = o.kind == ModelKind::kSppmi ? py::object(py::none()) : py::object(py::float_(o.lambda));
  d["gauge"] = o.kind == ModelKind::kEq1 ? py::object(py::str(o.gauge.name)) : py::object(py::none());
  d["dtype"] = dtype_name(o.dtype);
  d["weighting"] = o.weighting.spec();
  d["solver"] = model.solver;
  d["solver_reason"] = model.solver_reason;
  d["scale"] = model.scale;
  d["warnings"] = model.warnings;
  if (o.kind == ModelKind::kSppmi) {
    d["negatives"] = o.sppmi.negatives;
    d["smoothing"] = o.sppmi.smoothing;
    d["eigen_power"] = o.sppmi.eigen_power;
  }
  if (o.kind == ModelKind::kCosine) {
    d["epochs"] = o.cosine.epochs;
    d["tol"] = o.cosine.tol;
    d["iterations"] = model.convergence.iterations;
    d["converged"] = model.convergence.converged;
  }
  return d;
}

// --- data, simulation, reproduction, audit ------------------------------------------------------

py::tuple read_interactions_file(const std::string& path, const py::dict& o, int threads) {
  const Context ctx = make_context(threads, 42);
  ReadOptions options;
  apply_options(o,
                {{"format", set_parsed(options.format, parse_input_format)},
                 {"separator", set_parsed(options.separator, parse_separator)},
                 {"header", set(options.header)},
                 {"binarize", set(options.binarize)},
                 {"min_value", set(options.min_value)},
                 {"strict", set(options.strict)},
                 {"allow_negative", set(options.allow_negative)},
                 {"min_item_users", set(options.min_item_users)}},
                "read");
  ReadResult r;
  {
    py::gil_scoped_release release;
    const ThreadScope scope(ctx);  // a large plain file is parsed on `threads` threads
    r = read_interactions(path, options);
  }
  py::list warnings;
  for (const std::string& w : reading_warnings(r.summary)) warnings.append(message_to_python(w));
  return py::make_tuple(csr_arrays(std::move(r.data.X)), ids_to_python(r.data.users.ids()),
                        ids_to_python(r.data.items.ids()), warnings);
}

Setters simulation_setters(SimulationOptions& s) {
  return {{"users", set(s.users)},
          {"items", set(s.items)},
          {"clusters", set(s.clusters)},
          {"beta_min", set(s.beta_min)},
          {"beta_max", set(s.beta_max)},
          {"user_beta", set(s.user_beta)},
          {"cluster_concentration", set(s.cluster_concentration)},
          {"preference_concentration", set(s.preference_concentration)},
          {"activity_scale", set(s.activity_scale)},
          {"max_items_per_user", set(s.max_items_per_user)}};
}

py::tuple simulate_data(const py::dict& o, int threads, std::uint64_t seed) {
  SimulationOptions s;
  s.seed = seed;
  apply_options(o, simulation_setters(s), "simulation");
  s.validate();
  const Context ctx = make_context(threads, seed);
  Simulation sim;
  {
    py::gil_scoped_release release;
    sim = simulate(s, ctx);
  }
  py::dict truth;
  truth["cluster"] = py::array_t<int>(static_cast<py::ssize_t>(sim.cluster.size()), sim.cluster.data());
  truth["popularity"] = py::array_t<double>(sim.popularity.size(), sim.popularity.data());
  truth["cluster_probability"] = py::array_t<double>(sim.cluster_probability.size(), sim.cluster_probability.data());
  truth["cluster_beta"] = py::array_t<double>(sim.cluster_beta.size(), sim.cluster_beta.data());
  std::vector<std::int64_t> activity(sim.activity.begin(), sim.activity.end());
  truth["activity"] = py::array_t<std::int64_t>(static_cast<py::ssize_t>(activity.size()), activity.data());
  return py::make_tuple(csr_arrays(std::move(sim.data.X)), truth);
}

std::string reproduce_json(const py::dict& o, const py::dict& simulation, const std::optional<std::string>& out,
                           bool force, int threads, const py::object& progress) {
  ReproductionOptions r;
  apply_options(o,
                {{"seeds", set(r.seeds)},
                 {"rank", set(r.rank)},
                 {"lambda_eq1", set(r.lambda_eq1)},
                 {"lambda_eq2", set(r.lambda_eq2)},
                 {"top", set(r.top)},
                 {"seed", set(r.simulation.seed)}},
                "reproduction");
  apply_options(simulation, simulation_setters(r.simulation), "simulation");
  r.validate();
  const Context ctx = make_context(threads, r.simulation.seed);
  const ProgressFn report = make_progress(progress);
  py::gil_scoped_release release;
  std::optional<AtomicDirectory> dir;
  if (out) dir.emplace(*out, force, "results.json");  // fail fast on an existing or unwritable output
  const ReproductionResult result = reproduce(r, ctx, report);
  if (dir) {
    write_reproduction(*dir, result);
    dir->commit();
  }
  return json_text(reproduction_json(result), -1);
}

AuditOptions audit_options(const py::dict& o) {
  AuditOptions a;
  apply_options(o,
                {{"top", set(a.top)},
                 {"queries", set(a.queries)},
                 {"random_gauges", set(a.random_gauges)},
                 {"random_spread", set(a.random_spread)},
                 {"random_pairs", set(a.random_pairs)},
                 {"hubness_exact_limit", set(a.hubness_exact_limit)},
                 {"hubness_queries", set(a.hubness_queries)},
                 {"seed", set(a.seed)}},
                "audit");
  a.validate();
  return a;
}

// The audit of vectors held in memory. `clusters` (one per item, −1 for none) and `pairs`
// (item indices with a human score) are the two kinds of truth; `truth_path` reads a truth file
// as the CLI does. `html` (a file) and `out` (a directory with audit.json and audit.html) are
// written atomically. Returns audit.json's content.
std::string audit_arrays(const py::array& items, const std::vector<std::string>& item_ids,
                         const std::optional<py::array>& users, const std::vector<std::string>& user_ids,
                         const std::optional<Csr>& interactions, const std::vector<std::string>& interaction_users,
                         const std::optional<std::vector<int>>& clusters,
                         const std::optional<std::vector<std::tuple<Index, Index, double>>>& pairs,
                         const std::optional<std::string>& truth_path, const std::string& truth_kind,
                         const py::dict& options, const py::dict& description, const std::optional<std::string>& html,
                         const std::optional<std::string>& out, bool force, int threads, const py::object& progress) {
  const AuditOptions o = audit_options(options);
  // The two outputs must not be one file, or one inside the other, nor replace the truth file.
  check_distinct_paths({{"html", html.value_or("")}, {"out", out.value_or("")}}, {{"truth", truth_path.value_or("")}});
  AuditInput in;
  in.items = to_matrix(items, "item vectors");
  if (static_cast<Index>(item_ids.size()) != in.items.rows()) {
    throw InvalidArgument(fmt::format("{} item ids for {} item vectors", item_ids.size(), in.items.rows()));
  }
  in.item_ids = id_map(item_ids, "item");
  if (users) {
    in.users = to_matrix(*users, "user vectors");
    if (static_cast<Index>(user_ids.size()) != in.users->rows()) {
      throw InvalidArgument(fmt::format("{} user ids for {} user vectors", user_ids.size(), in.users->rows()));
    }
    in.user_ids = id_map(user_ids, "user");
  }
  if (interactions) {
    in.interactions = SparseMatrix(interactions->view());
    in.interaction_users = id_map(interaction_users, "user");
  }
  if (clusters) {
    if (static_cast<Index>(clusters->size()) != in.items.rows()) {
      throw InvalidArgument(fmt::format("{} cluster labels for {} items", clusters->size(), in.items.rows()));
    }
    in.clusters = *clusters;
  }
  if (pairs) {
    for (const auto& [a, b, score] : *pairs) {
      if (a == -1 || b == -1) continue;  // a word the vectors lack: counted in pairs_in_file only
      if (a < 0 || b < 0 || a >= in.items.rows() || b >= in.items.rows() || !std::isfinite(score)) {
        throw InvalidArgument(fmt::format("truth pair ({}, {}, {}): unknown item or score not finite", a, b, score));
      }
      in.pairs.push_back({a, b, score});
    }
    in.pairs_in_file = static_cast<Index>(pairs->size());
  }
  if (truth_path) read_truth(*truth_path, truth_kind, in);
  const nlohmann::json inputs = nlohmann::json::parse(py::module_::import("json").attr("dumps")(description).cast<std::string>());
  const Context ctx = make_context(threads, o.seed);
  const ProgressFn report = make_progress(progress);
  py::gil_scoped_release release;
  // Both outputs are opened before the audit runs: an unwritable path fails fast.
  std::optional<AtomicDirectory> dir;
  if (out) dir.emplace(*out, force, "audit.json");
  std::optional<AtomicFile> html_file;
  if (html) html_file.emplace(*html, force);
  const AuditReport r = run_audit(in, o, ctx, report);
  if (html_file) {
    html_file->stream() << audit_html(r, inputs);
    html_file->commit();
  }
  if (dir) {
    write_audit(*dir, r, inputs);
    dir->commit();
  }
  return json_text(audit_json(r, inputs), -1);
}

// The strong-generalisation evaluation (MATH.md M7) of `models` on binary interactions X; writes
// results.json and results.md into `out` when given. Returns results.json's content.
std::string evaluate_json(const Csr& X, const std::vector<std::string>& models, const std::string& grid_text,
                          double heldout, Index min_interactions, double fold_in, std::uint64_t seed,
                          const std::optional<std::string>& out, bool force, int threads, const py::object& progress) {
  if (models.empty()) throw InvalidArgument("no models to evaluate");
  const ParamGrid grid = parse_grid(grid_text);
  SplitOptions split_options;
  split_options.heldout = heldout;
  split_options.min_interactions = min_interactions;
  split_options.fold_in = fold_in;
  split_options.seed = seed;
  const Context ctx = make_context(threads, seed);
  const ProgressFn report = make_progress(progress);
  py::gil_scoped_release release;
  std::optional<AtomicDirectory> dir;
  if (out) dir.emplace(*out, force, "results.json");
  const auto view = X.view();
  const StrongSplit split = strong_generalization_split(view, split_options);
  const std::vector<ModelEvaluation> results = evaluate_models(split, models, grid, ctx, report);
  const EvaluationInput input{std::nullopt, X.rows, X.cols, static_cast<Index>(X.data.size()), std::nullopt};
  const nlohmann::json doc = evaluation_json(input, split_options, split, results, grid_text);
  if (dir) {
    AtomicFile json_file(dir->file("results.json"), false);
    json_file.stream() << json_text(doc) << '\n';
    AtomicFile markdown(dir->file("results.md"), false);
    markdown.stream() << evaluation_markdown(input, split, results);
    commit_together({&json_file, &markdown});
    dir->commit();
  }
  return json_text(doc, -1);
}

}  // namespace

PYBIND11_MODULE(_linsim, m) {
  m.doc() = "linsim's extension module; use the package linsim (docs/python.md)";
  main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  // A library that ends the process by exit() (OpenMP's runtime, when it cannot start a thread)
  // takes the unfinished outputs' temporaries with it, as in the CLI.
  remove_unfinished_outputs_at_exit();

  // Library errors → Python exceptions with the same messages as the CLI's.
  static py::exception<Error> runtime_error(m, "Error", PyExc_RuntimeError);
  // A message quotes what it was given: a line or a path need not be UTF-8, and PyErr_SetString
  // would then leave the exception without any message. Bytes that are not UTF-8 are shown escaped.
  static const auto raise = [](PyObject* type, const char* what) {
    PyObject* message = PyUnicode_DecodeUTF8(what, static_cast<Py_ssize_t>(std::strlen(what)), "backslashreplace");
    if (message == nullptr) {
      PyErr_Clear();
      PyErr_SetString(type, "(a message that could not be decoded)");
      return;
    }
    PyErr_SetObject(type, message);
    Py_DECREF(message);
  };
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OutOfMemory& e) {
      raise(PyExc_MemoryError, e.what());
    } catch (const DataError& e) {  // InputError (file and line) among them
      raise(PyExc_ValueError, e.what());
    } catch (const InvalidArgument& e) {
      raise(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      raise(runtime_error.ptr(), e.what());
    }
  });

  m.def("configure_gemm", &configure_gemm,
        "Chooses OpenBLAS for the blocked kernels when it runs this CPU's kernels (see docs/python.md); "
        "sets OPENBLAS_CORETYPE in the environment when unset. Returns the backend in use.");
  m.def("gemm_backend", &gemm_backend);
  m.def(
      "configure_huge_pages",
      [](const py::object& setting) -> std::string {
        static const char* const kNames[] = {"off", "gathered", "all"};  // HugePages' order
        HugePages now;
        if (setting.is_none()) {
          now = configure_huge_pages();
        } else if (py::isinstance<py::bool_>(setting)) {  // exactly True or False: not 0, 1 or 2
          now = configure_huge_pages(setting.cast<bool>() ? HugePages::kAll : HugePages::kOff);
        } else if (!py::isinstance<py::str>(setting)) {
          throw py::type_error(fmt::format("huge-page setting: expected 'off', 'gathered', 'all', True or False, got {}",
                                           std::string(py::str(py::type::of(setting).attr("__name__")))));
        } else {
          const auto name = setting.cast<std::string>();
          const auto found = std::find(std::begin(kNames), std::end(kNames), name);
          if (found == std::end(kNames)) {
            throw py::value_error(fmt::format("huge-page setting '{}': expected 'off', 'gathered' or 'all'", name));
          }
          now = configure_huge_pages(static_cast<HugePages>(found - std::begin(kNames)));
        }
        return kNames[static_cast<int>(now)];
      },
      py::arg("setting") = py::none(),
      "Which large blocks are advised to take transparent huge pages (speed only, never results): 'gathered' "
      "(the default: the blocks the solvers gather from at random rows), 'all' (those and the data's arrays, "
      "the Krylov basis, p x p matrices, arrays read from .npy) or 'off'; True means 'all', False 'off'; "
      "anything else is an error. With no argument: from LINSIM_HUGE_PAGES (off, 0 or no: 'off'; all, on, 1 or "
      "yes: 'all'; anything else: 'gathered'). Returns the name of the setting in force.");
  m.def(
      "configure_direct_writes",
      [](std::optional<bool> enabled) { return enabled ? configure_direct_writes(*enabled) : configure_direct_writes(); },
      py::arg("enabled") = py::none(),
      "Whether .npy arrays of 4 MiB and more are written around the page cache (O_DIRECT where the file "
      "system takes it; on by default; the same bytes either way). With no argument: from LINSIM_DIRECT_WRITES "
      "(off, 0 or no: off). Returns the setting in force.");
  m.def("max_threads", &max_threads);
  m.def("take_undeleted_replacements", &take_undeleted_replacements);

  m.def("check_csr", &checked_csr, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("rows"),
        py::arg("cols"), py::arg("allow_negative"), py::arg("what"));
  py::class_<Csr>(m, "Csr")
      .def_readonly("indptr", &Csr::indptr)
      .def_readonly("indices", &Csr::indices)
      .def_readonly("data", &Csr::data)
      .def_property_readonly("shape", [](const Csr& c) { return py::make_tuple(c.rows, c.cols); });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def_property_readonly("info", &model_info)
      .def_property_readonly("item_embeddings",
                             [](py::object self) {
                               return view_of(self.cast<PyModel&>().bundle.model.item_embeddings, self);
                             })
      .def_property_readonly("user_embeddings",
                             [](py::object self) {
                               return view_of(self.cast<PyModel&>().bundle.model.user_embeddings, self);
                             })
      .def_property_readonly("encoder",
                             [](py::object self) { return view_of(self.cast<PyModel&>().bundle.model.encoder, self); })
      .def_property_readonly("singular_values",
                             [](py::object self) {
                               return vector_view(self.cast<PyModel&>().bundle.model.singular_values, self);
                             })
      .def_property_readonly("weights",
                             [](py::object self) -> py::object {
                               const Model& model = self.cast<PyModel&>().bundle.model;
                               if (model.options.kind != ModelKind::kEase) return py::none();
                               return model.with_weights([&](const auto& W) { return view_of(W, self); });
                             })
      .def_property_readonly("user_ids", [](const PyModel& s) { return ids_to_python(s.bundle.data.users.ids()); })
      .def_property_readonly("item_ids", [](const PyModel& s) { return ids_to_python(s.bundle.data.items.ids()); })
      .def_property_readonly("interactions", [](const PyModel& s) { return csr_arrays(s.bundle.data.X); })
      .def_property_readonly("n_users", [](const PyModel& s) { return s.bundle.data.n_users(); })
      .def_property_readonly("n_items", [](const PyModel& s) { return s.bundle.data.n_items(); })
      .def("neighbors", &neighbors)
      .def("recommend", &recommend_rows)
      .def("export", &export_vectors)
      .def("score_rows", &score_rows)
      .def("save", &save);
  m.def("fit", &fit);
  m.def("load", &load);
  m.def("read_interactions", &read_interactions_file);
  m.def("simulate", &simulate_data);
  m.def("reproduce", &reproduce_json);
  m.def("audit", &audit_arrays);
  m.def("evaluate", &evaluate_json);
  m.attr("__version__") = LINSIM_VERSION;
}
