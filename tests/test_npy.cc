// .npy round trips are bit-exact; the reader accepts what numpy writes (both orders, f4/f8/i4/i8).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <thread>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <vector>

#include "linsim/core/error.h"
#include "linsim/core/setup.h"
#include "linsim/io/npy.h"
#include "io/file_sink.h"
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

// Whether files in the test directory can be written around the page cache here: one aligned
// block written direct (a file system may take the O_DIRECT flag and still refuse the write).
bool direct_writes_work() {
  const std::string path = temp_path("probe.bin");
  FileSink sink(path, FileSink::kAlign, 0);
  const std::vector<char> block(FileSink::kAlign, 'x');
  sink.write(block.data(), block.size());
  sink.finish();
  std::filesystem::remove(path);
  return sink.direct_bytes() == FileSink::kAlign;
}

// The direct route (io/file_sink.h) writes the bytes of the buffered one, whatever the sizes:
// empty, below, at and past one aligned block and one whole buffer, with a partial last block,
// handed over in pieces of uneven lengths. Where this file system takes O_DIRECT, every byte but
// the last partial block must go direct: a misaligned buffer, offset or length would be refused
// (EINVAL) and fall back to the cache, which the count of direct bytes shows.
TEST(FileSink, BothRoutesWriteTheSameBytes) {
  constexpr size_t kBuf = FileSink::kBufferBytes, kBlock = FileSink::kAlign;
  const std::vector<size_t> sizes = {0, 1, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock + 17, kBuf - 1, kBuf,
                                     kBuf + 5, 2 * kBuf + 3 * kBlock + 100};
  const bool direct_here = direct_writes_work();
  if (!direct_here) std::cout << "the test directory's file system refuses O_DIRECT: the cache route only\n";
  std::vector<char> data(sizes.back());
  std::uint64_t x = 88172645463325252ull;  // xorshift64
  for (char& c : data) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  for (const size_t size : sizes) {
    for (const std::uint64_t direct_from : {std::uint64_t{0}, ~std::uint64_t{0}}) {
      const std::string path = temp_path("sink.bin");
      {
        FileSink sink(path, size, direct_from);
        size_t at = 0, piece = 1;
        while (at < size) {
          const size_t n = std::min(size - at, piece);
          sink.write(data.data() + at, n);
          at += n;
          piece = piece * 7 + 3;  // 1, 10, 73, 514, ... up past the buffer
        }
        EXPECT_EQ(sink.direct(), direct_here && direct_from == 0) << size << " bytes";
        sink.finish();
        const size_t whole_blocks = size / kBlock * kBlock;
        EXPECT_EQ(sink.direct_bytes(), direct_here && direct_from == 0 ? whole_blocks : 0) << size << " bytes";
      }
      std::ifstream in(path, std::ios::binary);
      const std::vector<char> back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ASSERT_EQ(back.size(), size) << "direct_from " << direct_from;
      EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin())) << size << " bytes, direct_from " << direct_from;
      std::filesystem::remove(path);
    }
  }
  // Turned off, nothing goes direct.
  configure_direct_writes(false);
  EXPECT_FALSE(FileSink(temp_path("off.bin"), kBuf, 0).direct());
  configure_direct_writes(true);
}

TEST(FileSink, AFailedWriteOrAShortFileIsAnErrorNamingThePath) {
  // A file-size limit one block past the first buffer: the first buffer goes direct, the second
  // is cut to that block (still direct), and the next write fails at the limit (EFBIG, SIGXFSZ
  // ignored) — a failed write on the direct route, as a full disk would fail it.
  {
    const std::string path = temp_path("limited.bin");
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit limited = old;
    limited.rlim_cur = FileSink::kBufferBytes + FileSink::kAlign;
    if (old.rlim_max == RLIM_INFINITY || old.rlim_max >= limited.rlim_cur) {
      const auto previous = std::signal(SIGXFSZ, SIG_IGN);
      ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
      const std::vector<char> zeros(3 * FileSink::kBufferBytes);
      std::string message;
      std::uint64_t direct_bytes = 0;
      try {
        FileSink sink(path, zeros.size(), 0);
        try {
          sink.write(zeros.data(), zeros.size());
          sink.finish();
        } catch (const Error&) {
          direct_bytes = sink.direct_bytes();
          throw;
        }
      } catch (const Error& e) {
        message = e.what();
      }
      setrlimit(RLIMIT_FSIZE, &old);
      std::signal(SIGXFSZ, previous);
      EXPECT_NE(message.find("cannot write '" + path + "'"), std::string::npos) << message;
      if (direct_writes_work()) {
        EXPECT_EQ(direct_bytes, limited.rlim_cur);  // all of it direct, up to the failure
      }
      std::filesystem::remove(path);
    }
  }
  // A FIFO is never written direct (there O_DIRECT means packets, which a reader reading less than
  // one would cut short): every byte arrives, read in small pieces.
  {
    const std::string fifo = temp_path("fifo");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    const size_t size = 2 * FileSink::kBufferBytes + 12345;
    std::vector<char> data(size);
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + 7);
    std::vector<char> received;
    std::thread reader([&] {
      std::ifstream in(fifo, std::ios::binary);
      char piece[100];
      while (in.read(piece, sizeof piece) || in.gcount() > 0) received.insert(received.end(), piece, piece + in.gcount());
    });
    {
      FileSink sink(fifo, size, 0);
      EXPECT_FALSE(sink.direct());
      sink.write(data.data(), size);
      sink.finish();
    }
    reader.join();
    EXPECT_TRUE(received == data) << received.size() << " of " << size << " bytes";
    std::filesystem::remove(fifo);
  }
  // /dev/full takes no bytes (ENOSPC); a device is never written direct.
  if (std::filesystem::exists("/dev/full")) {
    FileSink sink("/dev/full", 3 * FileSink::kBufferBytes, 0);
    EXPECT_FALSE(sink.direct());
    const std::vector<char> zeros(FileSink::kBufferBytes + 1);
    try {
      sink.write(zeros.data(), zeros.size());
      sink.finish();
      ADD_FAILURE() << "writing to /dev/full succeeded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'/dev/full'"), std::string::npos) << e.what();
    }
  }
  const std::string path = temp_path("short.bin");
  FileSink sink(path, 100);
  sink.write("abc", 3);
  EXPECT_THROW(sink.finish(), Error);
  EXPECT_THROW(FileSink(temp_path("no-such-dir/x.npy"), 10), Error);
}

// A matrix past FileSink::kDirectBytes goes the direct route in both writers (as it is, and
// converted to float32 by blocks of columns), and reads back exactly.
TEST(Npy, MatricesPastTheDirectSizeRoundTrip) {
  const Index n = 2900;  // 2,900² doubles = 67 MB
  static_assert(2900ull * 2900 * 8 > FileSink::kDirectBytes);
  const Matrix M = test::random_matrix(n, n, 9);
  const std::string path = temp_path("direct.npy");
  write_npy(path, M);
  const Matrix R = read_npy_matrix(path);
  ASSERT_EQ(R.rows(), n);
  ASSERT_EQ(R.cols(), n);
  EXPECT_EQ(std::memcmp(R.data(), M.data(), sizeof(double) * static_cast<size_t>(M.size())), 0);
  const Matrix W = test::random_matrix(4200, 4200, 10);  // 70.6 MB as float32
  write_npy_float32(path, W);
  const MatrixF F = read_npy_matrix_float32(path);
  const MatrixF expected = W.cast<float>();
  ASSERT_EQ(F.rows(), 4200);
  EXPECT_EQ(std::memcmp(F.data(), expected.data(), sizeof(float) * static_cast<size_t>(F.size())), 0);
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

// Found by fuzzing (fuzz/corpus/npy/finding-no-values-huge-rows.npy): a shape of (1442949672960737, 0) holds no
// values, so the size check passed, and the reader walked 1.4e15 empty rows. An array without values is read only
// when every dimension is 0.
TEST(Npy, ArraysWithoutValuesMustHaveNoRowsEither) {
  for (const char* shape : {"(1442949672960737, 0)", "(0, 3)", "(5, 0)"}) {
    const std::string header = std::string("{'descr': '<f8', 'fortran_order': False, 'shape': ") + shape + ", }";
    const std::string message = message_of(write_raw_npy("novalues.npy", header, 0));
    EXPECT_NE(message.find("holds no values"), std::string::npos) << shape << " -> " << message;
  }
  const Matrix empty = read_npy_matrix(write_raw_npy("none.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 0), }", 0));
  EXPECT_EQ(empty.size(), 0);
  EXPECT_TRUE(read_npy_int64(write_raw_npy("none1.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", 0)).empty());
}

TEST(Npy, MalformedHeadersAreNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 4), }", "non-negative integers"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ( , 4), }", "non-negative integers"},
      {"{'descr': '<f8', 'fortran_order': 2, 'shape': (1, 1), }", "fortran_order"},
      {"{'descr': '<f8', 'fortran_order': 'yes', 'shape': (1, 1), }", "fortran_order"},
      {"{'descr': <f8, 'fortran_order': False, 'shape': (1, 1), }", "descr"},
      {"{'descr': '<f8', 'fortran_order': False, }", "no 'shape'"},
      // numpy reads a repeated key's last value (2, 3), this reader read the first (was: (3, 2))
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), 'shape': (2, 3), }", "'shape' is given twice"},
      {"{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", "'descr' is given twice"},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", "unsupported dtype '>f8'"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }", "unsupported dtype '<c16'"},
      {"{'descr': '|O', 'fortran_order': False, 'shape': (1, 1), }", "unsupported dtype '|O'"},
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
