// linsim-mpi's all-rows searches (cmd_neighbors.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "communicator.h"

namespace linsim::mpi {

// similar-items, similar-users and recommend, each with --all.
void add_neighbor_commands(CLI::App& app, const MpiCommunicator& comm);

}  // namespace linsim::mpi
