// The closing lines of an evaluation on the test set, as the Keras MNIST tutorials print them,
// then one line for scripts (the examples, the typenet tool and external checks parse it), after
// a trained model's training time (fit's wall clock, validation included):
//   train_seconds=41.73
//   Test loss: 0.0262
//   Test accuracy: 0.9912
//   Correctly classified: 9912, incorrectly classified: 88
//   test_accuracy=0.9912 test_loss=0.0262 correct=9912 incorrect=88
#pragma once

#include "typenet/train/history.hpp"
#include "typenet/train/options.hpp"  // Evaluation

namespace typenet {

// Prints the lines above to stdout, without train_seconds.
void print_evaluation(const Evaluation& result);
// The same after the training time of the fit that returned `history`.
void print_evaluation(const History& history, const Evaluation& result);

}  // namespace typenet
