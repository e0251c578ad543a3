// Passes over the dense symmetric p × p matrices of the Gram route and EASE. At p = 19,778 such a
// matrix holds 3.1 GB in double, so a single-threaded or cache-hostile pass over it costs seconds.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// Copies the strictly lower triangle of the square A onto the strictly upper one. Tile by tile
// (256 × 256, each a transposed copy that stays in cache), spread over the OpenMP threads: copying
// column by column instead reads the lower triangle along rows, one page per element (6 s on one
// core at p = 19,778 in float, against ~0.3 s).
template <typename Scalar>
void mirror_lower(MatrixOf<Scalar>& A);

}  // namespace linsim
