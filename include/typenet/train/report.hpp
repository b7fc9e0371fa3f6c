// The closing lines of an evaluation on the test set, as the Keras MNIST tutorials print them,
// then one line for scripts (the examples, the typenet tool and external checks parse it):
//   Test loss: 0.0262
//   Test accuracy: 0.9912
//   Correctly classified: 9912, incorrectly classified: 88
//   test_accuracy=0.9912 test_loss=0.0262 correct=9912 incorrect=88
#pragma once

#include "typenet/train/options.hpp"  // Evaluation

namespace typenet {

// Prints the lines above to stdout.
void print_evaluation(const Evaluation& result);

}  // namespace typenet
