// A file layer's config (its JSON object) shown to a typenet layer through the KerasConfig
// interface: the check of the loader (architecture.cpp) and the spelling of export-cpp
// (export_cpp.cpp) read layers through it. Private to src/keras.
#pragma once

#include <cstddef>
#include <string>

#include "keras_model.hpp"
#include "typenet/keras_mapping.hpp"

namespace typenet::keras_detail {

// Complaints name the layer ("layer 3 (conv2d_1): ") and end with `note` when they are
// mismatches (the loader says there when the layer counts differ).
class JsonConfig final : public KerasConfig {
 public:
  // `input_dims`: the layer's input shape when the caller knows it (KerasConfig::input_dims).
  JsonConfig(const KerasLayer& layer, std::size_t index, const std::string& source,
             std::string note, bool channels_first, std::optional<Dims> input_dims);
  // `where` names the layer: "layer 3 (add) main branch layer 1 (conv2d_1)".
  JsonConfig(const KerasLayer& layer, const std::string& where, const std::string& source,
             std::string note, bool channels_first, std::optional<Dims> input_dims);

  [[noreturn]] void mismatch(const std::string& detail) const override;
  [[noreturn]] void unsupported(const std::string& detail) const override;
  [[noreturn]] void corrupted(const std::string& detail) const override;
  std::string_view class_name() const override { return layer_.class_name; }
  bool channels_first() const override { return channels_first_; }

  std::optional<double> number(std::string_view key) const override;
  std::optional<std::string> text(std::string_view key) const override;
  std::optional<bool> boolean(std::string_view key) const override;
  std::optional<std::size_t> positive(std::string_view key) const override;
  std::optional<std::array<std::size_t, 2>> size_pair(std::string_view key) const override;
  std::optional<std::vector<std::int64_t>> integers(std::string_view key) const override;
  std::optional<Dims> input_dims() const override { return input_dims_; }
  std::string json(std::string_view key) const override;

 private:
  const nlohmann::json* find(std::string_view key) const;
  // The value at `key` when it is there and of the type `is_type` tells; corrupted() otherwise.
  template <class T>
  std::optional<T> typed(std::string_view key, bool (nlohmann::json::*is_type)() const noexcept,
                         const char* expected) const;
  std::size_t positive(const nlohmann::json& value, std::string_view key) const;

  const KerasLayer& layer_;
  const std::string& source_;
  bool channels_first_;
  std::optional<Dims> input_dims_;
  std::string where_;
  std::string note_;
};

}  // namespace typenet::keras_detail
