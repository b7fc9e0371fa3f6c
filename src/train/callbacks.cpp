#include "typenet/train/callbacks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <stdexcept>

namespace typenet {

Monitor::Monitor(std::string metric, MonitorMode mode, double min_delta)
    : metric_(std::move(metric)),
      maximize_(mode == MonitorMode::Max ||
                (mode == MonitorMode::Auto && metric_.find("acc") != std::string::npos)),
      min_delta_(std::abs(min_delta)) {
  reset();
}

void Monitor::reset() {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  has_best_ = false;
}

double Monitor::current(const History& history) const {
  if (!history.has(metric_)) {
    std::string known;
    for (const auto& [name, values] : history.metrics())
      known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("typenet: callback monitors \"" + metric_ +
                                "\", which training does not record (it records: " + known +
                                "); validation metrics need validation data or a split");
  }
  return history[metric_].back();
}

bool Monitor::improve(double value) {
  // Keras 3's _is_improvement: monitor_op(value - signed min_delta, best) on float32 tensors.
  const bool better = !has_best_ || (maximize_ ? float(value - min_delta_) > float(best_)
                                               : float(value + min_delta_) < float(best_));
  if (better) {
    best_ = value;
    has_best_ = true;
  }
  return better;
}

namespace {

// Python's repr of a float (shortest round trip; exponent form below 1e-4 and from 1e16), so
// that the verbose messages read as Keras prints them.
std::string python_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto end =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
  const std::string scientific(buffer, end);  // [-]d[.ddd]e[+-]xx
  const std::size_t e = scientific.find('e');
  const bool negative = scientific[0] == '-';
  std::string digits = scientific.substr(negative, e - negative);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(scientific.substr(e + 1));
  const int point = exponent + 1;  // digits before the decimal point
  std::string text = negative ? "-" : "";
  const auto integer_digits = std::size_t(point);
  if (point <= -4 || point > 16) {
    text += digits[0];
    if (digits.size() > 1) text.append(".").append(digits, 1);
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof exponent_text, "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    text += exponent_text;
  } else if (point <= 0) {
    text.append("0.").append(std::size_t(-point), '0').append(digits);
  } else if (integer_digits >= digits.size()) {
    text.append(digits).append(integer_digits - digits.size(), '0').append(".0");
  } else {
    text.append(digits, 0, integer_digits).append(".").append(digits, integer_digits);
  }
  return text;
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::filesystem::path path, ModelCheckpointOptions options)
    : path_(std::move(path)), options_(std::move(options)),
      monitor_(options_.monitor, options_.mode) {}

void ModelCheckpoint::on_train_begin(TrainingControl&) {
  monitor_.reset();
  saved_.clear();
}

void ModelCheckpoint::on_epoch_end(std::size_t epoch, const History& history,
                                   TrainingControl& model) {
  if (options_.save_best_only && !monitor_.improve(monitor_.current(history))) return;
  std::string path = path_.string();
  if (const auto at = path.find("{epoch}"); at != std::string::npos) {
    char number[24];
    std::snprintf(number, sizeof number, "%02zu", epoch + 1);
    path.replace(at, 7, number);
  }
  model.save(path);
  saved_.push_back(epoch);
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {}

void EarlyStopping::on_train_begin(TrainingControl&) {
  monitor_.reset();
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = none;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(std::size_t epoch, const History& history,
                                 TrainingControl& model) {
  if (monitor_.improve(monitor_.current(history))) {
    wait_ = 0;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) {
      const auto weights = model.weights();
      best_weights_.assign(weights.begin(), weights.end());
    }
    return;
  }
  if (++wait_ < options_.patience && options_.patience > 0) return;
  stopped_epoch_ = epoch;
  model.stop_training();
  if (options_.restore_best_weights && !best_weights_.empty()) model.set_weights(best_weights_);
}

LearningRateScheduler::LearningRateScheduler(Schedule schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  if (!schedule_) throw std::invalid_argument("typenet: LearningRateScheduler needs a schedule");
}

void LearningRateScheduler::on_epoch_begin(std::size_t epoch, TrainingControl& model) {
  const double rate = schedule_(epoch, double(model.learning_rate()));
  model.set_learning_rate(float(rate));
  if (verbose_ > 0)
    model.out() << "\nEpoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to "
                << python_repr(rate) << ".\n"
                << std::flush;
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  if (!(options_.factor < 1.0))
    throw std::invalid_argument(
        "typenet: ReduceLROnPlateau does not support a factor >= 1.0, got factor " +
        python_repr(options_.factor));
}

void ReduceLROnPlateau::on_train_begin(TrainingControl&) {
  monitor_.reset();
  wait_ = cooldown_counter_ = 0;
}

// Keras 3's on_epoch_end, step by step: a cooldown epoch counts down and clears the wait; an
// improvement clears it; otherwise, out of cooldown, the wait grows and at `patience` the rate is
// reduced, unless it is already at min_lr (the wait then stays, and each further epoch tries).
void ReduceLROnPlateau::on_epoch_end(std::size_t epoch, const History& history,
                                     TrainingControl& model) {
  const double current = monitor_.current(history);
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.improve(current)) {
    wait_ = 0;
    return;
  }
  if (cooldown_counter_ > 0 || ++wait_ < options_.patience) return;
  const double old_rate = double(model.learning_rate());
  if (!(old_rate > double(float(options_.min_lr)))) return;
  const double new_rate = std::max(old_rate * options_.factor, options_.min_lr);
  model.set_learning_rate(float(new_rate));
  if (options_.verbose > 0)
    model.out() << "\nEpoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
                << python_repr(new_rate) << ".\n"
                << std::flush;
  cooldown_counter_ = options_.cooldown;
  wait_ = 0;
}

}  // namespace typenet
