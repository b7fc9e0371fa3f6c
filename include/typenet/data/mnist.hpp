// keras.datasets.mnist / fashion_mnist .load_data(), for C++: the four IDX files of a data set
// become a train and a test Dataset. Nothing is downloaded here (typenet links no network
// library): scripts/fetch_mnist downloads MNIST, Debian's dataset-fashion-mnist package installs
// Fashion-MNIST, and a missing file is an error that says where it was looked for and what to do.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string_view>

#include "typenet/data/dataset.hpp"

namespace typenet {

struct LoadOptions {
  // The folder holding the four files (each plain or .gz). Empty: search the default folders.
  // (The `{}` keeps GCC quiet about designated initialisers that leave it out.)
  std::filesystem::path directory{};
  // Pixels as float(x) / 255 in [0, 1], as Keras tutorials do; false keeps them in 0..255.
  bool normalize = true;
  // Check each decompressed file against its published MD5: ~0.08 s of CPU for MNIST's 55 MB,
  // run on a second thread beside the float conversion. DataError naming both MD5s on mismatch.
  bool verify_md5 = true;
};

struct MnistData {
  Dataset train;  // 60000 images of 28x28
  Dataset test;   // 10000 images of 28x28
};

// MNIST handwritten digits. Searched, unless options.directory is set: $TYPENET_DATA, then the
// per-user cache mnist_cache_dir() that scripts/fetch_mnist fills by default. DataError when no
// folder holds all four files (listing the folders searched and what each lacks), on a bad file
// (see read_idx), a label count unlike the image count, or a wrong MD5.
MnistData load_mnist(const LoadOptions& options = {});

// Zalando's Fashion-MNIST (same format, ten kinds of clothing). Searched, unless
// options.directory is set: $TYPENET_FASHION_DATA, the per-user cache
// ($XDG_CACHE_HOME or ~/.cache)/typenet/fashion-mnist, then /usr/share/datasets/fashion-mnist
// (Debian's dataset-fashion-mnist package).
MnistData load_fashion_mnist(const LoadOptions& options = {});

// Fashion-MNIST's label names, by class index.
inline constexpr std::array<std::string_view, 10> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// ($XDG_CACHE_HOME or ~/.cache)/typenet/mnist; nullopt when neither variable is set.
std::optional<std::filesystem::path> mnist_cache_dir();

// Any pair of IDX files in MNIST's format (images count x rows x cols, labels count), e.g. a
// subset written by another tool. DataError when the counts differ.
Dataset load_idx_dataset(const std::filesystem::path& images_path,
                         const std::filesystem::path& labels_path, bool normalize = true);

}  // namespace typenet
