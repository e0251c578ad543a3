// read_interactions on gzip-compressed input: the fuzzer's bytes are gzipped here, so the same
// text parsers are reached through zlib (compression is detected from the content); then, chosen
// from the input's bytes, either the same gzip file under a MovieLens name or the raw bytes
// under the .gz name (a damaged stream when they start with gzip's magic).
#include <zlib.h>

#include <vector>

#include "fuzz_common.h"
#include "linsim/data/readers.h"

namespace {

std::vector<unsigned char> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    linsim_fuzz::harness_failure("deflateInit2", "");
  }
  std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) linsim_fuzz::harness_failure("deflate", "");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linsim_fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("interactions.gz");
  static const std::string movielens = linsim_fuzz::link_as(path, "u.data.gz");
  const std::vector<unsigned char> packed = gzip(data, size);
  linsim_fuzz::write_file(path, packed.data(), packed.size());
  // A generic name: triplets, or Matrix Market when the decompressed text has the banner.
  linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  if (linsim_fuzz::pick(data, size, 2) == 0) {
    // u.data.gz: the name without ".gz" selects movielens; duplicates an error.
    ReadOptions o;
    o.strict = true;
    linsim_fuzz::expect_library_errors([&] { read_interactions(movielens, o); });
  } else {
    // The raw bytes, not compressed, under the .gz name.
    linsim_fuzz::write_file(path, data, size);
    linsim_fuzz::expect_library_errors([&] { read_interactions(path, ReadOptions{}); });
  }
  return 0;
}
