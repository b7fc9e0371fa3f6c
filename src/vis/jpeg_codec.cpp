// JPEG through libjpeg-turbo's libjpeg API. libjpeg reports errors by calling error_exit, which
// must not return; we longjmp back to the small function that called the library. Those
// functions hold no C++ objects of their own (everything they fill lives in decode_jpeg's frame
// and is reached through pointers), so the longjmp skips no destructor and leaves no local in
// an indeterminate state. Warnings (a truncated stream, corrupt entropy data) are errors too:
// libjpeg would otherwise return a grey-filled picture.
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <string>

#include <jpeglib.h>

#include "codecs.hpp"
#include "file_bytes.hpp"

namespace typenet::vis::detail {
namespace {

struct JpegErrorManager {
  jpeg_error_mgr manager;  // first, so that libjpeg's pointer to it is a pointer to us
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_jpeg_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrorManager*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

// level -1 is a warning about corrupt data; levels >= 0 are trace messages.
void on_jpeg_message(j_common_ptr info, int level) {
  if (level < 0) on_jpeg_error(info);
}

// Each returns false when libjpeg reported an error (its text is in the error manager).
bool read_header(jpeg_decompress_struct* info, JpegErrorManager* errors,
                 std::span<const std::uint8_t> bytes) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(info);
  jpeg_mem_src(info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(info, TRUE);
  return true;
}

bool start(jpeg_decompress_struct* info, JpegErrorManager* errors) {
  if (setjmp(errors->jump)) return false;
  info->out_color_space = JCS_RGB;
  jpeg_start_decompress(info);
  return true;
}

// Decodes the scanlines into `rgb` (output_width * output_height * 3 bytes).
bool read_pixels(jpeg_decompress_struct* info, JpegErrorManager* errors, std::uint8_t* rgb) {
  if (setjmp(errors->jump)) return false;
  while (info->output_scanline < info->output_height) {
    JSAMPROW row = rgb + std::size_t{info->output_scanline} * info->output_width * 3;
    jpeg_read_scanlines(info, &row, 1);
  }
  jpeg_finish_decompress(info);
  return true;
}

const char* color_space_name(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "an unknown colour space";
  }
}

}  // namespace

RgbaImage decode_jpeg(std::span<const std::uint8_t> bytes, const ImageLimits& limits,
                      const std::filesystem::path& path) {
  jpeg_decompress_struct info{};
  JpegErrorManager errors{};
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = on_jpeg_error;
  errors.manager.emit_message = on_jpeg_message;
  // jpeg_destroy_decompress is a no-op on a zeroed struct, so this covers every exit.
  struct Destroy {
    jpeg_decompress_struct* info;
    ~Destroy() { jpeg_destroy_decompress(info); }
  } destroy{&info};
  const auto libjpeg_failed = [&] {
    fail(path, std::string("expected a valid JPEG stream, found an error: ") + errors.message);
  };

  if (!read_header(&info, &errors, bytes)) libjpeg_failed();
  check_dimensions(info.image_width, info.image_height, limits, path);
  if (info.jpeg_color_space != JCS_GRAYSCALE && info.jpeg_color_space != JCS_YCbCr &&
      info.jpeg_color_space != JCS_RGB) {
    fail(path, std::string("expected a greyscale, YCbCr or RGB JPEG, found ") +
                   color_space_name(info.jpeg_color_space));
  }
  if (!start(&info, &errors)) libjpeg_failed();

  const std::size_t pixel_count = std::size_t{info.output_width} * info.output_height;
  std::vector<std::uint8_t> rgb(pixel_count * 3);
  if (!read_pixels(&info, &errors, rgb.data())) libjpeg_failed();

  RgbaImage result;
  result.width = info.output_width;
  result.height = info.output_height;
  result.rgba.resize(pixel_count * 4);
  for (std::size_t i = 0; i < pixel_count; ++i) {
    result.rgba[4 * i + 0] = rgb[3 * i + 0];
    result.rgba[4 * i + 1] = rgb[3 * i + 1];
    result.rgba[4 * i + 2] = rgb[3 * i + 2];
    result.rgba[4 * i + 3] = 255;
  }
  return result;
}

}  // namespace typenet::vis::detail
