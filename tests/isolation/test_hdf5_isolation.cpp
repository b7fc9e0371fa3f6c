// The isolated HDF5 parse (src/keras/hdf5_isolation.hpp): the helper's replies decoded strictly,
// damaged and hostile images ending in KerasErrors in the caller, misbehaving helpers (crashes,
// hangs, garbage) reported clearly, loads from many threads at once, and the cost of the helper
// against a parse in this process.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../src/keras/hdf5_isolation.hpp"
#include "../../src/keras/hdf5_tree_codec.hpp"
#include "../golden/nets.hpp"
#include "typenet/io/keras.hpp"

using namespace typenet;
using namespace typenet::keras_detail;
namespace fs = std::filesystem;

namespace {

const fs::path golden_dir = TYPENET_GOLDEN_DIR;

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  return {first, first + text.size()};
}

// Trees compare by their encoding.
std::vector<std::byte> parsed(std::span<const std::byte> image, const KerasOptions& options = {}) {
  return encode_hdf5_tree(read_hdf5_tree(image, "image.h5", options));
}

const KerasOptions in_process{.parse_in_process = true};

// The error a parse ends in; fails the test when it succeeds or throws anything else.
KerasError parse_error(std::span<const std::byte> image, const KerasOptions& options = {}) {
  try {
    read_hdf5_tree(image, "image.h5", options);
  } catch (const KerasError& error) {
    CHECK(std::string(error.what()).starts_with("image.h5: "));
    return error;
  }
  FAIL("the parse succeeded");
  return KerasError(KerasProblem::Corrupted, "", "");
}

// Sets an environment variable for the scope of a test (tests run one at a time).
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedVariable() { unsetenv(name_); }

 private:
  const char* name_;
};

Hdf5Node make_node(Hdf5Node::Kind kind, const std::string& name,
                   std::vector<Hdf5Node> members = {}) {
  Hdf5Node node;
  node.kind = kind;
  node.name = name;
  node.members = std::move(members);
  return node;
}

Hdf5Attribute make_attribute(const std::string& name, std::vector<std::string> strings) {
  Hdf5Attribute attribute;
  attribute.name = name;
  attribute.holds_strings = true;
  attribute.count = strings.size();
  attribute.strings = std::move(strings);
  return attribute;
}

Hdf5Node sample_tree() {
  Hdf5Node kernel = make_node(Hdf5Node::Kind::Dataset, "kernel:0");
  kernel.floating = true;
  kernel.shape = {2, 3};
  kernel.values = {1, 2, 3, 4, 5, -6.5f};
  Hdf5Node steps = make_node(Hdf5Node::Kind::Dataset, "steps");
  steps.shape = {1};
  Hdf5Node root = make_node(Hdf5Node::Kind::Group, "/",
                            {make_node(Hdf5Node::Kind::Group, "dense",
                                       {kernel, steps, make_node(Hdf5Node::Kind::Other, "link")})});
  root.attributes.push_back(make_attribute("layer_names", {"dense", ""}));
  Hdf5Attribute empty_numbers;  // Keras' empty weight_names: a float64 array of no elements
  empty_numbers.name = "weight_names";
  root.attributes.push_back(empty_numbers);
  return root;
}

KerasError decode_error(std::span<const std::byte> reply) {
  try {
    decode_hdf5_tree(reply, "m.h5", 1 << 20);
  } catch (const KerasError& error) {
    return error;
  }
  FAIL("the reply decoded");
  return KerasError(KerasProblem::Corrupted, "", "");
}

template <class T>
void overwrite(std::vector<std::byte>& bytes, std::size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof value);
}

}  // namespace

TEST_CASE("a tree goes through the reply unchanged") {
  const std::vector<std::byte> reply = encode_hdf5_tree(sample_tree());
  const Hdf5Node decoded = decode_hdf5_tree(reply, "m.h5", 1 << 20);
  CHECK(encode_hdf5_tree(decoded) == reply);
  REQUIRE(decoded.members.size() == 1);
  CHECK(decoded.members[0].members[0].values == std::vector<float>{1, 2, 3, 4, 5, -6.5f});
  CHECK(decoded.attributes[0].strings == std::vector<std::string>{"dense", ""});
}

TEST_CASE("an error reply gives the parse's own KerasError") {
  const std::vector<std::byte> reply = encode_hdf5_error(
      KerasProblem::NotKerasFile, "m.h5", "m.h5: expected an HDF5 file, the bytes do not start");
  const KerasError error = decode_error(reply);
  CHECK(error.problem() == KerasProblem::NotKerasFile);
  CHECK(std::string(error.what()) == "m.h5: expected an HDF5 file, the bytes do not start");

  std::vector<std::byte> invalid = reply;
  overwrite(invalid, 9, std::uint32_t(99));  // after magic, version and kind: the problem
  CHECK(std::string(decode_error(invalid).what()).find("invalid problem 99") != std::string::npos);
  CHECK(decode_error(invalid).problem() == KerasProblem::Corrupted);
}

TEST_CASE("a malformed reply is Corrupted, whatever the damage") {
  const std::vector<std::byte> reply = encode_hdf5_tree(sample_tree());
  for (std::size_t size = 0; size < reply.size(); ++size) {
    CAPTURE(size);
    const KerasError error = decode_error(std::span(reply).first(size));
    CHECK(error.problem() == KerasProblem::Corrupted);
    CHECK(std::string(error.what()).starts_with("m.h5: the HDF5 reader sent a malformed reply"));
  }
  std::vector<std::byte> longer = reply;
  longer.push_back(std::byte{0});
  CHECK(decode_error(longer).problem() == KerasProblem::Corrupted);

  // Every byte set to every value that changes it: a valid tree or a KerasError, never more
  // memory than the reply could describe.
  for (std::size_t at = 0; at < reply.size(); ++at) {
    for (int value : {0x00, 0x01, 0x02, 0x04, 0x7f, 0x80, 0xff}) {
      std::vector<std::byte> damaged = reply;
      damaged[at] = std::byte(value);
      try {
        decode_hdf5_tree(damaged, "m.h5", 1 << 20);
      } catch (const KerasError& error) {
        CHECK(error.problem() != KerasProblem::TooLarge);
      }
    }
  }
}

TEST_CASE("the decoder checks what counts, kinds and shapes claim") {
  const auto error_text = [](const Hdf5Node& tree) {
    return std::string(decode_error(encode_hdf5_tree(tree)).what());
  };
  Hdf5Node tree = sample_tree();
  tree.members[0].members[0].shape = {4, 3};
  CHECK(error_text(tree).find("values disagree with its shape") != std::string::npos);

  tree = sample_tree();
  tree.members[0].members[1].values = {1};
  CHECK(error_text(tree).find("holds no floats") != std::string::npos);

  tree = sample_tree();
  tree.attributes[0].count = 3;
  CHECK(error_text(tree).find("2 strings for 3 elements") != std::string::npos);

  tree = sample_tree();
  tree.members[0].members[0].members.push_back(make_node(Hdf5Node::Kind::Group, "inside"));
  CHECK(error_text(tree).find("not a group") != std::string::npos);

  Hdf5Node deep = make_node(Hdf5Node::Kind::Group, "/");
  for (std::size_t level = 0; level <= max_hdf5_tree_depth; ++level)
    deep = make_node(Hdf5Node::Kind::Group, "g", {deep});
  CHECK(error_text(deep).find("deeper than 64 levels") != std::string::npos);

  // A count that the bytes left cannot hold is refused before anything is allocated.
  std::vector<std::byte> reply = encode_hdf5_tree(make_node(Hdf5Node::Kind::Group, "/"));
  overwrite(reply, reply.size() - 4, std::uint32_t(0xffffffff));  // the member count
  CHECK(std::string(decode_error(reply).what()).find("impossible member count") !=
        std::string::npos);

  // A kind that does not exist.
  reply = encode_hdf5_tree(make_node(Hdf5Node::Kind::Group, "/"));
  reply[9] = std::byte{9};
  CHECK(std::string(decode_error(reply).what()).find("invalid node kind 9") != std::string::npos);
}

TEST_CASE("the helper parses golden files as this process does") {
  for (const char* file : {"dense_only.h5", "conv_same_stride2.weights.h5", "bn_conv.h5",
                           "conv_same_stride2_split_weights.h5"}) {
    CAPTURE(file);
    const std::vector<std::byte> image = read_bytes(golden_dir / file);
    const std::vector<std::byte> isolated = parsed(image);
    CHECK(isolated == parsed(image, in_process));
    CHECK(isolated.size() > 100);
  }
  const KerasError not_hdf5 = parse_error(std::as_bytes(std::span("just text")));
  CHECK(not_hdf5.problem() == KerasProblem::NotKerasFile);
}

TEST_CASE("damaged images end in a KerasError in the caller, with bounded memory") {
  const std::vector<std::byte> golden = read_bytes(golden_dir / "conv_same_stride2.h5");
  std::vector<std::vector<std::byte>> damaged;
  for (std::size_t size : {0, 8, 100, 512, 2048, 5000})
    damaged.emplace_back(golden.begin(), golden.begin() + size);
  damaged.emplace_back(golden.begin(), golden.end() - 1);
  // Lying superblock: every 8-byte address and length field set to all ones in turn.
  for (std::size_t at = 24; at < 56; at += 8) {
    damaged.push_back(golden);
    overwrite(damaged.back(), at, ~std::uint64_t{0});
  }
  // Huge dimensions: the conv kernel (3, 3, 1, 4) declares 2^40 rows instead.
  const std::uint64_t kernel_dims[] = {3, 3, 1, 4};
  const auto* dims_bytes = reinterpret_cast<const std::byte*>(kernel_dims);
  for (auto at = golden.begin();
       (at = std::search(at, golden.end(), dims_bytes, dims_bytes + sizeof kernel_dims)) !=
       golden.end();
       ++at) {
    damaged.push_back(golden);
    overwrite(damaged.back(), std::size_t(at - golden.begin()), std::uint64_t{1} << 40);
  }
  // Random bit flips.
  std::mt19937 random(24);
  for (int flip = 0; flip < 150; ++flip) {
    damaged.push_back(golden);
    damaged.back()[random() % golden.size()] ^= std::byte(1u << (random() % 8));
  }

  // Each image through the parse alone, then the whole load into the golden Net: a KerasError
  // naming the file, or a tree (damaged objects are kept with their damage and refused when the
  // loader needs them) and a load of finite weights.
  const fs::path file = fs::temp_directory_path() / ("damaged_" + std::to_string(getpid()) + ".h5");
  auto net = std::make_unique<golden::ConvSameStride2>();
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  int failures = 0, load_failures = 0;
  for (std::size_t i = 0; i < damaged.size(); ++i) {
    const std::vector<std::byte>& image = damaged[i];
    try {
      read_hdf5_tree(image, "image.h5", {});
    } catch (const KerasError& error) {
      ++failures;
      CHECK(std::string(error.what()).starts_with("image.h5: "));
    }
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(image.data()), std::streamsize(image.size()));
    try {
      load_keras(*net, file);
      CHECK(std::ranges::all_of(net->parameters(), [](float p) { return std::isfinite(p); }));
    } catch (const KerasError& error) {
      ++load_failures;
      CHECK(std::string(error.what()).starts_with(file.string() + ": "));
    }
    // The truncated images (the first seven) never parse.
    if (i < 7) CHECK(failures == int(i) + 1);
  }
  fs::remove(file);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  MESSAGE(damaged.size() << " damaged images: " << failures << " parse errors, " << load_failures
                         << " load errors, the rest loaded; largest helper "
                         << children.ru_maxrss / 1024 << " MiB");
  CHECK(load_failures >= failures);
  // This process only ever holds the image and the reply.
  CHECK(after.ru_maxrss - before.ru_maxrss < 64 * 1024);
}

TEST_CASE("a dataset that inflates far beyond its file is refused before it is built") {
  // 50 million gzip'd zeros in a 200 KB file (tests/golden/gen/make_hdf5_damaged.py).
  const std::vector<std::byte> image =
      read_bytes(golden_dir / "hdf5_damaged" / "inflating_dataset.h5");
  for (const bool in_process : {false, true}) {
    KerasOptions options;
    options.parse_in_process = in_process;
    try {
      read_hdf5_tree(image, "bomb.h5", options);
      FAIL("a 200 MB tree from a 200 KB file was accepted");
    } catch (const KerasError& error) {
      CHECK(error.problem() == KerasProblem::TooLarge);
      CHECK(std::string(error.what()).find("twice the file's size") != std::string::npos);
    }
  }
}

TEST_CASE("the files that crashed or leaked in libhdf5 before the reader was isolated") {
  // Found by fuzz/run.sh keras with TYPENET_FUZZ_HDF5_IN_PROCESS=1 (the parse in the fuzzing
  // process, as typenet did before): a heap-buffer-overflow in H5MM_strdup while HDF5 builds an
  // object header's attribute table, an allocation of 0xa5000...68 bytes in H5C_protect, and
  // memory HDF5 leaks in its metadata cache and its variable-length string conversion.
  const fs::path crashers = golden_dir / "hdf5_crashers";
  for (const char* name : {"heap_overflow_in_strdup.h5", "huge_allocation_in_cache.h5"}) {
    INFO(name);
    auto net = std::make_unique<golden::DenseOnly>();
    CHECK_THROWS_AS(load_keras(*net, crashers / name), KerasError);
  }
  // The leaks were HDF5's, in the process that parsed: now the reader's, gone with it (the
  // sanitizer build's leak check of this process finds none).
  for (const char* name : {"leak_in_cache.h5", "leak_in_vlen_conversion.h5"}) {
    INFO(name);
    const std::vector<std::byte> image = read_bytes(crashers / name);
    CHECK(read_hdf5_tree(image, name, {}).kind == Hdf5Node::Kind::Group);
  }
}

TEST_CASE("a helper that crashes, hangs or talks nonsense is a clear KerasError") {
  const std::vector<std::byte> image = read_bytes(golden_dir / "dense_only.h5");
  const ScopedVariable reader("TYPENET_HDF5_READER", FAKE_HDF5_READER_PATH);
  const auto error_for = [&](const char* mode, const KerasOptions& options = {}) {
    const ScopedVariable chosen("FAKE_HDF5_READER_MODE", mode);
    return parse_error(image, options);
  };
  for (const char* mode : {"crash", "crash-early"}) {
    const KerasError crashed = error_for(mode);
    CHECK(crashed.problem() == KerasProblem::Corrupted);
    CHECK(std::string(crashed.what()) ==
          "image.h5: the HDF5 library crashed while reading it (signal 11, SIGSEGV): the file is "
          "damaged or hostile");
  }

  const auto start = std::chrono::steady_clock::now();
  const KerasError hung = error_for("hang", {.parse_timeout_seconds = 1});
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(std::string(hung.what()).find("did not finish reading it within 1 s") != std::string::npos);

  CHECK(std::string(error_for("garbage").what())
            .starts_with("image.h5: the HDF5 reader sent a malformed reply"));
  CHECK(std::string(error_for("endless", {.max_bytes = 1 << 16}).what())
            .find("malformed reply (over") != std::string::npos);
  CHECK(std::string(error_for("status").what())
            .ends_with("stopped with status 7 without a reply while reading it (fake reader: "
                       "something went wrong)"));
  CHECK(std::string(error_for("silent").what()).find("ended without a reply") != std::string::npos);
  // A parse in this process never starts the helper.
  const ScopedVariable crash("FAKE_HDF5_READER_MODE", "crash");
  CHECK_NOTHROW(read_hdf5_tree(image, "image.h5", in_process));
}

TEST_CASE("a missing helper is named, with how to point at one") {
  const ScopedVariable reader("TYPENET_HDF5_READER", "/nonexistent/typenet-hdf5-reader");
  const KerasError error = parse_error(read_bytes(golden_dir / "dense_only.h5"));
  CHECK(error.problem() == KerasProblem::CannotOpen);
  CHECK(std::string(error.what())
            .find("cannot start the HDF5 reader "
                  "/nonexistent/typenet-hdf5-reader") != std::string::npos);
}

TEST_CASE("eight threads load at once") {
  const std::vector<std::string> files = {"dense_only.h5", "bn_conv.h5", "conv_valid_gap.h5",
                                          "conv_same_stride2.weights.h5"};
  std::vector<std::vector<std::byte>> images, expected;
  for (const std::string& file : files) {
    images.push_back(read_bytes(golden_dir / file));
    expected.push_back(parsed(images.back(), in_process));
  }
  std::vector<int> matches(8, 0);
  std::vector<std::thread> threads;
  for (std::size_t thread = 0; thread < matches.size(); ++thread)
    threads.emplace_back([&, thread] {
      for (std::size_t load = 0; load < 6; ++load) {
        const std::size_t file = (thread + load) % files.size();
        try {
          matches[thread] += parsed(images[file]) == expected[file];
        } catch (const KerasError&) {
        }
      }
    });
  for (std::thread& thread : threads) thread.join();
  for (int count : matches) CHECK(count == 6);
}

TEST_CASE("what isolation costs a load") {
  const fs::path mnist =
      fs::path(std::getenv("TYPENET_SHARED") ? std::getenv("TYPENET_SHARED") : "../shared") /
      "keras" / "keras224_mnist_cnn.h5";
  for (const fs::path& file : {golden_dir / "dense_only.h5", mnist}) {
    if (!fs::exists(file)) {
      MESSAGE("skipped: no " << file);
      continue;
    }
    const std::vector<std::byte> image = read_bytes(file);
    const auto milliseconds_per_load = [&](const KerasOptions& options) {
      constexpr int loads = 20;
      read_hdf5_tree(image, file.string(), options);  // warm caches
      const auto start = std::chrono::steady_clock::now();
      for (int load = 0; load < loads; ++load) read_hdf5_tree(image, file.string(), options);
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                 .count() /
             loads;
    };
    const double isolated = milliseconds_per_load({});
    const double here = milliseconds_per_load(in_process);
    MESSAGE(file.filename().string()
            << " (" << image.size() << " bytes): " << isolated << " ms a parse in the helper, "
            << here << " ms in this process: +" << isolated - here << " ms");
  }
}
