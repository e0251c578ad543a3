// Item labels from metadata, for judging similarities against what is known about the items
// (MATH.md M7). Items are mapped through the model's item ids; items the file does not label
// get an empty label set.
#pragma once

#include <string>
#include <vector>

#include "linsim/data/interaction_matrix.h"

namespace linsim {

// The labels of each item (non-negative label ids; an empty set: the item is unlabelled).
using LabelSets = std::vector<std::vector<int>>;

struct ItemLabels {
  LabelSets labels;                  // per item of the IdMap
  std::vector<std::string> names;    // label id -> name
  std::string source;                // how the labels were derived
};

// Detects the file by name: MovieLens `u.item` (genre flags) or `movies.dat`/`movies.csv`
// (genres "A|B"): every genre is a label; Last.fm `user_taggedartists.dat`: each artist's most
// frequently assigned tag (ties: the lower tag id) is its one label; anything else: lines
// "item<TAB>label[|label...]" (header allowed when it starts with "item").
ItemLabels read_item_labels(const std::string& path, const IdMap& items);

}  // namespace linsim
