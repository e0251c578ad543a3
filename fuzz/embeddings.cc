// read_embeddings on word2vec/GloVe text (and .npy, when the bytes start with its magic).
#include "fuzz_common.h"
#include "linsim/io/embedding_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("vectors.txt");
  linsim_fuzz::write_file(path, data, size);
  linsim_fuzz::expect_library_errors([&] { read_embeddings(path); });
  return 0;
}
