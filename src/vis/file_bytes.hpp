// Writing whole files with errors that name the file (internal to the vis library; files are
// read with io::read_whole_file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace typenet::vis::detail {

// "<path>: <what>" as a std::runtime_error.
[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what);

// Creates or truncates the file and writes `bytes`; throws when it cannot.
void write_file_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace typenet::vis::detail
