// Raising KerasError from src/keras. Private to src/keras.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "typenet/io/keras.hpp"

namespace typenet::keras_detail {

[[noreturn]] void fail(KerasProblem problem, const std::string& source, const std::string& detail);

// "(5, 5, 1, 16)", as numpy prints shapes.
std::string shape_text(std::span<const std::size_t> shape);

}  // namespace typenet::keras_detail
