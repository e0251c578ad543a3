// read_interactions' reading on several threads against its reading in one piece: the same file,
// cut into byte ranges of any size on five threads, with chunks of two parsed entries and both
// row sorts (by rank for rows of up to three entries, std::sort beyond), must give the same
// matrix, ids and summary, or the same error message. The other interaction targets run on one
// thread, where a file is read in one piece (ranges start at 4 MiB), so they never reach the
// ranges' joins, the per-range id tables or entries that span chunks.
#include <omp.h>

#include <string>

#include "../src/data/shared_reading.h"
#include "fuzz_common.h"
#include "linsim/data/readers.h"

namespace {

using namespace linsim;

// Everything a reading returns, as text: two readings agree when their texts do.
std::string described(const ReadResult& r) {
  const InputSummary& s = r.summary;
  std::string out = s.separator + "|" + std::to_string(s.header) + "|" + std::to_string(s.lines) + "|" +
                    std::to_string(s.dropped_below_min) + "|" + std::to_string(s.dropped_zero) + "|" +
                    std::to_string(s.users_without_entries) + "|" + std::to_string(s.duplicates) + "|" +
                    std::to_string(s.commented_data_lines) + "|" + s.first_commented_data_file + ":" +
                    std::to_string(s.first_commented_data_line) + "\nusers:";
  for (const auto& id : r.data.users.ids()) out += id + "\x1f";
  out += "\nitems:";
  for (const auto& id : r.data.items.ids()) out += id + "\x1f";
  out += "\nentries:";
  const SparseMatrix& X = r.data.X;
  for (Index u = 0; u < X.outerSize(); ++u) {
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) {
      out += std::to_string(u) + ":" + std::to_string(it.col()) + "=" + std::to_string(it.value()) + " ";
    }
  }
  return out;
}

// The result of `read` as text, or the library's error (its class and message) as text; any other
// exception is a finding.
template <typename Fn>
std::string outcome(Fn&& read) {
  try {
    return "read " + described(read());
  } catch (const InputError& e) {
    return "input error " + e.file() + ":" + std::to_string(e.line()) + " " + e.what();
  } catch (const DataError& e) {
    return std::string("data error ") + e.what();
  } catch (const Error& e) {
    return std::string("error ") + e.what();
  } catch (const InvalidArgument& e) {
    return std::string("invalid argument ") + e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = linsim_fuzz::scratch_path("interactions.txt");
  linsim_fuzz::write_file(path, data, size);
  ReadOptions options;
  switch (linsim_fuzz::pick(data, size, 4)) {
    case 1:  // duplicates an error, named by their lines (a second reading), negatives allowed
      options.strict = true;
      options.allow_negative = true;
      options.binarize = false;
      break;
    case 2:
      options.min_value = 0.5;
      break;
    case 3:
      options.header = false;
      options.allow_negative = true;
      break;
    default:
      break;
  }
  detail::SharedReading whole;
  whole.min_bytes_per_range = std::int64_t{1} << 40;
  detail::SharedReading cut;
  cut.min_bytes_per_range = 1;
  cut.cap_at_cores = false;
  cut.chunk_entries = 2;
  cut.rank_sort_max = 3;
  omp_set_num_threads(1);
  const std::string one = outcome([&] { return detail::read_interactions_shared(path, options, nullptr, whole); });
  omp_set_num_threads(5);
  int ranges = 0;
  const std::string many =
      outcome([&] { return detail::read_interactions_shared(path, options, nullptr, cut, &ranges); });
  omp_set_num_threads(1);
  if (one != many) {
    const std::string what = "the reading in " + std::to_string(ranges) + " ranges differs from the one-piece reading";
    linsim_fuzz::harness_failure(what.c_str(), "one piece:\n" + one + "\nin ranges:\n" + many);
  }
  return 0;
}
