// read_interactions on Matrix Market coordinate files (.mtx, chosen by the file name): with the
// default options, then with one of two other sets chosen from the input's bytes.
#include "fuzz_common.h"
#include "linsim/data/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linsim_fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("matrix.mtx");
  static const IdMap known = [] {
    IdMap ids;
    for (const char* id : {"1", "2", "3", "4"}) ids.add(id);
    return ids;
  }();
  linsim_fuzz::write_file(path, data, size);
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  ReadOptions o;
  const IdMap* items = nullptr;
  if (linsim_fuzz::pick(data, size, 2) == 0) {
    // Duplicates an error (re-reads the file), negatives allowed, rare items dropped.
    o.strict = true;
    o.allow_negative = true;
    o.min_item_users = 2;
  } else {
    // Columns mapped through a model's item ids.
    o.format = InputFormat::kMatrixMarket;
    o.binarize = true;
    items = &known;
  }
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, o, items); });
  return 0;
}
