// One PLplot page written to a PNG or SVG file (internal to the vis library).
//
// PLplot keeps its state in globals, so a Figure holds a process-wide lock from construction to
// destruction. It never lets PLplot touch the file system: PNGs are drawn by the `memcairo`
// device into our buffer and encoded by write_png; SVGs are drawn by `svgcairo` into a memory
// stream. PLplot's recoverable errors (plabort) are collected and thrown by save(); its fatal
// ones (plexit, which calls exit()) are kept out of reach by validating every input first.
// Coordinates given to a Figure are pixels from the top-left corner (points for SVG).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace typenet::vis::detail {

// PLplot colour map 0, by index.
enum Color : int { kBackground, kInk, kRed, kBlue, kOrange, kGridLine, kWhite, kMutedInk };

struct Rect {
  double x, y, width, height;
};

enum class Colormap { gray, viridis, blues };

// Throws std::invalid_argument("<function>: <path>: <what>"), for the plot functions' checks.
[[noreturn]] void bad_argument(const std::filesystem::path& path, std::string_view function,
                               std::string_view what);

class Figure {
 public:
  // Throws when the extension is neither .png nor .svg or PLplot's cairo driver is missing.
  Figure(std::filesystem::path path, int width, int height);
  ~Figure();
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }

  // Sets the viewport to `area` (pixels) and its world coordinates.
  void viewport(Rect area, double xmin, double xmax, double ymin, double ymax);
  // Character height, roughly the height of a capital, in pixels.
  void text_size(double pixels);
  // Text centred on `centre` (pixels) in colour `color`; `just` 0 = left, 0.5 = centre, 1 = right.
  void text(double x, double y, std::string_view text, Color color, double just = 0.5,
            double angle_degrees = 0);
  // Sets colour map 1 (used by images and by plcol1).
  void colormap(Colormap map);

  // Ends the page and writes the file; throws on PLplot or I/O errors.
  void save();

 private:
  void end_stream();

  std::unique_lock<std::mutex> lock_;
  std::filesystem::path path_;
  int width_, height_;
  bool svg_;
  bool open_ = false;
  std::vector<std::uint8_t> pixels_;  // PNG: RGB, drawn into by memcairo
  std::string svg_text_;              // SVG: filled by the memory stream
};

// Draws `values` (height rows of width, row 0 at the top, each in [0, 1]) into `area` with the
// current colour map 1, one cell per value.
void draw_image(Figure& figure, Rect area, std::span<const float> values, std::size_t width,
                std::size_t height);

// A generous estimate of the width of `text` at text_size(pixels), for layouts (the cairo
// driver's sans font averages about 0.67 * pixels per character; this allows 0.72).
double estimated_text_width(std::string_view text, double pixels);

// A rectangle outline in pixels.
void draw_frame(Figure& figure, Rect area, Color color, double line_width);

}  // namespace typenet::vis::detail
