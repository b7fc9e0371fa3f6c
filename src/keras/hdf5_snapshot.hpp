// libhdf5's parse of an HDF5 image into the tree that typenet reads (hdf5_tree.hpp). The one
// place that reads files with libhdf5: it runs in the isolated reader process
// (hdf5_isolation.hpp), or in the caller for files it trusts. Private to src/keras.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "hdf5_tree.hpp"

namespace typenet::keras_detail {

// Every group, attribute and dataset reachable by hard links from the root, floating-point
// datasets with their values as float32. What cannot be read is kept with its damage (see
// Hdf5Node). Throws KerasError: NotKerasFile (no HDF5 signature), Corrupted (HDF5 cannot open
// it, a damaged global heap), TooLarge (values and strings over twice the image's size and 16 MiB, or
// over `max_bytes`, in all: a compressed dataset cannot inflate without bound).
Hdf5Node snapshot_hdf5_image(std::span<const std::byte> image, const std::string& source,
                             std::uint64_t max_bytes);

}  // namespace typenet::keras_detail
