// Reading every supported input format, and the errors for bad input (file, line, text).
#include <gtest/gtest.h>
#include <unistd.h>
#include <omp.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "test_util.h"
#include "data/line_reader.h"
#include "data/shared_reading.h"
#include "linsim/core/error.h"
#include "linsim/data/readers.h"

namespace linsim {
namespace {
namespace fs = std::filesystem;

class Readers : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = linsim::test::make_temp_dir();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string write_gz(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
    return path;
  }
  // The message of the exception read_interactions throws.
  std::string error_of(const std::string& path, const ReadOptions& o = {}) {
    try {
      read_interactions(path, o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }
  double at(const InteractionMatrix& d, const std::string& u, const std::string& i) {
    return d.X.coeff(*d.users.find(u), *d.items.find(i));
  }

  fs::path dir_;
};

// Moving an InteractionMatrix hands over X's arrays (Eigen 3.4's SparseMatrix alone would copy
// them, and the read matrix is moved twice on its way to a fit).
TEST_F(Readers, MovedDataKeepsItsArrays) {
  InteractionMatrix read = read_interactions(write("m.tsv", "u1\ti1\t2\nu2\ti2\t3\nu2\ti1\t1\n"), {}).data;
  const double* values = read.X.valuePtr();
  const int* columns = read.X.innerIndexPtr();
  InteractionMatrix moved(std::move(read));
  EXPECT_EQ(moved.X.valuePtr(), values);
  InteractionMatrix assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.X.valuePtr(), values);
  EXPECT_EQ(assigned.X.innerIndexPtr(), columns);
  EXPECT_EQ(assigned.nnz(), 3);
  EXPECT_EQ(at(assigned, "u2", "i1"), 1.0);
  EXPECT_EQ(assigned.users.size(), 2);
  const InteractionMatrix copy = assigned;  // copies still copy
  EXPECT_NE(copy.X.valuePtr(), values);
  EXPECT_EQ(at(copy, "u1", "i1"), 2.0);
}

TEST_F(Readers, TabTripletsWithoutHeader) {
  const auto r = read_interactions(write("a.tsv", "1\t10\t3\n1\t11\t5\n2\t10\t1\n"), {});
  EXPECT_EQ(r.data.n_users(), 2);
  EXPECT_EQ(r.data.n_items(), 2);
  EXPECT_EQ(r.data.nnz(), 3);
  EXPECT_FALSE(r.summary.header);
  EXPECT_FALSE(r.summary.binarized);
  EXPECT_EQ(at(r.data, "1", "11"), 5.0);
  EXPECT_EQ(r.data.users.id(0), "1");  // order of first appearance
}

// docs/formats.md: a line whose first character other than blanks is '#' is a comment wherever it
// is (so a user id cannot begin with '#'); an item id can, after the separator.
TEST_F(Readers, CommentLinesAreSkippedWhereverTheyAre) {
  const auto r = read_interactions(
      write("comments.tsv", "# made by hand\nu1\ti1\t1\n#u2\ti2\t1\n  # u3\ti3\t1\n\nu4\t#tag\t2\n"), {});
  EXPECT_EQ(r.summary.lines, 2);
  EXPECT_EQ(r.data.n_users(), 2);
  EXPECT_EQ(r.data.users.id(1), "u4");
  EXPECT_EQ(r.data.n_items(), 2);
  EXPECT_EQ(at(r.data, "u4", "#tag"), 2.0);
}

// A comment line that reads as an interaction ('#' directly followed by more of a user id, an
// item, a number or nothing as value) is still skipped, but counted, with its place, for a
// warning: more likely a user id that begins with '#' than a comment. Wherever it is: bytewise
// sorted data puts every such user before the first data line.
TEST_F(Readers, CommentLinesThatReadAsInteractionsAreCountedForAWarning) {
  const std::string body =
      "#u0\ti0\t1\n"           // 1: counted, the first (before the first data line)
      "u1\ti1\t1\n"            // 2
      "#u2\ti2\t1\n"           // 3: counted
      "  # u3\ti3\t1\n"        // 4: a blank after '#'
      "##\tbanner\t1\n"        // 5: a second '#'
      "#user\titem\n"           // 6: a header's column names
      "#u4\ti4\n"               // 7: counted (no value column)
      "#u5\ti5\tx\n"           // 8: no number where the value goes
      "#\ti6\t1\n"             // 9: nothing after '#'
      "#one field\n"            // 10: one field
      "u6\ti1\t2\n"            // 11
      "#user_5\titem_3\n"       // 12: counted (names with digits are ids, not a header's)
      "#u7\ti7\t-3.5e2\n";     // 13: counted
  const std::string file = write("commented.tsv", body);
  const auto r = read_interactions(file, {});
  EXPECT_EQ(r.summary.lines, 2);
  EXPECT_EQ(r.data.n_users(), 2);
  EXPECT_EQ(r.summary.commented_data_lines, 5);
  EXPECT_EQ(r.summary.first_commented_data_line, 1);
  EXPECT_EQ(r.summary.first_commented_data_file, file);
  std::vector<std::string> w = reading_warnings(r.summary);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("5 lines of '" + file + "' begin with '#'"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("(the first: " + file + ":1)"), std::string::npos) << w[0];
  // Blanks (or commas) as the separator also separate prose: a comment needs a numeric value
  // column there. One such line, named by its place.
  const std::string blanks =
      write("one.txt", "#seed 42\nu1 i1 1\n# made by hand\n#seen 2 times\n#generated 2024-05-01\n#u2 i2 1\n");
  const auto one = read_interactions(blanks, {});
  EXPECT_EQ(one.summary.separator, "blanks");
  EXPECT_EQ(one.summary.commented_data_lines, 1);
  w = reading_warnings(one.summary);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rfind(blanks + ":6: this line begins with '#'", 0), 0u) << w[0];
  const std::string commas = write("c.csv", "#source: kaggle, 2019\nu,i,1\n#Note: values are 1-5, higher is better\n#x,i,2\n");
  EXPECT_EQ(read_interactions(commas, {}).summary.commented_data_lines, 1);
  // A clean file: nothing to say.
  EXPECT_TRUE(reading_warnings(read_interactions(write("clean.tsv", "# ids\nu1\ti1\t1\n# end\n"), {}).summary).empty());
}

// linsim-mpi's ranks read pieces of a file (read_interaction_pieces, one call per rank): the
// comment lines that read as interactions, summed over the ranks with the lowest rank's first, are
// the one reading's, wherever the cuts fall (before such a line, inside the leading comments).
TEST_F(Readers, PiecesCountTheCommentLinesOfOneReading) {
  const std::string body = "# made by hand\n#u0\ti0\t1\n#u1\ti1\t1\nuser\titem\tvalue\nu2\ti2\t1\n#u3\ti3\t1\n"
                           "u4\ti4\t2\n#u5\ti1\n# prose\nu6\ti2\t1\n#u7\ti7\t3\n";
  const std::string file = write("pieces.tsv", body);
  const InputSummary whole = read_interactions(file, {}).summary;
  ASSERT_EQ(whole.commented_data_lines, 5);
  std::vector<std::int64_t> starts;  // line starts, the places a piece may begin
  for (size_t at = 0; at < body.size(); at = body.find('\n', at) + 1) starts.push_back(static_cast<std::int64_t>(at));
  ReadOptions o;
  o.format = InputFormat::kTriplets;
  o.separator = "\t";
  for (size_t a = 1; a < starts.size(); ++a) {
    for (size_t b = a; b < starts.size(); ++b) {  // three ranks: [0, a), [a, b), [b, end); b == a: an empty middle
      SCOPED_TRACE(testing::Message() << a << ", " << b);
      const std::int64_t cuts[] = {0, starts[a], starts[b], -1};
      std::int64_t count = 0, first = 0;
      bool data_before = false;
      for (int rank = 0; rank < 3; ++rank) {
        InputPiece piece;
        piece.path = file;
        piece.begin = cuts[rank];
        piece.end = cuts[rank + 1];
        piece.lines_before = std::count(body.begin(), body.begin() + piece.begin, '\n');
        piece.data_before = data_before;
        const bool holds = holds_data_line(piece);
        const InputSummary mine = read_interaction_pieces({piece}, o).summary;
        count += mine.commented_data_lines;
        if (first == 0) first = mine.first_commented_data_line;
        data_before = data_before || holds;
      }
      EXPECT_EQ(count, whole.commented_data_lines);
      EXPECT_EQ(first, whole.first_commented_data_line);
    }
  }
}

TEST_F(Readers, CsvWithHeaderStringIdsAndCrlf) {
  const auto r = read_interactions(write("b.csv", "user,item,weight\r\nalice,apple,2\r\nbob,pear,1.5\r\nalice,pear,1\r\n"), {});
  EXPECT_TRUE(r.summary.header);
  EXPECT_EQ(r.summary.separator, ",");
  EXPECT_EQ(r.data.nnz(), 3);
  EXPECT_EQ(at(r.data, "bob", "pear"), 1.5);
}

TEST_F(Readers, TwoColumnsWithAndWithoutHeader) {
  auto r = read_interactions(write("c.tsv", "user_id\titem_id\nu1\ti1\nu2\ti1\n"), {});
  EXPECT_TRUE(r.summary.header);
  EXPECT_EQ(r.data.nnz(), 2);
  EXPECT_EQ(at(r.data, "u1", "i1"), 1.0);
  r = read_interactions(write("d.tsv", "u1\ti1\nu2\ti1\n"), {});
  EXPECT_FALSE(r.summary.header);
  EXPECT_EQ(r.data.nnz(), 2);
}

// Ids are stored one per line in tab-separated files: a tab inside one (only possible with another
// separator) is refused at its line, before any fit (was: after the fit, naming the temporary).
TEST_F(Readers, AnIdHoldingATabIsRefusedAtItsLine) {
  ReadOptions comma;
  comma.separator = ",";
  std::string m = error_of(write("user.csv", "a,x,1\nb\tc,y,2\n"), comma);
  EXPECT_NE(m.find("user.csv:2: user id 'b<TAB>c' contains a tab or carriage return"), std::string::npos) << m;
  m = error_of(write("item.csv", "a,x,1\nb,y\tz,2\n"), comma);
  EXPECT_NE(m.find("item.csv:2: item id 'y<TAB>z' contains a tab or carriage return"), std::string::npos) << m;
  // A carriage return inside an id (not the end of a CRLF line, which the reader strips).
  m = error_of(write("cr.csv", "a,x,1\r\nb\rc,y,2\r\n"), comma);
  EXPECT_NE(m.find("cr.csv:2: user id 'b<CR>c' contains a tab or carriage return"), std::string::npos) << m;
  EXPECT_EQ(read_interactions(write("crlf.csv", "a,x,1\r\nb,y,2\r\n"), comma).data.nnz(), 2);
}

// A line without a value column, like a Matrix Market pattern entry, holds 1: --min-value applies
// to it as to any value (formats.md, "Processing, in this order, for every format"). Was: such
// entries were kept whatever --min-value said.
TEST_F(Readers, MinValueAppliesToTheImplicitOnes) {
  const std::string pairs = write("pairs.tsv", "u1\ti1\nu2\ti1\n");
  const std::string mixed = write("mixed.tsv", "u1\ti1\t0.5\nu2\ti1\nu3\ti2\t3\n");
  const std::string pattern =
      write("p.mtx", "%%MatrixMarket matrix coordinate pattern general\n3 2 3\n1 1\n2 2\n3 1\n");
  ReadOptions keep;
  keep.min_value = 1;
  EXPECT_EQ(read_interactions(pairs, keep).data.nnz(), 2);
  EXPECT_EQ(read_interactions(pattern, keep).data.nnz(), 3);
  ReadOptions drop;
  drop.min_value = 2;
  for (const std::string& path : {pairs, pattern}) {
    const std::string m = error_of(path, drop);
    EXPECT_NE(m.find("no interactions left after --min-value 2 dropped " + std::string(path == pairs ? "2" : "3") +
                     " entries"),
              std::string::npos)
        << path << ": " << m;
  }
  // Triplets whose value column is sometimes missing: 0.5 and the missing 1 are below 2, 3 is kept.
  const auto r = read_interactions(mixed, drop);
  EXPECT_EQ(r.data.nnz(), 1);
  EXPECT_EQ(r.summary.dropped_below_min, 2);
  EXPECT_EQ(r.data.users.ids(), (std::vector<std::string>{"u3"}));
  EXPECT_EQ(r.summary.users_without_entries, 2);
}

TEST_F(Readers, MovieLensFormatsAreBinarisedByDefault) {
  auto r = read_interactions(write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"), {});
  EXPECT_EQ(r.summary.format, "movielens");
  EXPECT_EQ(r.summary.separator, "::");
  EXPECT_TRUE(r.summary.binarized);
  EXPECT_EQ(at(r.data, "1", "661"), 1.0);
  r = read_interactions(write("ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n"), {});
  EXPECT_TRUE(r.summary.header);
  EXPECT_EQ(r.data.nnz(), 2);
  ReadOptions o;
  o.min_value = 3.0;
  r = read_interactions(write("u.data", "196\t242\t3\t881250949\n186\t302\t2\t891717742\n"), o);
  EXPECT_EQ(r.data.nnz(), 1);
  EXPECT_EQ(r.summary.dropped_below_min, 1);
  o.binarize = false;
  r = read_interactions(write("u.data", "196\t242\t3\t881250949\n"), o);
  EXPECT_EQ(at(r.data, "196", "242"), 3.0);
}

TEST_F(Readers, GzipIsDetectedFromContent) {
  const auto r = read_interactions(write_gz("ratings.dat.gz", "1::10::5::0\n2::10::4::0\n"), {});
  EXPECT_EQ(r.summary.format, "movielens");
  EXPECT_EQ(r.data.nnz(), 2);
}

TEST_F(Readers, LastFmUserArtists) {
  const auto r = read_interactions(write("user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t1\n"), {});
  EXPECT_EQ(r.summary.format, "lastfm");
  EXPECT_TRUE(r.summary.header);
  EXPECT_FALSE(r.summary.binarized);
  EXPECT_EQ(at(r.data, "2", "51"), 13883.0);
}

TEST_F(Readers, MatrixMarket) {
  const auto r = read_interactions(
      write("x.mtx", "%%MatrixMarket matrix coordinate integer general\n% comment\n3 4 3\n1 1 2\n3 4 1\n2 2 5\n"), {});
  EXPECT_EQ(r.summary.format, "mtx");
  EXPECT_EQ(r.data.n_users(), 3);
  // Only the columns that occur are kept (column 3 is empty), renumbered in order, with the file's
  // 1-based numbers as ids.
  EXPECT_EQ(r.data.items.ids(), (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(at(r.data, "3", "4"), 1.0);
  EXPECT_EQ(at(r.data, "2", "2"), 5.0);
  // The declared sizes are bounds, not allocations: 10⁹ × 10⁹ with two entries is a 2 × 2 matrix.
  const auto big = read_interactions(
      write("big.mtx", "%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 2\n1 7 1\n999999999 5 2\n"), {});
  EXPECT_EQ(big.data.users.ids(), (std::vector<std::string>{"1", "999999999"}));
  EXPECT_EQ(big.data.items.ids(), (std::vector<std::string>{"5", "7"}));
  EXPECT_EQ(at(big.data, "999999999", "5"), 2.0);
  // A number beyond 2^31 - 1 is refused by name at its line (was: "more than 2^31 - 1 users or
  // items are not supported", of a matrix that holds two users).
  const std::string huge = error_of(write(
      "huge.mtx", "%%MatrixMarket matrix coordinate pattern general\n5000000000 5000000000 2\n1 2\n4000000000 1\n"));
  EXPECT_NE(huge.find("huge.mtx:4: row number 4000000000 is above 2^31 - 1"), std::string::npos) << huge;
  // Sizes and indices are integers that fit: no overflow, no fractions.
  for (const auto& [bad, line] : std::vector<std::pair<std::string, std::string>>{
           {"99999999999999999999999 2 1\n1 1 1\n", ":2:"}, {"-2 2 1\n1 1 1\n", ":2:"}, {"2 inf 1\n1 1 1\n", ":2:"},
           {"2 2 1\n1.5 1 1\n", ":3:"}, {"2 2 1\nnan 1 1\n", ":3:"}, {"2 2 1\n1 99999999999999999999 1\n", ":3:"}}) {
    EXPECT_NE(error_of(write("n.mtx", "%%MatrixMarket matrix coordinate real general\n" + bad)).find("n.mtx" + line),
              std::string::npos)
        << bad;
  }
  // A line holds its fields and no more, an 'integer' file integers, and the banner's first word
  // is %%MatrixMarket itself (was: '3 3 2 99' and '1 2 3 junk' read without their last field,
  // '1.5' kept in an integer file, '%%MatrixMarketXYZ' accepted).
  for (const auto& [text, where] : std::vector<std::pair<std::string, std::string>>{
           {"%%MatrixMarket matrix coordinate real general\n2 2 1 99\n1 1 1\n", "x.mtx:2: expected 'rows cols entries'"},
           {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 3 junk\n", "x.mtx:3: expected 'row col value'"},
           {"%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 2 3\n", "x.mtx:3: expected 'row col'"},
           {"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 1.5\n", "x.mtx:3: value '1.5' is not an integer"},
           {"%%MatrixMarketXYZ matrix coordinate real general\n2 2 1\n1 2 1\n", "x.mtx:1: expected a '%%MatrixMarket"}}) {
    const std::string message = error_of(write("x.mtx", text));
    EXPECT_NE(message.find(where), std::string::npos) << text << " -> " << message;
  }
  EXPECT_EQ(at(read_interactions(write("i.mtx", "%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 3.0\n"), {})
                   .data,
               "1", "2"),
            3.0);
  const auto p = read_interactions(write("p.mtx", "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n"), {});
  EXPECT_EQ(p.data.X.coeff(0, 1), 1.0);
  EXPECT_NE(error_of(write("s.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1\n")).find("symmetric"),
            std::string::npos);
  EXPECT_NE(error_of(write("o.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n")).find("o.mtx:3"),
            std::string::npos);
  EXPECT_NE(error_of(write("c.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n")).find("declares 2"),
            std::string::npos);
  // Banners linsim does not read, and a missing size line: input errors (exit 1) naming file and line.
  const std::string b = (dir_ / "b.mtx").string();
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
            b + ":1: only 'matrix coordinate' files are supported, got '%%MatrixMarket matrix array real general'"},
           {"%%MatrixMarket matrix coordinate real\n2 2 1\n1 1 1\n",
            b + ":1: only 'matrix coordinate' files are supported, got '%%MatrixMarket matrix coordinate real'"},
           {"%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1 0\n",
            b + ":1: unsupported field type 'complex' (real, integer or pattern)"},
           {"%%MatrixMarket matrix coordinate complex hermitian\n2 2 1\n1 1 1 0\n",
            b + ":1: unsupported field type 'complex'"},
           {"%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1\n",
            b + ":1: unsupported symmetry 'skew-symmetric' (only 'general')"},
           {"%%MatrixMarket matrix coordinate pattern hermitian\n2 2 1\n2 1\n",
            b + ":1: unsupported symmetry 'hermitian' (only 'general')"},
           {"%%MatrixMarket matrix coordinate real general\n% sizes never come\n", b + ":2: missing the 'rows cols entries' line"},
           {"%%MatrixMarket matrix coordinate real general\n", b + ":1: missing the 'rows cols entries' line"},
           {"%%MatrixMarket matrix coordinate real general\n2 2\n1 1 1\n",
            b + ":2: expected 'rows cols entries' (non-negative integers), got '2 2'"}}) {
    write("b.mtx", text);
    try {
      read_interactions(b, {});
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// Options of the other layout are refused, not ignored, and a Matrix Market file is not read as
// triplets (was: --sep and --header accepted and ignored; with --format tsv the banner taken for a
// header and the size line '3 3 2' for an interaction, exit 0).
TEST_F(Readers, OptionsOfTheOtherLayoutAreRefused) {
  const std::string mtx = write("m.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n2 3 4\n");
  ReadOptions o;
  o.separator = ",";
  EXPECT_THROW(
      {
        try {
          read_interactions(mtx, o);
        } catch (const InvalidArgument& e) {
          EXPECT_NE(std::string(e.what()).find("is read as Matrix Market, whose layout is fixed: --sep, --header"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      InvalidArgument);
  o = {};
  o.header = false;
  EXPECT_THROW(read_interactions(mtx, o), InvalidArgument);
  for (const InputFormat f : {InputFormat::kTriplets, InputFormat::kMovieLens, InputFormat::kLastFm}) {
    o = {};
    o.format = f;
    try {
      read_interactions(mtx, o);
      ADD_FAILURE() << "read as " << format_name(f);
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("begins with a Matrix Market banner: read it with --format mtx"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(read_interactions(mtx, {}).data.nnz(), 2);
}

TEST_F(Readers, DuplicatesAreSummedOrRejected) {
  const std::string path = write("dup.tsv", "a\tx\t1\nb\tx\t1\na\tx\t2\n");
  const auto r = read_interactions(path, {});
  EXPECT_EQ(at(r.data, "a", "x"), 3.0);
  EXPECT_EQ(r.summary.duplicates, 1);
  ReadOptions strict;
  strict.strict = true;
  const std::string message = error_of(path, strict);
  EXPECT_NE(message.find("dup.tsv:3"), std::string::npos) << message;
  EXPECT_NE(message.find("first on line 1"), std::string::npos) << message;
}

TEST_F(Readers, BadInputNamesFileLineAndText) {
  EXPECT_NE(error_of(write("empty.tsv", "")).find("no interactions"), std::string::npos);
  EXPECT_NE(error_of(write("header.csv", "user,item,rating\n")).find("no interactions"), std::string::npos);
  std::string m = error_of(write("mal.tsv", "1\t2\t3\njustonefield\n"));
  EXPECT_NE(m.find("mal.tsv:2"), std::string::npos) << m;
  EXPECT_NE(m.find("justonefield"), std::string::npos) << m;
  m = error_of(write("nan.tsv", "1\t2\t3\n1\t3\tnan\n"));
  EXPECT_NE(m.find("nan.tsv:2"), std::string::npos) << m;
  EXPECT_NE(m.find("finite"), std::string::npos) << m;
  m = error_of(write("inf.tsv", "1\t2\tinf\n"));
  EXPECT_NE(m.find("inf.tsv:1"), std::string::npos) << m;
  // A number no double holds is named as such, and on the first line it is a number, not a
  // header's column name (was: "is not a number", and a first line taken for a header and dropped).
  for (const std::string big : {"1e400", "-1e400", "1e-400"}) {
    m = error_of(write("big.tsv", "1\t2\t3\n1\t3\t" + big + "\n"));
    EXPECT_NE(m.find("big.tsv:2: value '" + big + "' is beyond the range of a double"), std::string::npos) << m;
    m = error_of(write("first.tsv", "1\t3\t" + big + "\n1\t2\t3\n"));
    EXPECT_NE(m.find("first.tsv:1: value '" + big + "' is beyond the range of a double"), std::string::npos) << m;
    m = error_of(write("big.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 " + big + "\n"));
    EXPECT_NE(m.find("big.mtx:3: value '" + big + "' is beyond the range of a double"), std::string::npos) << m;
  }
  // An empty first or last field between tabs is an error at its line, as an empty middle one is
  // (was: the line trimmed of tabs before it was split: '<TAB>b<TAB>2' read as user 'b', item '2',
  // and 'u1<TAB>b<TAB>' as value 1, exit 0). Blanks around fields are still not part of them.
  m = error_of(write("lead.tsv", "u1\ta\t1\n\tb\t2\n"));
  EXPECT_NE(m.find("lead.tsv:2: expected 'user<TAB>item"), std::string::npos) << m;
  m = error_of(write("trail.tsv", "user\titem\tvalue\nu1\ta\t3\nu1\tb\t\n"));
  EXPECT_NE(m.find("trail.tsv:3: the value field is empty"), std::string::npos) << m;
  m = error_of(write("trail.csv", "u1,a,3\nu1,b,\n"));
  EXPECT_NE(m.find("trail.csv:2: the value field is empty"), std::string::npos) << m;
  // On the first line too (was: taken for a header, its entry dropped without a word, exit 0).
  m = error_of(write("first_empty.tsv", "u1\tb\t\nu1\ta\t1\nu2\ta\t1\n"));
  EXPECT_NE(m.find("first_empty.tsv:1: the value field is empty"), std::string::npos) << m;
  m = error_of(write("first_empty.csv", "u1,b,\nu1,a,1\n"));
  EXPECT_NE(m.find("first_empty.csv:1: the value field is empty"), std::string::npos) << m;
  const ReadResult blanks = read_interactions(write("blanks.tsv", " u1 \t a\t 2 \n"), {});
  EXPECT_EQ(blanks.data.users.ids(), std::vector<std::string>{"u1"});
  EXPECT_EQ(blanks.data.items.ids(), std::vector<std::string>{"a"});
  EXPECT_EQ(blanks.data.X.coeff(0, 0), 2.0);
  m = error_of(write("text.tsv", "1\t2\t3\n1\t2\tabc\n"));
  EXPECT_NE(m.find("text.tsv:2"), std::string::npos) << m;
  EXPECT_NE(m.find("'abc'"), std::string::npos) << m;
  m = error_of(write("neg.tsv", "1\t2\t-1\n"));
  EXPECT_NE(m.find("neg.tsv:1"), std::string::npos) << m;
  EXPECT_NE(m.find("--allow-negative"), std::string::npos) << m;
  ReadOptions allow;
  allow.allow_negative = true;
  EXPECT_EQ(read_interactions(write("neg2.tsv", "1\t2\t-1\n"), allow).data.X.coeff(0, 0), -1.0);
  EXPECT_EQ(read_interactions(write("plus.tsv", "1\t2\t+3\n"), allow).data.X.coeff(0, 0), 3.0);
  // One sign only (was: '+-3' read as -3).
  m = error_of(write("signs.tsv", "1\t2\t5\n1\t3\t+-3\n"), allow);
  EXPECT_NE(m.find("signs.tsv:2: value '+-3' is not a number"), std::string::npos) << m;
  // Binarising makes every kept entry 1: a negative one (a dislike) would be read as an
  // interaction, so it is an error at its line unless --min-value drops it first (was: read as 1).
  allow.binarize = true;
  m = error_of(write("neg3.tsv", "1\t2\t5\n1\t3\t-1\n"), allow);
  EXPECT_NE(m.find("neg3.tsv:2: negative value '-1' would be binarised to 1"), std::string::npos) << m;
  allow.min_value = 0;
  const ReadResult kept = read_interactions(write("neg4.tsv", "1\t2\t5\n1\t3\t-1\n"), allow);
  EXPECT_EQ(kept.data.nnz(), 1);
  EXPECT_EQ(kept.summary.dropped_below_min, 1);
  m = error_of((dir_ / "missing.tsv").string());
  EXPECT_NE(m.find("cannot open"), std::string::npos) << m;
  ReadOptions high;
  high.min_value = 10;
  m = error_of(write("low.tsv", "1\t2\t3\n"), high);
  EXPECT_NE(m.find("--min-value"), std::string::npos) << m;
  EXPECT_THROW(parse_input_format("xml"), InvalidArgument);
}

// A user all of whose entries are 0 (or below --min-value) gets no row; the summary counts such
// users and names the first three, so that recommend --input can say why they are missing.
TEST_F(Readers, UsersWhoseEntriesAreAllDroppedAreCounted) {
  const std::string path = write("zeros.tsv", "a\tx\t1\nb\tx\t0\nb\ty\t0\nc\ty\t0\nc\tx\t3\nd\ty\t0.5\ne\tx\t0\n");
  const auto r = read_interactions(path, {});
  EXPECT_EQ(r.data.users.ids(), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(r.summary.dropped_zero, 4);
  EXPECT_EQ(r.summary.users_without_entries, 2);
  EXPECT_EQ(r.summary.users_without_entries_examples, (std::vector<std::string>{"b", "e"}));
  ReadOptions o;
  o.min_value = 1;
  const auto m = read_interactions(path, o);
  EXPECT_EQ(m.data.users.ids(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(m.summary.users_without_entries, 3);
  EXPECT_EQ(m.summary.users_without_entries_examples, (std::vector<std::string>{"b", "d", "e"}));
  // Matrix Market: row 2's only entry is 0; its id is the file's 1-based number.
  const auto mm = read_interactions(
      write("zeros.mtx", "%%MatrixMarket matrix coordinate real general\n3 2 3\n1 1 1\n2 2 0\n3 1 2\n"), {});
  EXPECT_EQ(mm.data.users.ids(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(mm.summary.users_without_entries, 1);
  EXPECT_EQ(mm.summary.users_without_entries_examples, (std::vector<std::string>{"2"}));
  // Nothing dropped, nobody missing.
  EXPECT_EQ(read_interactions(write("ones.tsv", "a\tx\nb\ty\n"), {}).summary.users_without_entries, 0);
}

TEST_F(Readers, MinItemUsersDropsRareItemsAndEmptyUsers) {
  ReadOptions o;
  o.min_item_users = 2;
  const auto r = read_interactions(write("rare.tsv", "a\tx\na\ty\nb\tx\nc\tz\nd\ty\n"), o);
  EXPECT_EQ(r.data.n_items(), 2);  // z has one user
  EXPECT_EQ(r.data.n_users(), 3);  // c had only z
  EXPECT_EQ(r.summary.dropped_items, 1);
  EXPECT_FALSE(r.data.items.find("z"));
  EXPECT_FALSE(r.data.users.find("c"));
  EXPECT_EQ(at(r.data, "d", "y"), 1.0);
  EXPECT_EQ(r.data.items.id(0), "x");
  o.min_item_users = 10;
  EXPECT_NE(error_of(write("rare2.tsv", "a\tx\n"), o).find("--min-item-users"), std::string::npos);
}

TEST_F(Readers, KnownItemsMapToTheModelsColumns) {
  IdMap items;
  items.add("x");
  items.add("y");
  items.add("z");
  const auto r = read_interactions(write("new.tsv", "n1\tz\nn1\tx\n"), {}, &items);
  EXPECT_EQ(r.data.n_items(), 3);
  EXPECT_EQ(r.data.X.coeff(0, 2), 1.0);
  EXPECT_EQ(r.data.X.coeff(0, 0), 1.0);
  const std::string m = error_of(write("unk.tsv", "n1\tq\n"));
  EXPECT_EQ(m, "no error");  // without known items, any item is fine
  try {
    read_interactions(write("unk2.tsv", "n1\tx\nn1\tq\n"), {}, &items);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unk2.tsv:2"), std::string::npos);
    EXPECT_EQ(e.line(), 2);
  }
}

}  // namespace
}  // namespace linsim

namespace linsim {
namespace {

// The open-addressing id table against std::map: insertion order, repeated adds, misses, and
// several growths; ids that share prefixes or differ only in length.
TEST(IdMapTable, AgreesWithAnOrderedMapAcrossGrowth) {
  IdMap ids;
  std::map<std::string, Index> want;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 20000; ++step) {
    const std::string id = std::to_string(rng() % 7000) + (step % 3 == 0 ? "x" : "");
    const auto [it, fresh] = want.emplace(id, static_cast<Index>(want.size()));
    ASSERT_EQ(ids.add(id), it->second) << id;
    (void)fresh;
  }
  ASSERT_EQ(ids.size(), static_cast<Index>(want.size()));
  for (const auto& [id, index] : want) {
    ASSERT_EQ(ids.find(id), std::optional<Index>(index));
    ASSERT_EQ(ids.id(index), id);
  }
  EXPECT_EQ(ids.find("not-there"), std::nullopt);
  EXPECT_EQ(ids.find(""), std::nullopt);
  EXPECT_EQ(IdMap().find("a"), std::nullopt);
  EXPECT_THROW(ids.at("nope", "item"), InvalidArgument);
}

// Numbers go to the direct table and everything else to the hash table: ids that look alike but
// differ as strings ("7", "07", "+7", "7.0") stay distinct, the table's limits (2^24, 8 digits)
// are crossed both ways, and the direct table grows across many sizes.
TEST(IdMapTable, NumericIdsKeepTheirStringIdentity) {
  IdMap ids;
  std::map<std::string, Index> want;
  auto add = [&](const std::string& id) {
    const auto [it, fresh] = want.emplace(id, static_cast<Index>(want.size()));
    (void)fresh;
    ASSERT_EQ(ids.add(id), it->second) << id;
  };
  const std::vector<std::string> edge = {"0",        "00",       "7",        "07",        "+7",      "-7",
                                         "7.0",      " 7",       "16777215", "16777216",  "99999999", "123456789",
                                         "1677721",  "0x10",     "",         "4294967297", "1e3",     "١"};
  for (const auto& id : edge) add(id);
  std::mt19937_64 rng(9);
  for (int step = 0; step < 30000; ++step) {
    const std::uint64_t v = rng() % (step < 15000 ? 5000 : 40000000);  // small, then across 2^24
    add(step % 5 == 0 ? "0" + std::to_string(v) : std::to_string(v));
  }
  for (const auto& id : edge) add(id);  // again: found, not added
  ASSERT_EQ(ids.size(), static_cast<Index>(want.size()));
  for (const auto& [id, index] : want) {
    ASSERT_EQ(ids.find(id), std::optional<Index>(index)) << id;
    ASSERT_EQ(ids.id(index), id);
  }
  for (const std::string probe : {"8", "16777217", "99999998", "007", "x"}) {
    EXPECT_EQ(ids.find(probe).has_value(), want.count(probe) > 0) << probe;
  }
  EXPECT_EQ(IdMap().find("3"), std::nullopt);
}

// The rules every text input shares (src/data/line_reader.h), regression tests of the hardening
// issue (docs/reliability.md).
TEST_F(Readers, ByteOrderMarkIsNotPartOfTheFirstId) {
  const auto r = read_interactions(write("bom.tsv", "\xEF\xBB\xBFu1\ti1\nu2\ti1\nu2\ti2\n"), {});
  EXPECT_EQ(r.data.users.ids(), (std::vector<std::string>{"u1", "u2"}));
  const auto g = read_interactions(write_gz("bom.tsv.gz", "\xEF\xBB\xBFu1\ti1\n"), {});
  EXPECT_EQ(g.data.users.ids(), (std::vector<std::string>{"u1"}));
}

TEST_F(Readers, TruncatedGzipIsAnErrorNotAShortFile) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "u" + std::to_string(i % 97) + "\ti" + std::to_string(i % 89) + "\t1\n";
  const std::string whole = write_gz("whole.tsv.gz", text);
  EXPECT_EQ(read_interactions(whole, {}).summary.lines, 3000);
  std::ifstream in(whole, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const size_t keep : {bytes.size() / 2, bytes.size() - 4}) {
    const std::string message = error_of(write("cut.tsv.gz", bytes.substr(0, keep)));
    EXPECT_NE(message.find("truncated"), std::string::npos) << keep << ": " << message;
  }
}

// gzip members one after another (`cat a.gz b.gz`) are read as one text, as gzip -d reads them;
// bytes after the gzip data that are not another member are an error at their offset (zlib's
// gzread dropped them without a word), and so is corrupt gzip data.
TEST_F(Readers, GzipMembersAreReadInTurnAndTrailingBytesAreAnError) {
  std::string first, second;
  for (int i = 0; i < 70000; ++i) first += "u" + std::to_string(i * 7919 % 100003) + "	i" + std::to_string(i % 389) + "\t1\n";
  for (int i = 0; i < 50; ++i) second += "v" + std::to_string(i) + "\ti" + std::to_string(i % 7) + "\t1\n";
  const auto bytes_of = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string a = bytes_of(write_gz("a.gz", first)), b = bytes_of(write_gz("b.gz", second));
  ASSERT_GT(a.size(), size_t{1} << 18);  // the first member ends beyond the reader's first input block
  const auto r = read_interactions(write("ab.tsv.gz", a + b), {});
  EXPECT_EQ(r.summary.lines, 70050);
  EXPECT_TRUE(r.data.users.find("v49").has_value());
  for (const std::string& tail : {std::string("plain text appended\n"), std::string(1, '\0'), std::string("\x1f")}) {
    const std::string message = error_of(write("tail.tsv.gz", a + b + tail));
    EXPECT_NE(message.find(fmt::format("tail.tsv.gz': bytes follow the end of its gzip data at byte offset {}", a.size() + b.size())),
              std::string::npos)
        << message;
  }
  // A byte-order mark split between two members (or two deliveries of a pipe) is still skipped.
  const auto gz = [&](const std::string& name, const std::string& text) { return bytes_of(write_gz(name, text)); };
  const auto split = read_interactions(write("bom-split.tsv.gz", gz("m1.gz", "\xEF") + gz("m2.gz", "\xBB\xBFu1\ti1\n")), {});
  EXPECT_EQ(split.data.users.ids(), (std::vector<std::string>{"u1"}));
  std::string corrupt = a;
  corrupt[a.size() - 8] = static_cast<char>(corrupt[a.size() - 8] ^ 0x55);  // the member's CRC-32
  EXPECT_NE(error_of(write("corrupt.tsv.gz", corrupt)).find("corrupt.tsv.gz': invalid gzip data at byte offset"), std::string::npos)
      << error_of((dir_ / "corrupt.tsv.gz").string());
}

TEST_F(Readers, OverlongLineAndDirectoryAreRefusedByName) {
  const std::string line(detail::LineReader::kMaxLineBytes + 10, 'x');
  const std::string message = error_of(write("long.tsv", "u\ti\n" + line + "\n"));
  EXPECT_NE(message.find("long.tsv:2: line longer than"), std::string::npos) << message.substr(0, 200);
  EXPECT_NE(error_of(dir_.string()).find("is a directory"), std::string::npos);
}

// Byte ranges (linsim-mpi splits one file between ranks): for every way of cutting a file into
// three ranges, the ranges' lines are the file's lines, each exactly once, in order and with their
// line numbers (ranks know only the newlines before their range); lines empty, CRLF, without a
// final newline, and cuts just before, on and after a newline.
TEST_F(Readers, ByteRangesSplitAFileIntoItsLinesExactlyOnce) {
  for (const std::string& text : {std::string("a\tb\n\nccc\td\r\ne\tf\ng\th"), std::string("x\ny\n"),
                                 std::string("\n\n\nlong line\n")}) {
    const std::string path = write("ranges.tsv", text);
    std::vector<std::pair<std::int64_t, std::string>> whole;
    {
      detail::LineReader reader(path);
      std::string_view line;
      while (reader.next(line)) whole.emplace_back(reader.line_number(), std::string(line));
    }
    const auto size = static_cast<std::int64_t>(text.size());
    for (std::int64_t c1 = 0; c1 <= size; ++c1) {
      for (std::int64_t c2 = c1; c2 <= size; ++c2) {
        std::vector<std::pair<std::int64_t, std::string>> pieces;
        const std::int64_t cuts[] = {0, c1, c2, size};
        for (int r = 0; r < 3; ++r) {
          const auto lines_before = static_cast<std::int64_t>(std::count(text.begin(), text.begin() + cuts[r], '\n'));
          detail::LineReader reader(path, cuts[r], r == 2 ? -1 : cuts[r + 1], lines_before);
          std::string_view line;
          while (reader.next(line)) pieces.emplace_back(reader.line_number(), std::string(line));
        }
        EXPECT_EQ(pieces, whole) << "cuts " << c1 << ", " << c2;
      }
    }
  }
}

// A large plain file is cut into byte ranges read side by side, one per thread. Whatever the thread
// count and wherever the cuts fall, that is the one-thread reading exactly: the same matrix (values
// summed in the same order), ids numbered in the same order, the same summary, and for bad input the
// same message (the first bad line in the file, however many ranges hold one). The tests cut small
// files: ranges of at least 16 KiB (1 byte in one test), as many as threads, not capped at the cores.
class SharedReading : public Readers {
 protected:
  void SetUp() override {
    Readers::SetUp();
    configure(16 << 10);
  }
  void configure(std::int64_t min_bytes_per_range) {
    how_.min_bytes_per_range = min_bytes_per_range;
    how_.cap_at_cores = false;
  }
  // ~400 KB: a header after a byte-order mark and comments, string user ids in runs (a run may span
  // a cut), numeric and string items, duplicates, zeros, CRLF and blank lines, no final newline.
  static std::string text(unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string out = "\xEF\xBB\xBF# made by a test\n\nuser\titem\trating\n";
    std::uniform_int_distribution<int> user(0, 2000), item(0, 3000), run(1, 40), value(0, 5), kind(0, 99);
    while (out.size() < (size_t{400} << 10)) {
      const int u = user(rng);
      for (int r = run(rng); r > 0; --r) {
        const int i = item(rng), k = kind(rng);
        out += "u" + std::to_string(u) + "\t" + (k < 50 ? std::to_string(i) : "it" + std::to_string(i)) + "\t" +
               std::to_string(value(rng)) + (k == 7 ? "\r\n" : "\n");
        if (k == 8) out += "\n# a comment\n";
        if (k == 10) out += "#u" + std::to_string(u) + "\t" + std::to_string(i) + "\t1\n";  // reads as data
        if (k == 9) out += "zero" + std::to_string(u) + "\t" + std::to_string(i) + "\t0\n";  // a user without entries
      }
    }
    out.pop_back();
    return out;
  }
  // What read_interactions gives (its message for bad input) on `threads` threads, and how many
  // ranges it read.
  struct Outcome {
    ReadResult read;
    std::string error;
    int ranges = 0;
  };
  Outcome read_on(int threads, const std::string& path, const ReadOptions& o = {}, const IdMap* items = nullptr) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    Outcome out;
    try {
      out.read = detail::read_interactions_shared(path, o, items, how_, &out.ranges);
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    omp_set_num_threads(before);
    return out;
  }
  static void expect_same(const Outcome& a, const Outcome& b) {
    ASSERT_EQ(a.error, b.error);
    if (!a.error.empty()) return;
    const SparseMatrix& X = a.read.data.X;
    const SparseMatrix& Y = b.read.data.X;
    ASSERT_EQ(X.rows(), Y.rows());
    ASSERT_EQ(X.cols(), Y.cols());
    ASSERT_EQ(X.nonZeros(), Y.nonZeros());
    EXPECT_TRUE(std::equal(X.outerIndexPtr(), X.outerIndexPtr() + X.rows() + 1, Y.outerIndexPtr()));
    EXPECT_TRUE(std::equal(X.innerIndexPtr(), X.innerIndexPtr() + X.nonZeros(), Y.innerIndexPtr()));
    EXPECT_TRUE(std::equal(X.valuePtr(), X.valuePtr() + X.nonZeros(), Y.valuePtr()));
    EXPECT_EQ(a.read.data.users.ids(), b.read.data.users.ids());
    EXPECT_EQ(a.read.data.items.ids(), b.read.data.items.ids());
    const InputSummary& s = a.read.summary;
    const InputSummary& t = b.read.summary;
    EXPECT_EQ(s.separator, t.separator);
    EXPECT_EQ(s.header, t.header);
    EXPECT_EQ(s.lines, t.lines);
    EXPECT_EQ(s.dropped_below_min, t.dropped_below_min);
    EXPECT_EQ(s.dropped_zero, t.dropped_zero);
    EXPECT_EQ(s.users_without_entries, t.users_without_entries);
    EXPECT_EQ(s.users_without_entries_examples, t.users_without_entries_examples);
    EXPECT_EQ(s.duplicates, t.duplicates);
    EXPECT_EQ(s.commented_data_lines, t.commented_data_lines);
    EXPECT_EQ(s.first_commented_data_file, t.first_commented_data_file);
    EXPECT_EQ(s.first_commented_data_line, t.first_commented_data_line);
  }
  // The one-thread reading against `counts` threads, each of which must cut the file.
  void expect_thread_count_irrelevant(const std::string& path, const ReadOptions& o = {}, const IdMap* items = nullptr,
                                      std::initializer_list<int> counts = {2, 3, 5, 8}) {
    const Outcome one = read_on(1, path, o, items);
    EXPECT_EQ(one.ranges, 1);
    for (const int threads : counts) {
      SCOPED_TRACE(threads);
      const Outcome many = read_on(threads, path, o, items);
      EXPECT_EQ(many.ranges, std::min<std::int64_t>(threads, static_cast<std::int64_t>(fs::file_size(path)) / how_.min_bytes_per_range));
      expect_same(one, many);
    }
  }
  detail::SharedReading how_;
};

TEST_F(SharedReading, GivesTheOneThreadReading) {
  const std::string path = write("big.tsv", text(1));
  const Outcome one = read_on(1, path);
  ASSERT_EQ(one.error, "");
  EXPECT_TRUE(one.read.summary.header);
  EXPECT_GT(one.read.summary.duplicates, 0);
  EXPECT_GT(one.read.summary.dropped_zero, 0);
  EXPECT_GT(one.read.summary.users_without_entries, 3);
  // The comment lines that read as interactions, against a count of the text's "#u" lines.
  std::int64_t commented = 0, first_commented = 0, number = 0;
  std::istringstream lines(text(1));
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.rfind("#u", 0) == 0 && commented++ == 0) first_commented = number;
  }
  EXPECT_GT(commented, 10);
  EXPECT_EQ(one.read.summary.commented_data_lines, commented);
  EXPECT_EQ(one.read.summary.first_commented_data_line, first_commented);
  expect_thread_count_irrelevant(path);
  ReadOptions o;
  o.min_value = 2;
  o.binarize = true;
  expect_thread_count_irrelevant(path, o);
  // Items through a model's ids, in an order of their own.
  IdMap items;
  for (int i = 3000; i >= 0; --i) {
    items.add("it" + std::to_string(i));
    items.add(std::to_string(i));
  }
  expect_thread_count_irrelevant(path, {}, &items);
  // The default: ranges of at least 4 MiB, at most one per core.
  how_ = {};
  EXPECT_EQ(read_on(8, path).ranges, 1);
}

// Cuts at (nearly) every byte of small files whose later lines would read differently on their
// own: two columns whose ids say "user" and "item" (a header, were it the first line), ids holding
// "::" in a tab-separated file (another separator, were it detected there), and a comma file whose
// header has no value column.
TEST_F(SharedReading, CutsAnywhereKeepTheFilesHeaderAndSeparator) {
  configure(1);
  // Each opens with a comment line that reads as an interaction, judged by the file's separator.
  std::string two = "#v0\titem_1\nuser_1\titem_1\n", colons = "#a::0\tb::1\t7\nu\ti\t1\n",
              comma = "#w0,item3,1\nuser,item\n";
  for (int l = 2; l < 60; ++l) {
    two += "user_" + std::to_string(l % 7) + "\titem_" + std::to_string(l % 5) + "\n";
    colons += "a::" + std::to_string(l % 7) + "\tb::" + std::to_string(l % 3) + "\t" + std::to_string(l) + "\n";
    comma += "user" + std::to_string(l % 4) + ",item" + std::to_string(l % 9) + "\n";
    if (l % 13 == 0) {  // comment lines that read as interactions, counted wherever the cuts fall
      two += "#v" + std::to_string(l) + "\titem_1\n";
      colons += "#a::" + std::to_string(l) + "\tb::1\t7\n";
      comma += "#w" + std::to_string(l) + ",item3,1\n";
    }
  }
  for (const auto& [name, body] : {std::pair{"two.tsv", two}, std::pair{"colons.tsv", colons}, std::pair{"comma.csv", comma}}) {
    SCOPED_TRACE(name);
    const std::string path = write(name, body);
    std::vector<int> counts(40);
    std::iota(counts.begin(), counts.end(), 2);
    const Outcome one = read_on(1, path);
    ASSERT_EQ(one.error, "");
    EXPECT_EQ(one.read.summary.commented_data_lines, 5);
    EXPECT_EQ(one.read.summary.first_commented_data_line, 1);
    for (const int threads : counts) {
      SCOPED_TRACE(threads);
      const Outcome many = read_on(threads, path);
      EXPECT_EQ(many.ranges, threads);
      expect_same(one, many);
    }
  }
}

TEST_F(SharedReading, ReportsTheFirstBadLineOfTheFile) {
  const std::string body = text(2);
  std::vector<size_t> line_starts{0};
  for (size_t at = body.find('\n'); at != std::string::npos; at = body.find('\n', at + 1)) line_starts.push_back(at + 1);
  // Lines 100, one in the middle and the last (in the first, a middle and the last range).
  const size_t starts[] = {line_starts[99], line_starts[line_starts.size() / 2], line_starts.back()};
  // One bad line in each of three places, then two at once (the earlier one is reported).
  for (size_t first = 0; first < 3; ++first) {
    for (size_t second = first; second < 3; ++second) {
      std::string bad = body;
      bad.insert(starts[second], "u1\titem\tnan\n");
      if (second != first) bad.insert(starts[first], "justonefield\n");
      SCOPED_TRACE(testing::Message() << first << ", " << second);
      const std::string path = write("bad.tsv", bad);
      const Outcome one = read_on(1, path);
      EXPECT_NE(one.error.find(second == first ? "not a finite number" : "justonefield"), std::string::npos) << one.error;
      expect_thread_count_irrelevant(path);
    }
  }
  // --strict: a duplicate whose two lines fall in different ranges, named by both lines.
  ReadOptions strict;
  strict.strict = true;
  const std::string path = write("dup.tsv", "user\titem\nfirst\tz\n" + body.substr(body.find('\n', 100) + 1) + "\nfirst\tz\n");
  const Outcome one = read_on(1, path, strict);
  EXPECT_NE(one.error.find("duplicate entry for user 'first', item 'z' (first on line 2)"), std::string::npos) << one.error;
  expect_thread_count_irrelevant(path, strict);
}

// The header is decided by the file's first data line: when the first range holds only comments,
// the file is read in one piece (a later range could not know it starts with the header).
TEST_F(SharedReading, AHeaderAfterLongCommentsIsStillAHeader) {
  const std::string data = text(3);
  std::string head;  // longer than the data: the first half of the file is comments
  while (head.size() < data.size()) head += "# a long preamble of comments\n";
  const std::string path = write("preamble.tsv", head + "user\titem\trating\n" + data.substr(data.find("rating\n") + 7));
  const Outcome one = read_on(1, path);
  ASSERT_EQ(one.error, "") << one.error;
  EXPECT_TRUE(one.read.summary.header);
  const Outcome two = read_on(2, path);
  EXPECT_EQ(two.ranges, 1);
  expect_same(one, two);
}

// The matrix against an oracle that knows nothing of how it is built: every (user, item) summed in
// file order, users and items numbered by first appearance, each row by item. Users' rows are 1 to
// 700 entries long, on both sides of each limit of the sort by rank (128 with AVX2, 256 with
// AVX-512; std::sort beyond), with duplicates whose sum depends on its order (1e16 + 1 + 1 is not
// 1e16 + 2). Each user's row comes in three runs far apart in the file (in item order, reversed,
// shuffled), so its entries arrive from several ranges and several collectors' chunks. On 1, 2
// and 3 threads the scatter cuts the entries into as many ranges. Besides the build's own
// rank-sort limit, two readings sort every row by std::sort and every row by rank, so that both
// sorts are checked in every build, the sanitizer build included (whose own limit is 0).
TEST_F(SharedReading, RowsAreSortedAndDuplicatesSummedInFileOrder) {
  configure(4 << 10);
  std::mt19937_64 rng(17);
  const double kValues[] = {1e16, 1, 3, 0.1, 2.5};
  std::uniform_int_distribution<int> value_of(0, 4);
  struct Line {
    std::string user, item;
    double value;
  };
  std::vector<Line> lines;
  const int lengths[] = {1, 2, 16, 64, 65, 127, 128, 129, 200, 255, 256, 257, 700};
  constexpr int kUsers = static_cast<int>(std::size(lengths));
  for (int run = 0; run < 3; ++run) {
    for (int u = 0; u < kUsers; ++u) {
      const int length = lengths[u];
      const int part = run < 2 ? length / 3 : length - 2 * (length / 3);  // the row split over the runs
      std::vector<int> items(static_cast<size_t>(part));
      std::uniform_int_distribution<int> item_of(0, std::max(1, length / 2));  // duplicates in most rows
      for (int& i : items) i = item_of(rng);
      if (run == 0) std::sort(items.begin(), items.end());
      if (run == 1) std::sort(items.rbegin(), items.rend());
      for (const int i : items) lines.push_back({"u" + std::to_string(u * 5 % kUsers), "i" + std::to_string(i), kValues[value_of(rng)]});
    }
  }
  std::string body = "user\titem\tvalue\n";
  for (const Line& l : lines) body += fmt::format("{}\t{}\t{}\n", l.user, l.item, l.value);
  const std::string path = write("rows.tsv", body);
  // The oracle.
  std::map<std::string, int> user_number, item_number;
  std::map<std::pair<int, int>, double> sum;
  for (const Line& l : lines) {
    const int u = user_number.emplace(l.user, static_cast<int>(user_number.size())).first->second;
    const int i = item_number.emplace(l.item, static_cast<int>(item_number.size())).first->second;
    const auto [where, fresh] = sum.emplace(std::pair{u, i}, l.value);
    if (!fresh) where->second += l.value;
  }
  // Rank-sort limits by threads: the build's own on 1, 2 and 3 threads, the others on 2.
  const std::pair<std::size_t, int> readings[] = {
      {detail::kRankSortMax, 1}, {detail::kRankSortMax, 2}, {detail::kRankSortMax, 3}, {0, 2}, {1000, 2}};
  for (const auto& [rank_sort_max, threads] : readings) {
    SCOPED_TRACE(fmt::format("{} threads, rows of up to {} sorted by rank", threads, rank_sort_max));
    how_.rank_sort_max = rank_sort_max;
    const Outcome read = read_on(threads, path);
    ASSERT_EQ(read.error, "");
    EXPECT_EQ(read.ranges, threads);
    const InteractionMatrix& d = read.read.data;
    ASSERT_EQ(d.X.rows(), static_cast<Index>(user_number.size()));
    ASSERT_EQ(d.X.cols(), static_cast<Index>(item_number.size()));
    for (const auto& [id, u] : user_number) EXPECT_EQ(d.users.id(u), id);
    for (const auto& [id, i] : item_number) EXPECT_EQ(d.items.id(i), id);
    std::vector<std::pair<std::pair<int, int>, double>> entries;
    for (Index r = 0; r < d.X.rows(); ++r) {
      for (int q = d.X.outerIndexPtr()[r]; q < d.X.outerIndexPtr()[r + 1]; ++q) {
        entries.push_back({{static_cast<int>(r), d.X.innerIndexPtr()[q]}, d.X.valuePtr()[q]});
      }
    }
    // Row by row, items increasing: the map's own order.
    const std::vector<std::pair<std::pair<int, int>, double>> expected(sum.begin(), sum.end());
    EXPECT_TRUE(entries == expected);
    EXPECT_EQ(read.read.summary.duplicates, static_cast<std::int64_t>(lines.size() - sum.size()));
  }
}

// Parsed entries keep values only in chunks that hold one other than 1 (readers.cc, Chunk). Chunks
// of 5 entries here: chunks of 1s only, chunks whose first value other than 1 comes first, in the
// middle or last, a 1 and a 2.5 summed as duplicates across two chunks, on 1 to 3 threads (each
// range's collector has chunks of its own, the last one part-full, before they are joined).
TEST_F(SharedReading, ValuesOtherThanOneAreKeptWhereverTheyFallInTheChunks) {
  configure(64);
  how_.chunk_entries = 5;
  // Value of entry e: 1 but for these.
  const std::map<int, double> other = {{7, 2.5}, {10, 3}, {14, 0.25}, {23, 4}, {24, 5}, {31, 2.5}};
  std::string body;
  std::map<std::pair<std::string, std::string>, double> sum;
  for (int e = 0; e < 60; ++e) {
    const auto found = other.find(e);
    const double value = found == other.end() ? 1.0 : found->second;
    // Entry 31 repeats entry 3's user and item (a 1 in an all-1 chunk): they sum to 3.5.
    const std::string user = "u" + std::to_string(e == 31 ? 0 : e / 4), item = "i" + std::to_string(e == 31 ? 3 : e % 9);
    body += fmt::format("{}\t{}\t{}\n", user, item, value);
    sum[{user, item}] += value;
  }
  const std::string path = write("chunks.tsv", body);
  for (const int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    const Outcome read = read_on(threads, path);
    ASSERT_EQ(read.error, "");
    EXPECT_EQ(read.ranges, threads == 1 ? 1 : threads);
    const InteractionMatrix& d = read.read.data;
    ASSERT_EQ(d.X.nonZeros(), static_cast<Index>(sum.size()));
    EXPECT_EQ(read.read.summary.duplicates, 1);
    for (const auto& [key, value] : sum) EXPECT_EQ(at(d, key.first, key.second), value) << key.first << " " << key.second;
  }
  // Binarised (no chunk stores values), the same entries, every one 1.
  ReadOptions o;
  o.binarize = true;
  const Outcome valued = read_on(2, path);
  for (const int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    const Outcome binary = read_on(threads, path, o);
    ASSERT_EQ(binary.error, "");
    const SparseMatrix& B = binary.read.data.X;
    const SparseMatrix& V = valued.read.data.X;
    ASSERT_EQ(B.nonZeros(), V.nonZeros());
    EXPECT_TRUE(std::equal(B.outerIndexPtr(), B.outerIndexPtr() + B.rows() + 1, V.outerIndexPtr()));
    EXPECT_TRUE(std::equal(B.innerIndexPtr(), B.innerIndexPtr() + B.nonZeros(), V.innerIndexPtr()));
    EXPECT_TRUE(std::all_of(B.valuePtr(), B.valuePtr() + B.nonZeros(), [](double v) { return v == 1.0; }));
    EXPECT_EQ(binary.read.summary.duplicates, 1);
    EXPECT_TRUE(binary.read.summary.binarized);
  }
}

TEST_F(Readers, DuplicatesThatSumBeyondDoubleAreAnError) {
  const std::string path = write("inf.tsv", "u\ti\t1e308\nu\ti\t1e308\n");
  const std::string message = error_of(path);
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
  // Binarised, each duplicate counts as 1: nothing to overflow.
  ReadOptions binary;
  binary.binarize = true;
  const ReadResult read = read_interactions(path, binary);
  EXPECT_EQ(read.data.X.nonZeros(), 1);
  EXPECT_EQ(read.data.X.coeff(0, 0), 1.0);
  EXPECT_EQ(read.summary.duplicates, 1);
}

}  // namespace
}  // namespace linsim
