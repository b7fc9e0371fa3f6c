// Each layer's C++ spelling (LayerInfo::cpp) and a Net's (cpp_type). net_types.hpp, written at
// build time by write_net_types, asserts that the spellings of all the test Nets name the Nets'
// very types; here the spellings' text: the shortest a user writes, and qualified.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "net_types.hpp"
#include "tests/golden/nets.hpp"
#include "tests/spelling/more_nets.hpp"

namespace {

using namespace typenet;

template <class N>
std::string layer_cpp(std::size_t index) {
  return std::string(N::layer_infos[index].cpp.view());
}

// A layer of the user's own, whose record has no spelling.
struct Twice {
  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr LayerInfo info() { return layer_info<bind>("Twice", "Twice"); }
  };
};

}  // namespace

TEST_CASE("a Net's C++ type is spelled with every name qualified") {
  CHECK(cpp_type(cli::Cnn::layer_infos) ==
        "typenet::Net<typenet::Input<28, 28, 1>, typenet::Conv<32, 3, typenet::Relu>, "
        "typenet::Conv<64, 3, typenet::Relu>, typenet::MaxPool<2>, typenet::Dropout<25>, "
        "typenet::Flatten, typenet::Dense<128, typenet::Relu>, typenet::Dropout<50>, "
        "typenet::Dense<10, typenet::Softmax>>");
  CHECK(cpp_type(cli::Mlp::layer_infos) ==
        "typenet::Net<typenet::Input<784>, typenet::Dense<512>, typenet::Relu, "
        "typenet::Dense<512>, typenet::Relu, typenet::Dense<10>, typenet::Softmax>");
}

TEST_CASE("a residual block is spelled from its branches") {
  CHECK(golden::ResidualTiny::layer_infos[2].cpp.view().empty());
  CHECK(cpp_type(golden::ResidualTiny::layer_infos) ==
        "typenet::Net<typenet::Input<8, 8, 2>, typenet::Conv<4, 3, typenet::Relu, typenet::Same>, "
        "typenet::Residual<typenet::Main<typenet::Conv<4, 3, typenet::Same>, typenet::Relu, "
        "typenet::Conv<4, 3, typenet::Same>>>, typenet::Relu, "
        "typenet::Residual<typenet::Main<typenet::Conv<6, 3, typenet::Relu, typenet::Same, "
        "typenet::Stride<2>>, typenet::Conv<6, 3, typenet::Same>>, "
        "typenet::Shortcut<typenet::Conv<6, 1, typenet::Stride<2>>>>, typenet::Relu, "
        "typenet::GlobalAvgPool, typenet::Dense<3, typenet::Softmax>>");
}

TEST_CASE("options are spelled as given, defaulted template arguments left out") {
  using spelling::ExplicitDefaults, spelling::ReorderedOptions;
  CHECK(layer_cpp<ExplicitDefaults>(1) == "Conv<4, 3, Valid, Relu>");
  CHECK(layer_cpp<ExplicitDefaults>(2) == "MaxPool<2, Stride<2>>");
  CHECK(layer_cpp<ExplicitDefaults>(5) == "AvgPool<2, Valid>");
  CHECK(layer_cpp<ExplicitDefaults>(7) == "Dense<5, Linear>");
  CHECK(layer_cpp<ExplicitDefaults>(8) == "BatchNorm<>");  // BatchNorm<Epsilon<1, 1000>>
  CHECK(layer_cpp<golden::BnOptions>(4) == "BatchNorm<Epsilon<1, 100000>>");
  CHECK(layer_cpp<ReorderedOptions>(1) == "Conv<3, 3, Stride<2>, Same, Tanh>");
  CHECK(layer_cpp<ReorderedOptions>(4) == "GlobalAvgPool");
  CHECK(layer_cpp<ReorderedOptions>(5) == "Dense<4, Elu<2, 3>>");
  CHECK(layer_cpp<ReorderedOptions>(6) == "Dense<2, LeakyRelu<3, 10>>");
  CHECK(layer_cpp<spelling::LstmOptions>(0) == "Input<5, 3>");
  CHECK(layer_cpp<spelling::LstmOptions>(1) == "LSTM<4, HardSigmoid, ReturnSequences>");
  CHECK(layer_cpp<spelling::LstmOptions>(4) == "LSTM<2>");
}

TEST_CASE("activation layers, Rescaling and Reshape") {
  using spelling::ActivationLayers, spelling::RescalingDefaults;
  CHECK(layer_cpp<ActivationLayers>(2) == "Linear");
  CHECK(layer_cpp<ActivationLayers>(8) == "Elu<1, 1>");
  CHECK(layer_cpp<ActivationLayers>(9) == "Elu<5, 2>");
  CHECK(layer_cpp<ActivationLayers>(10) == "LeakyRelu<3, 10>");
  CHECK(layer_cpp<ActivationLayers>(14) == "Swish");  // Silu is Swish
  CHECK(layer_cpp<RescalingDefaults>(1) == "Rescaling<1, 255>");
  CHECK(layer_cpp<RescalingDefaults>(2) == "Rescaling<-1, 2, 3>");
  CHECK(layer_cpp<RescalingDefaults>(3) == "Rescaling<1, 255, 0, 5>");
  CHECK(layer_cpp<RescalingDefaults>(4) == "Rescaling<-3, 7, -2, 9>");
  CHECK(layer_cpp<RescalingDefaults>(6) == "Reshape<2, 2, 3>");
  CHECK(layer_cpp<spelling::LongSpellings>(2) ==
        "Rescaling<-2147483647, 2147483647, -2147483647, 2147483647>");
}

TEST_CASE("a Net with a layer that does not spell itself has no spelling") {
  CHECK(cpp_type(Net<Input<4>, Dense<3>, Twice>::layer_infos).empty());
  using InBlock = Net<Input<4, 4, 1>, Residual<Main<Conv<1, 1>, Twice>>, Flatten, Dense<2>>;
  CHECK(cpp_type(InBlock::layer_infos).empty());
}
