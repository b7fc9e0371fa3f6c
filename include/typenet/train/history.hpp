// Keras' History: the per-epoch metrics that `fit` returns ("loss", "accuracy", "val_loss",
// "val_accuracy"), in the order they were first recorded.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace typenet {

class History {
 public:
  // Appends one epoch's value of a metric.
  void record(std::string_view metric, double value);
  // Values per epoch of a metric; an empty span when it was never recorded.
  const std::vector<double>& operator[](std::string_view metric) const;
  bool has(std::string_view metric) const;
  std::size_t epochs() const;
  const std::vector<std::pair<std::string, std::vector<double>>>& metrics() const {
    return metrics_;
  }
  // The wall-clock seconds of the fit that returned this history, validation included (not
  // saved in files).
  double seconds() const { return seconds_; }
  void set_seconds(double seconds) { seconds_ = seconds; }

  // "epoch,loss,accuracy,..." then one row per epoch (epochs counted from 1).
  void write_csv(const std::filesystem::path& path) const;
  // {"loss": [...], "accuracy": [...], ...}, as Keras' history.history.
  void write_json(const std::filesystem::path& path) const;
  std::string to_json() const;
  std::string to_csv() const;
  // Reads a file written by write_csv; throws std::runtime_error naming the file and the line.
  static History read_csv(const std::filesystem::path& path);
  // The same from text; `source` names it in errors.
  static History from_csv(const std::string& text, const std::string& source);

 private:
  std::vector<std::pair<std::string, std::vector<double>>> metrics_;
  double seconds_ = 0;
};

}  // namespace typenet
