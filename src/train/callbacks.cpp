#include "typenet/train/callbacks.hpp"

#include <cmath>
#include <cstdio>
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
  const bool better = maximize_ ? value - min_delta_ > best_ : value + min_delta_ < best_;
  if (better) best_ = value;
  return better;
}

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

}  // namespace typenet
