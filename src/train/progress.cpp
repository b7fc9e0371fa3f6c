#include "typenet/train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

namespace typenet {

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

Progress::Progress(std::ostream& out, int verbose, bool terminal)
    : out_(out), verbose_(verbose), terminal_(terminal) {}

namespace {
std::string format(const char* pattern, double a, double b = 0) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, a, b);
  return text;
}
std::string duration(double seconds) {
  if (seconds >= 3600) return format("%.0f:%02.0f:00", seconds / 3600, std::fmod(seconds / 60, 60));
  if (seconds >= 60) return format("%.0f:%02.0f", std::floor(seconds / 60), std::fmod(seconds, 60));
  return format("%.0fs", seconds);
}
}  // namespace

void Progress::epoch_begin(std::size_t epoch, std::size_t epochs, std::size_t steps) {
  steps_ = steps;
  last_printed_step_ = 0;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
  if (verbose_ >= 1) out_ << "Epoch " << epoch + 1 << "/" << epochs << "\n" << std::flush;
}

void Progress::step_end(std::size_t step, double loss, double accuracy) {
  if (verbose_ != 1) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const bool last = step == steps_;
  // A terminal gets a bar redrawn at most 10 times a second; a log file gets a line every 10%.
  if (terminal_) {
    if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
  } else if (!last && step * 10 / steps_ == last_printed_step_ * 10 / steps_) {
    return;
  }
  last_printed_step_ = step;
  const std::size_t width = 30, filled = width * step / steps_;
  std::string bar(filled, '=');
  if (filled < width) bar += '>' + std::string(width - filled - 1, '.');
  const double eta = elapsed / double(step) * double(steps_ - step);
  out_ << (terminal_ ? "\r" : "") << step << "/" << steps_ << " [" << bar << "] - "
       << (last ? duration(elapsed) : "ETA: " + duration(eta))
       << format(" - loss: %.4f - accuracy: %.4f", loss, accuracy) << (terminal_ ? "" : "\n")
       << std::flush;
}

void Progress::epoch_end(const History& history) {
  if (verbose_ == 0) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  std::string line = verbose_ == 1 && terminal_
                         ? "\r" + std::to_string(steps_) + "/" + std::to_string(steps_) + " [" +
                               std::string(30, '=') + "]"
                         : std::to_string(steps_) + "/" + std::to_string(steps_);
  line += " - " + duration(elapsed) + format(" - %.0fms/step", elapsed * 1000 / double(steps_));
  // Keras' progress bar: 4 decimals, or 4 significant digits for small values (a learning rate);
  // its verbose-2 line compares the value itself, not its magnitude, with 1e-3.
  for (const auto& [name, values] : history.metrics()) {
    const double value = values.back();
    const bool fixed = (verbose_ == 1 ? std::abs(value) : value) > 1e-3;
    line += " - " + name + ": " + format(fixed ? "%.4f" : "%.4e", value);
  }
  out_ << line << "\n" << std::flush;
}

}  // namespace typenet
