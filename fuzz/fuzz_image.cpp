// libFuzzer target: arbitrary bytes as an image file through typenet::vis::read_image_rgba (PNG
// through libpng, JPEG through libjpeg-turbo) and to_gray. The reader must either return a
// picture that honours the limits and its own dimensions, or throw a std::runtime_error whose
// message starts with the file's path; any other exception, crash or sanitizer report is a bug.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>

#include "memory_file.hpp"
#include "typenet/vis/image_file.hpp"

namespace {

// Smaller than the defaults (16384 per side, 64 MP) so that a 50-byte file declaring a huge
// picture costs milliseconds, not a second, and the fuzzer keeps its pace; the limit checks
// themselves are exercised all the same.
constexpr typenet::vis::ImageLimits kLimits{
    .max_side = 2048, .max_pixels = 1 << 20, .max_file_bytes = 1 << 20};

void check_picture(const typenet::vis::RgbaImage& image) {
  if (image.width == 0 || image.height == 0 || image.width > kLimits.max_side ||
      image.height > kLimits.max_side || image.width * image.height > kLimits.max_pixels ||
      image.rgba.size() != image.width * image.height * 4) {
    std::abort();
  }
  const typenet::vis::GrayImage gray = typenet::vis::to_gray(image);
  if (gray.width != image.width || gray.height != image.height) std::abort();
  for (const float value : gray.pixels) {
    if (!(value >= 0.0f && value <= 255.0f)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static typenet_fuzz::MemoryFile file;
  const std::filesystem::path& path = file.hold(std::span(data, size));
  try {
    check_picture(typenet::vis::read_image_rgba(path, kLimits));
  } catch (const std::runtime_error& error) {
    if (!std::string(error.what()).starts_with(path.string() + ": ")) std::abort();
  }
  return 0;
}
