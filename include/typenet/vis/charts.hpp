// The tutorials' matplotlib charts, drawn with PLplot: the label distribution (bar chart),
// the training history (accuracy and loss curves, train vs validation), the confusion matrix
// and one prediction (the digit next to its class probabilities).
//
// Each writes a PNG or an SVG, chosen by the file name's extension. Invalid arguments are
// std::invalid_argument naming the function and the file; I/O failures std::runtime_error.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

namespace typenet {
class History;
}

namespace typenet::vis {

// One bar per class (0, 1, ...), its count written above it.
void plot_label_distribution(const std::filesystem::path& path, std::span<const std::size_t> counts,
                             std::string_view title = "Label distribution");

// Two panels, "Model accuracy" and "Model loss", each with the training curve and, when
// recorded, the validation one, per epoch. Reads "accuracy" (or Keras 2.2's "acc"), "loss",
// "val_accuracy" ("val_acc") and "val_loss"; a panel whose training metric is absent is left
// out. Non-finite values (a diverged loss) are skipped.
void plot_history(const std::filesystem::path& path, const History& history);

// counts[t * classes + p]: how many samples of true class t were predicted as p (rows true,
// columns predicted, as scikit-learn). classes = sqrt(counts.size()), 1 to 30. Each cell is
// shaded by its share of the largest count and shows its count.
void plot_confusion_matrix(const std::filesystem::path& path, std::span<const std::size_t> counts);

// The digit (28 x 28 floats in [0, 1]) captioned with the predicted class and its probability,
// next to a bar chart of all the class probabilities, as TensorFlow's classification tutorial.
// With a true label, a wrong prediction is red and the true class's bar blue.
void plot_prediction(const std::filesystem::path& path, std::span<const float> image,
                     std::span<const float> probabilities,
                     std::optional<int> true_label = std::nullopt);

}  // namespace typenet::vis
