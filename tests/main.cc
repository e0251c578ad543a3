// The test program's set-up is the CLI's: the GEMM backend is chosen once, before any test runs
// (linsim/core/setup.h), so the kernel tests run on the backend users get.
#include <gtest/gtest.h>

#include "linsim/core/setup.h"

int main(int argc, char** argv) {
  linsim::configure_gemm();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
