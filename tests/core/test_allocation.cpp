// No heap allocation inside inference, a training step or an optimizer update: a counting
// global operator new sees none after warm-up. And no training memory before training.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>
#include <vector>

#include <typenet/typenet.hpp>

namespace {
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> allocated_bytes{0};  // requested, frees not subtracted
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  allocated_bytes += size;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  ++allocations;
  allocated_bytes += size;
  if (void* p = std::aligned_alloc(std::size_t(align), (size + std::size_t(align) - 1) /
                                                           std::size_t(align) * std::size_t(align)))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace typenet;

using Cnn = Net<Input<28, 28, 1>, Conv<8, 3, Relu>, Conv<16, 3, Relu>, MaxPool<2>, Dropout<25>,
                Flatten, Dense<32, Relu>, Dropout<50>, Dense<10, Softmax>>;

TEST_CASE("predict allocates nothing") {
  auto net = std::make_unique<Cnn>(1);
  std::vector<float> image(Cnn::input_size, 0.25f), batch(3 * Cnn::input_size, 0.5f), outputs(30);
  net->predict(image);  // warm-up: thread-local packing buffers, lazy dispatch
  const std::size_t before = allocations;
  for (int i = 0; i < 5; ++i) {
    const auto probabilities = net->predict(image);
    CHECK(probabilities[0] >= 0.0f);
    net->predict(batch, outputs);
  }
  CHECK(allocations - before == 0);
}

// Residual blocks keep their inner outputs in the scratch (predict) or in the training buffers.
using ResNet = Net<Input<8, 8, 2>, Conv<4, 3, Relu, Same>,
                   Residual<Main<Conv<4, 3, Same>, Relu, Dropout<25>, Conv<4, 3, Same>>>, Relu,
                   Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>, Conv<6, 3, Same>>,
                            Shortcut<Conv<6, 1, Stride<2>>>>,
                   Relu, GlobalAvgPool, Dense<3, Softmax>>;

using StackedLstm = Net<Input<7, 4>, LSTM<6, ReturnSequences>, LSTM<5>, Dense<3, Softmax>>;

TEST_CASE("predict through residual blocks allocates nothing") {
  auto net = std::make_unique<ResNet>(1);
  std::vector<float> image(ResNet::input_size, 0.25f), batch(3 * ResNet::input_size, 0.5f),
      outputs(9);
  net->predict(image);
  const std::size_t before = allocations;
  for (int i = 0; i < 5; ++i) {
    CHECK(net->predict(image)[0] > 0.0f);
    net->predict(batch, outputs);
  }
  CHECK(allocations - before == 0);
}

TEST_CASE("predict with a team of threads allocates nothing") {
  auto net = std::make_unique<Cnn>(1);
  std::vector<float> image(Cnn::input_size, 0.25f);
  ThreadPool pool(2);
  net->predict(image, pool);  // warm-up: each thread's packing buffers
  const std::size_t before = allocations;
  for (int i = 0; i < 5; ++i) CHECK(net->predict(image, pool)[0] >= 0.0f);
  CHECK(allocations - before == 0);
}

// Wide Dense layers: on two threads a team trains it (Net::trains_in_team).
using WideMlp = Net<Input<256>, Dense<256, Relu>, Dropout<10>, Dense<10, Softmax>>;
static_assert(WideMlp::trains_in_team && !Cnn::trains_in_team);

TEST_CASE_TEMPLATE("a training step (forward, backward, reduction, Adam) allocates nothing", NetT,
                   Cnn, WideMlp, ResNet, StackedLstm) {
  auto net = std::make_unique<NetT>(1);
  std::vector<float> x(64 * NetT::input_size);
  std::vector<std::uint8_t> y(64);
  Rng rng(4);
  for (float& v : x) v = rng.uniform();
  for (auto& label : y) label = std::uint8_t(rng.below(NetT::output_size));
  std::vector<std::uint32_t> batch(48);
  std::iota(batch.begin(), batch.end(), 0u);
  for (std::size_t threads : {1, 2}) {
    auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = threads});
    model.train_on_batch({x, y}, batch);  // warm-up
    const std::size_t before = allocations;
    for (int step = 0; step < 3; ++step) model.train_on_batch({x, y}, batch);
    CHECK(allocations - before == 0);
  }
}

// A model that only evaluates and predicts gets forward buffers for its workers: no optimizer
// state, no staged parameters, no gradient blocks. Its first training step allocates them.
TEST_CASE("a compiled model allocates training memory at its first training step, not before") {
  constexpr std::size_t forward_buffers = sizeof(Buffers<Cnn, default_chunk<Cnn>, false>);
  std::vector<float> x(64 * Cnn::input_size, 0.5f);
  std::vector<std::uint8_t> y(64, 3);
  std::vector<std::uint32_t> batch(48);
  std::iota(batch.begin(), batch.end(), 0u);
  auto net = std::make_unique<Cnn>(1);
  const std::size_t start = allocated_bytes;
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2});
  model.evaluate({x, y});
  CHECK(model.predict(x).size() == 64 * 10);
  const std::size_t inference = allocated_bytes - start;
  // The weights packed for the products (layers/layer.hpp): in bf16 their layouts, in float32
  // conv2's Winograd transforms.
  static_assert(Cnn::layer<1>::winograd);
  const std::size_t packed_bytes = Cnn::packed_weight_words * sizeof(std::uint32_t);
  // Two workers' forward buffers and the packed weights; besides them (threads, predictions)
  // less than the gradient block or one optimizer slot would take.
  CHECK(inference >= 2 * forward_buffers + packed_bytes);
  CHECK(inference < 2 * forward_buffers + packed_bytes + Cnn::param_bytes);
  model.train_on_batch({x, y}, batch);
  // Adam's two slots in two halves, the staged parameters and two gradient blocks at least.
  CHECK(allocated_bytes - start - inference >= (2 * 2 + 1 + 2) * Cnn::param_bytes);
}

// fit's steps with augmentation (each worker's scratch image is allocated by the first):
// a fit of three times as many steps allocates as often.
TEST_CASE("fit with augmentation allocates nothing per step") {
  using Small = Net<Input<12, 12, 1>, Conv<4, 3, Relu>, Flatten, Dense<10, Softmax>>;
  std::vector<float> x(96 * Small::input_size);
  std::vector<std::uint8_t> y(96);
  Rng rng(6);
  for (float& v : x) v = rng.uniform();
  for (auto& label : y) label = std::uint8_t(rng.below(10));
  const std::vector<Augmentation> augment{
      RandomRotation{.factor = 0.1}, RandomZoom{.height_factor = 0.1},
      RandomTranslation{.height_factor = 0.1, .width_factor = 0.1}};
  for (std::size_t threads : {1, 2}) {
    auto model = compile<Small>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = threads});
    auto allocations_of_fit = [&](std::size_t samples) {
      const std::size_t before = allocations;
      model.fit({std::span(x).first(samples * Small::input_size), std::span(y).first(samples)},
                {.batch_size = 8, .verbose = 0, .augment = augment});
      return allocations - before;
    };
    allocations_of_fit(32);  // warm-up
    CHECK(allocations_of_fit(96) == allocations_of_fit(32));
  }
}
