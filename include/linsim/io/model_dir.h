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

// Writes every file of the bundle into `out` (the caller commits).
void write_model_dir(AtomicDirectory& out, const ModelBundle& bundle);

// Reads a model directory written by write_model_dir; checks the format version and shapes.
ModelBundle read_model_dir(const std::string& dir);

// Reads ids one per line (index = line − 1); a repeated id is an InputError.
IdMap read_ids(const std::string& path);

// Writes ids one per line in index order; an id containing a tab or newline is an Error.
void write_ids(const std::string& path, const IdMap& ids);

}  // namespace linsim
