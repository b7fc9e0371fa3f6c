// Checking a Net's layers against a Keras model config, layer by layer. Private to src/keras.
#pragma once

#include <span>
#include <string>

#include "keras_model.hpp"
#include "typenet/keras_mapping.hpp"
#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

// Whether the model keeps channels first, as its image layers' data_format says; `option`
// (KerasOptions::channels_first) when none says (files of old Keras). Throws KerasError when the
// layers disagree, or when `option` is set and the file says channels_last.
bool model_channels_first(const KerasModel& model, bool option, const std::string& source);

// Throws KerasError (ArchitectureMismatch) naming the first difference between `net` (a Net's
// layer_infos, Input first) and `model`, in words: "layer 3 (conv2d_1): expected Conv2D with 32
// filters, file has 36". `channels_first` is model_channels_first's answer.
void check_architecture(std::span<const LayerInfo> net, const KerasModel& model,
                        bool channels_first, const std::string& source);

// Weights-only files: the file's layer_names (every layer, weightless ones too) against the Net's
// layers. Keras names layers after their class ("max_pooling2d_3"): a name that is Keras' name of
// another class than the Net's layer reads is refused (ArchitectureMismatch), the first such layer
// in order; names that say nothing of a class (custom names) get one warning on std::clog, as
// only the weighted layers' order and shapes can then be checked.
void check_layer_names(std::span<const LayerInfo> net, std::span<const std::string> names,
                       const std::string& source);

// The weight arrays the Net's layer `index` reads from the file's layer, as its config says
// (Keras' use_bias, ...).
std::span<const KerasWeight> expected_weights(const LayerInfo& net, const KerasLayer& file,
                                              std::size_t index, const std::string& source,
                                              bool channels_first);

}  // namespace typenet::keras_detail
