#include "typenet/vis/charts.hpp"

#include <plplot.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "figure.hpp"
#include "typenet/train/history.hpp"
#include "typenet/vis/digit_input.hpp"

namespace typenet::vis {
namespace {

using detail::Color;
using detail::Figure;
using detail::Rect;

constexpr double kTitlePixels = 16;
constexpr double kLabelPixels = 13;   // axis labels, tick labels, legends
constexpr double kNumberPixels = 12;  // counts on bars and in cells

// A plot area and its world coordinates.
struct Axes {
  Rect area;
  double xmin, xmax, ymin, ymax;
  double x_pixel(double x) const { return area.x + (x - xmin) / (xmax - xmin) * area.width; }
  double y_pixel(double y) const { return area.y + (ymax - y) / (ymax - ymin) * area.height; }
  void select(Figure& figure) const { figure.viewport(area, xmin, xmax, ymin, ymax); }
};

// Light grid lines at the major ticks, then the frame with ticks and numeric labels
// (PLplot's plbox options: b/c bottom/top or left/right edge, n numbers, t/s major/minor ticks,
// v horizontal numbers on the y axis).
void draw_axes(Figure& figure, const Axes& axes, const char* x_options, double x_step,
               const char* y_options, double y_step) {
  figure.text_size(kLabelPixels);
  axes.select(figure);
  plcol0(detail::kGridLine);
  plbox(std::string(x_options).find('n') != std::string::npos ? "g" : "", x_step, 0, "g", y_step,
        0);
  plcol0(detail::kInk);
  plbox(x_options, x_step, 0, y_options, y_step, 0);
}

void draw_titles(Figure& figure, const Axes& axes, std::string_view title, std::string_view x_label,
                 std::string_view y_label) {
  const Rect& a = axes.area;
  figure.text_size(kTitlePixels);
  figure.text(a.x + a.width / 2, a.y - 20, title, detail::kInk);
  figure.text_size(kLabelPixels);
  figure.text(a.x + a.width / 2, a.y + a.height + 38, x_label, detail::kInk);
  figure.text(a.x - 60, a.y + a.height / 2, y_label, detail::kInk, 0.5, 90);
}

void fill_rect(double x0, double x1, double y0, double y1) {
  const std::array<PLFLT, 4> x = {x0, x1, x1, x0};
  const std::array<PLFLT, 4> y = {y0, y0, y1, y1};
  plfill(4, x.data(), y.data());
}

// One bar per class in the colour colors[i], with class numbers under the axis; the caller has
// drawn the axes.
void draw_bars(Figure& figure, const Axes& axes, std::span<const double> heights,
               std::span<const Color> colors) {
  for (std::size_t i = 0; i < heights.size(); ++i) {
    axes.select(figure);
    plcol0(colors[i]);
    fill_rect(double(i) - 0.4, double(i) + 0.4, 0, heights[i]);
  }
  figure.text_size(kLabelPixels);
  for (std::size_t i = 0; i < heights.size(); ++i) {
    figure.text(axes.x_pixel(double(i)), axes.area.y + axes.area.height + 14, std::to_string(i),
                detail::kInk);
  }
}

// A tick step of 1, 2 or 5 times a power of ten giving at most `max_ticks` ticks over `span`.
double nice_step(double span, int max_ticks) {
  double power = 1;
  while (span / power > max_ticks * 5.0) power *= 10;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    if (span / (factor * power) <= max_ticks) return factor * power;
  }
  return 10 * power;
}

}  // namespace

void plot_label_distribution(const std::filesystem::path& path, std::span<const std::size_t> counts,
                             std::string_view title) {
  constexpr std::size_t kMaxClasses = 100;
  if (counts.empty() || counts.size() > kMaxClasses) {
    detail::bad_argument(path, "plot_label_distribution",
                         "expected 1 to " + std::to_string(kMaxClasses) + " class counts, found " +
                             std::to_string(counts.size()));
  }
  const double largest = double(*std::max_element(counts.begin(), counts.end()));
  const double n = double(counts.size());
  // Headroom above the tallest bar for its count.
  const Axes axes{{95, 50, 605, 330}, -0.6, n - 0.4, 0, largest > 0 ? largest * 1.1 : 1};

  Figure figure(path, 720, 440);
  draw_axes(figure, axes, "bc", 0, "bcnstv", 0);
  std::vector<double> heights(counts.begin(), counts.end());
  draw_bars(figure, axes, heights, std::vector<Color>(counts.size(), detail::kBlue));
  figure.text_size(kNumberPixels);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    figure.text(axes.x_pixel(double(i)), axes.y_pixel(heights[i]) - 10, std::to_string(counts[i]),
                detail::kInk);
  }
  draw_titles(figure, axes, title, "Digit", "Count");
  figure.save();
}

namespace {

struct Curve {
  std::string_view label;
  const std::vector<double>* values;  // null when not recorded
  Color color;
};

// The values of the first metric name that was recorded, or null.
const std::vector<double>* find_metric(const History& history,
                                       std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (history.has(name)) return &history[name];
  }
  return nullptr;
}

// Draws one panel: train and validation curves with markers, and a legend.
void draw_history_panel(Figure& figure, Rect area, std::string_view title, std::string_view y_label,
                        std::span<const Curve> curves, PLINT legend_position) {
  double low = INFINITY, high = -INFINITY;
  std::size_t epochs = 0;
  for (const Curve& curve : curves) {
    if (curve.values == nullptr) continue;
    epochs = std::max(epochs, curve.values->size());
    for (double v : *curve.values) {
      if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
    }
  }
  if (!(low <= high)) low = 0, high = 1;  // nothing finite: an empty panel with its axes
  const double pad = high > low ? 0.08 * (high - low) : std::max(0.05, 0.1 * std::abs(high));
  const double epoch_span = std::max<double>(double(epochs) - 1, 1);
  const Axes axes{area, 1 - 0.04 * epoch_span - (epochs <= 1 ? 0.5 : 0),
                  double(epochs) + 0.04 * epoch_span + (epochs <= 1 ? 0.5 : 0), low - pad,
                  high + pad};
  // Whole epochs only on the x axis.
  draw_axes(figure, axes, "bcnt", nice_step(epoch_span, 10), "bcnstv", 0);

  std::vector<PLINT> text_colors, line_colors, line_styles, options;
  std::vector<PLFLT> line_widths;
  std::vector<const char*> texts;
  std::vector<std::string> labels;
  labels.reserve(curves.size());
  const double marker_x = 3.0 / area.width * (axes.xmax - axes.xmin);  // 3-pixel radius
  const double marker_y = 3.0 / area.height * (axes.ymax - axes.ymin);
  for (const Curve& curve : curves) {
    if (curve.values == nullptr) continue;
    const std::vector<double>& values = *curve.values;
    axes.select(figure);
    plcol0(curve.color);
    plwidth(2);
    std::vector<PLFLT> xs, ys;  // the current run of finite values
    const auto flush = [&] {
      if (xs.size() > 1) plline(PLINT(xs.size()), xs.data(), ys.data());
      xs.clear();
      ys.clear();
    };
    for (std::size_t e = 0; e < values.size(); ++e) {
      if (!std::isfinite(values[e])) {
        flush();
        continue;
      }
      xs.push_back(double(e + 1));
      ys.push_back(values[e]);
      plarc(double(e + 1), values[e], marker_x, marker_y, 0, 360, 0, true);
    }
    flush();
    plwidth(1);
    labels.emplace_back(curve.label);
    options.push_back(PL_LEGEND_LINE);
    text_colors.push_back(detail::kInk);
    line_colors.push_back(curve.color);
    line_styles.push_back(1);
    line_widths.push_back(2);
  }
  for (const std::string& label : labels) texts.push_back(label.c_str());
  if (!texts.empty()) {
    axes.select(figure);
    figure.text_size(kLabelPixels);
    PLFLT legend_width = 0, legend_height = 0;
    pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_INSIDE | PL_POSITION_VIEWPORT | legend_position, 0.03, 0.04, 0.1,
             detail::kBackground, detail::kGridLine, 1, PLINT(texts.size()), 1, PLINT(texts.size()),
             options.data(), 1.0, 1.0, 2.0, 0, text_colors.data(), texts.data(), nullptr, nullptr,
             nullptr, nullptr, line_colors.data(), line_styles.data(), line_widths.data(), nullptr,
             nullptr, nullptr, nullptr);
  }
  draw_titles(figure, axes, title, "Epoch", y_label);
}

}  // namespace

void plot_history(const std::filesystem::path& path, const History& history) {
  const std::array<Curve, 2> accuracy = {
      Curve{"Train", find_metric(history, {"accuracy", "acc"}), detail::kBlue},
      Curve{"Validation", find_metric(history, {"val_accuracy", "val_acc"}), detail::kOrange}};
  const std::array<Curve, 2> loss = {
      Curve{"Train", find_metric(history, {"loss"}), detail::kBlue},
      Curve{"Validation", find_metric(history, {"val_loss"}), detail::kOrange}};
  const int panels = (accuracy[0].values != nullptr) + (loss[0].values != nullptr);
  if (panels == 0) {
    detail::bad_argument(path, "plot_history",
                         "expected a history with \"loss\" or \"accuracy\", found none of them");
  }
  constexpr double kPanelWidth = 400, kPanelHeight = 320, kLeft = 85, kTop = 45;
  constexpr double kPanelStride = kPanelWidth + kLeft + 20;
  Figure figure(path, int(panels * kPanelStride), int(kTop + kPanelHeight + 60));
  double x = kLeft;
  if (accuracy[0].values != nullptr) {
    draw_history_panel(figure, {x, kTop, kPanelWidth, kPanelHeight}, "Model accuracy", "Accuracy",
                       accuracy, PL_POSITION_RIGHT | PL_POSITION_BOTTOM);
    x += kPanelStride;
  }
  if (loss[0].values != nullptr) {
    draw_history_panel(figure, {x, kTop, kPanelWidth, kPanelHeight}, "Model loss", "Loss", loss,
                       PL_POSITION_RIGHT | PL_POSITION_TOP);
  }
  figure.save();
}

void plot_confusion_matrix(const std::filesystem::path& path, std::span<const std::size_t> counts) {
  constexpr std::size_t kMaxClasses = 30;
  const auto classes = static_cast<std::size_t>(std::lround(std::sqrt(double(counts.size()))));
  if (counts.empty() || classes * classes != counts.size() || classes > kMaxClasses) {
    detail::bad_argument(path, "plot_confusion_matrix",
                         "expected classes * classes counts for 1 to " +
                             std::to_string(kMaxClasses) + " classes, found " +
                             std::to_string(counts.size()) + " counts");
  }
  const double n = double(classes);
  const Axes axes{{90, 60, 460, 460}, 0, n, 0, n};
  const double cell = axes.area.width / n;
  const double largest =
      std::max<double>(1, double(*std::max_element(counts.begin(), counts.end())));

  Figure figure(path, 590, 590);
  figure.colormap(detail::Colormap::blues);
  axes.select(figure);
  for (std::size_t t = 0; t < classes; ++t) {
    for (std::size_t p = 0; p < classes; ++p) {
      plcol1(double(counts[t * classes + p]) / largest);
      fill_rect(double(p), double(p + 1), n - double(t + 1), n - double(t));  // true 0 on top
    }
  }
  figure.text_size(kLabelPixels);
  axes.select(figure);
  plcol0(detail::kInk);
  plbox("bc", 0, 0, "bc", 0, 0);
  figure.text_size(std::min(kNumberPixels, cell * 0.3));
  for (std::size_t t = 0; t < classes; ++t) {
    for (std::size_t p = 0; p < classes; ++p) {
      const std::size_t count = counts[t * classes + p];
      // Light text on the dark half of the colour map, as scikit-learn does.
      const Color color = double(count) / largest > 0.5 ? detail::kWhite : detail::kInk;
      figure.text(axes.area.x + (double(p) + 0.5) * cell, axes.area.y + (double(t) + 0.5) * cell,
                  std::to_string(count), color);
    }
  }
  figure.text_size(kLabelPixels);
  for (std::size_t i = 0; i < classes; ++i) {
    const double centre = (double(i) + 0.5) * cell;
    figure.text(axes.area.x + centre, axes.area.y + axes.area.height + 14, std::to_string(i),
                detail::kInk);
    figure.text(axes.area.x - 14, axes.area.y + centre, std::to_string(i), detail::kInk);
  }
  draw_titles(figure, axes, "Confusion matrix", "Predicted label", "True label");
  figure.save();
}

void plot_prediction(const std::filesystem::path& path, std::span<const float> image,
                     std::span<const float> probabilities, std::optional<int> true_label) {
  constexpr std::string_view kFunction = "plot_prediction";
  constexpr std::size_t kMaxClasses = 100;
  if (image.size() != kDigitSide * kDigitSide) {
    detail::bad_argument(
        path, kFunction,
        "expected a 28 x 28 image (784 values), found " + std::to_string(image.size()) + " values");
  }
  if (probabilities.empty() || probabilities.size() > kMaxClasses ||
      !std::all_of(probabilities.begin(), probabilities.end(),
                   [](float p) { return std::isfinite(p); })) {
    detail::bad_argument(path, kFunction,
                         "expected 1 to " + std::to_string(kMaxClasses) +
                             " finite probabilities, found " +
                             std::to_string(probabilities.size()) + " values");
  }
  const auto predicted = static_cast<std::size_t>(
      std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin());
  const bool wrong = true_label && *true_label != static_cast<int>(predicted);

  Figure figure(path, 760, 340);
  // The digit, 8 screen pixels per pixel, with its caption above.
  const Rect digit{40, 64, 224, 224};
  figure.colormap(detail::Colormap::gray);
  detail::draw_image(figure, digit, image, kDigitSide, kDigitSide);
  std::string caption = "Predicted: " + std::to_string(predicted) + " (" +
                        std::to_string(std::lround(100.0 * probabilities[predicted])) + "%)";
  if (true_label) caption += ", true: " + std::to_string(*true_label);
  figure.text_size(kTitlePixels);
  figure.text(digit.x + digit.width / 2, digit.y - 26, caption,
              wrong ? detail::kRed : detail::kInk);

  const double n = double(probabilities.size());
  const Axes axes{{370, 44, 360, 236}, -0.6, n - 0.4, 0, 1.05};
  draw_axes(figure, axes, "bc", 0, "bcnstv", 0.2);
  std::vector<double> heights(probabilities.begin(), probabilities.end());
  std::vector<Color> colors(probabilities.size(), detail::kMutedInk);
  if (true_label && *true_label >= 0 && std::size_t(*true_label) < probabilities.size()) {
    colors[std::size_t(*true_label)] = detail::kBlue;
  }
  colors[predicted] = wrong ? detail::kRed : detail::kBlue;
  draw_bars(figure, axes, heights, colors);
  draw_titles(figure, axes, "Class probabilities", "Class", "Probability");
  figure.save();
}

}  // namespace typenet::vis
