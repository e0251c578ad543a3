#include "linsim/evaluate/words.h"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "../data/line_reader.h"
#include "linsim/core/error.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/text/tokenize.h"

namespace linsim {
namespace {

using nlohmann::json;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// The line as messages quote it: at most 80 bytes.
std::string excerpt(std::string_view line) {
  return line.size() <= 80 ? std::string(line) : std::string(line.substr(0, 77)) + "...";
}

// Fields split on `sep` (trimmed), or on runs of blanks when sep is ' '.
std::vector<std::string> split_fields(std::string_view line, char sep) {
  std::vector<std::string> fields;
  if (sep == ' ') {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_blank(line[i])) ++i;
      const size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      if (i > start) fields.emplace_back(line.substr(start, i - start));
    }
    return fields;
  }
  size_t start = 0;
  while (true) {
    const size_t at = line.find(sep, start);
    fields.emplace_back(
        trim(line.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return fields;
}

// The first field after the two words that reads as a number; -1 when none does.
std::ptrdiff_t score_field(const std::vector<std::string>& fields) {
  for (size_t i = 2; i < fields.size(); ++i) {
    if (detail::field_number(fields[i])) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

struct Line {
  std::int64_t number;
  std::string text;
  std::vector<std::string> fields;
};

// MEN's lemma form tags every word with its part of speech: "sun-n", "run-v", "happy-j", "fast-a".
bool has_pos_tag(const std::string& word) {
  if (word.size() < 3 || word[word.size() - 2] != '-') return false;
  const char tag = word.back();
  return tag == 'n' || tag == 'v' || tag == 'j' || tag == 'a';
}

json number_or_null(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

json analogy_json(const std::optional<AnalogyResult>& result, size_t section) {
  if (!result) return nullptr;
  const AnalogyCounts& c =
      section < result->sections.size() ? result->sections[section].second : result->overall;
  auto method = [&](Index correct) {
    return json{{"correct", correct},
                {"accuracy_covered", number_or_null(accuracy_covered(correct, c))},
                {"accuracy_all", number_or_null(accuracy_all(correct, c))}};
  };
  return {{"3cosadd", method(c.correct_add)}, {"3cosmul", method(c.correct_mul)}};
}

std::string coverage_text(Index covered, Index total) {
  return fmt::format("{}/{}", covered, total);
}

// "3CosAdd / 3CosMul" over the covered questions, or "n/a" without embeddings.
std::string analogy_cell(const std::optional<AnalogyResult>& result, size_t section) {
  if (!result) return "n/a";
  const AnalogyCounts& c =
      section < result->sections.size() ? result->sections[section].second : result->overall;
  return fmt::format("{} / {}", metric_text(accuracy_covered(c.correct_add, c), 3),
                     metric_text(accuracy_covered(c.correct_mul, c), 3));
}

std::string table_header(const std::vector<std::string>& measures, const char* first) {
  std::string header = fmt::format("| {} | coverage |", first);
  std::string rule = "|---|---|";
  for (const std::string& m : measures) {
    header += fmt::format(" {} |", m);
    rule += "---|";
  }
  return header + "\n" + rule + "\n";
}

}  // namespace

WordPairSet read_word_pairs(const std::string& path, const std::string& name) {
  detail::LineReader reader(path);
  std::vector<Line> lines;
  char sep = 0;
  std::string_view view;
  while (reader.next(view)) {
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (trim(view).empty() || trim(view).front() == '#') continue;
    if (sep == 0) {
      sep = view.find('\t') != std::string_view::npos  ? '\t'
            : view.find(',') != std::string_view::npos ? ','
                                                       : ' ';
    }
    lines.push_back({reader.line_number(), std::string(view), split_fields(view, sep)});
  }
  if (lines.empty())
    throw DataError(
        fmt::format("'{}' has no word pairs: no data lines (empty, or only comments and blank lines)", path));
  // A header has no number where the data has its score: the next line's score field, or in a
  // one-line file any field after the words. (WordSim's set1.tab names its rater columns "1",
  // "2", …, but not its score column.)
  bool header = false;
  if (lines.size() == 1) {
    header = score_field(lines[0].fields) < 0;
  } else {
    const std::ptrdiff_t at = score_field(lines[1].fields);
    header = at < 0 ? score_field(lines[0].fields) < 0
                    : static_cast<size_t>(at) >= lines[0].fields.size() ||
                          !detail::field_number(lines[0].fields[static_cast<size_t>(at)]);
  }
  WordPairSet set{name, path, {}};
  for (size_t i = header ? 1 : 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (line.fields.size() < 3) {
      throw InputError(
          path, line.number,
          fmt::format("expected two words and a score, got {} field{} ('{}')", line.fields.size(),
                      line.fields.size() == 1 ? "" : "s", excerpt(line.text)));
    }
    const std::ptrdiff_t at = score_field(line.fields);
    if (at < 0) {
      throw InputError(path, line.number,
                       fmt::format("no numeric score after the words ('{}')", excerpt(line.text)));
    }
    const std::string& field = line.fields[static_cast<size_t>(at)];
    const double score = *detail::field_number(field);
    if (!std::isfinite(score)) {
      throw InputError(path, line.number, fmt::format("score '{}' is not a finite number", field));
    }
    RatedPair pair{lowercase_word(line.fields[0]), lowercase_word(line.fields[1]), score, line.number};
    if (pair.first.empty() || pair.second.empty()) {
      throw InputError(path, line.number, fmt::format("a word is empty ('{}')", excerpt(line.text)));
    }
    set.pairs.push_back(std::move(pair));
  }
  if (set.pairs.empty()) throw DataError(fmt::format("'{}' has no word pairs: only a header line", path));
  const bool tagged = std::all_of(set.pairs.begin(), set.pairs.end(), [](const RatedPair& p) {
    return has_pos_tag(p.first) && has_pos_tag(p.second);
  });
  if (tagged) {
    for (RatedPair& p : set.pairs) {
      p.first.resize(p.first.size() - 2);
      p.second.resize(p.second.size() - 2);
    }
  }
  return set;
}

std::vector<AnalogyQuestion> read_analogies(const std::string& path) {
  detail::LineReader reader(path);
  std::vector<AnalogyQuestion> questions;
  std::string section;
  std::string_view view;
  while (reader.next(view)) {
    const std::string_view line = trim(view);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == ':') {
      section = std::string(trim(line.substr(1)));
      if (section.empty()) throw InputError(path, reader.line_number(), "a section line ':' without a name");
      continue;
    }
    const std::vector<std::string> words = split_fields(line, ' ');
    if (words.size() != 4) {
      throw InputError(path, reader.line_number(),
                       fmt::format("expected 4 words (a b c d: a is to b as c is to d), got {} ('{}')",
                                   words.size(), excerpt(line)));
    }
    AnalogyQuestion q{section, {}, reader.line_number()};
    for (size_t w = 0; w < 4; ++w) q.words[w] = lowercase_word(words[w]);
    questions.push_back(std::move(q));
  }
  if (questions.empty()) throw DataError(fmt::format("'{}' has no analogy questions", path));
  return questions;
}

WordIndex::WordIndex(const IdMap& rows) {
  word_of_row_.reserve(static_cast<size_t>(rows.size()));
  for (Index r = 0; r < rows.size(); ++r) {
    const Index form = forms_.add(lowercase_word(rows.id(r)));
    if (form == static_cast<Index>(first_row_.size())) first_row_.push_back(r);
    word_of_row_.push_back(first_row_[static_cast<size_t>(form)]);
  }
}

std::optional<Index> WordIndex::find(std::string_view word) const {
  const auto form = forms_.find(word);
  if (!form) return std::nullopt;
  return first_row_[static_cast<size_t>(*form)];
}

namespace {

void check_rows(const SimilaritySpace& space, const WordIndex& vocabulary) {
  if (space.size() != vocabulary.rows()) {
    throw InvalidArgument(fmt::format("the similarity space has {} rows, the vocabulary {} words",
                                      space.size(), vocabulary.rows()));
  }
}

}  // namespace

PairAgreement evaluate_pairs(const SimilaritySpace& space, const WordIndex& vocabulary,
                             const WordPairSet& set, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  check_rows(space, vocabulary);
  std::vector<std::pair<Index, Index>> rows;  // (first, second) of the covered pairs
  std::vector<double> human;
  for (const RatedPair& p : set.pairs) {
    const auto a = vocabulary.find(p.first), b = vocabulary.find(p.second);
    if (a && b) {
      rows.emplace_back(*a, *b);
      human.push_back(p.score);
    }
  }
  PairAgreement out{static_cast<Index>(set.pairs.size()), static_cast<Index>(rows.size()), std::nan("")};
  if (rows.empty()) return out;
  // Score each distinct first word once; the pairs in the order of their first word's query.
  std::vector<Index> queries;
  queries.reserve(rows.size());
  for (const auto& r : rows) queries.push_back(r.first);
  std::sort(queries.begin(), queries.end());
  queries.erase(std::unique(queries.begin(), queries.end()), queries.end());
  std::vector<size_t> order(rows.size());
  std::vector<size_t> query_of(rows.size());
  for (size_t t = 0; t < rows.size(); ++t) {
    order[t] = t;
    query_of[t] = static_cast<size_t>(std::lower_bound(queries.begin(), queries.end(), rows[t].first) -
                                      queries.begin());
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return query_of[a] < query_of[b]; });
  Vector similarity(static_cast<Index>(rows.size()));
  size_t next = 0;
  for_each_score_block(
      space, queries, [&](size_t first, const std::vector<Index>& block, const RowMatrix& scores) {
        for (; next < order.size() && query_of[order[next]] < first + block.size(); ++next) {
          const size_t t = order[next];
          similarity(static_cast<Index>(t)) = scores(static_cast<Index>(query_of[t] - first), rows[t].second);
        }
      });
  out.spearman =
      spearman(similarity, Eigen::Map<const Vector>(human.data(), static_cast<Index>(human.size())));
  return out;
}

double accuracy_covered(Index correct, const AnalogyCounts& counts) {
  return counts.covered > 0 ? static_cast<double>(correct) / static_cast<double>(counts.covered)
                            : std::nan("");
}

double accuracy_all(Index correct, const AnalogyCounts& counts) {
  return counts.total > 0 ? static_cast<double>(correct) / static_cast<double>(counts.total) : std::nan("");
}

AnalogyResult analogy_coverage(const WordIndex& vocabulary, const std::vector<AnalogyQuestion>& questions) {
  AnalogyResult result;
  std::map<std::string, size_t> section_index;
  for (const AnalogyQuestion& q : questions) {
    const auto [it, added] = section_index.emplace(q.section, result.sections.size());
    if (added) result.sections.emplace_back(q.section, AnalogyCounts{});
    AnalogyCounts& c = result.sections[it->second].second;
    const bool covered = std::all_of(q.words.begin(), q.words.end(),
                                     [&](const std::string& w) { return vocabulary.find(w).has_value(); });
    ++c.total;
    ++result.overall.total;
    if (covered) {
      ++c.covered;
      ++result.overall.covered;
    }
  }
  return result;
}

bool supports_analogies(const SimilaritySpace& space) {
  return space.dense_factors() != nullptr;
}

AnalogyResult evaluate_analogies(const SimilaritySpace& space, const WordIndex& vocabulary,
                                 const std::vector<AnalogyQuestion>& questions, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  if (!supports_analogies(space)) {
    throw InvalidArgument(
        "analogies need a space of embeddings (dot, cosine or projected on an embedding model)");
  }
  check_rows(space, vocabulary);
  AnalogyResult result = analogy_coverage(vocabulary, questions);
  std::map<std::string, size_t> section_index;
  for (size_t s = 0; s < result.sections.size(); ++s) section_index.emplace(result.sections[s].first, s);
  struct Covered {
    std::array<Index, 4> rows;  // a, b, c, d: the rows standing for the words
    size_t section;
  };
  std::vector<Covered> covered;
  for (const AnalogyQuestion& q : questions) {
    Covered c{{}, section_index.at(q.section)};
    bool all = true;
    for (size_t w = 0; w < 4 && all; ++w) {
      const auto row = vocabulary.find(q.words[w]);
      all = row.has_value();
      if (all) c.rows[w] = *row;
    }
    if (all) covered.push_back(c);
  }
  const Index n = space.size();
  const auto per_block = static_cast<size_t>(std::max<Index>(1, score_block_rows(n) / 3));
  constexpr double kEpsilon = 0.001;  // 3CosMul's guard against division by zero (Levy & Goldberg)
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  RowMatrix scores;
  std::vector<Index> queries;
  std::vector<Index> answer_add, answer_mul;
  for (size_t first = 0; first < covered.size(); first += per_block) {
    interruption_point();
    const size_t m = std::min(per_block, covered.size() - first);
    queries.assign(3 * m, 0);
    for (size_t i = 0; i < m; ++i) {
      for (size_t w = 0; w < 3; ++w) queries[w * m + i] = covered[first + i].rows[w];
    }
    space.score(queries, scores);
    answer_add.assign(m, -1);
    answer_mul.assign(m, -1);
#pragma omp parallel for schedule(dynamic, 1)
    for (Index i = 0; i < static_cast<Index>(m); ++i) {
      const auto& rows = covered[first + static_cast<size_t>(i)].rows;
      const double* sa = scores.row(i).data();
      const double* sb = scores.row(static_cast<Index>(m) + i).data();
      const double* sc = scores.row(2 * static_cast<Index>(m) + i).data();
      double best_add = kNone, best_mul = kNone;
      Index arg_add = -1, arg_mul = -1;
      for (Index d = 0; d < n; ++d) {
        const Index word = vocabulary.word_of(d);
        if (word == rows[0] || word == rows[1] || word == rows[2]) continue;
        // Strictly greater: of equal scores, the lower row wins.
        const double add = sb[d] - sa[d] + sc[d];
        if (add > best_add) {
          best_add = add;
          arg_add = d;
        }
        const double mul = 0.5 * (sb[d] + 1) * 0.5 * (sc[d] + 1) / (0.5 * (sa[d] + 1) + kEpsilon);
        if (mul > best_mul) {
          best_mul = mul;
          arg_mul = d;
        }
      }
      answer_add[static_cast<size_t>(i)] = arg_add;
      answer_mul[static_cast<size_t>(i)] = arg_mul;
    }
    for (size_t i = 0; i < m; ++i) {
      const Covered& q = covered[first + i];
      AnalogyCounts& section = result.sections[q.section].second;
      if (answer_add[i] >= 0 && vocabulary.word_of(answer_add[i]) == q.rows[3]) {
        ++section.correct_add;
        ++result.overall.correct_add;
      }
      if (answer_mul[i] >= 0 && vocabulary.word_of(answer_mul[i]) == q.rows[3]) {
        ++section.correct_mul;
        ++result.overall.correct_mul;
      }
    }
  }
  return result;
}

WordEvaluation evaluate_words(const IdMap& rows, const std::vector<std::string>& measures,
                              const WordSpaceFactory& make_space, const std::vector<WordPairSet>& sets,
                              const std::vector<AnalogyQuestion>* analogies,
                              const std::string& analogies_path, const Context& ctx,
                              const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const WordIndex vocabulary(rows);
  WordEvaluation ev;
  ev.vocabulary = rows.size();
  ev.measures = measures;
  for (const WordPairSet& set : sets) ev.pairs.push_back({set.name, set.path, 0, 0, {}});
  if (analogies)
    ev.analogies =
        WordEvaluation::AnalogyBenchmark{analogies_path, analogy_coverage(vocabulary, *analogies), {}};
  for (const std::string& measure : measures) {
    say(fmt::format("{} similarity", measure));
    const std::unique_ptr<SimilaritySpace> space = make_space(measure);
    for (size_t s = 0; s < sets.size(); ++s) {
      interruption_point();
      const PairAgreement a = evaluate_pairs(*space, vocabulary, sets[s], ctx);
      ev.pairs[s].total = a.total;
      ev.pairs[s].covered = a.covered;
      ev.pairs[s].spearman.push_back(a.spearman);
    }
    if (analogies) {
      if (supports_analogies(*space)) {
        say(fmt::format("{} analogies", measure));
        ev.analogies->results.emplace_back(evaluate_analogies(*space, vocabulary, *analogies, ctx));
      } else {
        ev.analogies->results.emplace_back(std::nullopt);
      }
    }
  }
  return ev;
}

json words_json(const WordEvaluation& ev) {
  json pairs = json::array();
  for (const auto& p : ev.pairs) {
    json rho = json::object();
    for (size_t m = 0; m < ev.measures.size(); ++m) rho[ev.measures[m]] = number_or_null(p.spearman[m]);
    pairs.push_back(
        {{"name", p.name}, {"path", p.path}, {"total", p.total}, {"covered", p.covered}, {"spearman", rho}});
  }
  json analogies = nullptr;
  if (ev.analogies) {
    const auto& a = *ev.analogies;
    auto by_measure = [&](size_t section) {
      json out = json::object();
      for (size_t m = 0; m < ev.measures.size(); ++m)
        out[ev.measures[m]] = analogy_json(a.results[m], section);
      return out;
    };
    json sections = json::array();
    for (size_t s = 0; s < a.coverage.sections.size(); ++s) {
      const auto& [name, c] = a.coverage.sections[s];
      sections.push_back(
          {{"name", name}, {"total", c.total}, {"covered", c.covered}, {"results", by_measure(s)}});
    }
    analogies = {{"path", a.path},
                 {"total", a.coverage.overall.total},
                 {"covered", a.coverage.overall.covered},
                 {"overall", by_measure(a.coverage.sections.size())},
                 {"sections", sections}};
  }
  return {{"source", {{"kind", ev.source_kind}, {"path", ev.source}}},
          {"vocabulary", ev.vocabulary},
          {"measures", ev.measures},
          {"pairs", pairs},
          {"analogies", analogies}};
}

std::string words_table(const WordEvaluation& ev) {
  std::string table = table_header(ev.measures, "benchmark");
  for (const auto& p : ev.pairs) {
    table += fmt::format("| {} | {} |", p.name, coverage_text(p.covered, p.total));
    for (double rho : p.spearman) table += fmt::format(" {} |", metric_text(rho, 3));
    table += "\n";
  }
  if (ev.analogies) {
    const auto& a = *ev.analogies;
    table += fmt::format("| analogies (3CosAdd / 3CosMul) | {} |",
                         coverage_text(a.coverage.overall.covered, a.coverage.overall.total));
    for (const auto& r : a.results)
      table += fmt::format(" {} |", analogy_cell(r, a.coverage.sections.size()));
    table += "\n";
  }
  table += fmt::format(
      "\nSpearman's rho between the human scores and each measure's similarity over the covered pairs "
      "(both words among the {} words of the vocabulary)",
      ev.vocabulary);
  table += ev.analogies
               ? "; analogies: accuracy over the questions whose 4 words are covered (n/a: the measure has "
                 "no embeddings).\n"
               : ".\n";
  return table;
}

std::string words_markdown(const WordEvaluation& ev) {
  std::string md =
      fmt::format("# Word benchmarks: {}\n\n{} `{}`, {} words.\n\n", ev.source,
                  ev.source_kind == "model" ? "Model directory" : "Vectors", ev.source, ev.vocabulary);
  md += words_table(ev);
  if (ev.analogies) {
    const auto& a = *ev.analogies;
    md += fmt::format(
        "\n## Analogies by section\n\n`{}`: 3CosAdd / 3CosMul accuracy over the covered questions.\n\n",
        a.path);
    md += table_header(ev.measures, "section");
    for (size_t s = 0; s <= a.coverage.sections.size(); ++s) {
      const bool all = s == a.coverage.sections.size();
      const AnalogyCounts& c = all ? a.coverage.overall : a.coverage.sections[s].second;
      const std::string name = all                                    ? "**all**"
                               : a.coverage.sections[s].first.empty() ? "(none)"
                                                                      : a.coverage.sections[s].first;
      md += fmt::format("| {} | {} |", name, coverage_text(c.covered, c.total));
      for (const auto& r : a.results) md += fmt::format(" {} |", analogy_cell(r, s));
      md += "\n";
    }
    md += "\nAccuracy over all questions (uncovered ones counted wrong), 3CosAdd / 3CosMul:";
    for (size_t m = 0; m < ev.measures.size(); ++m) {
      const auto& r = a.results[m];
      md += fmt::format(
          " {} {}{}", ev.measures[m],
          r ? fmt::format("{} / {}", metric_text(accuracy_all(r->overall.correct_add, r->overall), 3),
                          metric_text(accuracy_all(r->overall.correct_mul, r->overall), 3))
            : std::string("n/a"),
          m + 1 < ev.measures.size() ? ";" : ".\n");
    }
  }
  return md;
}

}  // namespace linsim
