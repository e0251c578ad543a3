// The model directory: model.json (format version, options, input summary), the arrays as
// .npy, the id maps as TSV, and the training interactions (CSR as three .npy arrays). See
// docs/formats.md for the full specification.
#pragma once

#include <string>

#include "linsim/data/interaction_matrix.h"
#include "linsim/data/readers.h"
#include "linsim/io/atomic_output.h"
#include "linsim/models/model.h"

namespace linsim {

// Version 2 added weighting, sppmi and cosine models; version 1 directories are still read.
inline constexpr int kModelFormatVersion = 2;

struct ModelBundle {
  Model model;
  InteractionMatrix data;  // the training interactions with their id maps
  InputSummary input;
};

// A model whose users are spread over processes (linsim-mpi): their totals for model.json. The
// per-user files — user_embeddings.npy, user_ids.tsv, interactions_*.npy — and an EASE model's
// weights.npy are then written by the processes themselves, in the same format.
struct DistributedUsers {
  Index n_users = 0;
  Index nnz = 0;
  int processes = 1;
};

// Writes every file of the bundle into `out` (the caller commits); with `distributed`, all but
// the per-user files and the EASE weights (see DistributedUsers), and model.json records the
// number of processes.
void write_model_dir(AtomicDirectory& out, const ModelBundle& bundle, const DistributedUsers* distributed = nullptr);

// Reads a model directory written by write_model_dir; checks the format version and shapes.
ModelBundle read_model_dir(const std::string& dir);

// Reads ids one per line (index = line − 1); a repeated id is an InputError.
IdMap read_ids(const std::string& path);

// Writes ids one per line in index order; an id containing a tab or newline is an Error.
void write_ids(const std::string& path, const IdMap& ids);

// Whether a file of this name inside a model directory is part of the model (model.json, the
// .npy arrays, the id files): what no output beside a model may replace (check_distinct_paths).
bool model_dir_file(const std::string& name);

}  // namespace linsim
