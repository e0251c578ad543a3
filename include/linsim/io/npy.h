// NumPy .npy files (format version 1.0/2.0): what numpy.load reads unchanged.
// Writing: little-endian float64, float32, int32 or int64, C order. Reading: float32/float64/int32/int64,
// C or Fortran order, 1-D or 2-D.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

void write_npy(const std::string& path, const Matrix& M);                 // float64, rows × cols
void write_npy(std::ostream& out, const Matrix& M);                       // the same, to a stream
void write_npy(const std::string& path, const Vector& v);                 // float64, 1-D
void write_npy(const std::string& path, const MatrixF& M);                // float32, rows × cols
void write_npy_float32(const std::string& path, const Matrix& M);         // float32, rows × cols
void write_npy(const std::string& path, const std::vector<std::int64_t>& v);  // int64, 1-D
void write_npy(const std::string& path, const std::int32_t* data, size_t n);  // int32, 1-D, from memory
void write_npy(const std::string& path, const double* data, size_t n);        // float64, 1-D, from memory

// The bytes before the data of a .npy array: magic, version 1.0, the header dictionary ("<f8",
// "<f4", "<i8", "<i4" with a 1-D or 2-D shape, C or Fortran order) padded to a multiple of 64. Writers of
// an array in pieces (linsim-mpi) put the data after it. The 2-D writers above use Fortran order
// (linsim's matrices are column-major), the 1-D ones C order.
std::string npy_header(const char* descr, const std::vector<size_t>& shape, bool fortran_order);

// A 2-D array (a 1-D array becomes one column), converted to double.
Matrix read_npy_matrix(const std::string& path);
// The same in single precision (float64 files are rounded).
MatrixF read_npy_matrix_float32(const std::string& path);
Vector read_npy_vector(const std::string& path);
std::vector<std::int64_t> read_npy_int64(const std::string& path);

}  // namespace linsim
