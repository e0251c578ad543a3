// .npy round trips are bit-exact; the reader accepts what numpy writes (both orders, f4/f8/i4/i8).
#include <gtest/gtest.h>

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
}  // namespace linsim
