// The text corpus of `linsim cooccur` / `tokenize`: tokens, vocabulary and co-occurrence counts of
// the input as one file, with parts of a few bytes (so part boundaries fall everywhere), every
// window boundary, and invalid UTF-8 both refused and read as Latin-1. The counts must be
// symmetric (each unordered pair once, then its mirror), and, without subsampling (whose draws
// follow the parts), equal to those of the same text read as one part: the same words, the same
// counts for each pair, and the same error if any.
#include <map>
#include <string>
#include <utility>

#include "fuzz_common.h"
#include "linsim/text/cooccur.h"

namespace {

using namespace linsim;
using PairCounts = std::map<std::pair<std::string, std::string>, std::uint64_t>;

// The counts of every pair of words, by the words themselves (each part size numbers words alike,
// but the oracle should not rely on it), or the library's error message.
std::string counted(const std::vector<CorpusFile>& files, CooccurOptions o, std::uint64_t part_bytes,
                    PairCounts& pairs, std::int64_t& tokens) {
  o.part_bytes = part_bytes;
  Context ctx;
  ctx.threads = 1;
  try {
    const Vocabulary v = count_vocabulary(files, o, ctx);
    tokens = v.tokens;
    if (v.words.empty()) return "";
    count_cooccurrences(files, v, o, ctx, [&](std::int32_t w, std::int32_t c, std::uint64_t units) {
      pairs[{v.words[static_cast<size_t>(w)], v.words[static_cast<size_t>(c)]}] += units;
    });
    return "";
  } catch (const Error& e) {
    return e.what();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = linsim_fuzz::scratch_path("corpus.txt");
  linsim_fuzz::write_file(path, data, size);
  const std::vector<CorpusFile> files = {{path, "corpus.txt"}};
  Context ctx;
  ctx.threads = 1;
  for (const TextBoundary boundary : {TextBoundary::kParagraph, TextBoundary::kLine, TextBoundary::kFile}) {
    for (const bool latin1 : {false, true}) {
      CooccurOptions o;
      o.boundary = boundary;
      o.latin1_fallback = latin1;
      o.min_count = 1;
      o.window = 3;
      o.weight = DistanceWeight::kHarmonic;
      o.subsample = 0.01;
      o.part_bytes = 7;
      o.memory_bytes = std::size_t{1} << 20;
      o.spill_dir = linsim_fuzz::scratch_dir();
      linsim_fuzz::expect_library_errors([&] {
        std::int64_t tokens = 0;
        for_each_token(files, o, [&](std::string_view) { ++tokens; }, [] {});
        const Vocabulary v = count_vocabulary(files, o, ctx);
        if (v.tokens != tokens) linsim_fuzz::harness_failure("token counts differ", std::to_string(tokens));
        if (v.words.empty()) return;
        std::int64_t previous = -1;
        bool mirror_due = false;
        std::int32_t last_w = 0, last_c = 0;
        std::uint64_t last_units = 0;
        count_cooccurrences(files, v, o, ctx, [&](std::int32_t w, std::int32_t c, std::uint64_t units) {
          if (mirror_due) {
            if (w != last_c || c != last_w) linsim_fuzz::harness_failure("mirror entry missing", "");
            if (units != last_units) {
              linsim_fuzz::harness_failure("mirror entry's count differs",
                                           std::to_string(units) + " against " + std::to_string(last_units));
            }
            mirror_due = false;
            return;
          }
          const std::int64_t key = (static_cast<std::int64_t>(w) << 32) | c;
          if (w > c || key <= previous) linsim_fuzz::harness_failure("pairs out of order", "");
          previous = key;
          mirror_due = w != c;
          last_w = w;
          last_c = c;
          last_units = units;
        });
        if (mirror_due) linsim_fuzz::harness_failure("last mirror entry missing", "");
      });
      // Parts of 7 bytes against one part, no subsampling, runs merged two at a time.
      o.subsample = 0;
      o.merge_fan_in = 2;
      PairCounts in_parts, whole;
      std::int64_t tokens_in_parts = -1, tokens_whole = -1;
      const std::string parts_error = counted(files, o, 7, in_parts, tokens_in_parts);
      const std::string whole_error = counted(files, o, std::uint64_t{1} << 40, whole, tokens_whole);
      if (parts_error != whole_error) {
        linsim_fuzz::harness_failure("parts of 7 bytes and one part end differently",
                                     "'" + parts_error + "' against '" + whole_error + "'");
      }
      if (tokens_in_parts != tokens_whole || in_parts != whole) {
        linsim_fuzz::harness_failure("parts of 7 bytes and one part count differently",
                                     std::to_string(tokens_in_parts) + " tokens against " + std::to_string(tokens_whole));
      }
    }
  }
  return 0;
}
