// Parsing an HDF5 image without trusting libhdf5 with the caller's process: a helper program,
// typenet-hdf5-reader (hdf5_reader_main.cpp), parses it under resource limits and a seccomp
// filter and sends back the tree (hdf5_tree_codec.hpp). A crash, a hang or an exhausted limit in
// the helper is a KerasError here. Private to src/keras.
//
// A program of its own, started with posix_spawn, rather than a fork of the caller: the caller
// may have threads, and a forked child of a threaded process may only call async-signal-safe
// functions until it execs (another thread may have held malloc's or HDF5's locks at the fork),
// which rules out running libhdf5 there.
//
// The helper is found at $TYPENET_HDF5_READER when that is set, else in the build tree that
// built this library (so that tests, programs of a build tree and apps that take typenet as a
// Meson subproject need no install), else in the installed libexecdir.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "hdf5_tree.hpp"
#include "typenet/io/keras.hpp"

namespace typenet::keras_detail {

// The tree of the HDF5 `image`, parsed in the helper unless options.parse_in_process. Thread-safe.
// Throws KerasError naming `source`: the parse's own errors as the parse raised them, Corrupted
// when the helper crashed, timed out or sent a malformed reply, CannotOpen when it cannot be
// found or started.
Hdf5Node read_hdf5_tree(std::span<const std::byte> image, const std::string& source,
                        const KerasOptions& options);

}  // namespace typenet::keras_detail
