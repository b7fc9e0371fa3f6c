// PNG and JPEG codecs behind read_image_rgba / write_png (internal to the vis library).
// `path` only names the file in error messages; the bytes are already in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "typenet/vis/image_file.hpp"

namespace typenet::vis::detail {

RgbaImage decode_png(std::span<const std::uint8_t> bytes, const ImageLimits& limits,
                     const std::filesystem::path& path);
RgbaImage decode_jpeg(std::span<const std::uint8_t> bytes, const ImageLimits& limits,
                      const std::filesystem::path& path);

// Checks declared dimensions before anything is allocated for them.
void check_dimensions(std::size_t width, std::size_t height, const ImageLimits& limits,
                      const std::filesystem::path& path);

std::vector<std::uint8_t> encode_png(std::span<const std::uint8_t> pixels, std::size_t width,
                                     std::size_t height, PixelFormat format,
                                     const std::filesystem::path& path);

}  // namespace typenet::vis::detail
