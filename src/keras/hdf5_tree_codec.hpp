// The bytes that carry an HDF5 parse between the helper program that runs libhdf5
// (typenet-hdf5-reader) and the process that asked for it (hdf5_isolation.hpp): a parsed tree,
// or the KerasError the parse ended in. Little-endian and length-prefixed. The decoder trusts
// nothing: the helper may have been subverted by the file it read. Private to src/keras.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hdf5_tree.hpp"
#include "typenet/io/keras.hpp"

namespace typenet::keras_detail {

// A request to the helper: this fixed-size header, then `source_size` bytes of the name to use in
// messages, then the `image_size` bytes of the HDF5 image.
struct Hdf5RequestHeader {
  std::uint64_t max_bytes = 0;
  std::uint32_t timeout_seconds = 0;  // the CPU time the helper may use
  std::uint32_t source_size = 0;
  std::uint64_t image_size = 0;
};
inline constexpr std::size_t hdf5_request_header_bytes = 4 + 4 + 8 + 4 + 4 + 8;
// The longest source name a request may carry.
inline constexpr std::uint32_t max_hdf5_source_bytes = 64 * 1024;

std::vector<std::byte> encode_hdf5_request_header(const Hdf5RequestHeader& header);
// The header, or nothing when it is not one of this version of typenet's or names sizes over the
// limits (source over max_hdf5_source_bytes, image over max_bytes).
std::optional<Hdf5RequestHeader> decode_hdf5_request_header(
    std::span<const std::byte, hdf5_request_header_bytes> bytes);

// The longest reply that a parse under `max_bytes` may send: the tree of a file of max_bytes
// holds at most about max_bytes of names and values, twice that for float16 data read as float32.
std::uint64_t max_hdf5_reply_bytes(std::uint64_t max_bytes);

std::vector<std::byte> encode_hdf5_tree(const Hdf5Node& root);
// The reply for a parse that failed with `error`, a KerasError about `source`: decoded, it
// throws the same problem and message.
std::vector<std::byte> encode_hdf5_error(KerasProblem problem, const std::string& source,
                                         const std::string& what);

// The tree of a reply, or the KerasError it carries. Throws KerasError Corrupted naming `source`
// when the reply is malformed (truncated, lying counts, invalid kinds, deeper than
// max_hdf5_tree_depth, longer than max_hdf5_reply_bytes(max_bytes)).
Hdf5Node decode_hdf5_tree(std::span<const std::byte> reply, const std::string& source,
                          std::uint64_t max_bytes);

inline constexpr std::size_t max_hdf5_tree_depth = 64;

// How the helper exits when it sends no reply for reasons of its own (a reply, even an error,
// comes with status 0).
enum class Hdf5ReaderExit : int {
  BadRequest = 3,     // the request was truncated or of another typenet build
  CannotConfine = 4,  // setrlimit or the seccomp filter failed
};

}  // namespace typenet::keras_detail
