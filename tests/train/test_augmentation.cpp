// Data augmentation: kernels::affine_transform and the RandomTranslation, RandomRotation and
// RandomZoom augmentations against real Keras 3 (tests/golden/augmentation.expected.txt, made by
// tests/golden/gen/make_augmentation_fixtures.py), and augmentation in fit: reproducible for a
// seed, applied to the training images only.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

namespace {

struct GoldenImage {
  std::size_t h = 0, w = 0, c = 0;
  std::vector<float> pixels;
};

// One case of the golden file: an affine_transform with its sampling, or a list of augmentations
// with the transforms Keras' layers built.
struct GoldenCase {
  std::string name, input;
  std::vector<float> transform;
  std::string interpolation, fill_mode;
  float fill_value = 0;
  std::vector<std::vector<std::string>> augments;  // the words after "augment"
  std::vector<std::vector<float>> keras_transforms;
  std::vector<float> expected;
};

struct Golden {
  std::map<std::string, GoldenImage> images;
  std::vector<GoldenCase> cases;
};

std::vector<float> read_floats(std::istringstream& words) {
  std::vector<float> values;
  for (float value; words >> value;) values.push_back(value);
  return values;
}

const Golden& golden() {
  static const Golden golden = [] {
    const std::string path = std::string(TYPENET_GOLDEN_DIR) + "/augmentation.expected.txt";
    std::ifstream file(path);
    if (!file) throw std::runtime_error("cannot read " + path);
    Golden read;
    std::string line;
    while (std::getline(file, line)) {
      std::istringstream words(line);
      std::string record;
      words >> record;
      if (record == "image") {
        std::string name;
        GoldenImage image;
        words >> name >> image.h >> image.w >> image.c;
        image.pixels = read_floats(words);
        read.images[name] = image;
      } else if (record == "case") {
        read.cases.emplace_back();
        words >> read.cases.back().name;
      } else if (record == "input") {
        words >> read.cases.back().input;
      } else if (record == "transform") {
        read.cases.back().transform = read_floats(words);
      } else if (record == "sampling") {
        words >> read.cases.back().interpolation >> read.cases.back().fill_mode >>
            read.cases.back().fill_value;
      } else if (record == "augment") {
        std::vector<std::string> augment;
        for (std::string word; words >> word;) augment.push_back(word);
        read.cases.back().augments.push_back(augment);
      } else if (record == "keras_transform") {
        read.cases.back().keras_transforms.push_back(read_floats(words));
      } else if (record == "expected") {
        read.cases.back().expected = read_floats(words);
      }
    }
    return read;
  }();
  return golden;
}

Interpolation interpolation_of(const std::string& name) {
  if (name == "bilinear") return Interpolation::Bilinear;
  REQUIRE(name == "nearest");
  return Interpolation::Nearest;
}
FillMode fill_mode_of(const std::string& name) {
  if (name == "reflect") return FillMode::Reflect;
  if (name == "wrap") return FillMode::Wrap;
  if (name == "constant") return FillMode::Constant;
  REQUIRE(name == "nearest");
  return FillMode::Nearest;
}

// A golden line "augment <kind> <factors...> <interpolation> <fill_mode> <fill_value>" as a typenet
// augmentation whose ranges are the one value Keras' layer drew, with the transform built from
// that value.
struct FixedAugmentation {
  Augmentation augmentation;
  ImageTransform transform;
};
FixedAugmentation fixed_augmentation(const std::vector<std::string>& words, std::size_t h,
                                     std::size_t w) {
  const std::size_t n = words.size();
  const Interpolation interpolation = interpolation_of(words[n - 3]);
  const FillMode fill_mode = fill_mode_of(words[n - 2]);
  const float fill_value = std::stof(words[n - 1]);
  const double first = std::stod(words[1]);
  if (words[0] == "translation") {
    const double second = std::stod(words[2]);
    return {
        RandomTranslation{{first, first}, {second, second}, fill_mode, interpolation, fill_value},
        RandomTranslation::transform(float(first), float(second), h, w)};
  }
  if (words[0] == "rotation")
    return {RandomRotation{{first, first}, fill_mode, interpolation, fill_value},
            RandomRotation::transform(float(first * 360.0), h, w)};
  REQUIRE(words[0] == "zoom");
  const bool own_width = words[2] != "none";
  const double second = own_width ? std::stod(words[2]) : first;
  RandomZoom zoom{{first, first}, std::nullopt, fill_mode, interpolation, fill_value};
  if (own_width) zoom.width_factor = FactorRange{second, second};
  return {zoom, RandomZoom::transform(float(1.0 + first), float(1.0 + second), h, w)};
}

// Largest absolute difference.
float max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::fabs(a[i] - b[i]));
  return largest;
}

// Pixels are in [0, 1]. The kernel (the reference, and the dispatched one, which gives its bits)
// does TensorFlow's float operations in TensorFlow's order and matches it to the bit here (Keras
// 3.15.1, TensorFlow 2.21, x86-64); the margin is for a TensorFlow build that fuses a
// multiply-add, or a libm whose sin or cos rounds the other way: a sample point a few ulps (about
// 1e-6 for these sizes) away moves a bilinear value by as much times the image's slope (at most 1
// a pixel), and a chain resamples three times. Nearest interpolation is compared exactly: no
// point of the fixture lies within ulps of a half-pixel.
constexpr float kTolerance = 1e-5f;

}  // namespace

TEST_CASE("affine_transform matches TensorFlow's ImageProjectiveTransformV3 in every mode") {
  std::size_t cases = 0;
  std::map<std::string, int> seen;  // every fill mode and interpolation is covered
  for (const GoldenCase& golden_case : golden().cases) {
    if (golden_case.transform.empty()) continue;
    CAPTURE(golden_case.name);
    const GoldenImage& image = golden().images.at(golden_case.input);
    REQUIRE(golden_case.transform.size() == 8);
    const Interpolation interpolation = interpolation_of(golden_case.interpolation);
    for (const auto affine_transform :
         {kernels::affine_transform, kernels::reference::affine_transform}) {
      CAPTURE(affine_transform == kernels::affine_transform ? "dispatched" : "reference");
      std::vector<float> out(image.pixels.size(), -1.0f);
      affine_transform(image.pixels.data(), image.h, image.w, image.c, golden_case.transform.data(),
                       interpolation, fill_mode_of(golden_case.fill_mode), golden_case.fill_value,
                       out.data());
      if (interpolation == Interpolation::Nearest) CHECK(out == golden_case.expected);
      else CHECK(max_difference(out, golden_case.expected) <= kTolerance);
    }
    ++seen[golden_case.interpolation + " " + golden_case.fill_mode];
    ++cases;
  }
  CHECK(cases >= 50);
  CHECK(seen.size() == 8);
}

TEST_CASE("the augmentations build Keras' transforms and give its layers' outputs") {
  std::size_t cases = 0, chained = 0;
  for (const GoldenCase& golden_case : golden().cases) {
    if (golden_case.augments.empty()) continue;
    CAPTURE(golden_case.name);
    const GoldenImage& image = golden().images.at(golden_case.input);
    REQUIRE(golden_case.keras_transforms.size() == golden_case.augments.size());
    std::vector<Augmentation> augmentations;
    for (std::size_t i = 0; i < golden_case.augments.size(); ++i) {
      const FixedAugmentation fixed = fixed_augmentation(golden_case.augments[i], image.h, image.w);
      augmentations.push_back(fixed.augmentation);
      // Built in float as Keras builds them: equal but for a rounding of sin or cos.
      for (std::size_t k = 0; k < 8; ++k)
        CHECK(fixed.transform[k] ==
              doctest::Approx(golden_case.keras_transforms[i][k]).epsilon(1e-6).scale(1));
    }
    // A range of one value draws that value, from any stream.
    Rng rng(12345);
    std::vector<float> out(image.pixels.size(), -1.0f), scratch(image.pixels.size());
    augment_image(augmentations, rng, image.pixels.data(), image.h, image.w, image.c, out.data(),
                  scratch.data());
    CHECK(max_difference(out, golden_case.expected) <= kTolerance);
    ++cases;
    chained += augmentations.size() > 1;
  }
  CHECK(cases >= 7);
  CHECK(chained >= 1);
}

TEST_CASE("factor ranges are Keras': one value v is [-|v|, |v|], two are sorted bounds") {
  const FactorRange one = -0.2, two{0.3, -0.1};
  CHECK(one.lower == -0.2);
  CHECK(one.upper == 0.2);
  CHECK(two.lower == -0.1);
  CHECK(two.upper == 0.3);

  // Draws stay within the range: a translation by at most 2 pixels of 20 moves a point by at
  // most 2.
  const RandomTranslation translation{.height_factor = 0.1, .width_factor = {0.0, 0.05}};
  const RandomRotation rotation{.factor = 0.25};
  const RandomZoom zoom{.height_factor = {0.1, 0.3}};
  Rng rng(7);
  bool turned_both_ways[2] = {false, false};
  for (int i = 0; i < 200; ++i) {
    const ImageTransform shift = translation.draw(rng, 20, 20);
    CHECK(std::fabs(shift[5]) <= 2.0f);
    CHECK(shift[2] <= 0.0f);
    CHECK(shift[2] >= -1.0f);
    const ImageTransform turn = rotation.draw(rng, 20, 20);  // at most a quarter turn
    CHECK(turn[0] >= -1e-6f);
    turned_both_ways[turn[3] > 0] = true;
    const ImageTransform scale = zoom.draw(rng, 20, 20);
    CHECK(scale[0] == scale[4]);  // no width factor: the width zooms as the height
    CHECK(scale[0] >= 1.1f);
    CHECK(scale[0] <= 1.3f);
  }
  CHECK(turned_both_ways[0]);
  CHECK(turned_both_ways[1]);
}

TEST_CASE("factors Keras refuses are refused, naming the augmentation") {
  const std::vector<Augmentation> too_far{RandomTranslation{.height_factor = 1.5}};
  CHECK_THROWS_WITH_AS(check_augmentations(too_far),
                       doctest::Contains("RandomTranslation: height_factor"),
                       std::invalid_argument);
  const std::vector<Augmentation> zoom_to_nothing{RandomZoom{.height_factor = {-1.5, 0.2}}};
  CHECK_THROWS_WITH_AS(check_augmentations(zoom_to_nothing),
                       doctest::Contains("RandomZoom: height_factor"), std::invalid_argument);
  const std::vector<Augmentation> nan_turn{RandomRotation{.factor = std::nan("")}};
  CHECK_THROWS_AS(check_augmentations(nan_turn), std::invalid_argument);
  const std::vector<Augmentation> fine{RandomTranslation{.height_factor = -1.0},
                                       RandomRotation{.factor = 1.0},
                                       RandomZoom{.height_factor = 1.0, .width_factor = -0.9}};
  CHECK_NOTHROW(check_augmentations(fine));
}

namespace {

using SmallCnn = Net<Input<10, 10, 1>, Conv<4, 3, Relu>, MaxPool<2>, Flatten, Dense<3, Softmax>>;
// Wide Dense layers: on two threads a team trains it, each member gathering part of a batch.
using WideImageMlp = Net<Input<16, 16, 1>, Flatten, Dense<256, Relu>, Dense<3, Softmax>>;
static_assert(WideImageMlp::trains_in_team && !SmallCnn::trains_in_team);

// Images of a bright bar whose position is the class, with noise.
struct Bars {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
};
template <class NetT>
Bars make_bars(std::size_t count, std::uint64_t seed) {
  constexpr std::size_t h = NetT::input_shape_type::height, w = NetT::input_shape_type::width;
  Bars bars{std::vector<float>(count * h * w), std::vector<std::uint8_t>(count)};
  Rng rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    bars.y[i] = std::uint8_t(rng.below(3));
    for (std::size_t p = 0; p < h * w; ++p)
      bars.x[i * h * w + p] = 0.2f * rng.uniform() + (p / w * 3 / h == bars.y[i] ? 0.8f : 0.0f);
  }
  return bars;
}

const std::vector<Augmentation> kAugment{
    RandomRotation{.factor = 0.05},
    RandomZoom{.height_factor = 0.1, .fill_mode = FillMode::Nearest},
    RandomTranslation{.height_factor = 0.1, .width_factor = 0.1, .fill_mode = FillMode::Constant}};

template <class NetT>
std::vector<float> trained_weights(const Bars& bars, std::uint64_t seed,
                                   const std::vector<Augmentation>& augment) {
  auto model = compile<NetT>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = seed});
  model.fit({bars.x, bars.y}, {.batch_size = 16, .epochs = 2, .verbose = 0, .augment = augment});
  return {model.net().parameters().begin(), model.net().parameters().end()};
}

}  // namespace

TEST_CASE_TEMPLATE("fit augments reproducibly: the same seed gives the same weights", NetT,
                   SmallCnn, WideImageMlp) {
  const Bars bars = make_bars<NetT>(150, 3);
  const std::vector<float> augmented = trained_weights<NetT>(bars, 5, kAugment);
  CHECK(trained_weights<NetT>(bars, 5, kAugment) == augmented);
  CHECK(trained_weights<NetT>(bars, 6, kAugment) != augmented);
  // The augmentation changes what is learnt: the same seed without it gives other weights.
  CHECK(trained_weights<NetT>(bars, 5, {}) != augmented);
}

TEST_CASE("fit leaves the validation data as it is") {
  const Bars bars = make_bars<SmallCnn>(120, 4), validation = make_bars<SmallCnn>(40, 5);
  auto model = compile<SmallCnn>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2});
  const History history =
      model.fit({bars.x, bars.y}, {.batch_size = 16,
                                   .verbose = 0,
                                   .validation_data = {validation.x, validation.y},
                                   .augment = kAugment});
  // Validated on the images as they are: what evaluate gives with the weights fit ended with.
  const Evaluation evaluation = model.evaluate({validation.x, validation.y});
  CHECK(history["val_loss"].back() == evaluation.loss);
  CHECK(history["val_accuracy"].back() == evaluation.accuracy);
}

TEST_CASE("fit refuses augmentation of an input that is not an image, and bad factors") {
  using Mlp = Net<Input<16>, Dense<3, Softmax>>;
  std::vector<float> x(16 * 8, 0.5f);
  std::vector<std::uint8_t> y(8, 1);
  auto mlp = compile<Mlp>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  CHECK_THROWS_WITH_AS(mlp.fit({x, y}, {.verbose = 0, .augment = kAugment}),
                       doctest::Contains("augment needs an image input"), std::invalid_argument);
  const Bars bars = make_bars<SmallCnn>(8, 1);
  auto cnn = compile<SmallCnn>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  const std::vector<float> before(cnn.net().parameters().begin(), cnn.net().parameters().end());
  CHECK_THROWS_AS(
      cnn.fit({bars.x, bars.y}, {.verbose = 0, .augment = {RandomRotation{.factor = 2.0}}}),
      std::invalid_argument);
  CHECK(std::equal(before.begin(), before.end(), cnn.net().parameters().begin()));
}
