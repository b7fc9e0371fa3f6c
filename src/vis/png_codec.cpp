// PNG through libpng's simplified API: it converts every colour type and bit depth (grey, grey
// + alpha, palette with tRNS, RGB, RGBA; 1 to 16 bits) to 8-bit RGBA, and it reports errors as
// a return value plus message, so no longjmp ever crosses our C++ frames.
#include <png.h>

#include <climits>
#include <cstring>
#include <string>

#include "codecs.hpp"
#include "file_bytes.hpp"

namespace typenet::vis::detail {
namespace {

// Frees libpng's state on every path out of a read or write.
struct PngImage {
  png_image image;
  PngImage() {
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
};

}  // namespace

RgbaImage decode_png(std::span<const std::uint8_t> bytes, const ImageLimits& limits,
                     const std::filesystem::path& path) {
  PngImage png;
  if (!png_image_begin_read_from_memory(&png.image, bytes.data(), bytes.size())) {
    fail(path, std::string("expected a valid PNG header, found an error: ") + png.image.message);
  }
  check_dimensions(png.image.width, png.image.height, limits, path);
  // 16-bit files without gamma information are sRGB in practice (as PIL and browsers read
  // them); libpng would otherwise assume linear light and brighten them.
  png.image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  png.image.format = PNG_FORMAT_RGBA;

  RgbaImage result;
  result.width = png.image.width;
  result.height = png.image.height;
  result.rgba.resize(PNG_IMAGE_SIZE(png.image));
  if (!png_image_finish_read(&png.image, nullptr, result.rgba.data(), 0, nullptr)) {
    fail(path,
         std::string("expected complete PNG image data, found an error: ") + png.image.message);
  }
  return result;
}

std::vector<std::uint8_t> encode_png(std::span<const std::uint8_t> pixels, std::size_t width,
                                     std::size_t height, PixelFormat format,
                                     const std::filesystem::path& path) {
  const auto channels = static_cast<std::size_t>(format);
  if (width == 0 || height == 0 || width > INT_MAX / 4 || height > INT_MAX) {
    fail(path, "cannot write a PNG of " + std::to_string(width) + " x " + std::to_string(height) +
                   " pixels");
  }
  if (pixels.size() != width * height * channels) {
    fail(path, "expected " + std::to_string(width * height * channels) + " bytes of pixels for " +
                   std::to_string(width) + " x " + std::to_string(height) + " x " +
                   std::to_string(channels) + ", found " + std::to_string(pixels.size()));
  }
  PngImage png;
  png.image.width = static_cast<png_uint_32>(width);
  png.image.height = static_cast<png_uint_32>(height);
  png.image.format = format == PixelFormat::gray  ? PNG_FORMAT_GRAY
                     : format == PixelFormat::rgb ? PNG_FORMAT_RGB
                                                  : PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  // The first call only measures.
  if (!png_image_write_to_memory(&png.image, nullptr, &size, 0, pixels.data(), 0, nullptr)) {
    fail(path, std::string("PNG encoding failed: ") + png.image.message);
  }
  std::vector<std::uint8_t> encoded(size);
  if (!png_image_write_to_memory(&png.image, encoded.data(), &size, 0, pixels.data(), 0, nullptr)) {
    fail(path, std::string("PNG encoding failed: ") + png.image.message);
  }
  encoded.resize(size);
  return encoded;
}

}  // namespace typenet::vis::detail
