// read_word_pairs and read_analogies (evaluate-words' benchmark files) on the same input.
#include "fuzz_common.h"
#include "linsim/evaluate/words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("pairs.txt");
  linsim_fuzz::write_file(path, data, size);
  linsim_fuzz::expect_library_errors([&] { read_word_pairs(path, "pairs"); });
  linsim_fuzz::expect_library_errors([&] { read_analogies(path); });
  return 0;
}
