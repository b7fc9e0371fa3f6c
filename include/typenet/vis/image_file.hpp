// Image files: decoding PNG and JPEG pictures (a user's photo of a digit) and writing PNGs.
//
// Decoding is strict and bounded because the files come from users: the format is chosen by
// the magic bytes (never the extension), the declared dimensions are checked against
// `ImageLimits` before any pixel buffer is allocated, and a truncated or corrupt stream is an
// error rather than a silently grey-filled picture. Every error is a std::runtime_error whose
// message names the file, what was expected and what was found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace typenet::vis {

// Bounds on what a decoder accepts (a 100-byte PNG may declare 100000 x 100000 pixels).
struct ImageLimits {
  std::size_t max_side = 16384;                    // width and height, each
  std::size_t max_pixels = std::size_t{64} << 20;  // width * height (64 MP = 256 MiB as RGBA)
  std::size_t max_file_bytes = std::size_t{256} << 20;
};

// 8-bit RGBA, row-major, straight (not premultiplied) alpha. Grey, grey+alpha, palette and RGB
// files are expanded (R = G = B for grey; A = 255 when the file has no transparency); 16-bit
// samples are reduced to 8 bits.
struct RgbaImage {
  std::size_t width = 0;
  std::size_t height = 0;
  std::vector<std::uint8_t> rgba;  // width * height * 4
};

// One channel, row-major, values in [0, 255] (0 = black).
struct GrayImage {
  std::size_t width = 0;
  std::size_t height = 0;
  std::vector<float> pixels;  // width * height
  float at(std::size_t x, std::size_t y) const { return pixels[y * width + x]; }
};

// Decodes a PNG or JPEG file (chosen by its first bytes).
RgbaImage read_image_rgba(const std::filesystem::path& path, const ImageLimits& limits = {});

// Grey = mean(R, G, B), after compositing transparent pixels over white (a digit drawn on a
// transparent canvas reads as dark ink on light paper, as it is displayed).
GrayImage to_gray(const RgbaImage& image);

// read_image_rgba then to_gray.
GrayImage read_image(const std::filesystem::path& path, const ImageLimits& limits = {});

enum class PixelFormat { gray = 1, rgb = 3, rgba = 4 };  // the value is the bytes per pixel

// Writes 8-bit pixels (row-major, width * height * bytes per pixel) as a PNG file.
void write_png(const std::filesystem::path& path, std::span<const std::uint8_t> pixels,
               std::size_t width, std::size_t height, PixelFormat format);
// Writes a grey image, rounding and clamping its values to [0, 255].
void write_png(const std::filesystem::path& path, const GrayImage& image);

}  // namespace typenet::vis
