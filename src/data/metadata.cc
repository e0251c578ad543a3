#include "linsim/data/metadata.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "line_reader.h"
#include "linsim/core/error.h"

namespace linsim {
namespace {

std::vector<std::string_view> split_on(std::string_view line, std::string_view sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t pos = line.find(sep, start);
    if (pos == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, pos - start));
    start = pos + sep.size();
  }
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

class Labeler {
 public:
  explicit Labeler(const IdMap& items) { out.labels.resize(static_cast<size_t>(items.size())); }
  int label(std::string_view name) {
    auto [it, added] = ids_.emplace(std::string(name), static_cast<int>(out.names.size()));
    if (added) out.names.emplace_back(name);
    return it->second;
  }
  void add(Index item, int label) {
    auto& set = out.labels[static_cast<size_t>(item)];
    if (std::find(set.begin(), set.end(), label) == set.end()) set.push_back(label);
  }
  ItemLabels out;

 private:
  std::map<std::string, int> ids_;
};

// ML-100K genres in the order of u.genre's flag columns.
constexpr const char* kMovieLens100kGenres[] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"};

}  // namespace

ItemLabels read_item_labels(const std::string& path, const IdMap& items) {
  const std::string name = std::filesystem::path(path).filename().string();
  detail::LineReader reader(path);
  Labeler labeler(items);
  std::string_view line;
  if (name == "u.item") {
    labeler.out.source = "MovieLens genres (u.item): items sharing a genre";
    while (reader.next(line)) {
      if (line.empty()) continue;
      const auto f = split_on(line, "|");
      if (f.size() != 5 + std::size(kMovieLens100kGenres)) {
        throw InputError(path, reader.line_number(), fmt::format("expected 24 '|'-separated fields, got {}", f.size()));
      }
      for (size_t g = 0; g < std::size(kMovieLens100kGenres); ++g) {
        if (f[5 + g] != "0" && f[5 + g] != "1") {
          throw InputError(path, reader.line_number(),
                           fmt::format("the flag of genre '{}' (field {}) is '{}', expected 0 or 1", kMovieLens100kGenres[g],
                                       6 + g, f[5 + g]));
        }
      }
      const auto item = items.find(f[0]);
      if (!item) continue;
      // Flag 0, "unknown", says the genre is not known: no label, as movies.dat's "(no genres
      // listed)" (two films that share it are not alike for it).
      for (size_t g = 1; g < std::size(kMovieLens100kGenres); ++g) {
        if (f[5 + g] == "1") labeler.add(*item, labeler.label(kMovieLens100kGenres[g]));
      }
    }
  } else if (name == "movies.dat" || name == "movies.csv") {
    const bool dat = name == "movies.dat";
    labeler.out.source = fmt::format("MovieLens genres ({}): items sharing a genre", name);
    while (reader.next(line)) {
      if (line.empty() || (!dat && reader.line_number() == 1)) continue;
      std::string_view id, genres;
      if (dat) {
        const auto f = split_on(line, "::");
        if (f.size() != 3) throw InputError(path, reader.line_number(), "expected 'id::title::genres'");
        id = f[0];
        genres = f[2];
      } else {  // movieId,title,genres with a possibly quoted title: genres follow the last comma
        const auto first = line.find(',');
        const auto last = line.rfind(',');
        if (first == std::string_view::npos || first == last) throw InputError(path, reader.line_number(), "expected 'movieId,title,genres'");
        id = line.substr(0, first);
        genres = line.substr(last + 1);
      }
      const auto item = items.find(id);
      if (!item) continue;
      for (std::string_view g : split_on(genres, "|")) {
        if (!g.empty() && g != "(no genres listed)") labeler.add(*item, labeler.label(g));
      }
    }
  } else if (name == "user_taggedartists.dat") {
    labeler.out.source = "Last.fm tags (user_taggedartists.dat): artists with the same most frequent tag";
    std::map<std::pair<Index, long>, long> counts;  // (artist, tag) -> assignments
    while (reader.next(line)) {
      if (line.empty() || reader.line_number() == 1) continue;
      const auto f = split_on(line, "\t");
      if (f.size() < 3) throw InputError(path, reader.line_number(), "expected 'userID<TAB>artistID<TAB>tagID...'");
      const auto item = items.find(f[1]);
      if (!item) continue;
      long tag = 0;
      const auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), tag);
      if (ec != std::errc() || end != f[2].data() + f[2].size()) {  // the whole field ("12x" too)
        throw InputError(path, reader.line_number(), fmt::format("tag id '{}' is not an integer", f[2]));
      }
      ++counts[{*item, tag}];
    }
    std::map<Index, std::pair<long, long>> best;  // artist -> (count, tag)
    for (const auto& [key, count] : counts) {
      auto& b = best[key.first];
      if (count > b.first) b = {count, key.second};  // ascending tag order: ties keep the lower id
    }
    for (const auto& [item, b] : best) labeler.add(item, labeler.label(fmt::format("tag{}", b.second)));
  } else {
    labeler.out.source = fmt::format("labels from {}: items sharing a label", name);
    while (reader.next(line)) {
      // Blank lines and '#' comments are skipped, as in interaction files (was: a line of blanks
      // was an error here).
      if (trim_blanks(line).empty() || line.front() == '#') continue;
      const auto f = split_on(line, "\t");
      if (reader.line_number() == 1 && f[0] == "item") continue;
      // Two fields exactly: a third was dropped without a word ("b<TAB>Y<TAB>X" lost X), where
      // several labels are written "Y|X".
      if (f.size() != 2) {
        throw InputError(path, reader.line_number(),
                         fmt::format("expected 'item<TAB>label[|label...]' (two tab-separated fields), got {} field{} in "
                                     "'{}'", f.size(), f.size() == 1 ? "" : "s", line));
      }
      // Blanks around an id or a label are not part of it, as in interaction files.
      const auto item = items.find(trim_blanks(f[0]));
      if (!item) continue;
      for (std::string_view l : split_on(f[1], "|")) {
        l = trim_blanks(l);
        if (!l.empty()) labeler.add(*item, labeler.label(l));
      }
    }
  }
  for (auto& set : labeler.out.labels) std::sort(set.begin(), set.end());
  return std::move(labeler.out);
}

}  // namespace linsim
