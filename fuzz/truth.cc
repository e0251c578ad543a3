// read_truth (audit ground truth): word pairs with scores and item clusters, with each of the
// kinds "auto", "pairs" and "clusters", against a small fixed vocabulary.
#include "fuzz_common.h"
#include "linsim/audit/audit.h"

namespace {

linsim::AuditInput vocabulary() {
  linsim::AuditInput in;
  for (const char* w : {"old", "new", "smart", "intelligent", "cat", "dog", "tiger", "car", "train", "love",
                        "sex", "money", "cash", "1", "2", "3", "10", "item", "a", "b"}) {
    in.item_ids.add(w);
  }
  in.items = linsim::Matrix::Zero(in.item_ids.size(), 2);
  return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linsim;
  static const std::string path = linsim_fuzz::scratch_path("truth.txt");
  static const AuditInput base = vocabulary();
  linsim_fuzz::write_file(path, data, size);
  for (const char* kind : {"auto", "pairs", "clusters"}) {
    AuditInput in = base;
    linsim_fuzz::expect_library_errors([&] { read_truth(path, kind, in); });
  }
  return 0;
}
