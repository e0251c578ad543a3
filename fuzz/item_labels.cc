// read_item_labels: the same bytes under each name that selects a format (u.item, movies.dat,
// movies.csv, user_taggedartists.dat) and under a generic name ("item<TAB>labels" lines).
#include "fuzz_common.h"
#include "linsim/data/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("labels.tsv");
  static const std::string names[] = {
      linsim_fuzz::link_as(path, "u.item"), linsim_fuzz::link_as(path, "movies.dat"),
      linsim_fuzz::link_as(path, "movies.csv"), linsim_fuzz::link_as(path, "user_taggedartists.dat"), path};
  static const IdMap items = [] {
    IdMap ids;
    for (const char* id : {"1", "2", "3", "4", "5", "10", "51", "52", "100", "289", "item", "a"}) ids.add(id);
    return ids;
  }();
  linsim_fuzz::write_file(path, data, size);
  for (const std::string& name : names) {
    linsim_fuzz::expect_library_errors([&] { read_item_labels(name, items); });
  }
  return 0;
}
