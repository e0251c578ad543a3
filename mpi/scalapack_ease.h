// EASE (MATH.md M3) across MPI ranks on ScaLAPACK: XᵀX accumulated straight into a 2-D
// block-cyclic distribution, (XᵀX + λI)⁻¹ by Cholesky (p?potrf, p?potri), the diagonal
// constraint applied, and the weights written as one .npy.
#pragma once

#include <mpi.h>

#include <string>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/models/model.h"

namespace linsim::mpi {

// The EASE weights W = I − P dMat(1/diag P), P = (X_wᵀX_w + λI)⁻¹, of X_w = Y − 1mᵀ whose rows are
// spread over the ranks of `comm`: each rank passes its own rows Y_local (all p columns) and the
// same centre m (empty: none). Writes W to `path` as a p × p .npy in Fortran order, float64 or float32
// (dtype) — the bytes write_npy(path, ease_weights(G, λ)) writes in one process, up to rounding.
// Collective: every rank calls it; every rank throws the same InvalidArgument when XᵀX + λI is not
// positive definite (or has a pivot below the single-process bound of ease.h). Peak memory per
// rank ≈ p² · bytes / ranks (its block of XᵀX, inverted in place) plus two p × w panels in double.
// ScaLAPACK's BLAS (OpenBLAS on Debian) maps a work buffer of about 128 MiB on the calling
// thread's first call and, where the mapping is refused, retries for ever (0.3.21: linsim-mpi's
// EASE under ulimit -v hung in pdpotrf). Where allocations can be refused (allocations_refused_by,
// core/memory.h) this makes that first call now, after checking that kBlasBufferProbe bytes can be
// mapped: returns false, having called nothing, where they cannot. Elsewhere it does nothing.
constexpr double kBlasBufferProbe = 192.0 * (1 << 20);
bool map_blas_work_buffer();

void ease_weights_distributed(const SparseView& Y_local, const Vector& center, double lambda, Dtype dtype,
                              MPI_Comm comm, const std::string& path, const Context& ctx,
                              const ProgressFn& progress = {});

}  // namespace linsim::mpi
