// Whole-file reads and writes with errors that name the file (internal to the vis library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace typenet::vis::detail {

// "<path>: <what>" as a std::runtime_error.
[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what);

// Reads a whole file; throws when it cannot be read, is empty or is larger than max_bytes.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes);

// Creates or truncates the file and writes `bytes`; throws when it cannot.
void write_file_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace typenet::vis::detail
