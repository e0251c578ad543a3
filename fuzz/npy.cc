// The .npy readers: read_npy_matrix (float64 and float32 results) and read_npy_int64.
#include "fuzz_common.h"
#include "linsim/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("array.npy");
  linsim_fuzz::write_file(path, data, size);
  linsim_fuzz::expect_library_errors([&] { read_npy_matrix(path); });
  linsim_fuzz::expect_library_errors([&] { read_npy_matrix_float32(path); });
  linsim_fuzz::expect_library_errors([&] { read_npy_int64(path); });
  return 0;
}
