// Tests of typenet's data area: IDX reading (good and bad files, written here), MD5, the MNIST
// and Fashion-MNIST loaders (real files from TYPENET_DATA / the Debian package when present),
// the Keras-style utilities, and scripts/fetch_mnist.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "typenet/data/categorical.hpp"
#include "typenet/data/data_error.hpp"
#include "typenet/data/dataset.hpp"
#include "typenet/data/idx.hpp"
#include "typenet/data/md5.hpp"
#include "typenet/data/mnist.hpp"

namespace fs = std::filesystem;
using namespace typenet;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("typenet-data-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Sets an environment variable (or unsets it, with nullopt) for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// An IDX file's bytes, written out by hand: big-endian magic, dimension sizes, values.
Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& values) {
  Bytes bytes;
  auto put32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(std::uint8_t(v >> shift));
  };
  put32(magic);
  for (auto d : dims) put32(d);
  bytes.insert(bytes.end(), values.begin(), values.end());
  return bytes;
}

Bytes iota_bytes(std::size_t n, std::uint8_t start = 0) {
  Bytes values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = std::uint8_t(start + i);
  return values;
}

void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

Bytes gzip_bytes(const Bytes& bytes) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&stream, uLong(bytes.size())) + 32);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = uInt(bytes.size());
  stream.next_out = out.data();
  stream.avail_out = uInt(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// The message of the DataError `f` throws; fails the test when it throws none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& error) {
    return error.what();
  }
  FAIL("expected a DataError, none was thrown");
  return {};
}

// Checks that `message` contains each of `parts`, printing the message when one is missing.
void check_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    INFO("message: " << message);
    CHECK_MESSAGE(message.find(part) != std::string::npos, "missing: " << part);
  }
}

std::span<const std::uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// A small Dataset whose image i is filled with i and whose label is i % 10, so that any
// reordering can be checked for keeping images, pixels and labels together.
Dataset numbered_dataset(std::size_t count, std::size_t rows = 2, std::size_t cols = 3) {
  Dataset d;
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  for (std::size_t i = 0; i < count; ++i) {
    d.images.insert(d.images.end(), rows * cols, float(i));
    d.pixels.insert(d.pixels.end(), rows * cols, std::uint8_t(i));
    d.labels.push_back(std::uint8_t(i % 10));
  }
  return d;
}

// The sample number each image of a numbered_dataset came from, checking the three agree.
std::vector<std::size_t> origins(const Dataset& d) {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < d.count; ++i) {
    const auto image = d.image(i);
    const auto origin = std::size_t(image[0]);
    CHECK(std::all_of(image.begin(), image.end(), [&](float v) { return v == float(origin); }));
    CHECK(d.image_pixels(i)[0] == std::uint8_t(origin));
    CHECK(d.labels[i] == origin % 10);
    result.push_back(origin);
  }
  return result;
}

std::optional<fs::path> env_dir(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || !fs::is_directory(value)) return std::nullopt;
  return fs::path(value);
}

// Runs a shell command, returning its exit status and its output (stdout and stderr).
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

constexpr std::array<const char*, 4> kMnistFiles = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

}  // namespace

TEST_CASE("MD5 matches the RFC 1321 test suite, in one piece and incrementally") {
  const std::map<std::string, std::string> rfc1321 = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  for (const auto& [text, digest] : rfc1321) {
    CHECK(md5_hex(as_bytes(text)) == digest);
    Md5 pieces;
    for (std::size_t i = 0; i < text.size(); i += 7) {
      pieces.update(as_bytes(text.substr(i, 7)));
    }
    CHECK(pieces.hex_digest() == digest);
  }
  Md5 finished;
  finished.hex_digest();
  CHECK_THROWS_AS(finished.update(as_bytes(std::string("x"))), DataError);
}

TEST_CASE("read_idx reads plain and gzip'd files, detecting gzip by its magic bytes") {
  TempDir dir;
  const Bytes values = iota_bytes(2 * 3 * 4, 7);
  const Bytes file = idx_bytes(0x00000803, {2, 3, 4}, values);
  write_file(dir / "plain.idx", file);
  write_file(dir / "gzip-without-extension.idx", gzip_bytes(file));
  write_file(dir / "plain-named.gz", file);
  // Concatenated gzip members are one valid gzip file.
  Bytes two_members = gzip_bytes(Bytes(file.begin(), file.begin() + 10));
  const Bytes second = gzip_bytes(Bytes(file.begin() + 10, file.end()));
  two_members.insert(two_members.end(), second.begin(), second.end());
  write_file(dir / "two-members.gz", two_members);

  for (const char* name :
       {"plain.idx", "gzip-without-extension.idx", "plain-named.gz", "two-members.gz"}) {
    CAPTURE(name);
    const IdxArray images = read_idx_images(dir / name);
    CHECK(images.shape == std::vector<std::size_t>{2, 3, 4});
    CHECK(images.values == values);
    CHECK(read_idx(dir / name).values == values);
    // The checksum rebuilt from the array is that of the decompressed file.
    CHECK(idx_md5(images) == md5_hex(file));
  }

  write_file(dir / "labels.gz", gzip_bytes(idx_bytes(0x00000801, {5}, {3, 1, 4, 1, 5})));
  const IdxArray labels = read_idx_labels(dir / "labels.gz");
  CHECK(labels.shape == std::vector<std::size_t>{5});
  CHECK(labels.values == Bytes{3, 1, 4, 1, 5});
}

TEST_CASE("read_idx reads a file larger than its reading chunks") {
  TempDir dir;
  // 70 MiB of values: more than the first 64 MiB piece read_idx reserves.
  const std::uint32_t count = 70 * 1024;
  Bytes values(std::size_t(count) * 1024);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::uint8_t(i * 31 >> 10);
  const Bytes file = idx_bytes(0x00000803, {count, 32, 32}, values);
  write_file(dir / "big.gz", gzip_bytes(file));
  const IdxArray images = read_idx_images(dir / "big.gz");
  CHECK(images.shape == std::vector<std::size_t>{count, 32, 32});
  CHECK(images.values == values);
}

TEST_CASE("read_idx rejects bad files with messages naming the file, expected and found") {
  TempDir dir;
  const Bytes good = idx_bytes(0x00000803, {2, 3, 4}, iota_bytes(24));
  auto error_for = [&](const std::string& name, const Bytes& bytes) {
    write_file(dir / name, bytes);
    return error_of([&] { read_idx_images(dir / name); });
  };
  // Built by append: GCC 12's -Wrestrict misfires on "'" + std::string (GCC bug 105329).
  auto path_text = [&](const std::string& name) {
    return std::string("'").append((dir / name).string()).append("'");
  };

  SUBCASE("missing file") {
    check_mentions(error_of([&] { read_idx(dir / "absent"); }),
                   {path_text("absent"), "cannot open", "no such file"});
    fs::create_directories(dir / "folder");
    check_mentions(error_of([&] { read_idx(dir / "folder"); }),
                   {path_text("folder"), "expected a file, found a folder"});
  }
  SUBCASE("empty file") {
    check_mentions(error_for("empty", {}),
                   {path_text("empty"), "truncated IDX header", "expected 4 bytes", "found 0"});
  }
  SUBCASE("header cut inside the dimension sizes") {
    check_mentions(
        error_for("short-header", Bytes(good.begin(), good.begin() + 9)),
        {path_text("short-header"), "truncated IDX header", "expected 12 bytes", "found 5"});
  }
  SUBCASE("truncated data, plain and gzip'd") {
    const Bytes cut(good.begin(), good.end() - 5);
    for (const auto& [name, bytes] :
         {std::pair{std::string("cut"), cut}, std::pair{std::string("cut.gz"), gzip_bytes(cut)}}) {
      check_mentions(error_for(name, bytes),
                     {path_text(name), "truncated IDX file", "expected 24 bytes", "found 19"});
    }
  }
  SUBCASE("trailing garbage, plain and gzip'd") {
    Bytes longer = good;
    longer.insert(longer.end(), {1, 2, 3});
    for (const auto& [name, bytes] : {std::pair{std::string("long"), longer},
                                      std::pair{std::string("long.gz"), gzip_bytes(longer)}}) {
      check_mentions(error_for(name, bytes),
                     {path_text(name), "trailing data", "end after 40 bytes", "found 3 more"});
    }
  }
  SUBCASE("wrong magic number") {
    check_mentions(error_for("magic", idx_bytes(0x12345678, {2, 3, 4}, iota_bytes(24))),
                   {path_text("magic"), "not an IDX file", "expected magic number 0x00000803",
                    "found 0x12345678"});
    // A gzip'd JPEG or text file: the magic check happens after decompression.
    check_mentions(error_for("text.gz", gzip_bytes({'h', 'e', 'l', 'l', 'o'})),
                   {"not an IDX file", "found 0x68656C6C", "after gzip decompression"});
  }
  SUBCASE("labels where images are expected") {
    check_mentions(
        error_for("labels", idx_bytes(0x00000801, {3}, {1, 2, 3})),
        {path_text("labels"), "wrong IDX rank", "0x00000803", "found 0x00000801", "1 dimensions"});
  }
  SUBCASE("wrong element type byte") {
    check_mentions(error_for("floats", idx_bytes(0x00000D03, {1, 1, 1}, {0, 0, 0, 0})),
                   {path_text("floats"), "unsupported IDX element type", "0x00000803",
                    "found 0x00000D03", "0x0D", "float32"});
  }
  SUBCASE("huge declared dimensions fail before any allocation") {
    check_mentions(error_for("huge", idx_bytes(0x00000803, {0xFFFFFFFF, 0xFFFFFFFF, 28}, {})),
                   {path_text("huge"), "too large", "at most 2147483648 values",
                    "4294967295 x 4294967295 x 28"});
    // A plausible size with no data behind it: found out while reading, not by allocating it.
    check_mentions(
        error_for("lying", idx_bytes(0x00000803, {60000, 28, 28}, iota_bytes(10))),
        {path_text("lying"), "truncated IDX file", "expected 47040000 bytes", "found 10"});
  }
  SUBCASE("zero dimension and too many dimensions") {
    check_mentions(error_for("zero", idx_bytes(0x00000803, {5, 0, 28}, {})),
                   {path_text("zero"), "empty IDX dimension", "found 0 for dimension 1"});
    write_file(dir / "rank9", idx_bytes(0x00000809, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {0}));
    check_mentions(error_of([&] { read_idx(dir / "rank9"); }),
                   {path_text("rank9"), "wrong IDX rank", "1 to 8 dimensions", "9 dimensions"});
  }
  SUBCASE("corrupt and truncated gzip streams") {
    Bytes corrupt = gzip_bytes(good);
    for (std::size_t i = 10; i < corrupt.size() - 8; ++i) corrupt[i] ^= 0x5A;
    check_mentions(error_for("corrupt.gz", corrupt),
                   {path_text("corrupt.gz"), "corrupt gzip data"});
    Bytes bad_crc = gzip_bytes(good);
    bad_crc[bad_crc.size() - 6] ^= 0xFF;  // inside the CRC-32 of the trailer
    check_mentions(error_for("crc.gz", bad_crc),
                   {path_text("crc.gz"), "corrupt gzip data", "incorrect data check"});
    const Bytes whole = gzip_bytes(good);
    check_mentions(error_for("half.gz", Bytes(whole.begin(), whole.begin() + whole.size() / 2)),
                   {path_text("half.gz"), "truncated gzip file"});
    Bytes garbage_after = whole;
    garbage_after.insert(garbage_after.end(), {'j', 'u', 'n', 'k'});
    check_mentions(error_for("junk.gz", garbage_after), {path_text("junk.gz"), "corrupt gzip"});
  }
}

TEST_CASE("load_idx_dataset pairs images with labels, normalised as Keras' x / 255") {
  TempDir dir;
  write_file(dir / "images",
             idx_bytes(0x00000803, {3, 2, 2}, {0, 1, 128, 255, 2, 3, 4, 5, 6, 7, 8, 9}));
  write_file(dir / "labels.gz", gzip_bytes(idx_bytes(0x00000801, {3}, {9, 0, 4})));
  const Dataset data = load_idx_dataset(dir / "images", dir / "labels.gz");
  CHECK(data.count == 3);
  CHECK(data.rows == 2);
  CHECK(data.cols == 2);
  CHECK(data.image_size() == 4);
  CHECK(data.labels == Bytes{9, 0, 4});
  CHECK(data.image(0)[0] == 0.0f);
  CHECK(data.image(0)[2] == 128.0f / 255.0f);
  CHECK(data.image(0)[3] == 1.0f);
  CHECK(data.image_pixels(2)[3] == 9);
  CHECK_THROWS_AS(data.image(3), std::out_of_range);
  CHECK_NOTHROW(data.validate());

  const Dataset raw = load_idx_dataset(dir / "images", dir / "labels.gz", false);
  CHECK(raw.image(0)[2] == 128.0f);

  write_file(dir / "two-labels", idx_bytes(0x00000801, {2}, {1, 2}));
  check_mentions(error_of([&] { load_idx_dataset(dir / "images", dir / "two-labels"); }),
                 {(dir / "two-labels").string(), (dir / "images").string(),
                  "label count does not match", "expected 3 labels", "found 2"});
}

TEST_CASE("load_mnist finds its files, says what is missing and where it looked") {
  TempDir dir;
  const fs::path cache_home = dir / "cache";
  ScopedEnv xdg("XDG_CACHE_HOME", cache_home.string());
  ScopedEnv data_env("TYPENET_DATA", (dir / "no-such-folder").string());

  SUBCASE("nothing anywhere") {
    check_mentions(error_of([] { load_mnist(); }),
                   {"MNIST files not found", (dir / "no-such-folder").string(), "$TYPENET_DATA",
                    (cache_home / "typenet" / "mnist").string(), "per-user cache", "no such folder",
                    "scripts/fetch_mnist", "TYPENET_DATA"});
    CHECK(mnist_cache_dir() == cache_home / "typenet" / "mnist");
  }
  SUBCASE("a folder with some files lists those it lacks") {
    fs::create_directories(dir / "partial");
    write_file(dir / "partial" / "train-images-idx3-ubyte.gz", {});
    const std::string message = error_of([&] { load_mnist({.directory = dir / "partial"}); });
    check_mentions(message, {(dir / "partial").string(), "LoadOptions::directory",
                             "missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
                             "t10k-labels-idx1-ubyte[.gz]"});
    CHECK(message.find("missing train-images") == std::string::npos);
  }
  SUBCASE("small stand-ins, plain and .gz mixed: MD5 catches them, verify_md5 = false loads") {
    const fs::path folder = cache_home / "typenet" / "mnist";  // found through XDG_CACHE_HOME
    fs::create_directories(folder);
    write_file(folder / "train-images-idx3-ubyte.gz",
               gzip_bytes(idx_bytes(0x00000803, {4, 2, 2}, iota_bytes(16, 100))));
    write_file(folder / "train-labels-idx1-ubyte", idx_bytes(0x00000801, {4}, {5, 0, 4, 1}));
    write_file(folder / "t10k-images-idx3-ubyte", idx_bytes(0x00000803, {1, 2, 2}, {0, 0, 0, 255}));
    write_file(folder / "t10k-labels-idx1-ubyte.gz", gzip_bytes(idx_bytes(0x00000801, {1}, {7})));

    const Bytes images_file = idx_bytes(0x00000803, {4, 2, 2}, iota_bytes(16, 100));
    check_mentions(error_of([] { load_mnist(); }),
                   {(folder / "train-images-idx3-ubyte.gz").string(), "MD5 mismatch",
                    "expected 6bbc9ace898e44ae57da46a324031adb", "found " + md5_hex(images_file),
                    "verify_md5 = false"});

    const MnistData data = load_mnist({.verify_md5 = false});
    CHECK(data.train.count == 4);
    CHECK(data.train.labels == Bytes{5, 0, 4, 1});
    CHECK(data.train.image(1)[0] == 104.0f / 255.0f);
    CHECK(data.test.count == 1);
    CHECK(data.test.image(0)[3] == 1.0f);
    CHECK(data.test.labels == Bytes{7});
  }
}

TEST_CASE("real MNIST: counts, first labels, pixel range, class counts, MD5 verification") {
  const auto folder = env_dir("TYPENET_DATA");
  if (!folder) {
    MESSAGE("skipped: TYPENET_DATA is not set to a folder (run through meson test, which points "
            "it at ../shared/data/mnist)");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const MnistData mnist = load_mnist();  // verifies the four MD5s
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("load_mnist() with MD5 verification: " << seconds << " s");

  CHECK(mnist.train.count == 60000);
  CHECK(mnist.test.count == 10000);
  for (const Dataset* set : {&mnist.train, &mnist.test}) {
    CHECK(set->rows == 28);
    CHECK(set->cols == 28);
    CHECK_NOTHROW(set->validate());
    const auto [low, high] = std::minmax_element(set->images.begin(), set->images.end());
    CHECK(*low == 0.0f);
    CHECK(*high == 1.0f);
    std::size_t not_scaled = 0;
    for (std::size_t i = 0; i < set->images.size(); ++i) {
      not_scaled += set->images[i] != float(set->pixels[i]) / 255.0f;
    }
    CHECK(not_scaled == 0);
  }
  CHECK(Bytes(mnist.train.labels.begin(), mnist.train.labels.begin() + 5) == Bytes{5, 0, 4, 1, 9});
  CHECK(Bytes(mnist.test.labels.begin(), mnist.test.labels.begin() + 5) == Bytes{7, 2, 1, 0, 4});
  // MNIST's published class balance of the training set.
  CHECK(label_counts(mnist.train.labels, 10) ==
        std::vector<std::size_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});

  // The test files standing in for the training files: counts agree, the MD5 check must object.
  TempDir swapped;
  for (std::size_t i = 0; i < 4; ++i) {
    fs::path source = *folder / (std::string(kMnistFiles[(i + 2) % 4]) + ".gz");
    if (!fs::exists(source)) source.replace_extension();
    fs::create_symlink(fs::absolute(source), swapped / (std::string(kMnistFiles[i]) + ".gz"));
  }
  check_mentions(
      error_of([&] { load_mnist({.directory = swapped.path()}); }),
      {(swapped / "train-images-idx3-ubyte.gz").string(), "MD5 mismatch",
       "expected 6bbc9ace898e44ae57da46a324031adb", "found 2646ac647ad5339dbf082846283269ea"});
}

TEST_CASE("real Fashion-MNIST from Debian's dataset-fashion-mnist") {
  const fs::path folder = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(folder)) {
    MESSAGE("skipped: " << folder << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const MnistData fashion = load_fashion_mnist({.directory = folder});
  CHECK(fashion.train.count == 60000);
  CHECK(fashion.test.count == 10000);
  CHECK(fashion.train.rows == 28);
  // Fashion-MNIST is balanced: 6000 training and 1000 test images of each class.
  CHECK(label_counts(fashion.train.labels, 10) == std::vector<std::size_t>(10, 6000));
  CHECK(label_counts(fashion.test.labels, 10) == std::vector<std::size_t>(10, 1000));
  CHECK(kFashionMnistClassNames[fashion.train.labels[0]] == "Ankle boot");
  // MNIST is not Fashion-MNIST: the checksums tell them apart.
  if (const auto mnist = env_dir("TYPENET_DATA")) {
    check_mentions(error_of([&] { load_fashion_mnist({.directory = *mnist}); }),
                   {"MD5 mismatch", "expected f4a8712d7a061bf5bd6d2ca38dc4d50a",
                    "found 6bbc9ace898e44ae57da46a324031adb", "Fashion-MNIST"});
  }
}

TEST_CASE("to_categorical and label_counts") {
  const Bytes labels = {2, 0, 1, 2};
  CHECK(to_categorical(labels, 3) == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(to_categorical(labels, 4).size() == 16);
  CHECK(label_counts(labels, 3) == std::vector<std::size_t>{1, 1, 2});
  CHECK(label_counts(labels, 5) == std::vector<std::size_t>{1, 1, 2, 0, 0});
  CHECK(to_categorical({}, 10).empty());

  check_mentions(error_of([&] { to_categorical(labels, 2); }),
                 {"to_categorical", "index 0", "below num_classes = 2", "found 2"});
  check_mentions(error_of([&] { label_counts(labels, 0); }), {"label_counts", "1..256", "found 0"});
  CHECK_THROWS_AS(to_categorical(labels, std::size_t(-1)), DataError);
}

TEST_CASE("slice, take and gather keep images, pixels and labels together") {
  const Dataset data = numbered_dataset(10);
  CHECK(origins(slice(data, 3, 7)) == std::vector<std::size_t>{3, 4, 5, 6});
  CHECK(slice(data, 4, 4).count == 0);
  CHECK(origins(take(data, 2)) == std::vector<std::size_t>{0, 1});
  CHECK(take(data, 1000).count == 10);
  const std::vector<std::size_t> picks = {9, 0, 9, 5};
  const Dataset picked = gather(data, picks);
  CHECK(origins(picked) == picks);
  CHECK(picked.rows == 2);
  CHECK(picked.cols == 3);

  check_mentions(error_of([&] { slice(data, 5, 11); }), {"slice", "[5, 11)", "<= 10"});
  check_mentions(error_of([&] { slice(data, 6, 5); }), {"slice", "[6, 5)"});
  const std::vector<std::size_t> bad = {1, 10};
  check_mentions(error_of([&] { gather(data, bad); }),
                 {"gather", "index 10", "position 1", "expected < 10"});

  Dataset inconsistent = data;
  inconsistent.labels.pop_back();
  check_mentions(error_of([&] { take(inconsistent, 3); }),
                 {"inconsistent sizes", "labels.size() == 10", "found 9"});
  Dataset without_pixels = data;
  without_pixels.pixels.clear();
  CHECK(gather(without_pixels, picks).pixels.empty());
}

TEST_CASE("shuffle and permutation are deterministic per seed and unbiased") {
  const Dataset data = numbered_dataset(100);
  const Dataset a = shuffle(data, 42);
  const auto order = origins(a);
  CHECK(order == permutation(100, 42));
  CHECK(origins(shuffle(data, 42)) == order);
  CHECK(origins(shuffle(data, 43)) != order);
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(order != identity);
  CHECK(permutation(0, 1).empty());
  CHECK(permutation(1, 1) == std::vector<std::size_t>{0});

  // Each of the 6 orders of 3 items should come up 1/6 of the time over many seeds. The classic
  // mistake (swapping with any position, not only earlier ones) gives 4/27 or 5/27 instead:
  // 500 off here, where the standard deviation is 61.
  std::map<std::vector<std::size_t>, int> seen;
  const int trials = 27000;
  for (int seed = 0; seed < trials; ++seed) ++seen[permutation(3, std::uint64_t(seed))];
  CHECK(seen.size() == 6);
  for (const auto& [perm, times] : seen) {
    CHECK(std::abs(times - trials / 6) < 275);
  }
}

TEST_CASE("validation_split takes the LAST part as validation data, as Keras does") {
  const Dataset data = numbered_dataset(10);
  const auto [train, validation] = validation_split(data, 0.25);  // floor(10 * 0.75) = 7
  CHECK(origins(train) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(origins(validation) == std::vector<std::size_t>{7, 8, 9});
  const auto tenth = validation_split(numbered_dataset(60), 0.1);
  CHECK(tenth.train.count == 54);
  CHECK(tenth.validation.count == 6);

  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    CAPTURE(bad);
    check_mentions(error_of([&] { validation_split(data, bad); }),
                   {"validation_split", "strictly between 0 and 1"});
  }
  check_mentions(error_of([&] { validation_split(numbered_dataset(1), 0.5); }),
                 {"1 samples can not be split", "found 0 training and 1 validation"});
}

TEST_CASE("scripts/fetch_mnist: fails cleanly without a mirror, verifies what it downloads") {
  if (run_command("command -v python3").first != 0) {
    MESSAGE("skipped: python3 is not installed");
    return;
  }
  const std::string script = TYPENET_FETCH_MNIST_SCRIPT;
  TempDir dir;

  SUBCASE("no mirror reachable: a clear message, exit status 1, quickly") {
    const auto start = std::chrono::steady_clock::now();
    // A refused port and a name that can not resolve (.invalid is reserved for that).
    const auto [status, output] = run_command("'" + script +
                                              "' --timeout 5 --mirror http://127.0.0.1:9/ "
                                              "--mirror http://mirror.invalid/mnist/ '" +
                                              (dir / "out").string() + "'");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(status == 1);
    check_mentions(output, {"could not get train-images-idx3-ubyte.gz from any mirror",
                            "http://127.0.0.1:9/train-images-idx3-ubyte.gz",
                            "http://mirror.invalid/mnist/train-images-idx3-ubyte.gz",
                            "no mirror is reachable", "TYPENET_DATA"});
    CHECK(seconds < 20.0);
    CHECK(fs::is_empty(dir / "out"));
  }
  SUBCASE("a mirror with wrong files: MD5 mismatch reported, nothing kept") {
    fs::create_directories(dir / "bad-mirror");
    for (const char* name : kMnistFiles) {
      write_file(dir / "bad-mirror" / (std::string(name) + ".gz"),
                 gzip_bytes(idx_bytes(0x00000801, {1}, {0})));
    }
    const auto [status, output] = run_command("'" + script + "' --mirror 'file://" +
                                              (dir / "bad-mirror").string() + "/' '" +
                                              (dir / "out").string() + "'");
    CHECK(status == 1);
    check_mentions(output, {"MD5 mismatch", "expected 6bbc9ace898e44ae57da46a324031adb"});
    CHECK(fs::is_empty(dir / "out"));
  }
  SUBCASE("a good mirror: the files arrive, verified, and load_mnist reads them") {
    const auto shared = env_dir("TYPENET_DATA");
    if (!shared) {
      MESSAGE("skipped: TYPENET_DATA (the real MNIST files, used as a local mirror) is not set");
      return;
    }
    const auto result = run_command("'" + script + "' --mirror 'file://" +
                                    fs::absolute(*shared).string() + "/' '" +
                                    (dir / "out").string() + "'");
    INFO(result.second);
    REQUIRE(result.first == 0);
    check_mentions(result.second, {"MNIST is ready", "27ae3e4e09519cfbb04c329615203637 verified"});
    const MnistData mnist = load_mnist({.directory = dir / "out", .normalize = false});
    CHECK(mnist.train.count == 60000);
    CHECK(std::equal(mnist.test.images.begin(), mnist.test.images.end(),
                     mnist.test.pixels.begin()));  // normalize = false keeps 0..255
  }
}
