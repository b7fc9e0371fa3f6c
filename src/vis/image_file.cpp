#include "typenet/vis/image_file.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "codecs.hpp"
#include "file_bytes.hpp"
#include "typenet/io/atomic_write.hpp"

namespace typenet::vis {
namespace {

constexpr std::array<std::uint8_t, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr std::array<std::uint8_t, 3> kJpegSignature = {0xff, 0xd8, 0xff};

// The file's bytes; read_whole_file's errors in the words of the other image errors.
std::vector<std::byte> read_image_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::vector<std::byte> bytes;
  try {
    bytes = io::read_whole_file(path, max_bytes);
  } catch (const io::FileTooLarge& error) {
    detail::fail(path, "expected at most " + std::to_string(error.limit()) + " bytes, found " +
                           std::to_string(error.size()));
  } catch (const std::system_error& error) {
    if (error.code() == std::errc::is_a_directory)
      detail::fail(path, "expected a file, found a directory");
    if (error.code() == std::errc::invalid_argument)
      detail::fail(path, "expected a file, found a device or pipe");
    detail::fail(path, "cannot open for reading: " + error.code().message());
  }
  if (bytes.empty()) detail::fail(path, "expected an image, found an empty file (0 bytes)");
  return bytes;
}

template <std::size_t N>
bool starts_with(std::span<const std::uint8_t> bytes, const std::array<std::uint8_t, N>& magic) {
  return bytes.size() >= N && std::equal(magic.begin(), magic.end(), bytes.begin());
}

// "89 50 4e 47" for the error message of an unknown format.
std::string first_bytes_hex(std::span<const std::uint8_t> bytes) {
  std::string text;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02x ", bytes[i]);
    text += hex;
  }
  text.pop_back();
  return text;
}

}  // namespace

namespace detail {

void check_dimensions(std::size_t width, std::size_t height, const ImageLimits& limits,
                      const std::filesystem::path& path) {
  const std::string found = std::to_string(width) + " x " + std::to_string(height);
  if (width == 0 || height == 0) fail(path, "expected a non-empty image, found " + found);
  if (width > limits.max_side || height > limits.max_side) {
    fail(path, "expected at most " + std::to_string(limits.max_side) + " pixels per side, found " +
                   found);
  }
  if (width * height > limits.max_pixels) {
    fail(path, "expected at most " + std::to_string(limits.max_pixels) + " pixels, found " + found);
  }
}

}  // namespace detail

RgbaImage read_image_rgba(const std::filesystem::path& path, const ImageLimits& limits) {
  const std::vector<std::byte> file = read_image_file(path, limits.max_file_bytes);
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(file.data()), file.size());
  if (starts_with(bytes, kPngSignature)) return detail::decode_png(bytes, limits, path);
  if (starts_with(bytes, kJpegSignature)) return detail::decode_jpeg(bytes, limits, path);
  detail::fail(path, "expected a PNG or JPEG image, found a file starting with bytes " +
                         first_bytes_hex(bytes));
}

GrayImage to_gray(const RgbaImage& image) {
  GrayImage gray;
  gray.width = image.width;
  gray.height = image.height;
  const std::size_t count = image.width * image.height;
  if (image.rgba.size() != count * 4) {
    throw std::invalid_argument("to_gray: expected " + std::to_string(count * 4) +
                                " RGBA bytes, found " + std::to_string(image.rgba.size()));
  }
  gray.pixels.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = &image.rgba[4 * i];
    const float mean = (float(p[0]) + float(p[1]) + float(p[2])) / 3.0f;
    const float alpha = float(p[3]) / 255.0f;
    gray.pixels[i] = alpha * mean + (1.0f - alpha) * 255.0f;  // over white
  }
  return gray;
}

GrayImage read_image(const std::filesystem::path& path, const ImageLimits& limits) {
  return to_gray(read_image_rgba(path, limits));
}

void write_png(const std::filesystem::path& path, std::span<const std::uint8_t> pixels,
               std::size_t width, std::size_t height, PixelFormat format) {
  detail::write_file_bytes(path, detail::encode_png(pixels, width, height, format, path));
}

void write_png(const std::filesystem::path& path, const GrayImage& image) {
  if (image.pixels.size() != image.width * image.height) {
    detail::fail(path, "expected " + std::to_string(image.width * image.height) +
                           " grey pixels, found " + std::to_string(image.pixels.size()));
  }
  std::vector<std::uint8_t> bytes(image.pixels.size());
  std::transform(image.pixels.begin(), image.pixels.end(), bytes.begin(), [](float v) {
    return static_cast<std::uint8_t>(
        std::lround(std::clamp(std::isnan(v) ? 0.0f : v, 0.0f, 255.0f)));
  });
  write_png(path, bytes, image.width, image.height, PixelFormat::gray);
}

}  // namespace typenet::vis
