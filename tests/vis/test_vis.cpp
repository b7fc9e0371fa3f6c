// Tests of typenet's pictures and image files: decoding PNGs (every colour type, written here
// byte by byte) and JPEGs (written here with libjpeg), hostile files, digit preprocessing (with
// the ten photos of $TYPENET_SHARED/keras/photos when present), and every plot, read back and
// checked pixel by pixel where the layout is known.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "typenet/train/history.hpp"
#include "typenet/vis/vis.hpp"

namespace fs = std::filesystem;
using namespace typenet::vis;
using Bytes = std::vector<std::uint8_t>;

namespace {

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "typenet_vis_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// The message of the exception `action` throws ("" when it throws none).
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- PNG files assembled chunk by chunk, so that every colour type and bit depth is covered
// and headers can lie.

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

void put_chunk(Bytes& png, const char* type, const Bytes& data) {
  put_u32(png, std::uint32_t(data.size()));
  Bytes body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_u32(png, std::uint32_t(crc32(0, body.data(), uInt(body.size()))));
}

struct PngSpec {
  std::uint32_t width, height;
  std::uint8_t bit_depth, color_type;  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  Bytes rows;                          // unfiltered sample bytes, row after row
  Bytes palette = {};
  Bytes transparency = {};
};

Bytes make_png(const PngSpec& spec) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes header;
  put_u32(header, spec.width);
  put_u32(header, spec.height);
  header.insert(header.end(), {spec.bit_depth, spec.color_type, 0, 0, 0});
  put_chunk(png, "IHDR", header);
  if (!spec.palette.empty()) put_chunk(png, "PLTE", spec.palette);
  if (!spec.transparency.empty()) put_chunk(png, "tRNS", spec.transparency);
  // Filter type 0 before each row.
  const std::size_t stride = spec.height ? spec.rows.size() / spec.height : 0;
  Bytes filtered;
  for (std::uint32_t y = 0; y < spec.height && stride; ++y) {
    filtered.push_back(0);
    filtered.insert(filtered.end(), spec.rows.begin() + y * stride,
                    spec.rows.begin() + (y + 1) * stride);
  }
  uLongf size = compressBound(uLong(filtered.size()));
  Bytes compressed(size);
  compress2(compressed.data(), &size, filtered.data(), uLong(filtered.size()), 9);
  compressed.resize(size);
  put_chunk(png, "IDAT", compressed);
  put_chunk(png, "IEND", {});
  return png;
}

// ---- JPEG files written with libjpeg.

Bytes make_jpeg(const Bytes& pixels, int width, int height, int components, int quality) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = JDIMENSION(width);
  info.image_height = JDIMENSION(height);
  info.input_components = components;
  info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(pixels.data()) +
                   std::size_t(info.next_scanline) * std::size_t(width * components);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  Bytes jpeg(buffer, buffer + size);
  free(buffer);
  return jpeg;
}

// The RGB of pixel (x, y) of a decoded picture.
std::array<int, 3> rgb_at(const RgbaImage& image, int x, int y) {
  const std::uint8_t* p = &image.rgba[(std::size_t(y) * image.width + std::size_t(x)) * 4];
  return {p[0], p[1], p[2]};
}

std::size_t count_color(const RgbaImage& image, std::array<int, 3> color, int tolerance = 0) {
  std::size_t count = 0;
  for (std::size_t y = 0; y < image.height; ++y) {
    for (std::size_t x = 0; x < image.width; ++x) {
      const auto c = rgb_at(image, int(x), int(y));
      if (std::abs(c[0] - color[0]) <= tolerance && std::abs(c[1] - color[1]) <= tolerance &&
          std::abs(c[2] - color[2]) <= tolerance) {
        ++count;
      }
    }
  }
  return count;
}

constexpr std::array<int, 3> kBlue = {31, 119, 180};
constexpr std::array<int, 3> kOrange = {255, 127, 14};
constexpr std::array<int, 3> kRed = {214, 39, 40};

// A 28 x 28 digit-like test image whose every pixel differs from its neighbours.
std::vector<float> pattern_digits(std::size_t count) {
  std::vector<float> images(count * 784);
  for (std::size_t k = 0; k < count; ++k) {
    for (std::size_t i = 0; i < 784; ++i)
      images[k * 784 + i] = float((i * 7 + k * 13) % 256) / 255.0f;
  }
  return images;
}

}  // namespace

TEST_CASE("PNG files of every colour type decode to RGBA") {
  TempDir dir;
  SUBCASE("8-bit grey") {
    write_bytes(dir / "g.png", make_png({3, 2, 8, 0, {0, 100, 255, 7, 8, 9}}));
    const RgbaImage image = read_image_rgba(dir / "g.png");
    REQUIRE(image.width == 3);
    REQUIRE(image.height == 2);
    CHECK(rgb_at(image, 1, 0) == std::array<int, 3>{100, 100, 100});
    CHECK(image.rgba[4 * 5 + 3] == 255);
    CHECK(read_image(dir / "g.png").at(2, 1) == doctest::Approx(9));
  }
  SUBCASE("grey + alpha composites over white in read_image") {
    write_bytes(dir / "ga.png", make_png({2, 1, 8, 4, {0, 255, 0, 0}}));
    const RgbaImage image = read_image_rgba(dir / "ga.png");
    CHECK(image.rgba[3] == 255);
    CHECK(image.rgba[7] == 0);
    const GrayImage gray = read_image(dir / "ga.png");
    CHECK(gray.at(0, 0) == doctest::Approx(0));
    CHECK(gray.at(1, 0) == doctest::Approx(255));  // transparent = the white paper
  }
  SUBCASE("RGB: grey is the mean of R, G, B") {
    write_bytes(dir / "rgb.png", make_png({2, 1, 8, 2, {30, 60, 90, 255, 0, 0}}));
    const RgbaImage image = read_image_rgba(dir / "rgb.png");
    CHECK(rgb_at(image, 0, 0) == std::array<int, 3>{30, 60, 90});
    const GrayImage gray = to_gray(image);
    CHECK(gray.at(0, 0) == doctest::Approx(60));
    CHECK(gray.at(1, 0) == doctest::Approx(85));
  }
  SUBCASE("RGBA, half transparent") {
    write_bytes(dir / "rgba.png", make_png({1, 1, 8, 6, {0, 0, 0, 128}}));
    const GrayImage gray = read_image(dir / "rgba.png");
    CHECK(gray.at(0, 0) == doctest::Approx(255.0 * (1 - 128.0 / 255)).epsilon(0.001));
  }
  SUBCASE("palette with transparency, 4 bits per index") {
    // Indices 0 1 2 1 (two per byte): red, green, transparent blue, green.
    const PngSpec spec{4, 1, 4, 3, {0x01, 0x21}, {255, 0, 0, 0, 255, 0, 0, 0, 255}, {255, 255, 0}};
    write_bytes(dir / "pal.png", make_png(spec));
    const RgbaImage image = read_image_rgba(dir / "pal.png");
    CHECK(rgb_at(image, 0, 0) == std::array<int, 3>{255, 0, 0});
    CHECK(rgb_at(image, 1, 0) == std::array<int, 3>{0, 255, 0});
    CHECK(image.rgba[4 * 2 + 3] == 0);
    CHECK(rgb_at(image, 3, 0) == std::array<int, 3>{0, 255, 0});
  }
  SUBCASE("16-bit RGB without gamma is scaled, not gamma-converted") {
    write_bytes(
        dir / "16.png",
        make_png({2,
                  1,
                  16,
                  2,
                  {0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x10, 0x10, 0x20, 0x20, 0x30, 0x30}}));
    const RgbaImage image = read_image_rgba(dir / "16.png");
    CHECK(rgb_at(image, 0, 0) == std::array<int, 3>{255, 128, 0});
    CHECK(rgb_at(image, 1, 0) == std::array<int, 3>{16, 32, 48});
  }
  SUBCASE("1-bit grey") {
    write_bytes(dir / "1.png", make_png({8, 1, 1, 0, {0b10100000}}));
    const GrayImage gray = read_image(dir / "1.png");
    CHECK(gray.at(0, 0) == doctest::Approx(255));
    CHECK(gray.at(1, 0) == doctest::Approx(0));
    CHECK(gray.at(2, 0) == doctest::Approx(255));
  }
}

TEST_CASE("write_png round-trips grey, RGB and RGBA exactly") {
  TempDir dir;
  std::mt19937 random(7);
  for (PixelFormat format : {PixelFormat::gray, PixelFormat::rgb, PixelFormat::rgba}) {
    const std::size_t channels = std::size_t(format);
    Bytes pixels(5 * 3 * channels);
    for (auto& p : pixels) p = std::uint8_t(random());
    write_png(dir / "out.png", pixels, 5, 3, format);
    const RgbaImage image = read_image_rgba(dir / "out.png");
    REQUIRE(image.width == 5);
    REQUIRE(image.height == 3);
    for (std::size_t i = 0; i < 15; ++i) {
      for (std::size_t c = 0; c < 4; ++c) {
        const int expected = channels == 1  ? (c < 3 ? pixels[i] : 255)
                             : c < channels ? pixels[i * channels + c]
                                            : 255;
        CHECK(image.rgba[i * 4 + c] == expected);
      }
    }
  }
  CHECK(contains(error_of([&] { write_png(dir / "x.png", Bytes(10), 5, 3, PixelFormat::rgb); }),
                 "expected 45 bytes"));
  CHECK(contains(
      error_of([&] { write_png(dir / "none" / "x.png", Bytes(1), 1, 1, PixelFormat::gray); }),
      "cannot open for writing"));
}

TEST_CASE("JPEG files decode to RGB") {
  TempDir dir;
  SUBCASE("colour: four flat quadrants keep their colours") {
    const int w = 32, h = 32;
    Bytes pixels(w * h * 3);
    const std::array<std::array<int, 3>, 4> colors = {
        {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {240, 240, 240}}};
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const auto& c = colors[std::size_t((y / 16) * 2 + x / 16)];
        for (int k = 0; k < 3; ++k) pixels[std::size_t((y * w + x) * 3 + k)] = std::uint8_t(c[k]);
      }
    }
    write_bytes(dir / "c.jpg", make_jpeg(pixels, w, h, 3, 95));
    const RgbaImage image = read_image_rgba(dir / "c.jpg");
    REQUIRE(image.width == 32);
    REQUIRE(image.height == 32);
    for (int q = 0; q < 4; ++q) {
      const auto c = rgb_at(image, (q % 2) * 16 + 8, (q / 2) * 16 + 8);
      for (int k = 0; k < 3; ++k)
        CHECK(std::abs(c[std::size_t(k)] - colors[std::size_t(q)][std::size_t(k)]) <= 8);
    }
    CHECK(image.rgba[3] == 255);
  }
  SUBCASE("greyscale: R = G = B") {
    Bytes pixels(16 * 8);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t(i * 2);
    write_bytes(dir / "g.jpg", make_jpeg(pixels, 16, 8, 1, 90));
    const RgbaImage image = read_image_rgba(dir / "g.jpg");
    REQUIRE(image.width == 16);
    for (std::size_t i = 0; i < 16 * 8; ++i) {
      CHECK(image.rgba[4 * i] == image.rgba[4 * i + 1]);
      CHECK(image.rgba[4 * i] == image.rgba[4 * i + 2]);
      CHECK(std::abs(int(image.rgba[4 * i]) - int(pixels[i])) <= 6);
    }
  }
}

TEST_CASE("bad image files are errors that name the file, never crashes") {
  TempDir dir;
  const auto error_reading = [](const fs::path& path) {
    const std::string message = error_of([&] { read_image(path); });
    CHECK(contains(message, path.string()));
    return message;
  };
  SUBCASE("missing, empty, a directory, not an image") {
    CHECK(contains(error_reading(dir / "missing.png"), "cannot open"));
    write_bytes(dir / "empty.png", {});
    CHECK(contains(error_reading(dir / "empty.png"), "empty file"));
    fs::create_directory(dir / "folder.png");
    CHECK(contains(error_reading(dir / "folder.png"), "directory"));
    std::mt19937 random(1);
    Bytes noise(1000);
    for (auto& b : noise) b = std::uint8_t(random());
    noise[0] = 'G';
    write_bytes(dir / "noise.png", noise);
    CHECK(contains(error_reading(dir / "noise.png"), "expected a PNG or JPEG image"));
    write_bytes(dir / "magic.png", {0x89, 'P', 'N', 'G'});
    CHECK(contains(error_reading(dir / "magic.png"), "expected a PNG or JPEG"));
  }
  SUBCASE("PNG: truncated, corrupt, lying about its size") {
    std::mt19937 random(2);
    Bytes noise(64 * 64);
    for (auto& b : noise) b = std::uint8_t(random());
    const Bytes good = make_png({64, 64, 8, 0, noise});  // incompressible: IDAT is most of it
    write_bytes(dir / "good.png", good);
    CHECK_NOTHROW(read_image(dir / "good.png"));
    write_bytes(dir / "t.png", Bytes(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2)));
    CHECK(contains(error_reading(dir / "t.png"), "PNG"));
    write_bytes(dir / "header_only.png", Bytes(good.begin(), good.begin() + 33));
    CHECK(contains(error_reading(dir / "header_only.png"), "PNG"));
    Bytes corrupt = good;
    corrupt[good.size() / 2] ^= 0xff;  // inside IDAT: the CRC no longer matches
    write_bytes(dir / "crc.png", corrupt);
    CHECK(contains(error_reading(dir / "crc.png"), "PNG"));
    // Too little data for the declared rows.
    write_bytes(dir / "short.png", make_png({16, 16, 8, 0, Bytes(16 * 4, 1)}));
    CHECK(contains(error_reading(dir / "short.png"), "PNG"));
    // Declared dimensions over the limits are refused before any allocation.
    write_bytes(dir / "wide.png", make_png({100000, 100000, 8, 0, {}}));
    CHECK(contains(error_reading(dir / "wide.png"), "100000 x 100000"));
    write_bytes(dir / "big.png", make_png({16000, 16000, 8, 6, {}}));
    CHECK(contains(error_reading(dir / "big.png"), "expected at most 67108864 pixels"));
    write_bytes(dir / "zero.png", make_png({0, 5, 8, 0, {}}));
    CHECK(!error_reading(dir / "zero.png").empty());
    CHECK(contains(error_of([&] {
                     read_image(dir / "small.png", ImageLimits{8, 64, 1000});
                   }),
                   "small.png"));
  }
  SUBCASE("JPEG: truncated, corrupt, lying about its size") {
    Bytes pixels(64 * 64 * 3);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t(i * 31);
    const Bytes good = make_jpeg(pixels, 64, 64, 3, 90);
    write_bytes(dir / "good.jpg", good);
    CHECK_NOTHROW(read_image(dir / "good.jpg"));
    write_bytes(dir / "t.jpg", Bytes(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2)));
    CHECK(contains(error_reading(dir / "t.jpg"), "JPEG"));
    write_bytes(dir / "tiny.jpg", {0xff, 0xd8, 0xff, 0xe0});
    CHECK(contains(error_reading(dir / "tiny.jpg"), "JPEG"));
    // The start-of-frame marker declares the size: make it 60000 x 60000.
    Bytes huge = good;
    for (std::size_t i = 0; i + 8 < huge.size(); ++i) {
      if (huge[i] == 0xff && huge[i + 1] == 0xc0) {
        huge[i + 5] = 0xea, huge[i + 6] = 0x60, huge[i + 7] = 0xea, huge[i + 8] = 0x60;
        break;
      }
    }
    write_bytes(dir / "huge.jpg", huge);
    CHECK(contains(error_reading(dir / "huge.jpg"), "60000 x 60000"));
    // Random bytes after a JPEG signature.
    std::mt19937 random(3);
    Bytes noise = {0xff, 0xd8, 0xff};
    for (int i = 0; i < 2000; ++i) noise.push_back(std::uint8_t(random()));
    write_bytes(dir / "noise.jpg", noise);
    CHECK(contains(error_reading(dir / "noise.jpg"), "JPEG"));
  }
}

TEST_CASE("mutated PNG and JPEG files decode or throw, never crash") {
  TempDir dir;
  std::mt19937 random(11);
  Bytes pixels(24 * 24 * 3);
  for (auto& p : pixels) p = std::uint8_t(random() % 64 * 4);
  const ImageLimits small{4096, std::size_t{1} << 20, std::size_t{1} << 20};
  std::size_t rejected = 0;
  for (const Bytes& seed : {make_png({24, 24, 8, 2, pixels}), make_jpeg(pixels, 24, 24, 3, 80)}) {
    for (int i = 0; i < 300; ++i) {
      Bytes mutated = seed;
      for (std::uint32_t flips = 1 + random() % 8; flips > 0; --flips) {
        mutated[random() % mutated.size()] = std::uint8_t(random());
      }
      if (random() % 4 == 0) mutated.resize(1 + random() % mutated.size());
      const fs::path path = dir / "mutated.img";
      write_bytes(path, mutated);
      try {
        const RgbaImage image = read_image_rgba(path, small);
        CHECK(image.rgba.size() == image.width * image.height * 4);
      } catch (const std::runtime_error& e) {
        CHECK(contains(e.what(), path.string()));
        ++rejected;
      }
    }
  }
  CHECK(rejected > 100);
}

TEST_CASE("resize: area averaging down, bilinear up") {
  SUBCASE("halving averages 2 x 2 blocks exactly") {
    GrayImage image{56, 56, std::vector<float>(56 * 56)};
    for (std::size_t y = 0; y < 56; ++y) {
      for (std::size_t x = 0; x < 56; ++x) image.pixels[y * 56 + x] = float((x + 3 * y) % 11) * 20;
    }
    const GrayImage small = resize(image, 28, 28);
    REQUIRE(small.width == 28);
    REQUIRE(small.height == 28);
    for (std::size_t y = 0; y < 28; ++y) {
      for (std::size_t x = 0; x < 28; ++x) {
        const float mean = (image.at(2 * x, 2 * y) + image.at(2 * x + 1, 2 * y) +
                            image.at(2 * x, 2 * y + 1) + image.at(2 * x + 1, 2 * y + 1)) /
                           4;
        CHECK(small.at(x, y) == doctest::Approx(mean).epsilon(1e-5));
      }
    }
  }
  SUBCASE("a 3:1 shrink keeps the mean; growing a ramp keeps it linear") {
    GrayImage image{84, 1, std::vector<float>(84)};
    for (std::size_t x = 0; x < 84; ++x) image.pixels[x] = float(x);
    const GrayImage small = resize(image, 28, 1);
    for (std::size_t x = 0; x < 28; ++x) CHECK(small.at(x, 0) == doctest::Approx(3 * x + 1));

    GrayImage ramp{14, 1, std::vector<float>(14)};
    for (std::size_t x = 0; x < 14; ++x) ramp.pixels[x] = float(10 * x);
    const GrayImage big = resize(ramp, 28, 1);
    for (std::size_t x = 1; x + 1 < 28; ++x) {
      CHECK(big.at(x, 0) == doctest::Approx(10 * ((double(x) + 0.5) / 2 - 0.5)));
    }
    CHECK(big.at(0, 0) == doctest::Approx(0));  // clamped at the edges
    CHECK(big.at(27, 0) == doctest::Approx(130));
  }
  CHECK_THROWS_AS(resize(GrayImage{}, 28, 28), std::invalid_argument);
  CHECK_THROWS_AS(resize(GrayImage{1, 1, {0}}, 0, 28), std::invalid_argument);
}

TEST_CASE("preprocess_digit: MNIST polarity, size and scale") {
  // A dark stroke on light paper, 100 x 60.
  GrayImage paper{100, 60, std::vector<float>(6000, 230)};
  for (std::size_t y = 10; y < 50; ++y) {
    for (std::size_t x = 45; x < 55; ++x) paper.pixels[y * 100 + x] = 20;
  }
  CHECK(is_dark_on_light(paper));
  const DigitPixels digit = preprocess_digit(paper);
  CHECK(digit[0] == doctest::Approx((255.0 - 230) / 255).epsilon(1e-5));  // background dark
  CHECK(digit[14 * 28 + 14] == doctest::Approx((255.0 - 20) / 255).epsilon(1e-5));  // ink light

  // The same picture inverted is already MNIST-like and is left alone.
  GrayImage mnist_like = paper;
  for (float& v : mnist_like.pixels) v = 255 - v;
  CHECK_FALSE(is_dark_on_light(mnist_like));
  const DigitPixels same = preprocess_digit(mnist_like);
  for (std::size_t i = 0; i < same.size(); ++i) CHECK(same[i] == doctest::Approx(digit[i]));

  // The flags win over the guess.
  const DigitPixels kept = preprocess_digit(paper, {Polarity::keep});
  CHECK(kept[0] == doctest::Approx(230.0 / 255).epsilon(1e-5));
  const DigitPixels inverted = preprocess_digit(mnist_like, {Polarity::invert});
  CHECK(inverted[0] == doctest::Approx(230.0 / 255).epsilon(1e-5));
  for (float v : digit) CHECK((v >= 0 && v <= 1));
  CHECK_THROWS_AS(preprocess_digit(GrayImage{2, 2, {1, 2, 3}}), std::invalid_argument);
}

TEST_CASE("the ten photos decode to 28 x 28 grey and preprocess as the Keras project") {
  const char* shared = std::getenv("TYPENET_SHARED");
  const fs::path photos = shared ? fs::path(shared) / "keras" / "photos" : fs::path();
  if (!shared || !fs::exists(photos / "my_0.jpg")) {
    MESSAGE("skipped: no photos at $TYPENET_SHARED/keras/photos");
    return;
  }
  for (int digit = 0; digit < 10; ++digit) {
    const fs::path path = photos / ("my_" + std::to_string(digit) + ".jpg");
    CAPTURE(path);
    const RgbaImage rgba = read_image_rgba(path);
    REQUIRE(rgba.width == 28);
    REQUIRE(rgba.height == 28);
    bool grey = true;
    for (std::size_t i = 0; i < 784; ++i) {
      grey = grey && rgba.rgba[4 * i] == rgba.rgba[4 * i + 1] &&
             rgba.rgba[4 * i] == rgba.rgba[4 * i + 2];
    }
    CHECK(grey);
    CHECK(is_dark_on_light(to_gray(rgba)));
    // pixel = (255 - int(mean(R, G, B))) / 255, exactly.
    const DigitPixels input = load_digit(path);
    for (std::size_t i = 0; i < 784; ++i) {
      CHECK(input[i] == doctest::Approx((255.0f - float(rgba.rgba[4 * i])) / 255.0f).epsilon(1e-6));
    }
  }
}

TEST_CASE("plot_digit_grid draws each digit pixel for pixel under its caption") {
  TempDir dir;
  const std::vector<float> images = pattern_digits(17);  // more than the 15 drawn
  const std::vector<int> predicted = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9};
  const std::vector<int> truth = {7, 2, 1, 0, 4, 1, 4, 9, 6, 9, 0, 6, 9, 0, 1, 5, 9};
  const std::vector<Caption> captions = prediction_captions(predicted, truth);
  CHECK(captions[0].text == "7 / 7");
  CHECK_FALSE(captions[0].highlighted);
  CHECK(captions[8].text == "5 / 6");
  CHECK(captions[8].highlighted);
  CHECK(label_captions(std::vector<int>{5})[0].text == "Label: 5");

  plot_digit_grid(dir / "grid.png", images, captions, 3, 5);
  const RgbaImage picture = read_image_rgba(dir / "grid.png");
  const GridLayout layout = digit_grid_layout(3, 5);
  REQUIRE(picture.width == std::size_t(layout.width));
  REQUIRE(picture.height == std::size_t(layout.height));
  for (std::size_t k : {0u, 8u, 14u}) {
    const PixelRect tile = layout.tile(k);
    CHECK(tile.width == 112);
    int worst = 0;
    for (int r = 0; r < 28; ++r) {
      for (int c = 0; c < 28; ++c) {
        const int expected = int(std::lround(images[k * 784 + std::size_t(r * 28 + c)] * 255));
        const auto seen = rgb_at(picture, tile.x + 4 * c + 2, tile.y + 4 * r + 2);
        worst = std::max(worst, std::abs(seen[0] - expected));
        CHECK(seen[0] == seen[2]);
      }
    }
    CHECK(worst <= 1);
  }
  // Caption text is dark ink; the wrong prediction (tile 8) is framed and captioned in red.
  const PixelRect band = layout.caption(0);
  bool ink = false;
  for (int y = band.y; y < band.y + band.height; ++y) {
    for (int x = band.x; x < band.x + band.width; ++x) ink = ink || rgb_at(picture, x, y)[0] < 80;
  }
  CHECK(ink);
  const PixelRect wrong = layout.tile(8);
  CHECK(rgb_at(picture, wrong.x - 3, wrong.y + 50) == kRed);
  CHECK(rgb_at(picture, layout.tile(7).x - 3, layout.tile(7).y + 50) ==
        std::array<int, 3>{255, 255, 255});

  // Bytes 0..255 draw the same picture as floats / 255.
  Bytes bytes(images.size());
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = std::uint8_t(std::lround(images[i] * 255));
  plot_digit_grid(dir / "bytes.png", std::span<const std::uint8_t>(bytes), captions, 3, 5);
  CHECK(read_image_rgba(dir / "bytes.png").rgba == picture.rgba);

  // A title makes room above; SVG holds one image per tile.
  plot_digit_grid(dir / "titled.png", images, captions, 2, 2, "First four");
  const RgbaImage titled = read_image_rgba(dir / "titled.png");
  CHECK(titled.height == std::size_t(digit_grid_layout(2, 2, "First four").height));
  CHECK(titled.height > std::size_t(digit_grid_layout(2, 2).height));
  plot_digit_grid(dir / "grid.svg", images, {}, 1, 3);
  const Bytes svg = read_bytes(dir / "grid.svg");
  const std::string text(svg.begin(), svg.end());
  CHECK(text.rfind("<?xml", 0) == 0);
  CHECK(contains(text, "<svg"));
  std::size_t image_tags = 0;
  for (std::size_t at = text.find("<image"); at != std::string::npos;
       at = text.find("<image", at + 1))
    ++image_tags;
  CHECK(image_tags == 3);
}

TEST_CASE("plot_digit_grid and plot_misclassified reject bad arguments with the file's name") {
  TempDir dir;
  const std::vector<float> images = pattern_digits(3);
  const auto grid_error = [&](auto&&... arguments) {
    return error_of([&] { plot_digit_grid(arguments...); });
  };
  const fs::path out = dir / "out.png";
  const std::string partial = grid_error(out, std::span<const float>(images).first(700),
                                         std::span<const Caption>(), 3, 5, "");
  CHECK(contains(partial, "plot_digit_grid"));
  CHECK(contains(partial, out.string()));
  CHECK(contains(partial, "784"));
  CHECK(contains(
      grid_error(out, std::span<const float>(images), std::span<const Caption>(), 0, 5, ""),
      "rows and columns"));
  const std::vector<Caption> one = {{"x", false}};
  CHECK(contains(
      grid_error(out, std::span<const float>(images), std::span<const Caption>(one), 3, 5, ""),
      "one per drawn image"));
  CHECK(contains(grid_error(dir / "out.bmp", std::span<const float>(images),
                            std::span<const Caption>(), 1, 3, ""),
                 ".png or .svg"));
  CHECK(contains(grid_error(dir / "no" / "such" / "dir.png", std::span<const float>(images),
                            std::span<const Caption>(), 1, 3, ""),
                 "cannot open for writing"));
  CHECK(contains(
      grid_error(out, std::span<const float>(images), std::span<const Caption>(), 1, 1000, ""),
      "pixels per side"));
  CHECK_THROWS_AS(prediction_captions(std::vector<int>{1, 2}, std::vector<int>{1}),
                  std::invalid_argument);

  const std::vector<int> truth = {4, 9, 3}, predicted = {9, 4, 5};
  const std::vector<float> confidence = {0.97f, 0.9f, 0.8f};
  plot_misclassified(dir / "mistakes.png", images, truth, predicted, confidence, 3);
  const RgbaImage mistakes = read_image_rgba(dir / "mistakes.png");
  CHECK(count_color(mistakes, kRed) > 3 * 4 * 100);  // three red frames
  CHECK(
      contains(error_of([&] { plot_misclassified(out, images, truth, predicted, confidence, 4); }),
               "count 4"));
}

TEST_CASE("plot_label_distribution draws one bar per class, as tall as its count") {
  TempDir dir;
  const std::vector<std::size_t> counts = {100, 900, 300, 700, 500, 1000, 200, 800, 400, 600};
  plot_label_distribution(dir / "labels.png", counts);
  const RgbaImage picture = read_image_rgba(dir / "labels.png");
  CHECK(picture.width == 720);
  CHECK(picture.height == 440);
  // Bars are runs of columns holding the bar colour; their height is the run's tallest column.
  std::vector<int> heights;
  bool in_bar = false;
  for (std::size_t x = 0; x < picture.width; ++x) {
    int column = 0;
    for (std::size_t y = 0; y < picture.height; ++y)
      column += rgb_at(picture, int(x), int(y)) == kBlue;
    if (column > 3 && !in_bar) heights.push_back(0);
    in_bar = column > 3;
    if (in_bar) heights.back() = std::max(heights.back(), column);
  }
  REQUIRE(heights.size() == counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    CHECK(double(heights[i]) / heights[5] ==
          doctest::Approx(double(counts[i]) / 1000).epsilon(0.02));
  }
  CHECK(contains(
      error_of([&] { plot_label_distribution(dir / "e.png", std::vector<std::size_t>{}); }),
      "class counts"));
}

TEST_CASE("plot_history draws accuracy and loss panels, train and validation") {
  TempDir dir;
  typenet::History history;
  for (int epoch = 1; epoch <= 6; ++epoch) {
    history.record("loss", 1.0 / epoch);
    history.record("accuracy", 1 - 0.4 / epoch);
    history.record("val_loss", 1.2 / epoch);
    history.record("val_accuracy", 1 - 0.5 / epoch);
  }
  plot_history(dir / "history.png", history);
  const RgbaImage picture = read_image_rgba(dir / "history.png");
  const auto half = [&](std::size_t from, std::array<int, 3> color) {
    std::size_t count = 0;
    for (std::size_t y = 0; y < picture.height; ++y) {
      for (std::size_t x = from; x < from + picture.width / 2; ++x)
        count += rgb_at(picture, int(x), int(y)) == color;
    }
    return count;
  };
  for (std::size_t from : {std::size_t{0}, picture.width / 2}) {
    CHECK(half(from, kBlue) > 200);
    CHECK(half(from, kOrange) > 200);
  }

  plot_history(dir / "history.svg", history);
  const Bytes svg = read_bytes(dir / "history.svg");
  const std::string text(svg.begin(), svg.end());
  CHECK(text.rfind("<?xml", 0) == 0);
  CHECK(contains(text, "</svg>"));

  typenet::History loss_only;  // Keras without metrics=['accuracy']
  for (double loss : {0.9, 0.5, double(NAN), 0.3}) loss_only.record("loss", loss);
  plot_history(dir / "loss.png", loss_only);
  const RgbaImage single = read_image_rgba(dir / "loss.png");
  CHECK(single.width * 2 == picture.width);
  CHECK(count_color(single, kOrange) == 0);

  typenet::History old_names;  // Keras 2.2 wrote "acc"
  old_names.record("acc", 0.5);
  old_names.record("loss", 0.5);
  plot_history(dir / "old.png", old_names);
  CHECK(read_image_rgba(dir / "old.png").width == picture.width);

  CHECK(contains(error_of([&] { plot_history(dir / "none.png", typenet::History{}); }),
                 "\"loss\" or \"accuracy\""));
}

TEST_CASE("plot_confusion_matrix shades cells by count") {
  TempDir dir;
  std::vector<std::size_t> counts(100, 0);
  for (std::size_t i = 0; i < 10; ++i) counts[i * 10 + i] = 100;
  counts[3 * 10 + 5] = 50;
  plot_confusion_matrix(dir / "confusion.png", counts);
  const RgbaImage picture = read_image_rgba(dir / "confusion.png");
  // Cells are 46 x 46 pixels; the largest count is the darkest blue, 50% the middle one.
  const std::size_t darkest = count_color(picture, {8, 48, 107}, 2);
  CHECK(darkest > 10 * 1700);
  CHECK(darkest < 10 * 46 * 46);
  const std::size_t middle = count_color(picture, {107, 174, 214}, 3);
  CHECK(middle > 1700);
  CHECK(middle < 46 * 46);
  CHECK(contains(
      error_of([&] { plot_confusion_matrix(dir / "e.png", std::vector<std::size_t>(99)); }),
      "99 counts"));
}

TEST_CASE("plot_prediction marks a wrong prediction in red") {
  TempDir dir;
  const std::vector<float> image = pattern_digits(1);
  std::vector<float> probabilities(10, 0.02f);
  probabilities[7] = 0.82f;
  plot_prediction(dir / "right.png", image, probabilities, 7);
  plot_prediction(dir / "wrong.png", image, probabilities, 1);
  plot_prediction(dir / "unknown.png", image, probabilities);
  CHECK(count_color(read_image_rgba(dir / "right.png"), kRed) == 0);
  CHECK(count_color(read_image_rgba(dir / "unknown.png"), kRed) == 0);
  CHECK(count_color(read_image_rgba(dir / "wrong.png"), kRed) > 1000);
  CHECK(count_color(read_image_rgba(dir / "wrong.png"), kBlue) > 50);  // the true class's bar
  probabilities[2] = NAN;
  CHECK(contains(error_of([&] { plot_prediction(dir / "nan.png", image, probabilities); }),
                 "finite probabilities"));
}

TEST_CASE("feature map mosaics normalise each tile on its own") {
  TempDir dir;
  // 3 samples of 8 x 8 x 2 (NHWC): one hot pixel per map, at a different place each time.
  const std::size_t samples = 3, side = 8, channels = 2;
  std::vector<float> values(samples * side * side * channels, 0.0f);
  for (std::size_t s = 0; s < samples; ++s) {
    for (std::size_t c = 0; c < channels; ++c)
      values[((s * side * side) + s * 9 + c) * channels + c] = 1.0f;
  }
  const FeatureMaps maps{values, samples, side, side, channels};
  plot_feature_maps_of_channel(dir / "channel.png", maps, 1, 3, "Channel 1");
  const RgbaImage mosaic = read_image_rgba(dir / "channel.png");
  const std::size_t hot = count_color(mosaic, {253, 231, 37}, 2);  // viridis' top
  CHECK(hot == 3 * 11 * 11);  // one 8 x 8 map drawn at 11 pixels per cell, per sample

  // Scaling a map by 1000 changes nothing once it is normalised.
  std::vector<float> scaled = values;
  for (float& v : scaled) v *= 1000;
  plot_feature_maps_of_sample(dir / "a.png", maps, 2);
  plot_feature_maps_of_sample(dir / "b.png", {scaled, samples, side, side, channels}, 2);
  CHECK(read_bytes(dir / "a.png") == read_bytes(dir / "b.png"));
  CHECK(count_color(read_image_rgba(dir / "a.png"), {253, 231, 37}, 2) == 2 * 11 * 11);

  // A constant map is drawn flat (viridis' bottom), not divided by zero.
  const std::vector<float> flat(side * side, 5.0f);
  plot_feature_maps_of_sample(dir / "flat.png", {flat, 1, side, side, 1}, 0);
  CHECK(count_color(read_image_rgba(dir / "flat.png"), {68, 1, 84}, 2) == 88 * 88);

  CHECK(contains(error_of([&] { plot_feature_maps_of_channel(dir / "e.png", maps, 2, 3); }),
                 "channel 2"));
  CHECK(contains(error_of([&] {
                   plot_feature_maps_of_sample(dir / "e.png", {values, 3, 8, 8, 3}, 0);
                 }),
                 "samples * height * width * channels"));
}

TEST_CASE("plots from several threads at once all come out whole") {
  TempDir dir;
  const std::vector<std::size_t> counts = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        plot_label_distribution(dir / (std::to_string(t * 3 + i) + ".png"), counts);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Bytes first = read_bytes(dir / "0.png");
  for (int i = 1; i < 12; ++i) CHECK(read_bytes(dir / (std::to_string(i) + ".png")) == first);
}
