#include "keras_error.hpp"

namespace typenet {

KerasError::KerasError(KerasProblem problem, const std::string& source, const std::string& detail)
    : std::runtime_error(source + ": " + detail), problem_(problem) {}

void keras_detail::fail(KerasProblem problem, const std::string& source,
                        const std::string& detail) {
  throw KerasError(problem, source, detail);
}

std::string keras_detail::shape_text(std::span<const std::size_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace typenet
