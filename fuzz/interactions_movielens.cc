// read_interactions on MovieLens files: the format chosen by the file name (u.data) and, for
// comparison, Last.fm's user_artists.dat layout chosen by ReadOptions::format.
#include "fuzz_common.h"
#include "linsim/data/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linsim_fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("u.data");
  static const std::string ratings_dat = linsim_fuzz::link_as(path, "ratings.dat");
  static const std::string plain = linsim_fuzz::link_as(path, "plays.tsv");
  linsim_fuzz::write_file(path, data, size);
  // 1. u.data by name: movielens, tab-separated ratings, binarised.
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  // 2. ratings.dat by name ("::"), ratings kept, duplicates an error.
  linsim_fuzz::expect_library_errors([&] {
    ReadOptions o;
    o.binarize = false;
    o.strict = true;
    read_interactions(ratings_dat, o);
  });
  // 3. The format given explicitly: movielens, then lastfm (tab, header).
  linsim_fuzz::expect_library_errors([&] {
    ReadOptions o;
    o.format = InputFormat::kMovieLens;
    o.min_value = 4;
    read_interactions(plain, o);
  });
  linsim_fuzz::expect_library_errors([&] {
    ReadOptions o;
    o.format = InputFormat::kLastFm;
    read_interactions(plain, o);
  });
  return 0;
}
