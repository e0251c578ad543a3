// linsim-mpi --stats: what each rank spent (stats.cc).
#pragma once

namespace linsim::mpi {

// Seconds this rank has spent inside MPI's communication and file calls so far (those of
// linsim-mpi and of ScaLAPACK).
double seconds_inside_mpi();

}  // namespace linsim::mpi
