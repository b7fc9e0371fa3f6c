// Compile-time architecture checks (shapes, parameter counts, buffer sizes) and Keras summaries
// of the tutorial networks.
#include <doctest/doctest.h>

#include <typenet/typenet.hpp>

using namespace typenet;

using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Dropout<25>,
                    Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
static_assert(SeedCnn::param_count == 1'199'882);
static_assert(SeedCnn::output_shape == Shape<10>{});
static_assert(SeedCnn::input_shape == Shape<28, 28, 1>{});
static_assert(SeedCnn::shape_at<0> == Shape<26, 26, 32>{});
static_assert(SeedCnn::shape_at<1> == Shape<24, 24, 64>{});
static_assert(SeedCnn::shape_at<2> == Shape<12, 12, 64>{});
static_assert(SeedCnn::shape_at<4> == Shape<9216>{});
static_assert(SeedCnn::param_count_at<0> == 320);
static_assert(SeedCnn::param_count_at<1> == 18'496);
static_assert(SeedCnn::param_count_at<5> == 1'179'776);
static_assert(SeedCnn::param_count_at<7> == 1'290);
static_assert(SeedCnn::param_bytes == 1'199'882 * 4);
static_assert(SeedCnn::activation_floats ==
              26 * 26 * 32 + 24 * 24 * 64 + 3 * 12 * 12 * 64 + 2 * 128 + 10);
static_assert(!(SeedCnn::output_shape == Shape<11>{}));

// The design card's example, once given an input shape.
using DesignCard = Net<Input<28, 28, 1>, Conv<32, 3>, Conv<64, 3>, MaxPool<2>, Dropout<25>, Flatten,
                       Dense<128>, Dense<10>>;
static_assert(DesignCard::param_count == 1'199'882);

// Activation as an option or as its own layer: same parameters.
using MlpOptions = Net<Input<784>, Dense<512, Relu>, Dense<512, Relu>, Dense<10, Softmax>>;
using MlpLayers = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
static_assert(MlpOptions::param_count == 669'706 && MlpLayers::param_count == 669'706);

using FlattenDense = Net<Input<28, 28, 1>, Flatten, Dense<128, Relu>, Dense<10, Softmax>>;
static_assert(FlattenDense::param_count == 101'770);
using Dense512 = Net<Input<784>, Dense<512, Relu>, Dense<10, Softmax>>;
static_assert(Dense512::param_count == 407'050);

// Options in any order; Keras' Same and Valid geometry.
using Options = Net<Input<28, 28, 3>, Conv<8, 5, Same, Relu>, Conv<8, 3, Stride<2>, Same>,
                    Conv<4, 3, Relu, Stride<2>>, MaxPool<2, Stride<1>>, GlobalAvgPool>;
static_assert(Options::shape_at<0> == Shape<28, 28, 8>{});
static_assert(Options::shape_at<1> == Shape<14, 14, 8>{});
static_assert(Options::shape_at<2> == Shape<6, 6, 4>{});
static_assert(Options::shape_at<3> == Shape<5, 5, 4>{});
static_assert(Options::output_shape == Shape<4>{});
// Same pooling, as Keras: ceil(in / stride).
static_assert(Net<Input<7, 5, 2>, MaxPool<2, Same>>::output_shape == Shape<4, 3, 2>{});
static_assert(Net<Input<7, 6, 2>, MaxPool<3, Stride<2>, Same>>::output_shape == Shape<4, 3, 2>{});
using Odd = Net<Input<7, 5, 2>, Conv<3, 3, Same, Stride<2>>>;
static_assert(Odd::output_shape == Shape<4, 3, 3>{});

template <class Head>
using Conv64Net = Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
                      Conv<128, 3, Relu>, Conv<128, 3, Relu>, Head>;

TEST_CASE("the seed CNN's summary is Keras' table") {
  const std::string summary = SeedCnn::summary_string();
  const char* expected = "Model: \"sequential\"\n"
                         "_________________________________________________________________\n"
                         " Layer (type)                Output Shape              Param #\n"
                         "=================================================================\n"
                         " conv2d (Conv2D)             (None, 26, 26, 32)        320\n\n"
                         " conv2d_1 (Conv2D)           (None, 24, 24, 64)        18,496\n\n"
                         " max_pooling2d (MaxPooling2D) (None, 12, 12, 64)        0\n\n"
                         " dropout (Dropout)           (None, 12, 12, 64)        0\n\n"
                         " flatten (Flatten)           (None, 9216)              0\n\n"
                         " dense (Dense)               (None, 128)               1,179,776\n\n"
                         " dropout_1 (Dropout)         (None, 128)               0\n\n"
                         " dense_1 (Dense)             (None, 10)                1,290\n"
                         "=================================================================\n"
                         "Total params: 1,199,882\n"
                         "Trainable params: 1,199,882\n"
                         "Non-trainable params: 0\n"
                         "_________________________________________________________________\n";
  CHECK(summary == expected);
}

TEST_CASE("summaries of the tutorial networks") {
  CHECK(MlpLayers::summary_string().find(" activation_1 (Activation)   (None, 512)") !=
        std::string::npos);
  CHECK(MlpLayers::summary_string().find("Total params: 669,706") != std::string::npos);
  CHECK(FlattenDense::summary_string().find("Total params: 101,770") != std::string::npos);
  CHECK(Dense512::summary_string().find("Total params: 407,050") != std::string::npos);

  using Gap = Conv64Net<GlobalAvgPool>;
  using MaxGap = Conv64Net<MaxPool<2>>;
  static_assert(Gap::param_count == 640 + 36'928 + 73'856 + 147'584 && Gap::param_count == 259'008);
  // The three heads of the Conv64-Conv64-MaxPool-Conv128-Conv128 tutorial.
  using GapHead =
      Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Conv<128, 3, Relu>,
          Conv<128, 3, Relu>, GlobalAvgPool, Dropout<50>, Dense<10>>;
  using MaxPoolGapHead =
      Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Conv<128, 3, Relu>,
          Conv<128, 3, Relu>, MaxPool<2>, GlobalAvgPool, Dropout<50>, Dense<10>>;
  using FlattenHead =
      Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Conv<128, 3, Relu>,
          Conv<128, 3, Relu>, MaxPool<2>, Flatten, Dropout<50>, Dense<10>>;
  static_assert(GapHead::param_count == 260'298);
  static_assert(MaxPoolGapHead::param_count == 260'298);
  static_assert(FlattenHead::shape_at<5> == Shape<4, 4, 128>{});
  static_assert(FlattenHead::param_count == 259'008 + 20'490);
  static_assert(MaxGap::output_shape == Shape<4, 4, 128>{});
  CHECK(GapHead::summary_string().find("global_average_pooling2d (GlobalAveragePooling2D)") !=
        std::string::npos);
  CHECK(FlattenHead::summary_string().find("Total params: 279,498") != std::string::npos);
}

TEST_CASE("summaries of the new layers, in Keras' words") {
  using New = Net<Input<28, 28>, Rescaling<1, 255>, Reshape<28, 28, 1>, Conv<8, 3, Selu>,
                  AvgPool<2, Same>, Flatten, Dense<16, Gelu>, LeakyRelu<>, Dense<10, Softmax>>;
  const std::string summary = New::summary_string();
  CAPTURE(summary);
  for (const char* line : {" rescaling (Rescaling)       (None, 28, 28)            0\n",
                           " reshape (Reshape)           (None, 28, 28, 1)         0\n",
                           " conv2d (Conv2D)             (None, 26, 26, 8)         80\n",
                           " average_pooling2d (AveragePooling2D) (None, 13, 13, 8)         0\n",
                           " activation (Activation)     (None, 16)                0\n"})
    CHECK(summary.find(line) != std::string::npos);
}

TEST_CASE("layer records describe the architecture") {
  constexpr auto& layers = SeedCnn::layer_infos;
  static_assert(layers.size() == 9);
  CHECK(describe(layers[1]) == "Conv(32,k3,s1,valid,relu) 28x28x1->26x26x32");
  CHECK(describe(layers[8]) == "Dense(10,softmax) 128->10");
  CHECK(layers[6].param_offset == 320 + 18'496);
  CHECK(layers[6].param_count == 1'179'776);
}
