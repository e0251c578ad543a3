// read_interactions on MovieLens files: the format chosen by the file name (u.data), then one of
// ratings.dat by name, movielens by ReadOptions::format, or Last.fm's user_artists.dat layout by
// ReadOptions::format, chosen from the input's bytes (linsim_fuzz::pick).
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
  // u.data by name: movielens, tab-separated ratings, binarised.
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  ReadOptions o;
  std::string file = plain;
  switch (linsim_fuzz::pick(data, size, 3)) {
    case 0:  // ratings.dat by name ("::" expected), ratings kept, duplicates an error
      file = ratings_dat;
      o.binarize = false;
      o.strict = true;
      break;
    case 1:  // movielens given explicitly, with a minimum rating
      o.format = InputFormat::kMovieLens;
      o.min_value = 4;
      break;
    default:  // lastfm given explicitly (tab, header, play counts)
      o.format = InputFormat::kLastFm;
      break;
  }
  linsim_fuzz::expect_library_errors([&] { read_interactions(file, o); });
  return 0;
}
