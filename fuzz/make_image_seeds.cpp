// Writes the image fuzzer's seed corpus: small PNGs of every colour type and bit depth (plain and
// interlaced, palettes with transparency) and JPEGs of every colour layout typenet reads (grey,
// YCbCr 4:2:0 and 4:4:4, RGB, progressive, restart markers, arithmetic coding) plus a CMYK one
// it must refuse. (run.sh adds the digit photos from ../shared when they are there.)
// Any libpng or libjpeg error aborts: the inputs are fixed and valid.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <png.h>
#include <jpeglib.h>

#include "seed_corpus.hpp"

namespace {

constexpr std::uint32_t kWidth = 5, kHeight = 3;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File create(const std::filesystem::path& path) {
  File file(std::fopen(path.c_str(), "wb"));
  if (!file) {
    std::perror(path.c_str());
    std::exit(1);
  }
  return file;
}

// A sample value that varies over the picture, scaled to `bits`.
unsigned sample(std::uint32_t x, std::uint32_t y, int channel, int bits) {
  return ((x * 7 + y * 13 + unsigned(channel) * 29) * 2654435761u >> 8) & ((1u << bits) - 1);
}

void write_png(const std::filesystem::path& path, int color_type, int bit_depth, bool interlaced) {
  File file = create(path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file.get());
  png_set_IHDR(png, info, kWidth, kHeight, bit_depth, color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  int channels = 1;
  if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA) channels = 2;
  if (color_type == PNG_COLOR_TYPE_RGB) channels = 3;
  if (color_type == PNG_COLOR_TYPE_RGB_ALPHA) channels = 4;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    std::vector<png_color> palette(std::size_t{1} << bit_depth);
    std::vector<png_byte> alpha(palette.size());
    for (std::size_t i = 0; i < palette.size(); ++i) {
      palette[i] = {png_byte(i * 40), png_byte(255 - i * 20), png_byte(i * 90)};
      alpha[i] = png_byte(255 - i * 60);
    }
    png_set_PLTE(png, info, palette.data(), int(palette.size()));
    png_set_tRNS(png, info, alpha.data(), int(alpha.size()), nullptr);
  } else {
    png_set_gAMA(png, info, 1.0 / 2.2);
  }
  png_write_info(png, info);
  if (bit_depth == 16) png_set_swap(png);   // our rows are little-endian 16-bit samples
  if (bit_depth < 8) png_set_packing(png);  // our rows hold one sample per byte

  const std::size_t bytes_per_sample = bit_depth == 16 ? 2 : 1;
  std::vector<png_byte> rows(std::size_t{kHeight} * kWidth * channels * bytes_per_sample);
  std::vector<png_bytep> row_pointers(kHeight);
  for (std::uint32_t y = 0; y < kHeight; ++y) {
    row_pointers[y] = &rows[std::size_t{y} * kWidth * channels * bytes_per_sample];
    for (std::uint32_t x = 0; x < kWidth; ++x)
      for (int c = 0; c < channels; ++c) {
        const unsigned value = sample(x, y, c, bit_depth);
        png_bytep out = row_pointers[y] + (std::size_t{x} * channels + c) * bytes_per_sample;
        out[0] = png_byte(value);
        if (bytes_per_sample == 2) out[1] = png_byte(value >> 8);
      }
  }
  png_write_image(png, row_pointers.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
}

struct JpegLayout {
  J_COLOR_SPACE input = JCS_RGB;  // what the rows hold
  J_COLOR_SPACE stored = JCS_YCbCr;
  bool chroma_subsampled = true;  // 4:2:0, libjpeg's default; false: 4:4:4
  bool progressive = false;
  unsigned restart_rows = 0;
  bool arithmetic = false;
};

void write_jpeg(const std::filesystem::path& path, const JpegLayout& layout) {
  File file = create(path);
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);  // error_exit prints and exits
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file.get());
  info.image_width = kWidth * 3;  // wider than one 8x8 block, so that blocks are joined
  info.image_height = kHeight * 4;
  info.in_color_space = layout.input;
  info.input_components = layout.input == JCS_GRAYSCALE ? 1 : layout.input == JCS_CMYK ? 4 : 3;
  jpeg_set_defaults(&info);
  jpeg_set_colorspace(&info, layout.stored);
  if (layout.stored == JCS_YCbCr && !layout.chroma_subsampled) {
    info.comp_info[0].h_samp_factor = info.comp_info[0].v_samp_factor = 1;
  }
  jpeg_set_quality(&info, 90, TRUE);
  if (layout.progressive) jpeg_simple_progression(&info);
  info.restart_in_rows = int(layout.restart_rows);
  info.arith_code = layout.arithmetic ? TRUE : FALSE;
  jpeg_start_compress(&info, TRUE);
  std::vector<JSAMPLE> row(std::size_t{info.image_width} * info.input_components);
  while (info.next_scanline < info.image_height) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      row[i] = JSAMPLE(sample(std::uint32_t(i), info.next_scanline, 0, 8));
    }
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&info, &pointer, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path corpus = typenet_fuzz::corpus_folder(argc, argv);

  const struct {
    const char* name;
    int color_type;
    std::vector<int> depths;
  } png_kinds[] = {{"gray", PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}},
                   {"gray_alpha", PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}},
                   {"rgb", PNG_COLOR_TYPE_RGB, {8, 16}},
                   {"rgba", PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}},
                   {"palette", PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}}};
  for (const auto& kind : png_kinds)
    for (const int depth : kind.depths) {
      const std::string name = std::string(kind.name) + std::to_string(depth);
      write_png(corpus / (name + ".png"), kind.color_type, depth, false);
      if (depth == 8) write_png(corpus / (name + "_interlaced.png"), kind.color_type, depth, true);
    }

  write_jpeg(corpus / "ycbcr420.jpg", {});
  write_jpeg(corpus / "ycbcr444.jpg", {.chroma_subsampled = false});
  write_jpeg(corpus / "gray.jpg", {.input = JCS_GRAYSCALE, .stored = JCS_GRAYSCALE});
  write_jpeg(corpus / "rgb.jpg", {.stored = JCS_RGB});
  write_jpeg(corpus / "progressive.jpg", {.progressive = true});
  write_jpeg(corpus / "restarts.jpg", {.restart_rows = 1});
  write_jpeg(corpus / "arithmetic.jpg", {.arithmetic = true});
  write_jpeg(corpus / "cmyk.jpg", {.input = JCS_CMYK, .stored = JCS_CMYK});
  return 0;
}
