#include "typenet/data/mnist.hpp"

#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "typenet/data/data_error.hpp"
#include "typenet/data/idx.hpp"

namespace typenet {
namespace {

struct IdxFile {
  std::string_view name;  // without .gz
  std::string_view md5;   // of the decompressed file, as published
};

// One MNIST-format data set: its four files and where to look for them.
struct DatasetSpec {
  std::string_view title;
  IdxFile train_images, train_labels, test_images, test_labels;
  std::string_view env_var;       // a folder holding the files
  std::string_view cache_subdir;  // under ($XDG_CACHE_HOME or ~/.cache)/typenet/
  std::string_view system_dir;    // where a distribution package installs them; may be empty
  std::string_view how_to_get;    // the end of the "not found" message
};

constexpr DatasetSpec kMnist = {
    "MNIST",
    {"train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"},
    {"train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"},
    {"t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"},
    {"t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"},
    "TYPENET_DATA",
    "mnist",
    "",
    "Run scripts/fetch_mnist to download them into the per-user cache (or scripts/fetch_mnist DIR "
    "and set TYPENET_DATA=DIR), or set TYPENET_DATA to a folder that already holds them (on this "
    "project's machines: ../shared/data/mnist)."};

// Fashion-MNIST's published MD5s are of its .gz files, which Debian recompressed; these are of
// the decompressed files, the same in Debian's package and in Zalando's originals.
constexpr DatasetSpec kFashionMnist = {
    "Fashion-MNIST",
    {"train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a"},
    {"train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"},
    {"t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a"},
    {"t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"},
    "TYPENET_FASHION_DATA",
    "fashion-mnist",
    "/usr/share/datasets/fashion-mnist",
    "Install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or "
    "set TYPENET_FASHION_DATA to a folder that holds them."};

struct SearchDir {
  std::filesystem::path path;
  std::string origin;  // why it is searched, for the "not found" message
};

std::optional<std::filesystem::path> user_cache_root() {
  // XDG Base Directory: a relative $XDG_CACHE_HOME is invalid and must be ignored.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME");
      xdg != nullptr && std::filesystem::path(xdg).is_absolute()) {
    return std::filesystem::path(xdg) / "typenet";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "typenet";
  }
  return std::nullopt;
}

std::vector<SearchDir> search_dirs(const DatasetSpec& spec, const LoadOptions& options) {
  if (!options.directory.empty()) return {{options.directory, "LoadOptions::directory"}};
  std::vector<SearchDir> dirs;
  if (const char* env = std::getenv(std::string(spec.env_var).c_str()); env && *env != '\0') {
    // append, not "$" + std::string: GCC 12's -Wrestrict misfires on the latter (bug 105329).
    dirs.push_back({env, std::string("$").append(spec.env_var)});
  }
  if (const auto cache = user_cache_root()) {
    dirs.push_back({*cache / spec.cache_subdir, "per-user cache"});
  }
  if (!spec.system_dir.empty()) dirs.push_back({spec.system_dir, "system-wide"});
  return dirs;
}

struct FoundFiles {
  std::filesystem::path train_images, train_labels, test_images, test_labels;
};

// The four files from the first folder that holds all of them (each plain or .gz); mixing
// folders could mix versions. DataError listing every folder and what it lacks otherwise.
FoundFiles locate(const DatasetSpec& spec, const LoadOptions& options) {
  const auto dirs = search_dirs(spec, options);
  std::string searched;
  for (const SearchDir& dir : dirs) {
    searched += "\n  " + dir.path.string() + " (" + dir.origin + "): ";
    std::error_code error;
    if (!std::filesystem::is_directory(dir.path, error)) {
      searched += "no such folder";
      continue;
    }
    std::string missing;
    auto find = [&](const IdxFile& file) {
      for (const char* suffix : {"", ".gz"}) {
        auto path = dir.path / (std::string(file.name) + suffix);
        if (std::filesystem::is_regular_file(path, error)) return path;
      }
      missing += (missing.empty() ? "" : ", ") + std::string(file.name) + "[.gz]";
      return std::filesystem::path();
    };
    FoundFiles found{find(spec.train_images), find(spec.train_labels), find(spec.test_images),
                     find(spec.test_labels)};
    if (missing.empty()) return found;
    searched += "missing " + missing;
  }
  if (dirs.empty())
    searched = "\n  (none: $" + std::string(spec.env_var) +
               ", $XDG_CACHE_HOME "
               "and $HOME are all unset)";
  throw DataError(std::string(spec.title) + " files not found: expected " +
                  std::string(spec.train_images.name) + ", " + std::string(spec.train_labels.name) +
                  ", " + std::string(spec.test_images.name) + " and " +
                  std::string(spec.test_labels.name) +
                  " (each plain or .gz) in one folder. "
                  "Searched:" +
                  searched + "\n" + std::string(spec.how_to_get));
}

void verify(const IdxArray& array, const std::filesystem::path& path, const DatasetSpec& spec,
            const IdxFile& file) {
  if (const std::string md5 = idx_md5(array); md5 != file.md5) {
    throw DataError("'" + path.string() + "': MD5 mismatch: expected " + std::string(file.md5) +
                    " (" + std::string(spec.title) + "'s " + std::string(file.name) + "), found " +
                    md5 + " for the decompressed content. The file is damaged or not " +
                    std::string(spec.title) +
                    "'s: delete it and fetch it again, or load "
                    "with LoadOptions::verify_md5 = false to use it anyway.");
  }
}

// Pairs images with labels and converts the pixels to floats. `check_beside`, when given, runs
// on a second thread during the conversion: the MD5 checks then cost almost no time.
Dataset make_dataset(IdxArray&& images, const std::filesystem::path& images_path, IdxArray&& labels,
                     const std::filesystem::path& labels_path, bool normalize,
                     const std::function<void()>& check_beside = {}) {
  if (labels.shape[0] != images.shape[0]) {
    throw DataError("'" + labels_path.string() + "': label count does not match the images of '" +
                    images_path.string() + "': expected " + std::to_string(images.shape[0]) +
                    " labels (one per image), found " + std::to_string(labels.shape[0]));
  }
  // Declared before the conversion's buffers, so it is joined before `images` could go away.
  std::future<void> checked;
  if (check_beside) checked = std::async(std::launch::async, check_beside);
  std::vector<float> floats(images.values.size());
  // Keras tutorials: x.astype("float32") / 255, a float division, bit for bit.
  const float divisor = normalize ? 255.0f : 1.0f;
  for (std::size_t i = 0; i < floats.size(); ++i) {
    floats[i] = static_cast<float>(images.values[i]) / divisor;
  }
  if (checked.valid()) checked.get();  // rethrows its DataError

  Dataset dataset;
  dataset.count = images.shape[0];
  dataset.rows = images.shape[1];
  dataset.cols = images.shape[2];
  dataset.images = std::move(floats);
  dataset.pixels = std::move(images.values);
  dataset.labels = std::move(labels.values);
  return dataset;
}

Dataset load_split(const DatasetSpec& spec, const IdxFile& images_file,
                   const std::filesystem::path& images_path, const IdxFile& labels_file,
                   const std::filesystem::path& labels_path, const LoadOptions& options) {
  IdxArray images = read_idx_images(images_path);
  IdxArray labels = read_idx_labels(labels_path);
  std::function<void()> verify_both;
  if (options.verify_md5) {
    verify_both = [&] {
      verify(images, images_path, spec, images_file);
      verify(labels, labels_path, spec, labels_file);
    };
  }
  return make_dataset(std::move(images), images_path, std::move(labels), labels_path,
                      options.normalize, verify_both);
}

MnistData load(const DatasetSpec& spec, const LoadOptions& options) {
  const FoundFiles files = locate(spec, options);
  // The small test split loads on another thread while the training split loads here.
  auto test = std::async(std::launch::async, [&] {
    return load_split(spec, spec.test_images, files.test_images, spec.test_labels,
                      files.test_labels, options);
  });
  Dataset train = load_split(spec, spec.train_images, files.train_images, spec.train_labels,
                             files.train_labels, options);
  return {std::move(train), test.get()};
}

}  // namespace

MnistData load_mnist(const LoadOptions& options) { return load(kMnist, options); }

MnistData load_fashion_mnist(const LoadOptions& options) { return load(kFashionMnist, options); }

std::optional<std::filesystem::path> mnist_cache_dir() {
  if (const auto root = user_cache_root()) return *root / kMnist.cache_subdir;
  return std::nullopt;
}

Dataset load_idx_dataset(const std::filesystem::path& images_path,
                         const std::filesystem::path& labels_path, bool normalize) {
  return make_dataset(read_idx_images(images_path), images_path, read_idx_labels(labels_path),
                      labels_path, normalize);
}

}  // namespace typenet
