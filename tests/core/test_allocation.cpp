// No heap allocation inside inference, a training step or an optimizer update: a counting
// global operator new sees none after warm-up.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>
#include <vector>

#include <typenet/typenet.hpp>

namespace {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  ++allocations;
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
  std::vector<float> image(Cnn::input_size, 0.25f), batch(3 * Cnn::input_size, 0.5f),
      outputs(30);
  net->predict(image);  // warm-up: thread-local packing buffers, lazy dispatch
  const std::size_t before = allocations;
  for (int i = 0; i < 5; ++i) {
    const auto probabilities = net->predict(image);
    CHECK(probabilities[0] >= 0.0f);
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

TEST_CASE_TEMPLATE("a training step (forward, backward, reduction, Adam) allocates nothing",
                   NetT, Cnn, WideMlp) {
  auto net = std::make_unique<NetT>(1);
  std::vector<float> x(64 * NetT::input_size);
  std::vector<std::uint8_t> y(64);
  Rng rng(4);
  for (float& v : x) v = rng.uniform();
  for (auto& label : y) label = std::uint8_t(rng.below(10));
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
