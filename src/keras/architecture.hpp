// Checking a Net's layers against a Keras model config, layer by layer. Private to src/keras.
#pragma once

#include <span>
#include <string>

#include "keras_model.hpp"
#include "typenet/keras_mapping.hpp"
#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

// Throws KerasError (ArchitectureMismatch) naming the first difference between `net` (a Net's
// layer_infos, Input first) and `model`, in words: "layer 3 (conv2d_1): expected Conv2D with 32
// filters, file has 36". `channels_first` is KerasOptions::channels_first; the file's layers must
// agree with it.
void check_architecture(std::span<const LayerInfo> net, const KerasModel& model,
                        bool channels_first, const std::string& source);

// The weight arrays the Net's layer `index` reads from the file's layer, as its config says
// (Keras' use_bias, ...).
std::span<const KerasWeight> expected_weights(const LayerInfo& net, const KerasLayer& file,
                                              std::size_t index, const std::string& source,
                                              bool channels_first);

}  // namespace typenet::keras_detail
