#include "typenet/train/report.hpp"

#include <cstdio>

namespace typenet {

void print_evaluation(const Evaluation& result) {
  std::printf("Test loss: %.4f\nTest accuracy: %.4f\n", result.loss, result.accuracy);
  std::printf("Correctly classified: %zu, incorrectly classified: %zu\n", result.correct,
              result.incorrect);
  std::printf("test_accuracy=%.4f test_loss=%.4f correct=%zu incorrect=%zu\n", result.accuracy,
              result.loss, result.correct, result.incorrect);
}

void print_evaluation(const History& history, const Evaluation& result) {
  std::printf("train_seconds=%.2f\n", history.seconds());
  print_evaluation(result);
}

}  // namespace typenet
