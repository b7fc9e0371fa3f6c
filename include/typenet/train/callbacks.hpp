// Keras-style callbacks: ModelCheckpoint and EarlyStopping, and the interface to write others.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "typenet/train/history.hpp"

namespace typenet {

// What a callback may do with the model being trained.
class TrainingControl {
 public:
  virtual ~TrainingControl() = default;
  // Writes the parameters as a typenet model file (atomically).
  virtual void save(const std::filesystem::path& path) const = 0;
  virtual std::span<const float> weights() const = 0;
  virtual void set_weights(std::span<const float> weights) = 0;
  void stop_training() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  void reset_stop() { stop_requested_ = false; }

 private:
  bool stop_requested_ = false;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainingControl&) {}
  // `epoch` counts from 0; the history already holds this epoch's metrics.
  virtual void on_epoch_end(std::size_t /*epoch*/, const History&, TrainingControl&) {}
  virtual void on_train_end(TrainingControl&) {}
};

enum class MonitorMode { Auto, Min, Max };

// Tracks the best value of a monitored metric ("val_loss", "accuracy", ...). Auto mode maximises
// metrics whose name contains "acc", minimises the others, as Keras.
class Monitor {
 public:
  Monitor(std::string metric, MonitorMode mode, double min_delta = 0);
  // The epoch's value; throws std::invalid_argument naming the metrics that exist when the
  // monitored one was never recorded (e.g. "val_loss" without validation data).
  double current(const History& history) const;
  // Records the value if it improves on the best so far; returns whether it did.
  bool improve(double value);
  void reset();
  const std::string& metric() const { return metric_; }
  double best() const { return best_; }

 private:
  std::string metric_;
  bool maximize_;
  double min_delta_;
  double best_;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  MonitorMode mode = MonitorMode::Auto;
};

// Saves the model after every epoch, or only when the monitored metric improves. The path may
// contain "{epoch}" (replaced by the 1-based epoch number, two digits), as Keras' filepath.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::filesystem::path path, ModelCheckpointOptions options = {});
  void on_train_begin(TrainingControl&) override;
  void on_epoch_end(std::size_t epoch, const History& history, TrainingControl& model) override;
  // The epochs (0-based) at which a file was written.
  const std::vector<std::size_t>& saved_epochs() const { return saved_; }

 private:
  std::filesystem::path path_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  std::vector<std::size_t> saved_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  std::size_t patience = 0;
  MonitorMode mode = MonitorMode::Auto;
  bool restore_best_weights = false;
};

// Stops training when the monitored metric has not improved for `patience` epochs; optionally
// restores the weights of the best epoch.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(TrainingControl&) override;
  void on_epoch_end(std::size_t epoch, const History& history, TrainingControl& model) override;
  // 0-based epoch at which training was stopped, or none.
  std::size_t stopped_epoch() const { return stopped_epoch_; }
  std::size_t best_epoch() const { return best_epoch_; }
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  std::size_t wait_ = 0;
  std::size_t stopped_epoch_ = none, best_epoch_ = none;
  std::vector<float> best_weights_;
};

}  // namespace typenet
