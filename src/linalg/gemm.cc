#include "linalg/gemm.h"

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
// panel_cross and panel_update (gemm.h) for B columns, on GCC/Clang vectors of 8 doubles (one
// AVX-512 register each; without AVX-512 the panel functions decline and the GEMM runs). Each
// 8-row step also prefetches the line kPanelAhead rows further along the sequence of column
// segments the kernel reads — the same column, or past its end the first rows of the column
// `step` further on (the next group's; for Qᵀ W with 16 columns, whose next call is the second
// half on the same columns, one call early) — since a chunk of a tall basis is hundreds of
// separate 4 KB segments, which the hardware prefetcher picks up late (three passes over a 200,000 × 394 basis with 16 columns:
// 208–231 ms with it, 256–280 ms without, alternated runs while developing; BM_PanelPass has
// both sizes against the GEMM).
constexpr Index kPanelAhead = 256;
typedef double V8 __attribute__((vector_size(64)));
inline V8 load8(const double* from) {
  V8 v;
  __builtin_memcpy(&v, from, sizeof v);
  return v;
}
inline double sum8(const V8& v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
// Column `col` is read at row r; the next call reads column col + step.
inline void prefetch_ahead(const double* Q, Index lq, Index col, Index step, Index m, Index r, Index h) {
  const Index t = r + kPanelAhead;
  if (t < h) {
    __builtin_prefetch(Q + col * lq + t);
  } else if (col + step < m && t - h < h) {  // inside the chunk's rows: never past its storage
    __builtin_prefetch(Q + (col + step) * lq + (t - h));
  }
}

// Rows r … r + 7 of Q_c's columns i … i + C − 1 into q, with each column's prefetch.
template <int C>
void load_columns(const double* Q, Index lq, Index m, Index i, Index r, Index h, V8 (&q)[C]) {
  for (int c = 0; c < C; ++c) {
    q[c] = load8(Q + (i + c) * lq + r);
    prefetch_ahead(Q, lq, i + c, C, m, r, h);
  }
}

// H's rows i … i + C − 1 (H: m × B, leading dimension ldh) = columns i … of Q_c dotted with W_c's.
template <int B, int C>
void cross_columns(const double* Q, Index lq, Index m, Index i, Index h, const double* W, Index lw, double* H, Index ldh) {
  V8 acc[C][B];
  for (int c = 0; c < C; ++c)
    for (int j = 0; j < B; ++j) acc[c][j] = V8{};
  Index r = 0;
  for (; r + 8 <= h; r += 8) {
    V8 q[C];
    load_columns<C>(Q, lq, m, i, r, h, q);
    for (int j = 0; j < B; ++j) {
      V8 w = load8(W + j * lw + r);
      // One load of w for the C columns: GCC otherwise folds the load into each FMA, C loads of the
      // same 64 bytes, which made this kernel load-bound at half the update's rate on an AMD EPYC
      // (BM_PanelPass/0/0/19778/8: 4.15 → 2.17 ms; the arithmetic is unchanged).
      asm("" : "+v"(w));
      for (int c = 0; c < C; ++c) acc[c][j] += q[c] * w;
    }
  }
  for (int c = 0; c < C; ++c) {
    for (int j = 0; j < B; ++j) {
      double s = sum8(acc[c][j]);
      for (Index t = r; t < h; ++t) s += Q[(i + c) * lq + t] * W[j * lw + t];
      H[j * ldh + i + c] = s;
    }
  }
}

// C × B' sums in registers, B' = min(B, 8): 16 blocks go as two halves of 8 per group of columns
// (the second half reads the group's columns again, from cache), since a 512-row chunk of 16 columns of W is
// 64 KB, beyond L1: one Q column against all 16 took 105 ms per pass at p = 200,000, the halves
// 75–87 (BM_PanelPass/0/0/200000/16). Per 8-row step C column loads and B' loads of W feed C × B'
// FMAs, so the kernel is bound by its instructions more than by Q's bytes: three columns against
// 8 (24 accumulators of the 32 registers) rather than two took 1.93–2.08 against 2.27–2.48 ms at
// 19,778 × 394 and 31.8–35.3 against 40.3–41.5 ms at 200,000 × 394 with 16 (three alternated
// runs, AMD EPYC; one column alone: 3.6–3.9 / 62–65 ms). Each column's sum is formed in the same
// order whatever C is.
template <int B>
void cross_block(const double* Q, Index lq, Index m, Index h, const double* W, Index lw, double* H, Index ldh) {
  constexpr int Bh = B > 8 ? 8 : B;
  constexpr int C = Bh == 8 ? 3 : 4;
  auto columns = [&](auto width, Index i) {
    for (int j0 = 0; j0 < B; j0 += Bh) {
      cross_columns<Bh, decltype(width)::value>(Q, lq, m, i, h, W + j0 * lw, lw, H + j0 * ldh, ldh);
    }
  };
  Index i = 0;
  for (; i + C <= m; i += C) columns(std::integral_constant<int, C>{}, i);
  for (; i < m; ++i) columns(std::integral_constant<int, 1>{}, i);
}

// W_c += α Q_c's columns i … i + C − 1 times H's rows i … (C columns of Q read side by side). The
// B rows of W a step updates are all loaded before the first is stored, as in the one-pass Gram
// product's scatter (data_matrix.cc): BM_PanelPass/1/0/19778/8 1.67–1.75 against 1.98–2.01 ms,
// /200000/16 the same within noise (three alternated runs); each sum keeps its order.
template <int B, int C>
void update_columns(const double* Q, Index lq, Index m, Index i, Index h, const double* H, Index ldh, double alpha,
                    double* W, Index lw) {
  double coef[C][B];
  for (int c = 0; c < C; ++c)
    for (int j = 0; j < B; ++j) coef[c][j] = alpha * H[j * ldh + i + c];
  Index r = 0;
  for (; r + 8 <= h; r += 8) {
    V8 q[C];
    load_columns<C>(Q, lq, m, i, r, h, q);
    V8 w[B];
    for (int j = 0; j < B; ++j) w[j] = load8(W + j * lw + r);
    for (int j = 0; j < B; ++j) {
      for (int c = 0; c < C; ++c) w[j] += q[c] * coef[c][j];
      __builtin_memcpy(W + j * lw + r, &w[j], sizeof w[j]);
    }
  }
  for (; r < h; ++r) {
    for (int j = 0; j < B; ++j) {
      double w = W[j * lw + r];
      for (int c = 0; c < C; ++c) w += Q[(i + c) * lq + r] * coef[c][j];
      W[j * lw + r] = w;
    }
  }
}

template <int B>
void update_block(const double* Q, Index lq, Index m, Index h, const double* H, Index ldh, double alpha, double* W,
                  Index lw) {
  constexpr int C = 8;
  Index i = 0;
  for (; i + C <= m; i += C) update_columns<B, C>(Q, lq, m, i, h, H, ldh, alpha, W, lw);
  for (; i < m; ++i) update_columns<B, 1>(Q, lq, m, i, h, H, ldh, alpha, W, lw);
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
