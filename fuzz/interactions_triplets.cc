// read_interactions on triplet/TSV/CSV files (format detected from the content: separator,
// header, or a Matrix Market banner): with the default options, then with one of two other sets
// chosen from the input's bytes (linsim_fuzz::pick).
#include "fuzz_common.h"
#include "linsim/data/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linsim_fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("interactions.txt");
  static const IdMap known = [] {
    IdMap ids;
    for (const char* id : {"1", "2", "3", "4", "5", "a", "b", "item"}) ids.add(id);
    return ids;
  }();
  linsim_fuzz::write_file(path, data, size);
  // Defaults: everything detected.
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  ReadOptions o;
  const IdMap* items = nullptr;
  if (linsim_fuzz::pick(data, size, 2) == 0) {
    // Explicit triplets, duplicates an error (re-reads the file to name the lines), negatives
    // allowed, rare items dropped.
    o.format = InputFormat::kTriplets;
    o.strict = true;
    o.allow_negative = true;
    o.binarize = false;
    o.min_item_users = 2;
  } else {
    // Items mapped through a model's ids, a minimum value, no header.
    o.header = false;
    o.min_value = 0.5;
    items = &known;
  }
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, o, items); });
  return 0;
}
