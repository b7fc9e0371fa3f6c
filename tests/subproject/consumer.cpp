// An app embedding a typenet net in static storage: no allocation, architecture checked at
// compile time.
#include <typenet/typenet.hpp>

#include <cstdio>
#include <numeric>

using namespace typenet;
using Cnn = Net<Input<28, 28, 1>, Conv<8, 3, Relu>, MaxPool<2>, Flatten, Dense<10, Softmax>>;
static_assert(Cnn::param_count == 80 + 13 * 13 * 8 * 10 + 10);

static Cnn net(42);

int main() {
  std::array<float, 784> image{};
  image.fill(0.5f);
  const auto probabilities = net.predict(image);
  const float sum = std::accumulate(probabilities.begin(), probabilities.end(), 0.0f);
  std::printf("sum of probabilities %.6f (%s)\n", sum, kernels::simd_target_name());
  return sum > 0.999f && sum < 1.001f ? 0 : 1;
}
