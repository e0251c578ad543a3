#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "linsim/audit/audit.h"
#include "linsim/core/error.h"
#include "../data/line_reader.h"

namespace linsim {
namespace {

std::vector<std::string> split(std::string_view line, char sep) {
  std::vector<std::string> out;
  if (sep == ' ') {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      const size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) out.emplace_back(line.substr(start, i - start));
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    const size_t at = line.find(sep, start);
    std::string f(line.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    while (!f.empty() && (f.back() == '\r' || f.back() == ' ')) f.pop_back();
    out.push_back(f);
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

// Whether `s` reads as a number (detail::field_number), with its value in `v`.
bool number(const std::string& s, double& v) {
  const std::optional<double> value = detail::field_number(s);
  if (value) v = *value;
  return value.has_value();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<Index> find_id(const IdMap& ids, const std::string& id) {
  if (auto i = ids.find(id)) return i;
  return ids.find(lower(id));
}

// Whether any line after the first gives `label` as an item's cluster.
bool label_elsewhere(const std::vector<std::pair<std::int64_t, std::vector<std::string>>>& rows,
                     const std::string& label) {
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].second.size() >= 2 && rows[r].second[1] == label) return true;
  }
  return false;
}

}  // namespace

void read_truth(const std::string& path, const std::string& kind, AuditInput& in) {
  if (kind != "auto" && kind != "clusters" && kind != "pairs") {
    throw InvalidArgument(fmt::format("unknown --truth-kind '{}' (valid: auto, clusters, pairs)", kind));
  }
  detail::LineReader reader(path);
  std::string_view view;
  std::vector<std::pair<std::int64_t, std::vector<std::string>>> rows;
  char sep = 0;
  while (reader.next(view)) {
    if (view.empty() || view[0] == '#') continue;
    if (sep == 0) sep = view.find('\t') != std::string_view::npos ? '\t' : view.find(',') != std::string_view::npos ? ',' : ' ';
    auto fields = split(view, sep);
    if (fields.empty() || (fields.size() == 1 && fields[0].empty())) continue;
    rows.emplace_back(reader.line_number(), std::move(fields));
  }
  if (rows.empty()) throw DataError(fmt::format("'{}' has no truth lines", path));
  const auto& first = rows.front().second;
  bool header_names_cluster = false, header_names_score = false;
  size_t score_col = 2;
  for (size_t c = 0; c < first.size(); ++c) {
    const std::string h = lower(first[c]);
    if (h.find("cluster") != std::string::npos || h == "label") header_names_cluster = true;
    if (h == "simlex999" || h == "score") score_col = c;
    if (h == "simlex999" || h == "score" || h.find("human") != std::string::npos) header_names_score = true;
  }
  std::string resolved = kind;
  if (resolved == "auto") resolved = header_names_cluster ? "clusters" : header_names_score ? "pairs" : "";
  if (resolved.empty()) {
    // No header says which. By content: lines of two fields, a second field with very few values
    // (at most a tenth of the lines), or integers with at most half as many values as lines
    // (`simulate --truth` without its header: item, cluster, popularity), are clusters; a number
    // after the two words on most lines makes pairs; else a
    // second field with at most half as many values as lines is a cluster label. A file that is
    // none of these is refused, not guessed (a pair file whose scores do not read as numbers,
    // "6,77", was read as clusters, each word's label the word beside it).
    const size_t data = rows.size() > 1 ? rows.size() - 1 : rows.size();  // without a possible header
    size_t scored = 0, two_fields = 0;
    bool integer_second = true;  // every second field an integer: cluster numbers, never words
    std::map<std::string, int> second;
    for (size_t r = rows.size() - data; r < rows.size(); ++r) {
      const auto& f = rows[r].second;
      double v = 0;
      if (f.size() == 2) ++two_fields;
      if (f.size() > score_col && number(f[score_col], v)) ++scored;
      if (f.size() >= 2) second.emplace(f[1], 0);
      std::int64_t label = 0;
      if (f.size() < 2 ||
          std::from_chars(f[1].data(), f[1].data() + f[1].size(), label).ptr != f[1].data() + f[1].size() ||
          f[1].empty()) {
        integer_second = false;
      }
    }
    if (two_fields == data || 10 * second.size() <= data || (integer_second && 2 * second.size() <= data)) {
      resolved = "clusters";  // two fields, very few labels, or few integer labels: not words of pairs
    } else if (2 * scored > data) {
      resolved = "pairs";
    } else if (2 * second.size() <= data) {
      resolved = "clusters";
    } else {
      throw InputError(path, rows[rows.size() - data].first,
                       "cannot tell whether this file holds item clusters (item, cluster) or word pairs (word1, "
                       "word2, score): its third field is not a number on most lines, and its second field takes "
                       "too many values for cluster labels; pass --truth-kind clusters or pairs");
    }
  }
  const IdMap& ids = in.item_ids;
  Index unknown = 0, labelled = 0;
  if (resolved == "clusters") {
    in.clusters.assign(static_cast<size_t>(ids.size()), -1);
    std::vector<std::int64_t> given_on(static_cast<size_t>(ids.size()), 0);  // the line of each item's cluster
    std::map<std::string, int> label_index;
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& [line, f] = rows[r];
      if (f.size() < 2) throw InputError(path, line, "expected an item and its cluster");
      const auto item = find_id(ids, f[0]);
      // A header: a first line whose item is not among the embeddings, or that names a cluster
      // column as the kind's detection reads it (a field with "cluster" in it, or "label") with a
      // second field no other line uses as a label (an item column named "word" or "item" is also
      // a common id: it was read as that id's cluster, named "cluster").
      if (r == 0 && (!item || (header_names_cluster && !label_elsewhere(rows, f[1])))) continue;
      if (!item) {
        ++unknown;
        continue;
      }
      const auto [it, added] = label_index.emplace(f[1], static_cast<int>(label_index.size()));
      int& cluster = in.clusters[static_cast<size_t>(*item)];
      if (cluster >= 0 && cluster != it->second) {
        // One cluster per item: a second, different one is a mistake in the file, not an update.
        std::string earlier;
        for (const auto& [label, index] : label_index) {
          if (index == cluster) earlier = label;
        }
        throw InputError(path, line, fmt::format("item '{}' is in cluster '{}' here and in cluster '{}' on line {}",
                                                 f[0], f[1], earlier, given_on[static_cast<size_t>(*item)]));
      }
      if (cluster < 0) ++labelled;
      cluster = it->second;
      given_on[static_cast<size_t>(*item)] = static_cast<std::int64_t>(line);
    }
    if (label_index.empty()) throw DataError(fmt::format("'{}': no item of the embeddings has a cluster", path));
    if (unknown > 0) {
      in.notes.push_back(fmt::format("{} of the {} items in '{}' are not among the embeddings: the AUC covers the other {}",
                                     unknown, unknown + labelled, path, labelled));
    }
    return;
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& [line, f] = rows[r];
    double score = 0;
    if (f.size() <= std::max<size_t>(score_col, 1) || !number(f[score_col], score)) {
      if (r == 0) continue;  // a header
      throw InputError(path, line, fmt::format("expected word1, word2 and a numeric score in field {}", score_col + 1));
    }
    if (!std::isfinite(score)) {
      throw InputError(path, line, fmt::format("score '{}' of the pair '{}', '{}' is not a finite number", f[score_col],
                                               f[0], f[1]));
    }
    ++in.pairs_in_file;
    const auto a = find_id(ids, f[0]), b = find_id(ids, f[1]);
    if (a && b) in.pairs.push_back({*a, *b, score});
  }
  if (in.pairs_in_file == 0) throw DataError(fmt::format("'{}' has no scored pairs", path));
  const auto found = static_cast<Index>(in.pairs.size());
  if (found < 3) {
    throw DataError(fmt::format("'{}': {} of its {} pairs have both words among the {} embeddings (words are matched "
                            "exactly, then lower-cased); a Spearman correlation needs at least 3",
                            path, found == 0 ? std::string("none") : std::string("only ") + std::to_string(found),
                            in.pairs_in_file, ids.size()));
  }
  if (found < in.pairs_in_file) {
    in.notes.push_back(fmt::format("only {} of the {} pairs in '{}' ({:.0f} %) have both words among the embeddings: "
                                   "the Spearman correlations cover those pairs alone", found, in.pairs_in_file, path,
                                   100.0 * static_cast<double>(found) / static_cast<double>(in.pairs_in_file)));
  }
}

}  // namespace linsim
