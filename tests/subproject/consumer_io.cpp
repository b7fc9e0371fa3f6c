// An app that trains a net and keeps it in a typenet model file: typenet-io.
#include <typenet/typenet.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

using namespace typenet;
using Mlp = Net<Input<4>, Dense<8, Relu>, Dense<2, Softmax>>;

int main() {
  // The class is whether the first feature is the largest.
  std::vector<float> x(256 * 4);
  std::vector<std::uint8_t> y(256);
  Rng rng(1);
  for (float& value : x) value = rng.uniform();
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = std::uint8_t(std::max_element(&x[i * 4], &x[i * 4 + 4]) == &x[i * 4]);
  auto net = std::make_unique<Mlp>(42);
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  model.fit({x, y}, {.batch_size = 32, .epochs = 2, .verbose = 0});
  save(*net, "consumer_io.tnet");
  auto loaded = std::make_unique<Mlp>(7);
  load(*loaded, "consumer_io.tnet");
  const bool same = std::ranges::equal(net->parameters(), loaded->parameters());
  std::printf("saved and loaded %zu parameters: %s\n", Mlp::param_count,
              same ? "same" : "DIFFERENT");
  return same ? 0 : 1;
}
