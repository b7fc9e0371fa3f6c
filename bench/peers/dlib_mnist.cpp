// dlib (Debian's libdlib-dev, BLAS = OpenBLAS) doing perf_nets' work on the seed CNN and the MLP,
// printing perf_nets' line format so that bench/compare_pytorch reads both the same way:
//
//   OPENBLAS_NUM_THREADS=2 dlib_mnist MNIST_DIR EPOCHS_FRACTION SECONDS
//
// MNIST_DIR holds the four uncompressed IDX files (compare_pytorch writes them). dlib's CPU layers
// compute through BLAS, so OpenBLAS' thread count is the thread count. Training: Adam
// (lr 1e-3), batch 128, shuffled, one dnn_trainer step per batch. Inference runs the test-time
// net, where dlib replaces dropout by a multiplication, as its examples do.
// Built by compare_pytorch with: g++ -O2 -std=c++17 dlib_mnist.cpp $(pkg-config --cflags --libs dlib-1)
#include <dlib/data_io.h>
#include <dlib/dnn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Image = dlib::matrix<float>;

// Valid (unpadded) stride-1 convolution, as Keras' Conv2D default.
template <long Filters, long Kernel, typename Subnet>
using con_valid = dlib::add_layer<dlib::con_<Filters, Kernel, Kernel, 1, 1, 0, 0>, Subnet>;

// Conv32-Conv64-MaxPool2-Dropout25-(flatten)-Dense128-Dropout50-Dense10; Drop is dropout for
// training and multiply at test time.
template <template <typename> class Drop>
using SeedCnn = dlib::loss_multiclass_log<
    dlib::fc<10, Drop<dlib::relu<dlib::fc<
                     128, Drop<dlib::max_pool<
                              2, 2, 2, 2,
                              dlib::relu<con_valid<
                                  64, 3, dlib::relu<con_valid<32, 3, dlib::input<Image>>>>>>>>>>>>;
// Dense512-Relu-Dense512-Relu-Dense10 on the flattened image.
using Mlp = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<512, dlib::relu<dlib::fc<512, dlib::input<Image>>>>>>>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto index = std::size_t(std::ceil(fraction * double(values.size()))) - 1;
  return values[std::min(index, values.size() - 1)];
}

struct Settings {
  double fraction;
  double seconds;
};

template <class TrainNet>
TrainNet train(const char* name, TrainNet net, const std::vector<Image>& images,
               const std::vector<unsigned long>& labels, const Settings& settings) {
  constexpr std::size_t batch = 128;
  std::vector<std::size_t> order(images.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  dlib::dnn_trainer<TrainNet, dlib::adam> trainer(net, dlib::adam(0, 0.9f, 0.999f));
  trainer.be_quiet();
  trainer.set_learning_rate(1e-3);
  trainer.set_mini_batch_size(batch);
  std::vector<Image> x(batch);
  std::vector<unsigned long> y(batch);
  auto step = [&](std::size_t first) {
    const std::size_t n = std::min(batch, order.size() - first);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = images[order[first + i]];
      y[i] = labels[order[first + i]];
    }
    trainer.train_one_step(x.begin(), x.begin() + long(n), y.begin());
    return n;
  };
  step(0);
  trainer.get_net();  // waits for the warm-up step
  const auto wanted = std::size_t(std::ceil(settings.fraction * double(order.size())));
  const std::size_t steps = std::max<std::size_t>(1, (wanted + batch - 1) / batch);
  std::size_t trained = 0;
  const Clock::time_point start = Clock::now();
  for (std::size_t s = 0; s < steps; ++s) trained += step(s * batch);
  TrainNet result = trainer.get_net();  // waits for the trainer's thread to finish every step
  const double seconds = seconds_since(start);
  std::printf("net=%s figure=train images_per_s=%.1f images=%zu seconds=%.3f\n", name,
              double(trained) / seconds, trained, seconds);
  std::fflush(stdout);
  return result;
}

template <class TestNet>
void infer(const char* name, TestNet& net, const std::vector<Image>& images,
           const Settings& settings) {
  unsigned long checksum = 0;
  for (std::size_t i = 0; i < 30; ++i) checksum += net(images[i]);
  std::vector<double> micros;
  Clock::time_point start = Clock::now();
  while (micros.size() < 100 || seconds_since(start) < settings.seconds) {
    const Clock::time_point before = Clock::now();
    checksum += net(images[micros.size() % images.size()]);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
  }
  std::printf("net=%s figure=latency median_us=%.2f p99_us=%.2f calls=%zu checksum=%lu\n", name,
              percentile(micros, 0.5), percentile(micros, 0.99), micros.size(), checksum);

  constexpr std::size_t batch = 1000;
  const std::vector<Image> first(images.begin(), images.begin() + batch);
  net(first, batch);  // warm-up
  std::vector<double> rates;
  start = Clock::now();
  while (rates.size() < 3 || seconds_since(start) < settings.seconds) {
    const Clock::time_point before = Clock::now();
    net(first, batch);
    rates.push_back(double(batch) / seconds_since(before));
  }
  std::printf("net=%s figure=throughput images_per_s=%.1f batch=%zu repeats=%zu\n", name,
              percentile(rates, 0.5), batch, rates.size());
  std::fflush(stdout);
}

std::vector<Image> as_floats(const std::vector<dlib::matrix<unsigned char>>& pixels) {
  std::vector<Image> images;
  images.reserve(pixels.size());
  for (const auto& p : pixels) images.push_back(dlib::matrix_cast<float>(p) / 255.0f);
  return images;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MNIST_DIR EPOCHS_FRACTION SECONDS\n", argv[0]);
    return 2;
  }
  try {
    const Settings settings{std::stod(argv[2]), std::stod(argv[3])};
    std::vector<dlib::matrix<unsigned char>> train_pixels, test_pixels;
    std::vector<unsigned long> train_labels, test_labels;
    dlib::load_mnist_dataset(argv[1], train_pixels, train_labels, test_pixels, test_labels);
    const std::vector<Image> train_images = as_floats(train_pixels);
    const std::vector<Image> test_images = as_floats(test_pixels);

    SeedCnn<dlib::dropout> cnn;
    dlib::layer<5>(cnn).layer_details() = dlib::dropout_(0.25f);  // after the pooling
    SeedCnn<dlib::multiply> cnn_test = train("cnn", cnn, train_images, train_labels, settings);
    infer("cnn", cnn_test, test_images, settings);

    Mlp mlp = train("mlp", Mlp(), train_images, train_labels, settings);
    infer("mlp", mlp, test_images, settings);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dlib_mnist: error: %s\n", error.what());
    return 1;
  }
}
