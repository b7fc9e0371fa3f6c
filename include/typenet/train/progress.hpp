// Keras' fit output. verbose 1: a live progress bar (step/total, ETA, running loss and accuracy)
// on a terminal, plain lines when the output is not a terminal; verbose 2: one line per epoch;
// verbose 0: silent. The epoch's line shows every metric of the history ("learning_rate" too, when
// fit records it).
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>

#include "typenet/train/history.hpp"

namespace typenet {

class Progress {
 public:
  Progress(std::ostream& out, int verbose, bool terminal);
  void epoch_begin(std::size_t epoch, std::size_t epochs, std::size_t steps);
  void step_end(std::size_t step, double loss, double accuracy);
  void epoch_end(const History& history);

 private:
  std::ostream& out_;
  int verbose_;
  bool terminal_;
  std::size_t steps_ = 0, last_printed_step_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

// Whether standard output is a terminal (for the default Progress of fit).
bool stdout_is_terminal();

}  // namespace typenet
