// The error every data loader and data utility throws: its message names the file (when there is
// one), what was expected and what was found, so that a user can fix the input without a debugger.
#pragma once

#include <stdexcept>

namespace typenet {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace typenet
