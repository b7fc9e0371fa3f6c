// export_cpp_header on the golden fixtures: the exact Net type of each (the types of
// tests/golden/nets.hpp, qualified), the header's parts, and the errors for what typenet cannot
// express. tests/export compiles the generated headers and loads the files into them.
#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "typenet/io/export_cpp.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

const fs::path golden_dir = TYPENET_GOLDEN_DIR;

// The header's `using` line.
std::string using_line(const std::string& header) {
  const std::size_t begin = header.find("\nusing ");
  REQUIRE(begin != std::string::npos);
  return header.substr(begin + 1, header.find('\n', begin + 1) - begin - 1);
}

KerasError export_error(const fs::path& file) {
  try {
    export_cpp_header(file);
  } catch (const KerasError& error) {
    return error;
  }
  FAIL("exporting " << file << " should have failed");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("export-cpp spells each fixture as its Net type") {
  const auto type_of = [](const std::string& file, std::string_view name = "KerasModel") {
    CAPTURE(file);
    return using_line(export_cpp_header(golden_dir / file, name));
  };
  // golden::ConvSameStride2, from the Keras 2 .h5 and the Keras 3 .keras
  const std::string conv_same_stride2 =
      "using KerasModel = typenet::Net<typenet::Input<12, 9, 2>, typenet::Conv<6, 3, "
      "typenet::Relu, typenet::Same>, typenet::Conv<5, 5, typenet::Tanh, typenet::Same, "
      "typenet::Stride<2>>, typenet::MaxPool<2>, typenet::Flatten, typenet::Dense<7, "
      "typenet::Sigmoid>, typenet::Dense<4, typenet::Softmax>>;";
  CHECK(type_of("conv_same_stride2.h5") == conv_same_stride2);
  CHECK(type_of("conv_same_stride2.keras") == conv_same_stride2);
  // golden::ConvValidGap
  CHECK(type_of("conv_valid_gap.keras", "Gap") ==
        "using Gap = typenet::Net<typenet::Input<16, 16, 1>, typenet::Conv<8, 5, typenet::Relu>, "
        "typenet::MaxPool<3, typenet::Stride<2>>, typenet::Conv<6, 3, typenet::Stride<2>>, "
        "typenet::Relu, typenet::GlobalAvgPool, typenet::Dropout<30>, typenet::Dense<3>>;");
  // golden::DenseOnly, a functional model
  CHECK(type_of("dense_only.h5") ==
        "using KerasModel = typenet::Net<typenet::Input<20>, typenet::Dense<16, typenet::Relu>, "
        "typenet::Dropout<25>, typenet::Dense<8, typenet::Tanh>, typenet::Dense<5>>;");
  // golden::ChannelsFirst: the (2, 6, 5) input is a channels-last Input<6, 5, 2>
  CHECK(type_of("channels_first.h5") ==
        "using KerasModel = typenet::Net<typenet::Input<6, 5, 2>, typenet::Conv<3, 3, "
        "typenet::Relu, typenet::Same>, typenet::Flatten, typenet::Dense<4, typenet::Softmax>>;");
  // golden::ResidualTiny: a functional model's Add and its branches are a Residual block
  CHECK(type_of("residual_tiny.keras") ==
        "using KerasModel = typenet::Net<typenet::Input<8, 8, 2>, typenet::Conv<4, 3, "
        "typenet::Relu, typenet::Same>, typenet::Residual<typenet::Main<typenet::Conv<4, 3, "
        "typenet::Same>, typenet::Relu, typenet::Conv<4, 3, typenet::Same>>>, typenet::Relu, "
        "typenet::Residual<typenet::Main<typenet::Conv<6, 3, typenet::Relu, typenet::Same, "
        "typenet::Stride<2>>, typenet::Conv<6, 3, typenet::Same>>, "
        "typenet::Shortcut<typenet::Conv<6, 1, typenet::Stride<2>>>>, typenet::Relu, "
        "typenet::GlobalAvgPool, typenet::Dense<3, typenet::Softmax>>;");
  // golden::LstmStack and golden::BnOptions: sequences, LSTM and BatchNorm with its epsilon
  CHECK(type_of("lstm_stack.h5") ==
        "using KerasModel = typenet::Net<typenet::Input<12, 7>, typenet::LSTM<8, "
        "typenet::ReturnSequences>, typenet::BatchNorm<>, typenet::LSTM<6>, typenet::Dense<3>>;");
  CHECK(type_of("bn_options.keras") ==
        "using KerasModel = typenet::Net<typenet::Input<10>, typenet::Dense<6>, "
        "typenet::BatchNorm<>, typenet::Dense<5>, typenet::BatchNorm<typenet::Epsilon<1, 100000>>, "
        "typenet::Dense<4>, typenet::BatchNorm<>, typenet::Dense<3>>;");
  // A fixed batch size (batch_input_shape [3, 6, 6, 1]) is not part of the type.
  CHECK(type_of("fixed_batch.h5") ==
        "using KerasModel = typenet::Net<typenet::Input<6, 6, 1>, typenet::Conv<2, 3, "
        "typenet::Relu>, typenet::Flatten, typenet::Dense<3, typenet::Softmax>>;");
}

TEST_CASE("export-cpp's header: pragma once, its includes, and the input it expects") {
  const std::string header = export_cpp_header(golden_dir / "channels_first.h5", "Model");
  CHECK(header.find("#pragma once\n") != std::string::npos);
  CHECK(header.find("#include \"typenet/typenet.hpp\"\n") != std::string::npos);
  CHECK(header.find("#include \"typenet/io/keras.hpp\"\n") != std::string::npos);
  CHECK(header.find("an image of Keras shape (2, 6, 5) channels first (C, H, W); the Net takes "
                    "it channels last (H, W, C), Model::input_size floats") != std::string::npos);
  CHECK(header.find("the model does not rescale its input") != std::string::npos);
  CHECK(export_cpp_header(golden_dir / "dense_only.keras").find("a vector of Keras shape (20,)") !=
        std::string::npos);
}

TEST_CASE("export-cpp refuses names and files it cannot turn into a Net type") {
  for (const char* name : {"", "1net", "my-net", "class", "__net", "_Net", "a b"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(export_cpp_header(golden_dir / "dense_only.h5", name), std::invalid_argument);
  }
  CHECK_NOTHROW(export_cpp_header(golden_dir / "dense_only.h5", "_net2"));

  const auto expect = [](const KerasError& error, KerasProblem problem, const std::string& words) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(error.problem() == problem);
    CHECK(message.find(words) != std::string::npos);
  };
  expect(export_error(golden_dir / "dilated_conv.h5"), KerasProblem::Unsupported,
         "layer 1 (conv2d): dilated convolution (dilation_rate [2,2]) has no typenet "
         "equivalent");
  expect(export_error(golden_dir / "locally_connected.h5"), KerasProblem::Unsupported,
         "layer 2 (locally_connected2d): Keras layer class LocallyConnected2D has no typenet "
         "equivalent");
  expect(export_error(golden_dir / "free_input.h5"), KerasProblem::Unsupported,
         "input: shape (None, ...) has a free size (None); a Net's input has fixed sizes");
  expect(export_error(golden_dir / "residual_concatenate.h5"), KerasProblem::Unsupported,
         "concatenate");
  expect(export_error(golden_dir / "conv_same_stride2_weights.h5"), KerasProblem::Unsupported,
         "is a weights-only file, which holds no architecture");
  expect(export_error(golden_dir / "no_such_file.h5"), KerasProblem::CannotOpen, "no such file");
}
