#include "figure.hpp"

#include <plplot.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "file_bytes.hpp"
#include "typenet/vis/image_file.hpp"

namespace typenet::vis::detail {
namespace {

std::mutex plplot_mutex;    // PLplot's state is global
std::string plplot_errors;  // what plabort reported during the current figure
constexpr int kMaxFigureSide = 8192;

void collect_plplot_error(PLCHAR_VECTOR message) {
  if (!plplot_errors.empty()) plplot_errors += "; ";
  plplot_errors += message;
}

// Looked up once: PLplot would prompt on stdin for a device it cannot find.
bool plplot_has_device(std::string_view name) {
  std::array<const char*, 256> menus{}, names{};
  const char** menu_pointer = menus.data();
  const char** name_pointer = names.data();
  int count = static_cast<int>(names.size());
  plgDevs(&menu_pointer, &name_pointer, &count);
  return std::any_of(names.begin(), names.begin() + count,
                     [&](const char* device) { return device != nullptr && device == name; });
}

// fopencookie sink: PLplot's svgcairo device writes into, and fcloses, a FILE of ours.
ssize_t append_to_string(void* cookie, const char* data, std::size_t size) {
  static_cast<std::string*>(cookie)->append(data, size);
  return static_cast<ssize_t>(size);
}

struct Rgb {
  std::uint8_t r, g, b;
};

constexpr std::array<Rgb, 8> kPalette = {{
    {255, 255, 255},  // kBackground
    {0, 0, 0},        // kInk
    {214, 39, 40},    // kRed (matplotlib's tab:red)
    {31, 119, 180},   // kBlue (tab:blue, the first line of a matplotlib plot)
    {255, 127, 14},   // kOrange (tab:orange, the second)
    {217, 217, 217},  // kGridLine
    {255, 255, 255},  // kWhite (text on dark cells)
    {89, 89, 89},     // kMutedInk
}};

struct ColormapStop {
  double position;
  Rgb color;
};

std::vector<ColormapStop> colormap_stops(Colormap map) {
  switch (map) {
    case Colormap::gray: return {{0, {0, 0, 0}}, {1, {255, 255, 255}}};
    case Colormap::viridis:  // matplotlib's default image colour map
      return {{0, {68, 1, 84}},
              {0.25, {59, 82, 139}},
              {0.5, {33, 145, 140}},
              {0.75, {94, 201, 98}},
              {1, {253, 231, 37}}};
    case Colormap::blues:  // matplotlib's "Blues", as scikit-learn's confusion matrix
      return {{0, {247, 251, 255}},
              {0.25, {198, 219, 239}},
              {0.5, {107, 174, 214}},
              {0.75, {33, 113, 181}},
              {1, {8, 48, 107}}};
  }
  return {};
}

}  // namespace

void bad_argument(const std::filesystem::path& path, std::string_view function,
                  std::string_view what) {
  throw std::invalid_argument(std::string(function) + ": " + path.string() + ": " +
                              std::string(what));
}

Figure::Figure(std::filesystem::path path, int width, int height)
    : lock_(plplot_mutex), path_(std::move(path)), width_(width), height_(height) {
  std::string extension = path_.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension != ".png" && extension != ".svg") {
    fail(path_, "expected a file name ending in .png or .svg, found \"" + extension + "\"");
  }
  svg_ = extension == ".svg";
  if (width <= 0 || height <= 0 || width > kMaxFigureSide || height > kMaxFigureSide) {
    fail(path_, "expected a picture of 1 to " + std::to_string(kMaxFigureSide) +
                    " pixels per side, found " + std::to_string(width) + " x " +
                    std::to_string(height));
  }
  const char* device = svg_ ? "svgcairo" : "memcairo";
  static const bool has_devices = plplot_has_device("memcairo") && plplot_has_device("svgcairo");
  if (!has_devices) {
    fail(path_, std::string("PLplot's cairo driver (") + device +
                    ") is not installed; on Debian: apt-get install plplot-driver-cairo");
  }

  // Everything that can fail comes before the stream exists: a constructor that throws runs
  // no destructor, and a stream left open would stay PLplot's current one.
  FILE* svg_sink = nullptr;
  if (svg_) {
    svg_sink = fopencookie(&svg_text_, "w", {nullptr, append_to_string, nullptr, nullptr});
    if (svg_sink == nullptr) fail(path_, "cannot create a memory stream for the SVG");
  } else {
    pixels_.assign(std::size_t(width) * std::size_t(height) * 3, 255);  // memcairo keeps it
  }
  plplot_errors.clear();
  plsabort(collect_plplot_error);
  PLINT stream = -1;
  plmkstrm(&stream);
  if (stream < 0) {
    if (svg_sink != nullptr) std::fclose(svg_sink);
    plsabort(nullptr);
    fail(path_, "PLplot could not create a stream: " + plplot_errors);
  }
  open_ = true;
  plsdev(device);
  if (svg_) {
    plsfile(svg_sink);  // PLplot fcloses it when the stream ends
    plspage(0, 0, width, height, 0, 0);
  } else {
    plsmem(width, height, pixels_.data());
  }
  std::array<PLINT, kPalette.size()> r{}, g{}, b{};
  for (std::size_t i = 0; i < kPalette.size(); ++i) {
    r[i] = kPalette[i].r;
    g[i] = kPalette[i].g;
    b[i] = kPalette[i].b;
  }
  plscmap0(r.data(), g.data(), b.data(), static_cast<PLINT>(kPalette.size()));
  plinit();
  pladv(0);
  plcol0(kInk);
}

Figure::~Figure() { end_stream(); }

void Figure::end_stream() {
  if (!open_) return;
  open_ = false;
  plend1();
  plsabort(nullptr);  // PLplot's own handler again, for other code in the process
}

void Figure::viewport(Rect area, double xmin, double xmax, double ymin, double ymax) {
  plvpor(area.x / width_, (area.x + area.width) / width_, 1.0 - (area.y + area.height) / height_,
         1.0 - area.y / height_);
  plwind(xmin, xmax, ymin, ymax);
}

void Figure::text_size(double pixels) {
  // The cairo driver draws a character height of h mm as a font of h * 72 / 25.4 points.
  plschr(pixels * 25.4 / 72.0, 1.0);
}

void Figure::text(double x, double y, std::string_view content, Color color, double just,
                  double angle_degrees) {
  viewport({0, 0, double(width_), double(height_)}, 0, width_, 0, height_);
  plcol0(color);
  constexpr double kRadiansPerDegree = 3.14159265358979323846 / 180.0;
  plptex(x, height_ - y, std::cos(angle_degrees * kRadiansPerDegree),
         std::sin(angle_degrees * kRadiansPerDegree), just, std::string(content).c_str());
}

void Figure::colormap(Colormap map) {
  const std::vector<ColormapStop> stops = colormap_stops(map);
  std::vector<PLFLT> position, r, g, b;
  for (const ColormapStop& stop : stops) {
    position.push_back(stop.position);
    r.push_back(stop.color.r / 255.0);
    g.push_back(stop.color.g / 255.0);
    b.push_back(stop.color.b / 255.0);
  }
  plscmap1n(256);
  plscmap1l(1, static_cast<PLINT>(stops.size()), position.data(), r.data(), g.data(), b.data(),
            nullptr);
}

void Figure::save() {
  end_stream();
  if (!plplot_errors.empty()) fail(path_, "PLplot reported: " + plplot_errors);
  if (svg_) {
    write_file_bytes(path_,
                     {reinterpret_cast<const std::uint8_t*>(svg_text_.data()), svg_text_.size()});
  } else {
    write_png(path_, pixels_, std::size_t(width_), std::size_t(height_), PixelFormat::rgb);
  }
}

void draw_image(Figure& figure, Rect area, std::span<const float> values, std::size_t width,
                std::size_t height) {
  // plimagefr takes data[x][y] (y growing upwards) as the corners of (nx - 1) x (ny - 1) cells,
  // each coloured by its lower-left corner; so the grid gets one extra column and row
  // (copies of the last, never drawn as cells of their own).
  const std::size_t nx = width + 1, ny = height + 1;
  std::vector<PLFLT> columns(nx * ny);
  std::vector<PLFLT*> column_pointers(nx);
  for (std::size_t x = 0; x < nx; ++x) {
    column_pointers[x] = &columns[x * ny];
    for (std::size_t y = 0; y < ny; ++y) {
      const std::size_t row = height - 1 - std::min(y, height - 1);
      const float value = values[row * width + std::min(x, width - 1)];
      columns[x * ny + y] = std::isnan(value) ? 0.0 : std::clamp(double(value), 0.0, 1.0);
    }
  }
  const double w = double(width), h = double(height);
  figure.viewport(area, 0, w, 0, h);
  // Values 0..1 map onto the whole colour map, whatever this image's own range.
  plimagefr(column_pointers.data(), static_cast<PLINT>(nx), static_cast<PLINT>(ny), 0, w, 0, h, 0,
            1, 0, 1, nullptr, nullptr);
}

double estimated_text_width(std::string_view text, double pixels) {
  // UTF-8: count the bytes that start a character.
  const auto characters = std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  });
  return 0.72 * pixels * double(characters);
}

void draw_frame(Figure& figure, Rect area, Color color, double line_width) {
  const double w = figure.width(), h = figure.height();
  figure.viewport({0, 0, w, h}, 0, w, 0, h);
  const std::array<PLFLT, 5> x = {area.x, area.x + area.width, area.x + area.width, area.x, area.x};
  const std::array<PLFLT, 5> y = {h - area.y, h - area.y, h - area.y - area.height,
                                  h - area.y - area.height, h - area.y};
  plcol0(color);
  plwidth(line_width);
  plline(5, x.data(), y.data());
  plwidth(1);
}

}  // namespace typenet::vis::detail
