// Process-wide set-up that only a program may do, once, early, before any linsim call starts
// threads. The library itself never changes the process environment, the allocator or a global
// thread count; the CLI calls this in main; the Python module leaves it to the user
// (linsim.configure_gemm()).
#pragma once

#include <string>

namespace linsim {

// Chooses the GEMM of the blocked kernels that spread fixed single-threaded tiles over threads
// (EASE's inverse, the all-items search, the block Krylov solver's restarts — and its
// reorthogonalisation, except for blocks of 4, 8 and 16 vectors in AVX-512 builds, which have
// kernels of their own — the products with DataMatrix's dense copy, the large dense products of
// linalg/products.h: projected similarities, scores, the cosine-trained model's), and with it the dense symmetric eigen-solver
// (LAPACK's dsyevr from the same OpenBLAS, else Eigen's):
// - OpenBLAS (libopenblas.so.0, loaded at run time: no build dependency) when it runs kernels for
//   this CPU. Debian's OpenBLAS misdetects some CPUs and falls back to its generic "Prescott"
//   kernels (4–6× slower), and it reads OPENBLAS_CORETYPE only while loading. So, when the variable
//   is unset, this sets it in the process environment from the CPU's own feature flags (AVX-512
//   F/BW/DQ/VL → SkylakeX; AVX2 + FMA → Haswell) before loading, and uses OpenBLAS (with one
//   OpenBLAS thread per call) only if it then reports that core, or the one the user set.
// - Otherwise Eigen's own GEMM. LINSIM_GEMM=eigen forces Eigen, and so does a process whose
//   allocations can be refused (allocations_refused_by, core/memory.h: ulimit -v or -d, a commit
//   limit), where OpenBLAS would retry a refused mapping of its work buffer for ever.
// Without this call the kernels use Eigen's GEMM. Calling it again changes nothing. Returns the
// description gemm_backend() reports.
std::string configure_gemm();

// The OpenBLAS core type this CPU should run, from its own feature flags (AVX-512 F/BW/DQ/VL →
// "SkylakeX"; AVX2 + FMA → "Haswell"; otherwise empty). For programs whose linked libraries load
// OpenBLAS before main() (linsim-mpi through ScaLAPACK): they set OPENBLAS_CORETYPE and start again.
std::string openblas_core_for_this_cpu();

// The GEMM in use: "openblas (SkylakeX)", or "eigen (why OpenBLAS is not used)".
std::string gemm_backend();

// Which of the library's large blocks are advised to take transparent huge pages
// (prefer_huge_pages, linsim/core/memory.h): kGathered (the default) the blocks the iterative
// solvers gather from at random rows, product after product; kAll those and every large block
// written once or streamed (the data's arrays, the Krylov basis, p × p matrices, arrays read from
// .npy); kOff none. Advice changes no result, only speed, and the system's own setting
// (/sys/kernel/mm/transparent_hugepage/enabled set to never) refuses it anyway. For the bulk
// blocks huge pages change the cost of the first touch, and that depends on the machine: where
// the guest's free memory goes back to the host (free page reporting: bench/README.md, "Huge pages
// by use"), a fresh huge page is faulted in 2 MB at a time from the host and costs up to ~15× the
// 4 KiB pages, which the kernel takes from its unreported small free blocks first; elsewhere
// (one VM of an earlier session) huge pages about halved it (3.1 GB in 2.2–3.2 s against 5.2–5.7
// s). The default is the setting that is never far off on either. The variant without an argument
// takes the setting from LINSIM_HUGE_PAGES (off, 0 or no: kOff; all, on, 1 or yes: kAll; unset,
// gathered or anything else: kGathered), as the linsim programs do in main. Both
// return the setting now in force; safe to call from any thread, takes effect for blocks
// allocated after it.
enum class HugePages { kOff = 0, kGathered = 1, kAll = 2 };  // the values name them in Python's binding
HugePages configure_huge_pages(HugePages setting);
HugePages configure_huge_pages();
HugePages huge_pages_setting();  // the setting in force

// Whether the library writes the .npy arrays of 4 MiB and more that it writes to files by path
// (a model directory's: EASE's weights, large embeddings) around the page cache, with O_DIRECT
// where the file system takes it: on unless a program turns it off. Either way the files hold the
// same bytes; direct writes skip copying every byte into fresh cache pages (on the AMD EPYC VM of
// bench/README.md, (b): 1.4 s instead of 10.7–11.3 s for 3.1 GB), but leave the file out of the
// cache for a program that reads it right after, and on a network file system may be slower. The
// variant without an argument takes the setting from LINSIM_DIRECT_WRITES (off, 0 or no turn it
// off), as the linsim programs do in main. Both return the setting now in force; safe to call from
// any thread, takes effect for files opened after it.
bool configure_direct_writes(bool wanted);
bool configure_direct_writes();

}  // namespace linsim
