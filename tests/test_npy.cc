// .npy round trips are bit-exact; the reader accepts what numpy writes (both orders, f4/f8/i4/i8).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "linsim/core/error.h"
#include "linsim/io/npy.h"
#include "test_util.h"

namespace linsim {
namespace {

std::string temp_path(const std::string& name) {
  static const test::TempDir dir;  // one per test process, removed at exit
  return dir.file(name);
}

TEST(Npy, MatrixRoundTripIsBitExact) {
  Matrix M = test::random_matrix(7, 3, 1);
  M(0, 0) = std::numeric_limits<double>::denorm_min();
  M(1, 1) = -0.0;
  M(2, 2) = std::numeric_limits<double>::max();
  const std::string path = temp_path("m.npy");
  write_npy(path, M);
  const Matrix R = read_npy_matrix(path);
  ASSERT_EQ(R.rows(), 7);
  ASSERT_EQ(R.cols(), 3);
  EXPECT_EQ(std::memcmp(R.data(), M.data(), sizeof(double) * 21), 0);
  std::filesystem::remove(path);
}

TEST(Npy, MatricesAreWrittenColumnMajorAcrossColumnBlocks) {
  // 150 columns: the float32 writer converts blocks of 64 columns, never the whole matrix.
  const Matrix M = test::random_matrix(5, 150, 4);
  const std::string path = temp_path("big.npy");
  write_npy(path, M);
  EXPECT_TRUE(read_npy_matrix(path) == M);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto header_len = static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  double first_column[5];
  std::memcpy(first_column, bytes.data() + 10 + header_len, sizeof first_column);
  for (int r = 0; r < 5; ++r) EXPECT_EQ(first_column[r], M(r, 0));  // Fortran order: column 0 first
  EXPECT_EQ(bytes.size(), 10 + header_len + 750 * 8);
  in.close();
  write_npy_float32(path, M);
  EXPECT_TRUE(read_npy_matrix(path) == M.cast<float>().cast<double>());
  std::filesystem::remove(path);
}

TEST(Npy, HeaderIsWhatNumpyWrites) {
  const std::string path = temp_path("h.npy");
  write_npy(path, Matrix(Matrix::Ones(2, 3)));
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const auto header_len = static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  EXPECT_EQ((10 + header_len) % 64, 0);
  EXPECT_NE(bytes.find("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }"), std::string::npos);
  EXPECT_EQ(bytes[10 + header_len - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + header_len + 6 * 8);
  std::filesystem::remove(path);
}

TEST(Npy, VectorsIntegersAndFloat32) {
  const std::string path = temp_path("v.npy");
  const Vector v = test::random_matrix(5, 1, 2);
  write_npy(path, v);
  EXPECT_TRUE(read_npy_vector(path) == v);
  const std::vector<std::int64_t> ints = {0, -3, 1LL << 40};
  write_npy(path, ints);
  EXPECT_EQ(read_npy_int64(path), ints);
  const Matrix M = test::random_matrix(4, 2, 3);
  write_npy_float32(path, M);
  EXPECT_TRUE(read_npy_matrix(path) == M.cast<float>().cast<double>());
  // Single-precision matrices are written from memory and read back bit for bit; a float64 file
  // read as float32 is rounded.
  const MatrixF F = test::random_matrix(70, 3, 4).cast<float>();
  write_npy(path, F);
  EXPECT_TRUE(read_npy_matrix_float32(path) == F);
  EXPECT_TRUE(read_npy_matrix(path) == F.cast<double>());
  write_npy(path, M);
  EXPECT_TRUE(read_npy_matrix_float32(path) == M.cast<float>());
  std::filesystem::remove(path);
}

// Reads a hand-built 2 × 3 float64 file holding [[1,2,3],[4,5,6]] in the given order.
Matrix read_hand_built(bool fortran_order, const double (&values)[6]) {
  std::string header = std::string("{'descr': '<f8', 'fortran_order': ") + (fortran_order ? "True" : "False") +
                       ", 'shape': (2, 3), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  const std::string path = temp_path(fortran_order ? "f.npy" : "c.npy");
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(reinterpret_cast<const char*>(values), sizeof values);
  out.close();
  Matrix M = read_npy_matrix(path);
  std::filesystem::remove(path);
  return M;
}

TEST(Npy, ReadsBothOrders) {
  Matrix want(2, 3);
  want << 1, 2, 3, 4, 5, 6;
  EXPECT_TRUE(read_hand_built(true, {1, 4, 2, 5, 3, 6}) == want);   // column by column
  EXPECT_TRUE(read_hand_built(false, {1, 2, 3, 4, 5, 6}) == want);  // row by row (numpy's default)
}

TEST(Npy, RejectsGarbage) {
  const std::string path = temp_path("bad.npy");
  std::ofstream(path) << "not a numpy file";
  EXPECT_THROW(read_npy_matrix(path), Error);
  EXPECT_THROW(read_npy_matrix(temp_path("missing.npy")), Error);
  std::filesystem::remove(path);
}

}  // namespace
// A .npy file with the given raw header text (version 1.0 or 2.0) followed by `data_bytes` zero bytes.
std::string write_raw_npy(const std::string& name, const std::string& header, size_t data_bytes, int version = 1,
                          std::uint32_t claimed_length = 0) {
  const std::string path = temp_path(name);
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY", 6);
  out.put(static_cast<char>(version));
  out.put(0);
  const std::uint32_t length = claimed_length != 0 ? claimed_length : static_cast<std::uint32_t>(header.size());
  if (version == 1) {
    const auto l16 = static_cast<std::uint16_t>(length);
    out.write(reinterpret_cast<const char*>(&l16), 2);
  } else {
    out.write(reinterpret_cast<const char*>(&length), 4);
  }
  out << header;
  out << std::string(data_bytes, '\0');
  return path;
}

std::string message_of(const std::string& path) {
  try {
    read_npy_matrix(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

long peak_rss_kb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Found by fuzzing (fuzz/corpus/npy/finding-int64-max.npy): int64 arrays are read as integers, not through
// double (which cannot hold 2^63 − 1, and whose conversion back would be undefined).
TEST(Npy, Int64ExtremesReadBackExactly) {
  const std::vector<std::int64_t> v = {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                                       (std::int64_t{1} << 53) + 1};
  write_npy(temp_path("i64.npy"), v);
  EXPECT_EQ(read_npy_int64(temp_path("i64.npy")), v);
}

// Regression tests of the hardening issue (docs/reliability.md): sizes come from the file, never
// from a header alone, and every malformed header is an Error that says what is wrong.
TEST(Npy, HeaderSizesAreCheckedAgainstTheFileBeforeAnyAllocation) {
  const long before = peak_rss_kb();
  // A header-length field of 0xFFFFFFF0 (numpy format 2.0).
  EXPECT_NE(message_of(write_raw_npy("hlen.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", 8, 2,
                                     0xFFFFFFF0u))
                .find("header claims 4294967280 bytes"),
            std::string::npos);
  // Shapes whose data the file does not hold, including products that overflow 64 bits.
  for (const char* shape : {"(1000000000, 1000000000)", "(10000000, 8)", "(4294967296, 4294967296)"}) {
    const std::string header = std::string("{'descr': '<f8', 'fortran_order': False, 'shape': ") + shape + ", }";
    const std::string message = message_of(write_raw_npy("shape.npy", header, 128));
    EXPECT_NE(message.find("but the file holds 128"), std::string::npos) << message;
  }
  EXPECT_LT(peak_rss_kb() - before, 100 * 1024) << "a header alone made the reader allocate";
}

TEST(Npy, MalformedHeadersAreNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 4), }", "non-negative integers"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ( , 4), }", "non-negative integers"},
      {"{'descr': '<f8', 'fortran_order': 2, 'shape': (1, 1), }", "fortran_order"},
      {"{'descr': '<f8', 'fortran_order': 'yes', 'shape': (1, 1), }", "fortran_order"},
      {"{'descr': <f8, 'fortran_order': False, 'shape': (1, 1), }", "descr"},
      {"{'descr': '<f8', 'fortran_order': False, }", "no 'shape'"},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", "unsupported dtype"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }", "unsupported dtype"},
  };
  for (const auto& [header, expected] : cases) {
    const std::string message = message_of(write_raw_npy("m.npy", header, 16));
    EXPECT_NE(message.find(expected), std::string::npos) << header << " -> " << message;
  }
  // Data longer than the shape, and a directory in place of a file.
  EXPECT_NE(message_of(write_raw_npy("long.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 16))
                .find("holds 16"),
            std::string::npos);
  EXPECT_NE(message_of(std::filesystem::path(temp_path("x")).parent_path().string()).find("not a regular file"),
            std::string::npos);
}

}  // namespace linsim
