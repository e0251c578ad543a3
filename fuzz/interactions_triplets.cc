// read_interactions on triplet/TSV/CSV files (format detected from the content: separator,
// header, or a Matrix Market banner), under three sets of options.
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
  // 1. Defaults: everything detected.
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  // 2. Explicit triplets, duplicates are an error (re-reads the file to name the lines),
  //    negatives allowed, rare items dropped.
  linsim_fuzz::expect_library_errors([&] {
    ReadOptions o;
    o.format = InputFormat::kTriplets;
    o.strict = true;
    o.allow_negative = true;
    o.binarize = false;
    o.min_item_users = 2;
    read_interactions(path, o);
  });
  // 3. Items mapped through a model's ids, a minimum value, no header.
  linsim_fuzz::expect_library_errors([&] {
    ReadOptions o;
    o.header = false;
    o.min_value = 0.5;
    read_interactions(path, o, &known);
  });
  return 0;
}
