// EASE on ScaLAPACK (MATH.md M3). The p × p matrix lives only in ScaLAPACK's 2-D block-cyclic
// layout: each rank holds ≈ p²/ranks of it, and everything else is a panel of w columns.
//
//   1. XᵀX + λI, lower triangle, one column panel at a time: each rank forms its own rows' share
//      of the panel, and one reduce-scatter per panel sums the shares and hands every element to
//      the rank that owns it.
//   2. Cholesky (p?potrf) with the pivot bound of the single-process EASE, then the inverse from
//      the factor (p?potri): the lower triangle of P = (XᵀX + λI)⁻¹.
//   3. The upper triangle, panel by panel, as the transpose of a row panel of the lower one
//      (p?tran into a p × w buffer aligned with the target columns), and the columns scaled by
//      −1/P_jj with W_jj = 0 in the same pass.
//   4. One .npy: the header from rank 0, each rank's blocks through an MPI-IO file view.
#include "scalapack_ease.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <dlfcn.h>
#include <sys/mman.h>

#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/io/npy.h"
#include "linsim/models/ease.h"

// ScaLAPACK and BLACS ship no C header: their C and Fortran entry points, declared here. The
// Fortran ones take a character argument's length as a trailing hidden argument.
extern "C" {
void Cblacs_pinfo(int* mypnum, int* nprocs);
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, const char* order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int* nprow, int* npcol, int* myrow, int* mycol);
void Cblacs_gridexit(int context);
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb, const int* irsrc,
               const int* icsrc, const int* ictxt, const int* lld, int* info);
void pdpotrf_(const char* uplo, const int* n, double* a, const int* ia, const int* ja, const int* desca,
              int* info, std::size_t uplo_len);
void pdpotri_(const char* uplo, const int* n, double* a, const int* ia, const int* ja, const int* desca,
              int* info, std::size_t uplo_len);
void pspotrf_(const char* uplo, const int* n, float* a, const int* ia, const int* ja, const int* desca,
              int* info, std::size_t uplo_len);
void pspotri_(const char* uplo, const int* n, float* a, const int* ia, const int* ja, const int* desca,
              int* info, std::size_t uplo_len);
void pdtran_(const int* m, const int* n, const double* alpha, const double* a, const int* ia, const int* ja,
             const int* desca, const double* beta, double* c, const int* ic, const int* jc, const int* descc);
void pstran_(const int* m, const int* n, const float* alpha, const float* a, const int* ia, const int* ja,
             const int* desca, const float* beta, float* c, const int* ic, const int* jc, const int* descc);
}

namespace linsim::mpi {

bool map_blas_work_buffer() {
  if (allocations_refused_by().empty()) return true;
  // The BLAS ScaLAPACK was linked with, as loaded with the program.
  using Dgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*,
                         const int*, const double*, const int*, const double*, double*, const int*, std::size_t,
                         std::size_t);
  const auto dgemm = reinterpret_cast<Dgemm>(dlsym(RTLD_DEFAULT, "dgemm_"));
  if (dgemm == nullptr) return true;
  const auto probe_bytes = static_cast<std::size_t>(kBlasBufferProbe);
  // Writable and private, as the buffer will be, so that the address-space and data limits and a
  // commit limit all count it; never touched, so it takes no memory.
  void* probe = mmap(nullptr, probe_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe == MAP_FAILED) return false;
  munmap(probe, probe_bytes);
  // A product above OpenBLAS's small-matrix path (which takes no buffer): its first call maps it.
  const int n = 256;
  const double one = 1.0, zero = 0.0;
  std::vector<double> a(static_cast<std::size_t>(n) * n, 1.0), c(a.size());
  dgemm("N", "N", &n, &n, &n, &one, a.data(), &n, a.data(), &n, &zero, c.data(), &n, 1, 1);
  return true;
}

namespace {

// The block size of the layout (rows and columns): ScaLAPACK's factorisations run at the speed
// of their nb-wide GEMM updates. Measured at p = 7,552 (bench/README.md "Across MPI ranks"): one
// rank 16.1 s with 64, 13.4 s with 128, 12.4 s with 256; two ranks 11.0, 11.0 and 11.8 s. 128: a
// larger block gains little alone and unbalances the last blocks with more ranks.
constexpr int kBlock = 128;
// Columns per panel (rounded to whole rounds of nb · npcol): the panels' memory, ≈ 2 · p · w
// doubles per rank, stays a small fraction of the rank's share of the matrix for p in the
// thousands, and a reduce-scatter of p · w values keeps the network busy.
constexpr int kPanelColumns = 512;

template <typename Scalar>
struct Scalapack;

template <>
struct Scalapack<double> {
  static constexpr auto potrf = pdpotrf_;
  static constexpr auto potri = pdpotri_;
  static constexpr auto tran = pdtran_;
  static constexpr const char* npy_descr = "<f8";
  static MPI_Datatype type() { return MPI_DOUBLE; }
};

template <>
struct Scalapack<float> {
  static constexpr auto potrf = pspotrf_;
  static constexpr auto potri = pspotri_;
  static constexpr auto tran = pstran_;
  static constexpr const char* npy_descr = "<f4";
  static MPI_Datatype type() { return MPI_FLOAT; }
};

bool any_rank(bool flag, MPI_Comm comm) {
  int mine = flag ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_LOR, comm);
  return any != 0;
}

// An interruption point the ranks pass together: an interrupt seen on some ranks stops all of them
// here (the others with an Error), instead of leaving the others waiting in the next collective.
void interruption_point(MPI_Comm comm) {
  std::exception_ptr stop;
  try {
    linsim::interruption_point();
  } catch (...) {
    stop = std::current_exception();
  }
  if (!any_rank(stop != nullptr, comm)) return;
  if (stop) std::rethrow_exception(stop);
  throw Error("interrupted on another rank");
}

// A BLACS process grid over all ranks of a communicator, as square as the rank count allows
// (nprow ≤ npcol), numbered row-major: rank r sits at (r / npcol, r % npcol). That is the order
// MPI_Type_create_darray assumes for the file view, and the order of the destinations in the
// reduce-scatter of the accumulation.
class ProcessGrid {
 public:
  explicit ProcessGrid(MPI_Comm comm) {
    int size = 0, rank = 0;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    int rows = 1;
    for (int r = 1; r * r <= size; ++r) {
      if (size % r == 0) rows = r;
    }
    int blacs_rank = 0, blacs_size = 0;
    Cblacs_pinfo(&blacs_rank, &blacs_size);  // initialises BLACS on the running MPI
    system_ = Csys2blacs_handle(comm);
    context_ = system_;
    Cblacs_gridinit(&context_, "Row", rows, size / rows);
    Cblacs_gridinfo(context_, &nprow, &npcol, &myrow, &mycol);
    // BLACS numbers a grid made from a communicator by the ranks in it; checked rather than
    // trusted, since the file view and the reduce-scatter both rest on it.
    if (any_rank(myrow * npcol + mycol != rank || nprow * npcol != size, comm)) {
      release();
      throw Error("BLACS did not number the process grid row-major by MPI rank");
    }
  }
  ~ProcessGrid() { release(); }
  ProcessGrid(const ProcessGrid&) = delete;
  ProcessGrid& operator=(const ProcessGrid&) = delete;

  int context() const { return context_; }

  int nprow = 0, npcol = 0, myrow = 0, mycol = 0;

 private:
  void release() {
    if (context_ < 0) return;
    // The grid only: MPI itself belongs to the program (no Cblacs_exit).
    Cblacs_gridexit(context_);
    Cfree_blacs_system_handle(system_);
    context_ = -1;
  }
  int system_ = -1;
  int context_ = -1;
};

// How many of the first n indices (rows or columns) the process at coordinate `proc` of `procs`
// owns, blocks of kBlock dealt round-robin from process 0.
int owned(int n, int proc, int procs) {
  const int zero = 0;
  return numroc_(&n, &kBlock, &proc, &zero, &procs);
}
int owner(Index global, int procs) {
  return static_cast<int>((global / kBlock) % procs);
}
Index local_index(Index global, int procs) {
  return global / (Index{kBlock} * procs) * kBlock + global % kBlock;
}
Index global_index(Index local, int proc, int procs) {
  return local / kBlock * kBlock * procs + Index{proc} * kBlock + local % kBlock;
}

// This rank's block-cyclic share of a p × cols matrix (column-major, leading dimension lld) and
// its ScaLAPACK descriptor.
template <typename Scalar>
struct LocalBlocks {
  LocalBlocks(const ProcessGrid& grid, int p, int cols)
      : rows(owned(p, grid.myrow, grid.nprow)),
        columns(owned(cols, grid.mycol, grid.npcol)),
        lld(std::max(1, rows)),
        data(static_cast<size_t>(lld) * static_cast<size_t>(columns)) {
    const int zero = 0, context = grid.context();
    int info = 0;
    descinit_(desc, &p, &cols, &kBlock, &kBlock, &zero, &zero, &context, &lld, &info);
    if (info != 0) throw Error(fmt::format("descinit: argument {} is invalid", -info));
  }
  Scalar* col(Index local_column) { return data.data() + local_column * lld; }

  int rows, columns, lld;
  std::vector<Scalar> data;
  int desc[9] = {};
};

// This rank's rows Y_r, read column by column (a CSC copy, as the single-process Gram matrix
// keeps), and their share of the centring (MATH.md M6): with c_r = Y_rᵀ1 and n_r its row count,
// Σ_r (Y_rᵀY_r − m c_rᵀ − c_r mᵀ + n_r m mᵀ) = (Y − 1mᵀ)ᵀ(Y − 1mᵀ), so no global sums are needed.
class LocalGram {
 public:
  LocalGram(const SparseView& Y, const Vector& m)
      : Y_(Y), columns_(Y), m_(m), n_(static_cast<double>(Y.rows())) {
    if (m.size() == 0) return;
    c_ = Vector::Zero(Y.cols());
    for (Index q = 0; q < Y.nonZeros(); ++q) c_(Y.innerIndexPtr()[q]) += Y.valuePtr()[q];
  }

  // Rows i ≥ j of column j of this rank's share, added to `column` (indexed by i − first_row):
  // Σ_{u ∋ j} y_uj y_ui, users in a fixed order, then the centring, all in double.
  void add_lower(Index j, double* column, Index first_row) const {
    const int* outer = Y_.outerIndexPtr();
    const int* inner = Y_.innerIndexPtr();
    const double* value = Y_.valuePtr();
    for (Eigen::SparseMatrix<double, Eigen::ColMajor, int>::InnerIterator it(columns_, j); it; ++it) {
      const Index u = it.row();
      const double yuj = it.value();
      const int* end = inner + outer[u + 1];
      for (const int* q = std::lower_bound(inner + outer[u], end, static_cast<int>(j)); q != end; ++q) {
        column[*q - first_row] += yuj * value[q - inner];
      }
    }
    if (m_.size() == 0) return;
    const double mj = m_(j), cj = c_(j);
    for (Index i = j; i < m_.size(); ++i) column[i - first_row] += m_(i) * (n_ * mj - cj) - c_(i) * mj;
  }

 private:
  const SparseView& Y_;
  const Eigen::SparseMatrix<double, Eigen::ColMajor, int> columns_;
  const Vector& m_;
  Vector c_;
  double n_;
};

// MATH.md M3: G + λI = X_wᵀX_w + λI into A's lower triangle (the part p?potrf reads), one panel of
// columns j0..j1 at a time. Rows j0..p of the panel are summed over ranks by one reduce-scatter
// whose send buffer is packed by destination — rank (r, q) gets the rows of process row r and the
// columns of process column q, column-major, which is exactly its local rows ≥ j0 of its local
// columns of the panel. Float keeps the sums in double and rounds each element once, as the
// single-process float Gram matrix does. Returns max_i |(G + λI)_ii| (for the pivot bound), and
// max_i G_ii in `max_gram_diagonal` (for a message).
template <typename Scalar>
double accumulate(const LocalGram& gram, const ProcessGrid& grid, int p, int panel_width, double lambda,
                  LocalBlocks<Scalar>& A, double& max_gram_diagonal, MPI_Comm comm) {
  max_gram_diagonal = 0;
  const int ranks = grid.nprow * grid.npcol;
  std::vector<double> panel(static_cast<size_t>(p) * static_cast<size_t>(panel_width));
  std::vector<double> send(panel.size());
  std::vector<double> received(static_cast<size_t>(A.rows) *
                               static_cast<size_t>(owned(panel_width, 0, grid.npcol)));
  std::vector<int> counts(static_cast<size_t>(ranks)), offsets(static_cast<size_t>(ranks));
  std::vector<size_t> cursor(static_cast<size_t>(ranks));
  double max_diagonal = 0;
  for (int j0 = 0; j0 < p; j0 += panel_width) {
    interruption_point(comm);
    const int j1 = std::min(p, j0 + panel_width);
    const Index panel_rows = p - j0;
    std::fill_n(panel.begin(), static_cast<size_t>(panel_rows) * static_cast<size_t>(j1 - j0), 0.0);
#pragma omp parallel for schedule(dynamic, 8)
    for (int j = j0; j < j1; ++j) gram.add_lower(j, panel.data() + (j - j0) * panel_rows, j0);

    int offset = 0;
    for (int r = 0; r < grid.nprow; ++r) {
      for (int q = 0; q < grid.npcol; ++q) {
        const int d = r * grid.npcol + q;
        counts[d] = (owned(p, r, grid.nprow) - owned(j0, r, grid.nprow)) *
                    (owned(j1, q, grid.npcol) - owned(j0, q, grid.npcol));
        offsets[d] = offset;
        cursor[d] = static_cast<size_t>(offset);
        offset += counts[d];
      }
    }
    // j0 is a multiple of nb, so the panel's row blocks are the layout's row blocks.
    for (int j = j0; j < j1; ++j) {
      const double* column = panel.data() + (j - j0) * panel_rows;
      const int q = owner(j, grid.npcol);
      for (int b = j0; b < p; b += kBlock) {
        const int length = std::min(kBlock, p - b);
        size_t& at = cursor[owner(b, grid.nprow) * grid.npcol + q];
        std::copy_n(column + (b - j0), length, send.begin() + static_cast<std::ptrdiff_t>(at));
        at += static_cast<size_t>(length);
      }
    }
    MPI_Reduce_scatter(send.data(), received.data(), counts.data(), MPI_DOUBLE, MPI_SUM, comm);

    const int first_row = owned(j0, grid.myrow, grid.nprow);
    const int my_rows = A.rows - first_row;
    const int first_column = owned(j0, grid.mycol, grid.npcol);
    const int my_columns = owned(j1, grid.mycol, grid.npcol) - first_column;
    for (int c = 0; c < my_columns; ++c) {
      const double* from = received.data() + static_cast<size_t>(c) * static_cast<size_t>(my_rows);
      Scalar* to = A.col(first_column + c) + first_row;
      for (int k = 0; k < my_rows; ++k) to[k] = static_cast<Scalar>(from[k]);
    }
    // λ is added after rounding, in Scalar, like ease.cc's G.diagonal() += λ.
    for (int j = j0; j < j1; ++j) {
      if (owner(j, grid.nprow) != grid.myrow || owner(j, grid.npcol) != grid.mycol) continue;
      Scalar& diagonal = A.col(local_index(j, grid.npcol))[local_index(j, grid.nprow)];
      max_gram_diagonal = std::max(max_gram_diagonal, static_cast<double>(diagonal));
      diagonal += static_cast<Scalar>(lambda);
      max_diagonal = std::max(max_diagonal, std::abs(static_cast<double>(diagonal)));
    }
  }
  double local[2] = {max_diagonal, max_gram_diagonal}, global[2] = {0, 0};
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_MAX, comm);
  max_gram_diagonal = global[1];
  return global[0];
}

// The p-vector of f(A_jj) for the diagonal of a distributed matrix, on every rank (each entry has
// one owner, the others add zeros).
template <typename Result, typename Scalar, typename F>
std::vector<Result> diagonal(const ProcessGrid& grid, int p, LocalBlocks<Scalar>& A, MPI_Datatype type, F f,
                             MPI_Comm comm) {
  std::vector<Result> d(static_cast<size_t>(p), Result(0));
  for (int j = 0; j < p; ++j) {
    if (owner(j, grid.nprow) == grid.myrow && owner(j, grid.npcol) == grid.mycol) {
      d[j] = f(A.col(local_index(j, grid.npcol))[local_index(j, grid.nprow)]);
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, d.data(), p, type, MPI_SUM, comm);
  return d;
}

// ScaLAPACK's info agreed over all ranks: the largest, or the most negative if any is negative
// (an invalid argument: a bug here, not a property of the data).
int agreed_info(int info, const char* routine, MPI_Comm comm) {
  int extremes[2] = {info, -info};
  MPI_Allreduce(MPI_IN_PLACE, extremes, 2, MPI_INT, MPI_MAX, comm);
  if (extremes[1] > 0) throw Error(fmt::format("{}: argument {} is invalid", routine, extremes[1]));
  return extremes[0];
}

// An MPI-IO file, closed (collectively) by close() or, after an agreed failure, when it goes out
// of scope.
class File {
 public:
  File(MPI_Comm comm, const std::string& path) : comm_(comm), path_(path) {
    const int rc =
        MPI_File_open(comm, path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &handle_);
    if (rc != MPI_SUCCESS) handle_ = MPI_FILE_NULL;
    check(rc);
  }
  ~File() {
    if (handle_ != MPI_FILE_NULL) MPI_File_close(&handle_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  MPI_File handle() const { return handle_; }

  // Closing flushes: a full disk can show only here.
  void close() {
    const int rc = MPI_File_close(&handle_);
    handle_ = MPI_FILE_NULL;
    check(rc);
  }

  // The outcome of a step, agreed: if any rank failed, every rank throws the same Error, with the
  // message of the lowest failing rank (a rank throwing alone would leave the others waiting).
  void check(int rc) const {
    int rank = 0, size = 0;
    MPI_Comm_rank(comm_, &rank);
    MPI_Comm_size(comm_, &size);
    int first = rc == MPI_SUCCESS ? size : rank;
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm_);
    if (first == size) return;
    int failed = rc == MPI_SUCCESS ? 0 : 1;
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_SUM, comm_);
    char message[MPI_MAX_ERROR_STRING + 1] = {};
    if (rank == first) {
      int length = 0;
      MPI_Error_string(rc, message, &length);
    }
    MPI_Bcast(message, MPI_MAX_ERROR_STRING + 1, MPI_CHAR, first, comm_);
    message[MPI_MAX_ERROR_STRING] = '\0';
    const std::string where = failed < size ? fmt::format("rank {} of {}: ", first, size) : std::string();
    throw Error(fmt::format("{}cannot write '{}': {}", where, path_, message));
  }

 private:
  MPI_Comm comm_;
  std::string path_;
  MPI_File handle_ = MPI_FILE_NULL;
};

// The .npy of the distributed matrix, column-major ('fortran_order': True) as the single-process
// writer stores a p × p matrix: rank 0 writes the header, and a darray file view (the same
// block-cyclic layout, process grid row-major) puts every rank's local column-major array at its
// places in one collective write.
template <typename Scalar>
void write_distributed(const std::string& path, const ProcessGrid& grid, int p, LocalBlocks<Scalar>& A,
                       MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const std::string header =
      npy_header(Scalapack<Scalar>::npy_descr, {static_cast<size_t>(p), static_cast<size_t>(p)},
                 /*fortran_order=*/true);
  File file(comm, path);
  file.check(MPI_File_set_size(file.handle(), 0));
  int rc = MPI_SUCCESS;
  if (rank == 0) {
    MPI_Status status;
    rc = MPI_File_write_at(file.handle(), 0, header.data(), static_cast<int>(header.size()), MPI_CHAR,
                           &status);
  }
  file.check(rc);

  const MPI_Datatype element = Scalapack<Scalar>::type();
  const int sizes[2] = {p, p};
  const int distributions[2] = {MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_CYCLIC};
  const int blocks[2] = {kBlock, kBlock};
  const int grid_shape[2] = {grid.nprow, grid.npcol};
  MPI_Datatype view = MPI_DATATYPE_NULL;
  MPI_Type_create_darray(grid.nprow * grid.npcol, rank, 2, sizes, distributions, blocks, grid_shape,
                         MPI_ORDER_FORTRAN, element, &view);
  MPI_Type_commit(&view);
  // One local column as the unit of the write: a rank's share can pass 2³¹ elements, a count
  // cannot.
  MPI_Datatype column = MPI_DATATYPE_NULL;
  MPI_Type_contiguous(std::max(1, A.rows), element, &column);
  MPI_Type_commit(&column);
  rc = MPI_File_set_view(file.handle(), static_cast<MPI_Offset>(header.size()), element, view, "native",
                         MPI_INFO_NULL);
  if (rc == MPI_SUCCESS) {
    MPI_Status status;
    const int expected = A.rows > 0 ? A.columns : 0;
    // Each rank writes its own share (not MPI_File_write_all): Open MPI 4.1's OMPIO returns
    // MPI_SUCCESS for a write that failed (a full disk, a file size limit) and shows it only in
    // the count, and a collective write reports the full count on every rank even when the rank
    // that wrote for them failed. Measured no slower at p = 8,000 on 2 ranks (the weights
    // byte-identical).
    rc = MPI_File_write(file.handle(), A.data.data(), expected, column, &status);
    int written = 0;
    if (rc == MPI_SUCCESS && (MPI_Get_count(&status, column, &written) != MPI_SUCCESS || written != expected)) {
      rc = MPI_ERR_IO;
    }
  }
  MPI_Type_free(&column);
  MPI_Type_free(&view);
  file.check(rc);
  file.close();
}

template <typename Scalar>
void ease_on_grid(const SparseView& Y, const Vector& center, double lambda, MPI_Comm comm,
                  const std::string& path, const ProgressFn& progress) {
  using Library = Scalapack<Scalar>;
  const int p = static_cast<int>(Y.cols());
  const ProcessGrid grid(comm);
  // ScaLAPACK addresses a local array with 32-bit integers.
  const std::int64_t share =
      std::int64_t{owned(p, grid.myrow, grid.nprow)} * owned(p, grid.mycol, grid.npcol);
  if (any_rank(share > INT_MAX, comm)) {
    throw InvalidArgument(
        fmt::format("{} items on {} ranks: a rank's share of the {} × {} matrix passes ScaLAPACK's 2³¹ − 1 "
                    "entries; use more "
                    "ranks",
                    p, grid.nprow * grid.npcol, p, p));
  }
  // Whole rounds of nb over the process columns, so that every panel starts a round: its columns'
  // owners and local positions then follow from the layout's own formulas.
  const int round = kBlock * grid.npcol;
  const int panel_width = std::max(1, kPanelColumns / round) * round;

  LocalBlocks<Scalar> A(grid, p, p);
  double max_diagonal = 0, max_gram_diagonal = 0;
  {
    const LocalGram gram(Y, center);
    max_diagonal = accumulate(gram, grid, p, panel_width, lambda, A, max_gram_diagonal, comm);
  }
  // Whether any two items co-occur (an off-diagonal entry of XᵀX, in the lower triangle the
  // accumulation fills) and, at the end, whether any weight survived: ease.cc's refusal of a λ
  // whose weights all underflow, decided alike on every rank.
  const auto any_off_diagonal = [&](bool lower_only) {
    bool any = false;
    for (int c = 0; c < A.columns && !any; ++c) {
      const Index j = global_index(c, grid.mycol, grid.npcol);
      const Scalar* column = A.col(c);
      for (int r = 0; r < A.rows; ++r) {
        const Index i = global_index(r, grid.myrow, grid.nprow);
        if (column[r] != Scalar(0) && i != j && (!lower_only || i > j)) {
          any = true;
          break;
        }
      }
    }
    return any_rank(any, comm);
  };
  const bool cooccurring = any_off_diagonal(true);
  if (progress)
    progress(fmt::format("EASE: XᵀX + λI accumulated on a {} × {} process grid", grid.nprow, grid.npcol));

  // Cholesky with the single-process pivot bound (spd_inverse.h): every pivot L_jj² above
  // floor × max |diag(G + λI)|, checked on the agreed diagonal so every rank decides alike.
  interruption_point(comm);
  const int one = 1;
  int info = 0;
  Library::potrf("L", &p, A.data.data(), &one, &one, A.desc, &info, 1);
  if (agreed_info(info, "p?potrf", comm) > 0) throw ease_not_positive_definite<Scalar>(lambda);
  const std::vector<double> pivots = diagonal<double>(
      grid, p, A, MPI_DOUBLE, [](Scalar l) { return static_cast<double>(l * l); }, comm);
  const double floor = ease_pivot_floor<Scalar>() * max_diagonal;  // the bound of ease.h
  for (const double pivot : pivots) {
    if (!(pivot > floor) || !std::isfinite(pivot)) throw ease_not_positive_definite<Scalar>(lambda);
  }
  if (progress) progress("EASE: Cholesky factorisation done");

  interruption_point(comm);
  Library::potri("L", &p, A.data.data(), &one, &one, A.desc, &info, 1);
  if (agreed_info(info, "p?potri", comm) > 0) throw ease_not_positive_definite<Scalar>(lambda);
  if (progress) progress("EASE: inverse done");

  // MATH.md M3: W = I − P · dMat(1 / diag P), column j of P scaled by −1/P_jj with W_jj = 0.
  // P's upper triangle is filled panel by panel first: the strict upper part of columns j0..j1 is
  // the transpose of rows j0..j1 of the lower triangle, left of column j1. Panels go right to left,
  // so the rows a transpose reads lie in columns not yet scaled.
  const std::vector<Scalar> d = diagonal<Scalar>(
      grid, p, A, Library::type(), [](Scalar x) { return x; }, comm);
  LocalBlocks<Scalar> transposed(grid, p, panel_width);
  const Scalar alpha = 1, beta = 0;
  const int last_panel = (p - 1) / panel_width;
  for (int k = last_panel; k >= 0 && p > 0; --k) {
    interruption_point(comm);
    const int j0 = k * panel_width;
    const int j1 = std::min(p, j0 + panel_width);
    const int width = j1 - j0, first_row = j0 + 1;
    Library::tran(&j1, &width, &alpha, A.data.data(), &first_row, &one, A.desc, &beta, transposed.data.data(),
                  &one, &one, transposed.desc);
    const int first_column = owned(j0, grid.mycol, grid.npcol);
    const int my_columns = owned(j1, grid.mycol, grid.npcol) - first_column;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < my_columns; ++c) {
      const Index j = global_index(first_column + c, grid.mycol, grid.npcol);
      Scalar* column = A.col(first_column + c);
      std::copy_n(transposed.col(c), owned(static_cast<int>(j), grid.myrow, grid.nprow), column);
      const Scalar scale = -(Scalar(1) / d[static_cast<size_t>(j)]);
      for (int i = 0; i < A.rows; ++i) column[i] *= scale;
      if (owner(j, grid.nprow) == grid.myrow) column[local_index(j, grid.nprow)] = 0;
    }
  }
  if (cooccurring && !any_off_diagonal(false)) {
    throw ease_weights_underflow<Scalar>(lambda, max_gram_diagonal);
  }
  write_distributed(path, grid, p, A, comm);
}

}  // namespace

void ease_weights_distributed(const SparseView& Y_local, const Vector& center, double lambda, Dtype dtype,
                              MPI_Comm comm, const std::string& path, const Context& ctx,
                              const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  // The arguments agreed before any collective work, so a bad one stops every rank alike.
  std::int64_t columns[2] = {Y_local.cols(), -Y_local.cols()};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT64_T, MPI_MAX, comm);
  if (columns[0] != -columns[1]) {
    throw InvalidArgument(
        fmt::format("the ranks' rows have different column counts ({} to {})", -columns[1], columns[0]));
  }
  if (columns[0] > INT_MAX) {
    throw InvalidArgument(fmt::format("{} items: ScaLAPACK indexes at most 2³¹ − 1", columns[0]));
  }
  if (any_rank(center.size() != 0 && center.size() != Y_local.cols(), comm)) {
    throw InvalidArgument(
        fmt::format("the column centre must have 0 or {} entries on every rank", columns[0]));
  }
  if (dtype == Dtype::kFloat32) {
    ease_on_grid<float>(Y_local, center, lambda, comm, path, progress);
  } else {
    ease_on_grid<double>(Y_local, center, lambda, comm, path, progress);
  }
}

}  // namespace linsim::mpi
