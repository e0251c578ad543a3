#include "linalg/gemm.h"
#include "linsim/core/memory.h"

#include <dlfcn.h>

#include <atomic>
#include <cctype>
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Eigenvalues>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {
namespace {

// The CBLAS entry points, declared here so that neither OpenBLAS's headers nor its library are
// needed to build: the library is loaded at run time. Enum values from the CBLAS standard.
enum CblasOrder { kColMajor = 102 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };
using DgemmFn = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                         double*, int);
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                         float*, int);
using SetThreadsFn = void (*)(int);
using CoreNameFn = char* (*)();
// LAPACK's DSYEVR as a Fortran symbol: every argument by address, then the lengths of the three
// character arguments (gfortran's hidden arguments).
using DsyevrFn = void (*)(const char* jobz, const char* range, const char* uplo, const int* n, double* a,
                          const int* lda, const double* vl, const double* vu, const int* il, const int* iu,
                          const double* abstol, int* m, double* w, double* z, const int* ldz, int* isuppz,
                          double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t,
                          std::size_t, std::size_t);

struct Backend {
  DgemmFn dgemm = nullptr;
  SgemmFn sgemm = nullptr;
  DsyevrFn dsyevr = nullptr;
  std::string description = "eigen";
};

}  // namespace

std::string openblas_core_for_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

namespace {

bool same_name(std::string a, std::string b) {
  for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return a == b;
}

Backend load_backend() {
  Backend backend;
  if (const char* forced = std::getenv("LINSIM_GEMM"); forced != nullptr && same_name(forced, "eigen")) {
    backend.description = "eigen (LINSIM_GEMM=eigen)";
    return backend;
  }
  // OpenBLAS maps a work buffer (~128 MB) on a calling thread's first use and, where the mapping is
  // refused, retries it for ever (0.3.21, measured: a fit under ulimit -v spun at 100 % of a core in
  // dsyevr). Where allocations can be refused, Eigen's GEMM and eigen-solver run instead: their
  // allocations fail with std::bad_alloc, which the programs report.
  if (const std::string refused = allocations_refused_by(); !refused.empty()) {
    backend.description = fmt::format("eigen (allocations can be refused under {}, and OpenBLAS would retry a "
                                      "refused one for ever)",
                                      refused);
    return backend;
  }
  const char* user_core = std::getenv("OPENBLAS_CORETYPE");
  const std::string wanted = user_core != nullptr ? std::string(user_core) : openblas_core_for_this_cpu();
  if (wanted.empty()) {
    backend.description = "eigen (no AVX2/FMA: OpenBLAS would offer nothing faster)";
    return backend;
  }
  if (user_core == nullptr) setenv("OPENBLAS_CORETYPE", wanted.c_str(), 0);  // read while loading
  void* handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    backend.description = "eigen (libopenblas.so.0 not found)";
    return backend;
  }
  auto core_name = reinterpret_cast<CoreNameFn>(dlsym(handle, "openblas_get_corename"));
  auto set_threads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "openblas_set_num_threads"));
  auto dgemm = reinterpret_cast<DgemmFn>(dlsym(handle, "cblas_dgemm"));
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm"));
  if (core_name == nullptr || set_threads == nullptr || dgemm == nullptr || sgemm == nullptr) {
    backend.description = "eigen (libopenblas.so.0 lacks the CBLAS entry points)";
    return backend;
  }
  const std::string core = core_name();
  if (!same_name(core, wanted)) {
    // Loaded earlier in this process with other kernels, or a build without this core.
    backend.description = fmt::format("eigen (OpenBLAS runs its {} kernels, not {})", core, wanted);
    return backend;
  }
  set_threads(1);
  backend.dgemm = dgemm;
  backend.sgemm = sgemm;
  backend.dsyevr = reinterpret_cast<DsyevrFn>(dlsym(handle, "dsyevr_"));  // absent: Eigen's solver
  backend.description = fmt::format("openblas ({})", core);
  return backend;
}

// The backend configure_gemm() chose; Eigen's until then.
std::atomic<const Backend*> chosen{nullptr};

const Backend& backend() {
  static const Backend unconfigured{nullptr, nullptr, nullptr, "eigen (configure_gemm() was not called)"};
  const Backend* b = chosen.load(std::memory_order_acquire);
  return b != nullptr ? *b : unconfigured;
}

template <typename Scalar>
using Map = Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;

template <typename Scalar>
void eigen_gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, Scalar alpha, const Scalar* A, Index lda,
                const Scalar* B, Index ldb, Scalar beta, Scalar* C, Index ldc) {
  Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>> c(C, m, n,
                                                                                                 Eigen::OuterStride<>(ldc));
  if (beta == Scalar(0)) c.setZero();
  else if (beta != Scalar(1)) c *= beta;
  const Map<Scalar> a(A, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  const Map<Scalar> b(B, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  if (trans_a && trans_b) c.noalias() += alpha * (a.transpose() * b.transpose());
  else if (trans_a) c.noalias() += alpha * (a.transpose() * b);
  else if (trans_b) c.noalias() += alpha * (a * b.transpose());
  else c.noalias() += alpha * (a * b);
}

#if defined(__AVX512F__)
// panel_cross and panel_update (gemm.h) for B columns of W, by pieces of at most kPanelRows rows.
// A piece of W is first copied into rows of B contiguous doubles (W_t, on the stack: 64 KB at
// B = 16), so that one row of it is B/8 vector registers (half of one at B = 4). Then C columns
// of Q at a time are swept down the piece's rows: each row loads W_t's row once and, for each of
// the C columns, broadcasts its one element of Q and adds it times the row (Qᵀ W: C × B/8 sums in
// registers; W −= Q H: the C rows of H in registers, the row of W_t updated and stored). So each
// element of Q is loaded once and meets B multiply-adds, and W is read from the core's cache once
// per C columns. The kernels before these read W column-wise, 8 rows × 8 columns per step against
// two or three columns of Q, and reloaded a 16-column piece of W (64 KB, beyond L1) once per
// step of columns. In a side harness (these passes alone, best of 25, AMD EPYC) at 200,000 × 394
// with 16 columns they took 32–33 ms for Qᵀ W and 29 ms for W −= Q H, against 19–20 and 23 ms
// now; at 19,778 × 394 with 8, 1.8–1.9 and 1.6 ms against 1.1 and 1.2 ms (BM_PanelPass,
// alternated with the build before: bench/README.md). Twelve columns against 8, 16 and 24 per
// sweep: 24 spills registers, 8 and 16 within a few per cent of 12, except W −= Q H at 16 columns
// of W, where 8 columns of Q leave the registers for it. Each sum runs down the rows
// in order, piece after piece, so the bits never depend on the thread count.
constexpr Index kPanelRows = 512;
// Each column's line this many rows (512 bytes) ahead is asked for every 8 rows: a sweep reads C
// separate 4 KB column segments of a chunk, each too short for the hardware prefetcher to pick up
// early (32 and 128 rows ahead measured within 5 % of 64).
constexpr Index kPanelAhead = 64;

// A row of W_t as P vectors of L doubles.
template <int B>
struct PanelRow {
  static constexpr int L = B >= 8 ? 8 : B;
  static constexpr int P = B / L;
  typedef double Vec __attribute__((vector_size(8 * L)));
};

// W's rows [0, h) (columns j at W + j · lw) into W_t (h × B, row-major), or back.
template <int B>
void to_rows(const double* W, Index lw, Index h, double* Wt) {
  for (Index r = 0; r < h; ++r)
    for (int j = 0; j < B; ++j) Wt[r * B + j] = W[j * lw + r];
}
template <int B>
void from_rows(const double* Wt, Index h, double* W, Index lw) {
  for (Index r = 0; r < h; ++r)
    for (int j = 0; j < B; ++j) W[j * lw + r] = Wt[r * B + j];
}

// H's rows i … i + C − 1 (+)= columns i … of Q dotted with W_t's columns, down rows [0, h).
template <int B, int C>
void cross_sweep(const double* Q, Index lq, Index i, Index h, const double* Wt, double* H, Index ldh, bool add) {
  using Row = PanelRow<B>;
  typename Row::Vec sum[C][Row::P];
  for (int c = 0; c < C; ++c)
    for (int v = 0; v < Row::P; ++v) sum[c][v] = typename Row::Vec{};
  const double* q[C];
  for (int c = 0; c < C; ++c) q[c] = Q + (i + c) * lq;
  for (Index r = 0; r < h; ++r) {
    if (r % 8 == 0 && r + kPanelAhead < h) {
      for (int c = 0; c < C; ++c) __builtin_prefetch(q[c] + r + kPanelAhead);
    }
    typename Row::Vec w[Row::P];
    __builtin_memcpy(&w, Wt + r * B, sizeof w);
    for (int c = 0; c < C; ++c) {
      const double s = q[c][r];
      for (int v = 0; v < Row::P; ++v) sum[c][v] += s * w[v];
    }
  }
  for (int c = 0; c < C; ++c) {
    for (int v = 0; v < Row::P; ++v) {
      for (int j = 0; j < Row::L; ++j) {
        double& out = H[(v * Row::L + j) * ldh + i + c];
        out = add ? out + sum[c][v][j] : sum[c][v][j];
      }
    }
  }
}

// W_t's rows [0, h) += α Q's columns i … i + C − 1 times H's rows i ….
template <int B, int C>
void update_sweep(const double* Q, Index lq, Index i, Index h, const double* H, Index ldh, double alpha, double* Wt) {
  using Row = PanelRow<B>;
  typename Row::Vec coef[C][Row::P];
  for (int c = 0; c < C; ++c)
    for (int v = 0; v < Row::P; ++v)
      for (int j = 0; j < Row::L; ++j) coef[c][v][j] = alpha * H[(v * Row::L + j) * ldh + i + c];
  const double* q[C];
  for (int c = 0; c < C; ++c) q[c] = Q + (i + c) * lq;
  for (Index r = 0; r < h; ++r) {
    if (r % 8 == 0 && r + kPanelAhead < h) {
      for (int c = 0; c < C; ++c) __builtin_prefetch(q[c] + r + kPanelAhead);
    }
    typename Row::Vec w[Row::P];
    __builtin_memcpy(&w, Wt + r * B, sizeof w);
    for (int c = 0; c < C; ++c) {
      const double s = q[c][r];
      for (int v = 0; v < Row::P; ++v) w[v] += s * coef[c][v];
    }
    __builtin_memcpy(Wt + r * B, &w, sizeof w);
  }
}

template <int B>
void cross_block(const double* Q, Index lq, Index m, Index h, const double* W, Index lw, double* H, Index ldh) {
  constexpr int C = 12;
  alignas(64) double Wt[kPanelRows * B];
  for (Index r0 = 0; r0 < h || r0 == 0; r0 += kPanelRows) {  // h = 0: H = 0
    const Index len = std::min(kPanelRows, h - r0);
    to_rows<B>(W + r0, lw, len, Wt);
    Index i = 0;
    for (; i + C <= m; i += C) cross_sweep<B, C>(Q + r0, lq, i, len, Wt, H, ldh, r0 > 0);
    for (; i < m; ++i) cross_sweep<B, 1>(Q + r0, lq, i, len, Wt, H, ldh, r0 > 0);
  }
}

template <int B>
void update_block(const double* Q, Index lq, Index m, Index h, const double* H, Index ldh, double alpha, double* W,
                  Index lw) {
  constexpr int C = B == 16 ? 8 : 12;
  alignas(64) double Wt[kPanelRows * B];
  for (Index r0 = 0; r0 < h; r0 += kPanelRows) {
    const Index len = std::min(kPanelRows, h - r0);
    to_rows<B>(W + r0, lw, len, Wt);
    Index i = 0;
    for (; i + C <= m; i += C) update_sweep<B, C>(Q + r0, lq, i, len, H, ldh, alpha, Wt);
    for (; i < m; ++i) update_sweep<B, 1>(Q + r0, lq, i, len, H, ldh, alpha, Wt);
    from_rows<B>(Wt, len, W + r0, lw);
  }
}

#endif  // __AVX512F__

}  // namespace

bool panel_cross(const double* Q, Index lq, Index h, Index m, const double* W, Index lw, Index b, double* H,
                 Index ldh) {
#if defined(__AVX512F__)
  auto kernel = b == 4 ? cross_block<4> : b == 8 ? cross_block<8> : b == 16 ? cross_block<16> : nullptr;
  if (kernel == nullptr) return false;
  kernel(Q, lq, m, h, W, lw, H, ldh);
  return true;
#else
  (void)Q, (void)lq, (void)h, (void)m, (void)W, (void)lw, (void)b, (void)H, (void)ldh;
  return false;
#endif
}

bool panel_update(const double* Q, Index lq, Index h, Index m, const double* H, Index ldh, Index b, double alpha,
                  double* W, Index lw) {
#if defined(__AVX512F__)
  auto kernel = b == 4 ? update_block<4> : b == 8 ? update_block<8> : b == 16 ? update_block<16> : nullptr;
  if (kernel == nullptr) return false;
  kernel(Q, lq, m, h, H, ldh, alpha, W, lw);
  return true;
#else
  (void)Q, (void)lq, (void)h, (void)m, (void)H, (void)ldh, (void)b, (void)alpha, (void)W, (void)lw;
  return false;
#endif
}

template <typename Scalar>
void gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, Scalar alpha, const Scalar* A, Index lda,
          const Scalar* B, Index ldb, Scalar beta, Scalar* C, Index ldc) {
  if (m == 0 || n == 0) return;
  const Backend& be = backend();
  if (k == 0) {  // C = beta C; CBLAS would reject the zero leading dimensions such shapes come with
    eigen_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  constexpr Index kIntMax = std::numeric_limits<int>::max();  // CBLAS takes int sizes
  if (std::max({m, n, k, lda, ldb, ldc}) > kIntMax) {
    eigen_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int ta = trans_a ? kTrans : kNoTrans;
  const int tb = trans_b ? kTrans : kNoTrans;
  const auto i = [](Index v) { return static_cast<int>(v); };
  if constexpr (std::is_same_v<Scalar, double>) {
    if (be.dgemm != nullptr) {
      be.dgemm(kColMajor, ta, tb, i(m), i(n), i(k), alpha, A, i(lda), B, i(ldb), beta, C, i(ldc));
      return;
    }
  } else {
    if (be.sgemm != nullptr) {
      be.sgemm(kColMajor, ta, tb, i(m), i(n), i(k), alpha, A, i(lda), B, i(ldb), beta, C, i(ldc));
      return;
    }
  }
  eigen_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dense_top_eigen(const Matrix& S, Index k, Vector& values, Matrix& vectors) {
  const Index p = S.rows();
  if (S.cols() != p || k < 1 || k > p) {
    throw InvalidArgument(fmt::format("dense eigen-decomposition: rank {} of a {} x {} matrix", k, p, S.cols()));
  }
  // Both solvers may loop or fail on non-finite entries; no caller has a use for such a result.
  if (!S.allFinite()) throw Error("dense eigen-decomposition: the matrix has a NaN or infinite entry");
  const Backend& be = backend();
  constexpr Index kIntMax = std::numeric_limits<int>::max();
  if (be.dsyevr != nullptr && p <= kIntMax / 26) {  // LAPACK's int sizes, workspace 26 p included
    Matrix a = S;  // overwritten (the reduction to tridiagonal form works in place)
    const int n = static_cast<int>(p);
    const int il = static_cast<int>(p - k + 1);
    const int iu = n;
    const double unused = 0;
    const double abstol = 0;  // LAPACK's default: eigenvalues to ε ‖T‖
    int found = 0;
    int info = 0;
    Vector w(p);
    Matrix z(p, k);
    std::vector<int> isuppz(2 * static_cast<std::size_t>(k));
    double work_query = 0;
    int iwork_query = 0;
    const int query = -1;
    be.dsyevr("V", "I", "L", &n, a.data(), &n, &unused, &unused, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
              isuppz.data(), &work_query, &query, &iwork_query, &query, &info, 1, 1, 1);
    if (info != 0) throw Error(fmt::format("dense eigen-decomposition: LAPACK's workspace query failed (info {})", info));
    const int lwork = static_cast<int>(work_query);
    const int liwork = iwork_query;
    std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
    be.dsyevr("V", "I", "L", &n, a.data(), &n, &unused, &unused, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
              isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1, 1);
    if (info != 0 || found != k) {
      throw Error(fmt::format("dense eigen-decomposition failed (LAPACK dsyevr info {}, {} of {} pairs)", info, found, k));
    }
    // dsyevr returns the pairs ascending: the largest last.
    values = w.head(k).reverse();
    vectors = z.rowwise().reverse();
    return;
  }
  Eigen::SelfAdjointEigenSolver<Matrix> eig(S);
  if (eig.info() != Eigen::Success) throw Error("dense eigen-decomposition failed (Eigen's solver did not converge)");
  values = eig.eigenvalues().tail(k).reverse();
  vectors = eig.eigenvectors().rightCols(k).rowwise().reverse();
}

double dense_top_eigen_seconds(Index p) {
  const double pk = static_cast<double>(p) / 1000.0;
  return (backend().dsyevr != nullptr ? 0.13 : 1.0) * pk * pk * pk;
}

std::string configure_gemm() {
  static std::once_flag once;
  static Backend loaded;
  std::call_once(once, [] {
    loaded = load_backend();
    chosen.store(&loaded, std::memory_order_release);
  });
  return backend().description;
}

std::string gemm_backend() { return backend().description; }

template void gemm<double>(bool, bool, Index, Index, Index, double, const double*, Index, const double*, Index, double,
                           double*, Index);
template void gemm<float>(bool, bool, Index, Index, Index, float, const float*, Index, const float*, Index, float,
                          float*, Index);

}  // namespace linsim
