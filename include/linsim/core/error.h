// Exceptions the library throws. The library never prints and never exits; the command-line
// front end maps InvalidArgument to exit code 2 (usage) and Error to exit code 1 (runtime).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace linsim {

// A message as it is kept: one printable line. A control byte it quotes (a NUL or an escape
// sequence inside a malformed line or an id) is written as \xNN: a C string would end at a NUL,
// and a terminal would act on an escape sequence. Other bytes, UTF-8 or not, are kept.
std::string printable_message(const std::string& message);

// A run-time failure: unreadable or malformed input, a solver that did not converge,
// an output that cannot be written.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(printable_message(message)) {}
  explicit Error(const char* message) : Error(std::string(message)) {}
};

// A computation whose memory estimate exceeds the memory available, refused before allocating
// (the message gives both figures and what to change). Bindings map it to their out-of-memory
// error (Python's MemoryError), as they do std::bad_alloc.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

// A parameter outside its valid range, an unknown name or id, a request the data cannot
// support (e.g. a rank larger than the data's rank). The message names the parameter,
// the value and the valid range.
class InvalidArgument : public std::invalid_argument {
 public:
  explicit InvalidArgument(const std::string& message) : std::invalid_argument(printable_message(message)) {}
  explicit InvalidArgument(const char* message) : InvalidArgument(std::string(message)) {}
};

// A λ that shrinks every dimension to zero (the model would predict 0 for everything): callers that
// rescale λ before a fit (the weighted variants) add how the λ given became the one refused.
class LambdaRefused : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

// Input whose content is not what it must be: a damaged or foreign model directory or .npy array,
// compressed data that stops early, a file without data lines, embeddings that contradict their
// header. An input the caller gave, not a failure of the machine (an unreadable file, a full disk
// stay Error): bindings map it to their bad-value error (Python's ValueError), as InvalidArgument.
class DataError : public Error {
 public:
  using Error::Error;
};

// Malformed content at a line of an input file; the message reads "FILE:LINE: what (text)".
class InputError : public DataError {
 public:
  InputError(const std::string& file, std::int64_t line, const std::string& what);
  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }

 private:
  std::string file_;
  std::int64_t line_;
};

}  // namespace linsim
