#include "json_config.hpp"

#include <algorithm>
#include <cstdint>

#include "keras_error.hpp"

namespace typenet::keras_detail {

JsonConfig::JsonConfig(const KerasLayer& layer, std::size_t index, const std::string& source,
                       std::string note, bool channels_first, std::optional<Dims> input_dims)
    : JsonConfig(layer, "layer " + std::to_string(index) + " (" + layer.name + ")", source,
                 std::move(note), channels_first, input_dims) {}

JsonConfig::JsonConfig(const KerasLayer& layer, const std::string& where, const std::string& source,
                       std::string note, bool channels_first, std::optional<Dims> input_dims)
    : layer_(layer), source_(source), channels_first_(channels_first), input_dims_(input_dims),
      where_(where + ": "), note_(std::move(note)) {}

void JsonConfig::mismatch(const std::string& detail) const {
  fail(KerasProblem::ArchitectureMismatch, source_, where_ + detail + note_);
}
void JsonConfig::unsupported(const std::string& detail) const {
  fail(KerasProblem::Unsupported, source_, where_ + detail);
}
void JsonConfig::corrupted(const std::string& detail) const {
  fail(KerasProblem::Corrupted, source_, where_ + detail);
}

std::optional<double> JsonConfig::number(std::string_view key) const {
  return typed<double>(key, &nlohmann::json::is_number, "a number");
}
std::optional<std::string> JsonConfig::text(std::string_view key) const {
  return typed<std::string>(key, &nlohmann::json::is_string, "a string");
}
std::optional<bool> JsonConfig::boolean(std::string_view key) const {
  return typed<bool>(key, &nlohmann::json::is_boolean, "true or false");
}
std::optional<std::size_t> JsonConfig::positive(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (!value) return std::nullopt;
  return positive(*value, key);
}
std::optional<std::array<std::size_t, 2>> JsonConfig::size_pair(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (!value) return std::nullopt;
  if (value->is_array()) {
    if (value->size() != 2)
      unsupported("'" + std::string(key) + "' is " + value->dump() +
                  "; typenet layers are two-dimensional");
    return std::array{positive((*value)[0], key), positive((*value)[1], key)};
  }
  const std::size_t size = positive(*value, key);
  return std::array{size, size};
}
std::optional<std::vector<std::int64_t>> JsonConfig::integers(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (!value) return std::nullopt;
  const auto is_integer = [](const nlohmann::json& item) { return item.is_number_integer(); };
  if (!value->is_array() || !std::ranges::all_of(*value, is_integer))
    corrupted("expected '" + std::string(key) + "' to be a list of integers, file has " +
              value->dump());
  return value->get<std::vector<std::int64_t>>();
}

std::string JsonConfig::json(std::string_view key) const {
  const nlohmann::json* value = find(key);
  return value ? value->dump() : "null";
}

const nlohmann::json* JsonConfig::find(std::string_view key) const {
  const auto it = layer_.config.find(key);
  return it == layer_.config.end() || it->is_null() ? nullptr : &*it;
}

template <class T>
std::optional<T> JsonConfig::typed(std::string_view key,
                                   bool (nlohmann::json::*is_type)() const noexcept,
                                   const char* expected) const {
  const nlohmann::json* value = find(key);
  if (!value) return std::nullopt;
  if (!(value->*is_type)())
    corrupted("expected '" + std::string(key) + "' to be " + expected + ", file has " +
              value->dump());
  return value->get<T>();
}

std::size_t JsonConfig::positive(const nlohmann::json& value, std::string_view key) const {
  if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
    corrupted("expected '" + std::string(key) + "' to be a positive integer, file has " +
              value.dump());
  return value.get<std::size_t>();
}

}  // namespace typenet::keras_detail
