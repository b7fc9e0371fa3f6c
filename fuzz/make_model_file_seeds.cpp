// Writes the fuzzer's seed corpus: real files written by typenet's own save code (a parameters
// file and checkpoints for Adam, RMSprop and SGD) for small fake networks.
#include <array>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include "typenet/io/save_load.hpp"
#include "seed_corpus.hpp"

namespace {

typenet::LayerInfo layer(std::string_view type, std::string_view arguments, typenet::Dims in,
                         typenet::Dims out, std::size_t params, std::size_t offset) {
  typenet::LayerInfo info;
  info.type = type;
  info.arguments << arguments;
  info.in = in;
  info.out = out;
  info.param_offset = offset;
  info.param_count = params;
  return info;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path corpus = typenet_fuzz::corpus_folder(argc, argv);

  const typenet::Dims image{3, {6, 6, 1}}, features{3, {4, 4, 2}}, flat{1, {32, 0, 0}},
      classes{1, {3, 0, 0}};
  const std::array<typenet::LayerInfo, 4> layers = {
      layer("Input", "", image, image, 0, 0),
      layer("Conv", "(2,k3,s1,valid,linear)", image, features, 3 * 3 * 2 + 2, 0),
      layer("Flatten", "", features, flat, 0, 20),
      layer("Dense", "(3,relu)", flat, classes, 32 * 3 + 3, 20)};
  std::vector<float> parameters(20 + 99);
  for (std::size_t i = 0; i < parameters.size(); ++i)
    parameters[i] = 0.01f * static_cast<float>(i) - 0.5f;
  std::vector<float> m(parameters.size(), 0.25f), v(parameters.size(), 1e-8f);

  typenet::io::save_parameters(corpus / "parameters.tnet", layers, parameters);
  typenet::io::save_checkpoint(corpus / "adam.ckpt", layers, parameters,
                               {.optimizer = "adam",
                                .slots = {{"m", m}, {"v", v}},
                                .step = 42,
                                .epoch = 2,
                                .text = "{\"loss\": [0.9, 0.4], \"accuracy\": [0.7, 0.88]}"});
  typenet::io::save_checkpoint(
      corpus / "rmsprop.ckpt", layers, parameters,
      {.optimizer = "rmsprop", .slots = {{"v", std::span(v).first(3)}}, .epoch = 1});
  typenet::io::save_checkpoint(corpus / "sgd.ckpt", std::span(layers).first(1), {},
                               {.optimizer = "sgd"});
  return 0;
}
