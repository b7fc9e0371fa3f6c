// Keras-style callbacks: ModelCheckpoint, EarlyStopping, LearningRateScheduler and
// ReduceLROnPlateau, and the interface to write others.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iostream>
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
  // The rate the optimizer's next update uses (a schedule's value at the current step).
  virtual float learning_rate() const = 0;
  // As Keras' `optimizer.learning_rate = rate`: throws std::logic_error when the optimizer's
  // rate is a schedule, std::invalid_argument when `rate` is not finite.
  virtual void set_learning_rate(float rate) = 0;
  // Where callbacks print their messages: the output of the fit that runs them.
  std::ostream& out() const { return *out_; }

 protected:
  std::ostream* out_ = &std::cout;

 private:
  bool stop_requested_ = false;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainingControl&) {}
  // `epoch` counts from 0.
  virtual void on_epoch_begin(std::size_t /*epoch*/, TrainingControl&) {}
  // The history already holds this epoch's metrics.
  virtual void on_epoch_end(std::size_t /*epoch*/, const History&, TrainingControl&) {}
  virtual void on_train_end(TrainingControl&) {}
  // Whether the callback may change the learning rate: fit then records the rate of every epoch
  // in the history ("learning_rate"), as Keras' LearningRateScheduler and ReduceLROnPlateau log.
  virtual bool changes_learning_rate() const { return false; }
};

enum class MonitorMode { Auto, Min, Max };

// Tracks the best value of a monitored metric ("val_loss", "accuracy", ...). Auto mode maximises
// metrics whose name contains "acc", minimises the others. As Keras 3, the first value is always
// an improvement and values compare in float32.
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
  // The best value so far; +-infinity before the first.
  double best() const { return best_; }

 private:
  std::string metric_;
  bool maximize_;
  double min_delta_;
  double best_;
  bool has_best_ = false;
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

// As Keras' LearningRateScheduler: at the start of each epoch, sets the learning rate to
// schedule(epoch, current rate) (epoch from 0). verbose 1 prints Keras' message for each epoch.
//
//   LearningRateScheduler halve([](std::size_t epoch, double rate) {
//     return epoch > 0 && epoch % 10 == 0 ? rate / 2 : rate;  // halved every 10 epochs
//   });
class LearningRateScheduler : public Callback {
 public:
  using Schedule = std::function<double(std::size_t epoch, double learning_rate)>;
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0);
  void on_epoch_begin(std::size_t epoch, TrainingControl& model) override;
  bool changes_learning_rate() const override { return true; }

 private:
  Schedule schedule_;
  int verbose_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // new rate = rate * factor; below 1
  std::size_t patience = 10;
  int verbose = 0;
  MonitorMode mode = MonitorMode::Auto;
  double min_delta = 1e-4;
  std::size_t cooldown = 0;  // epochs after a reduction during which no epoch counts as waiting
  double min_lr = 0;
};

// As Keras 3's ReduceLROnPlateau: multiplies the learning rate by `factor` (not below min_lr)
// once the monitored metric has not improved by min_delta for `patience` epochs, then waits
// `cooldown` epochs before counting again. verbose 1 prints Keras' message at each reduction.
class ReduceLROnPlateau : public Callback {
 public:
  // Throws std::invalid_argument for a factor of 1 or more, as Keras.
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin(TrainingControl&) override;
  void on_epoch_end(std::size_t epoch, const History& history, TrainingControl& model) override;
  bool changes_learning_rate() const override { return true; }

 private:
  ReduceLROnPlateauOptions options_;
  Monitor monitor_;
  std::size_t wait_ = 0, cooldown_counter_ = 0;
};

}  // namespace typenet
