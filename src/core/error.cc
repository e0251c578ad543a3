#include "linsim/core/error.h"

namespace linsim {

InputError::InputError(const std::string& file, std::int64_t line, const std::string& what)
    : Error(file + ":" + std::to_string(line) + ": " + what), file_(file), line_(line) {}

}  // namespace linsim
