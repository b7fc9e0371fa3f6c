// The Keras 3 files the keras_config target starts from: the .keras fixtures of tests/golden,
// each read into its config.json and its other entries (metadata.json, model.weights.h5).
// Shared by the target and its seed maker, which must agree on the order. Not part of typenet.
#pragma once

#include <zip.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "keras_nets.hpp"

namespace typenet_fuzz {

// A fuzz input's first byte picks one of these (modulo their count).
inline constexpr std::array<const char*, 4> kKerasBaseNames = {
    "conv_even_no_bias", "conv_same_stride2", "conv_valid_gap", "dense_only"};

struct KerasBase {
  std::string config;                                       // config.json
  std::vector<std::pair<std::string, std::string>> others;  // the other entries, name and bytes
};

// The bases in kKerasBaseNames' order. Throws std::runtime_error when a fixture is missing.
inline std::vector<KerasBase> read_keras_bases() {
  std::vector<KerasBase> bases;
  for (const char* name : kKerasBaseNames) {
    const std::string path = (golden_dir() / (std::string(name) + ".keras")).string();
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &code);
    if (!archive) throw std::runtime_error(path + ": cannot open it as a zip archive");
    KerasBase base;
    for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
      zip_stat_t stat;
      zip_file_t* entry = zip_stat_index(archive, zip_uint64_t(i), 0, &stat) == 0
                              ? zip_fopen_index(archive, zip_uint64_t(i), 0)
                              : nullptr;
      std::string bytes(entry ? stat.size : 0, '\0');
      if (!entry || zip_fread(entry, bytes.data(), bytes.size()) != zip_int64_t(bytes.size())) {
        zip_discard(archive);
        throw std::runtime_error(path + ": cannot read entry " + std::to_string(i));
      }
      zip_fclose(entry);
      if (std::string(stat.name) == "config.json") {
        base.config = std::move(bytes);
      } else {
        base.others.emplace_back(stat.name, std::move(bytes));
      }
    }
    zip_discard(archive);
    bases.push_back(std::move(base));
  }
  return bases;
}

}  // namespace typenet_fuzz
