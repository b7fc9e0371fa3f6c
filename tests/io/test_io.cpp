// typenet's model and checkpoint files: round trips, every kind of bad file, the strong exception
// guarantee of loading, and atomic writes.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <system_error>
#include <vector>

#include "typenet/io/atomic_write.hpp"
#include "typenet/io/model_file.hpp"
#include "typenet/io/save_load.hpp"
#include "typenet/typenet.hpp"

#include "../same_bits.hpp"

namespace fs = std::filesystem;
using typenet::CheckpointExtras;
using typenet::ModelFileError;
using typenet::ModelFileProblem;

namespace {

constexpr typenet::LayerInfo input_layer(std::size_t n) {
  typenet::LayerInfo layer;
  layer.type = "Input";
  layer.in = layer.out = typenet::Dims{1, {n, 0, 0}};
  return layer;
}

constexpr typenet::LayerInfo dense_layer(std::size_t in, std::size_t units,
                                         typenet::ActivationKind activation, std::size_t offset) {
  typenet::LayerInfo layer;
  layer.type = "Dense";
  layer.arguments << "(" << units << "," << typenet::to_string(activation) << ")";
  layer.in = typenet::Dims{1, {in, 0, 0}};
  layer.out = typenet::Dims{1, {units, 0, 0}};
  layer.param_offset = offset;
  layer.param_count = in * units + units;
  return layer;
}

// Stands in for typenet::Net: an MLP 20 -> Hidden -> 3 with its parameters in one block.
template <std::size_t Hidden>
struct FakeMlp {
  static constexpr std::array<typenet::LayerInfo, 3> layer_infos = {
      input_layer(20), dense_layer(20, Hidden, typenet::ActivationKind::Relu, 0),
      dense_layer(Hidden, 3, typenet::ActivationKind::Softmax, 20 * Hidden + Hidden)};
  static constexpr std::size_t parameter_count = layer_infos[1].param_count +
                                                 layer_infos[2].param_count;

  std::vector<float> block = std::vector<float>(parameter_count);
  std::span<float> parameters() { return block; }
  std::span<const float> parameters() const { return block; }
};
using Mlp = FakeMlp<8>;
static_assert(typenet::NetLike<Mlp>);
static_assert(!typenet::NetLike<std::vector<float>>);

// The same first two layers as Mlp, without the output layer.
struct TruncatedMlp {
  static constexpr std::array<typenet::LayerInfo, 2> layer_infos = {Mlp::layer_infos[0],
                                                                    Mlp::layer_infos[1]};
  std::vector<float> block = std::vector<float>(layer_infos[1].param_count);
  std::span<float> parameters() { return block; }
  std::span<const float> parameters() const { return block; }
};

// Deterministic values that include the floats a careless format loses: -0, denormals,
// infinities and a NaN with a payload.
// Pseudo-random values led by the finite extremes a bit-exact round trip must keep. Models
// hold finite values only (save and load refuse others); the file format itself keeps every bit
// pattern, which sample_file's non-finite section checks.
void fill(std::span<float> values, std::uint32_t seed) {
  std::uint32_t state = seed;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(static_cast<std::int32_t>(state)) * 1e-9f;
  }
  const std::array<float, 4> special = {-0.0f, std::numeric_limits<float>::denorm_min(),
                                        -std::numeric_limits<float>::max(),
                                        std::numeric_limits<float>::max()};
  for (std::size_t i = 0; i < special.size() && i < values.size(); ++i) values[i] = special[i];
}

using typenet::testing::same_bits;

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("typenet_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path operator/(const char* name) const { return path / name; }
  // Everything in the directory, to check that no temporary file is left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::vector<std::byte> bytes_of(const fs::path& path) { return typenet::io::read_whole_file(path); }

void overwrite(const fs::path& path, std::span<const std::byte> bytes) {
  typenet::io::write_file_atomically(path, bytes);
}

// The pid of a process that has ended and been waited for, so kill(pid, 0) fails with ESRCH: the
// pid of a writer that was killed.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  return child;
}

// Recomputes the trailing CRC-32 so that a deliberately malformed body gets past the checksum.
void reseal(std::vector<std::byte>& bytes) {
  const std::size_t body = bytes.size() - 4;
  const auto crc =
      static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), body));
  for (int i = 0; i < 4; ++i) bytes[body + i] = std::byte(crc >> (8 * i));
}

void put_u32(std::vector<std::byte>& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = std::byte(value >> (8 * i));
}

ModelFileProblem problem_of(std::span<const std::byte> bytes) {
  try {
    typenet::io::decode(bytes, "bytes.tnet");
  } catch (const ModelFileError& error) {
    return error.problem();
  }
  FAIL("decode accepted bad bytes");
  return ModelFileProblem::Malformed;
}

// Loads and returns the error, checking that its message names the file.
template <class Load>
ModelFileError load_error(const fs::path& path, Load&& load) {
  try {
    load();
  } catch (const ModelFileError& error) {
    CHECK(std::string(error.what()).find(path.string()) != std::string::npos);
    return error;
  }
  FAIL("the load succeeded");
  return ModelFileError(ModelFileProblem::Malformed, "", "");
}

bool contains(const ModelFileError& error, std::string_view text) {
  return std::string_view(error.what()).find(text) != std::string_view::npos;
}

typenet::io::ModelFile sample_file() {
  typenet::io::ModelFile file;
  file.kind = typenet::io::FileKind::Checkpoint;
  file.architecture = {"Input 4->4", "Dense(2,relu) 4->2"};
  std::vector<float> parameters(10);
  fill(parameters, 7);
  file.sections.push_back({"parameters", parameters});
  file.sections.push_back({"optimizer/step", std::uint64_t{1} << 40});
  file.sections.push_back({"text", std::string("{\"loss\": [0.5]} caf\xc3\xa9 \xe2\x9c\x93")});
  file.sections.push_back({"empty", std::vector<float>{}});
  file.sections.push_back({"non-finite", std::vector<float>{std::numeric_limits<float>::infinity(),
                                                            std::bit_cast<float>(0x7fc12345u)}});
  return file;
}

}  // namespace

TEST_CASE("encode/decode round trip keeps every section, bit for bit") {
  const typenet::io::ModelFile original = sample_file();
  const std::vector<std::byte> bytes = typenet::io::encode(original);
  CHECK(std::memcmp(bytes.data(), "TYPENET\0", 8) == 0);
  const typenet::io::ModelFile decoded = typenet::io::decode(bytes, "sample");
  CHECK(decoded.kind == original.kind);
  CHECK(decoded.architecture == original.architecture);
  REQUIRE(decoded.sections.size() == original.sections.size());
  for (std::size_t i = 0; i < original.sections.size(); ++i) {
    CHECK(decoded.sections[i].name == original.sections[i].name);
    const auto* floats = std::get_if<std::vector<float>>(&original.sections[i].value);
    if (floats) {
      CHECK(same_bits(*floats, std::get<std::vector<float>>(decoded.sections[i].value)));
    } else {
      CHECK(decoded.sections[i].value == original.sections[i].value);
    }
  }
  CHECK(decoded.find("text") != nullptr);
  CHECK(decoded.find("missing") == nullptr);
  CHECK(typenet::io::encode(decoded) == bytes);  // the encoding is canonical
}

TEST_CASE("format version 2: int8 arrays and quantized nets; other files stay version 1") {
  auto version_of = [](std::span<const std::byte> bytes) {
    return std::uint32_t(bytes[8]) | std::uint32_t(bytes[9]) << 8;
  };
  typenet::io::ModelFile file = sample_file();
  CHECK(version_of(typenet::io::encode(file)) == 1);  // readable by typenet before version 2
  const std::vector<std::int8_t> weights{-128, -1, 0, 1, 127};
  file.sections.push_back({"int8/weights", weights});
  file.sections.push_back({"int8/none", std::vector<std::int8_t>{}});
  std::vector<std::byte> bytes = typenet::io::encode(file);
  CHECK(version_of(bytes) == 2);
  const typenet::io::ModelFile decoded = typenet::io::decode(bytes, "int8");
  for (const char* name : {"int8/weights", "int8/none"}) {
    REQUIRE(decoded.find(name) != nullptr);
    CHECK(decoded.find(name)->value == file.find(name)->value);
  }
  CHECK(typenet::io::encode(decoded) == bytes);

  typenet::io::ModelFile quantized;
  quantized.kind = typenet::io::FileKind::Quantized;
  quantized.architecture = {"Input 4->4"};
  CHECK(version_of(typenet::io::encode(quantized)) == 2);
  CHECK(typenet::io::decode(typenet::io::encode(quantized), "q").kind ==
        typenet::io::FileKind::Quantized);

  SUBCASE("a version 1 file cannot hold them") {
    put_u32(bytes, 8, 1);
    reseal(bytes);
    CHECK_THROWS_WITH_AS(typenet::io::decode(bytes, "v1"),
                         doctest::Contains("section 'int8/weights' is an int8 array, which format "
                                           "version 1 lacks"),
                         ModelFileError);
    std::vector<std::byte> old_quantized = typenet::io::encode(quantized);
    put_u32(old_quantized, 8, 1);
    reseal(old_quantized);
    CHECK(problem_of(old_quantized) == ModelFileProblem::Malformed);
  }
  SUBCASE("an int8 count beyond the file") {
    // After the header, hash, layer count, two layers, section count: the first section.
    constexpr std::size_t first_section = 24 + 8 + 4 + 14 + 22 + 4;
    typenet::io::ModelFile only_int8 = file;
    only_int8.sections = {{"w", weights}};
    std::vector<std::byte> damaged = typenet::io::encode(only_int8);
    REQUIRE(damaged[first_section + 4 + 1] == std::byte{4});
    for (int i = 0; i < 8; ++i) damaged[first_section + 6 + i] = std::byte{0xff};
    reseal(damaged);
    CHECK(problem_of(damaged) == ModelFileProblem::Malformed);
  }
}

TEST_CASE("encode rejects what decode would reject") {
  typenet::io::ModelFile file = sample_file();
  file.sections.push_back({"text", std::string("again")});
  CHECK_THROWS_AS(typenet::io::encode(file), std::invalid_argument);
  file.sections.back() = {"note", std::string("\xff not UTF-8")};
  CHECK_THROWS_AS(typenet::io::encode(file), std::invalid_argument);
  file.sections.back() = {"", std::uint64_t{1}};
  CHECK_THROWS_AS(typenet::io::encode(file), std::invalid_argument);
}

TEST_CASE("save/load round trip of parameters is bit-exact") {
  TempDir dir;
  Mlp saved;
  fill(saved.block, 1);
  typenet::save(saved, dir / "mlp.tnet");
  Mlp loaded;
  typenet::load(loaded, dir / "mlp.tnet");
  CHECK(same_bits(loaded.block, saved.block));
  CHECK(dir.entries() == std::vector<std::string>{"mlp.tnet"});

  const auto file = typenet::io::read_model_file(dir / "mlp.tnet");
  CHECK(file.kind == typenet::io::FileKind::Parameters);
  CHECK(file.architecture ==
        std::vector<std::string>{"Input 20->20", "Dense(8,relu) 20->8", "Dense(3,softmax) 8->3"});

  Mlp inconsistent;  // a parameter block that does not fit the layers could never be loaded
  inconsistent.block.pop_back();
  CHECK_THROWS_AS(typenet::save(inconsistent, dir / "bad.tnet"), std::invalid_argument);
  CHECK(dir.entries() == std::vector<std::string>{"mlp.tnet"});
}

TEST_CASE("BatchNorm and LSTM: model file round trip, their lines, and their summary") {
  using typenet::BatchNorm, typenet::Dense, typenet::Epsilon, typenet::Input, typenet::LSTM,
      typenet::Net, typenet::ReturnSequences;
  using Sequence = Net<Input<12, 7>, LSTM<8, ReturnSequences>, BatchNorm<Epsilon<1, 100000>>,
                       LSTM<6, typenet::HardSigmoid>, Dense<3>>;
  TempDir dir;
  auto saved = std::make_unique<Sequence>(3);
  // Non-trivial moving statistics, so that a reloaded BatchNorm is checked for more than init.
  const auto& norm = Sequence::layer_infos[2];
  for (std::size_t i = 0; i < norm.param_count; ++i)
    saved->parameters()[norm.param_offset + i] = 0.5f + 0.01f * float(i);
  typenet::save(*saved, dir / "sequence.tnet");
  auto loaded = std::make_unique<Sequence>(4);
  typenet::load(*loaded, dir / "sequence.tnet");
  CHECK(same_bits(loaded->parameters(), saved->parameters()));
  std::vector<float> input(Sequence::input_size);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = std::sin(float(i));
  CHECK(loaded->predict(input) == saved->predict(input));

  CHECK(typenet::io::read_model_file(dir / "sequence.tnet").architecture ==
        std::vector<std::string>{"Input 12x7->12x7", "LSTM(8,sequences) 12x7->12x8",
                                 "BatchNorm(eps1/100000) 12x8->12x8",
                                 "LSTM(6,hard_sigmoid) 12x8->6", "Dense(3,linear) 6->3"});
  // Another epsilon is another architecture.
  auto other = std::make_unique<Net<Input<12, 7>, LSTM<8, ReturnSequences>, BatchNorm<>,
                                    LSTM<6, typenet::HardSigmoid>, Dense<3>>>();
  CHECK_THROWS_WITH_AS(typenet::load(*other, dir / "sequence.tnet"),
                       doctest::Contains("BatchNorm(eps1/100000) 12x8->12x8"), ModelFileError);

  // As Keras' summary: the moving statistics are the non-trainable parameters.
  const std::string summary = Sequence::summary_string();
  CAPTURE(summary);
  CHECK(summary.find(" lstm (LSTM)                 (None, 12, 8)             512\n") !=
        std::string::npos);
  CHECK(summary.find(" batch_normalization (BatchNormalization) (None, 12, 8)             32\n") !=
        std::string::npos);
  CHECK(summary.find(" lstm_1 (LSTM)               (None, 6)                 360\n") !=
        std::string::npos);
  CHECK(summary.find("Total params: 925\nTrainable params: 909\nNon-trainable params: 16\n") !=
        std::string::npos);
}

TEST_CASE("a residual block's line names its inner layers: model files tell blocks apart") {
  using namespace typenet;
  using Projection =
      Net<Input<4, 4, 2>,
          Residual<Main<Conv<3, 3, Relu, Same, Stride<2>>>, Shortcut<Conv<3, 1, Stride<2>>>>,
          Flatten, Dense<2>>;
  using Swapped =
      Net<Input<4, 4, 2>,
          Residual<Main<Conv<3, 1, Stride<2>>>, Shortcut<Conv<3, 3, Relu, Same, Stride<2>>>>,
          Flatten, Dense<2>>;
  static_assert(Projection::param_count == Swapped::param_count);
  TempDir dir;
  const Projection saved(7);
  typenet::save(saved, dir / "block.tnet");
  Projection loaded(8);
  typenet::load(loaded, dir / "block.tnet");
  CHECK(same_bits(loaded.parameters(), saved.parameters()));
  CHECK(typenet::io::read_model_file(dir / "block.tnet").architecture[1] ==
        "Residual{main [Conv(3,k3,s2,same,relu) 4x4x2->2x2x3] shortcut [Conv(3,k1,s2,valid,linear) "
        "4x4x2->2x2x3]} 4x4x2->2x2x3");
  Swapped other;
  const ModelFileError error =
      load_error(dir / "block.tnet", [&] { typenet::load(other, dir / "block.tnet"); });
  CHECK(error.problem() == ModelFileProblem::ArchitectureMismatch);
}

TEST_CASE("a Net with the new layers and activations: its file's lines, round trip, mismatch") {
  using namespace typenet;
  using Saved = Net<Input<6, 6>, Rescaling<2, 255, -1>, Reshape<6, 6, 1>, Conv<2, 3, Same, Gelu>,
                    AvgPool<2, Same>, Flatten, Dense<5, LeakyRelu<1, 5>>, Elu<>, Dense<3, Swish>>;
  TempDir dir;
  const auto saved = std::make_unique<Saved>(3);
  typenet::save(*saved, dir / "net.tnet");
  const auto file = typenet::io::read_model_file(dir / "net.tnet");
  CHECK(file.architecture == std::vector<std::string>{
                                 "Input 6x6->6x6",
                                 "Rescaling(2/255,-1/1) 6x6->6x6",
                                 "Reshape 6x6->6x6x1",
                                 "Conv(2,k3,s1,same,gelu) 6x6x1->6x6x2",
                                 "AvgPool(2,s2,same) 6x6x2->3x3x2",
                                 "Flatten 3x3x2->18",
                                 "Dense(5,leaky_relu(1/5)) 18->5",
                                 "Activation(elu(1/1)) 5->5",
                                 "Dense(3,swish) 5->3",
                             });
  const auto loaded = std::make_unique<Saved>(4);
  typenet::load(*loaded, dir / "net.tnet");
  CHECK(same_bits(loaded->parameters(), saved->parameters()));
  // Another slope is another architecture.
  using OtherSlope =
      Net<Input<6, 6>, Rescaling<2, 255, -1>, Reshape<6, 6, 1>, Conv<2, 3, Same, Gelu>,
          AvgPool<2, Same>, Flatten, Dense<5, LeakyRelu<3, 10>>, Elu<>, Dense<3, Swish>>;
  const auto other = std::make_unique<OtherSlope>(4);
  CHECK_THROWS_AS(typenet::load(*other, dir / "net.tnet"), ModelFileError);
}

TEST_CASE("checkpoint round trip restores parameters, optimizer state, step, epoch and text") {
  TempDir dir;
  Mlp net;
  fill(net.block, 2);
  std::vector<float> m(Mlp::parameter_count), v(Mlp::parameter_count);
  fill(m, 3);
  fill(v, 4);
  const CheckpointExtras saved{.optimizer = "adam",
                               .slots = {{"m", m}, {"v", v}},
                               .step = 1234,
                               .epoch = 5,
                               .text = "{\"loss\": [0.31, 0.12]}"};
  typenet::save_checkpoint(dir / "run.ckpt", net, saved);

  Mlp restored;
  std::vector<float> restored_m(m.size()), restored_v(v.size());
  CheckpointExtras extras{.optimizer = "adam", .slots = {{"m", restored_m}, {"v", restored_v}}};
  typenet::load_checkpoint(dir / "run.ckpt", restored, extras);
  CHECK(same_bits(restored.block, net.block));
  CHECK(same_bits(restored_m, m));
  CHECK(same_bits(restored_v, v));
  CHECK(extras.step == 1234);
  CHECK(extras.epoch == 5);
  CHECK(extras.text == saved.text);

  // SGD without momentum has no state at all.
  typenet::save_checkpoint(dir / "sgd.ckpt", net, CheckpointExtras{.optimizer = "sgd", .epoch = 1});
  CheckpointExtras sgd{.optimizer = "sgd"};
  typenet::load_checkpoint(dir / "sgd.ckpt", restored, sgd);
  CHECK(sgd.epoch == 1);
}

TEST_CASE("every single-byte corruption and every truncation is detected") {
  const std::vector<std::byte> good = typenet::io::encode(sample_file());
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x20};
    INFO("flipped byte " << i);
    const ModelFileProblem problem = problem_of(bad);
    // Header bytes may read as another magic, a newer version or a different length; the CRC
    // catches everything else.
    if (i >= 24) CHECK(problem == ModelFileProblem::Corrupted);
  }
  for (std::size_t length = 0; length < good.size(); ++length) {
    INFO("truncated to " << length << " bytes");
    CHECK(problem_of(std::span(good).first(length)) == ModelFileProblem::Truncated);
  }
  std::vector<std::byte> longer = good;
  longer.push_back(std::byte{0});
  CHECK(problem_of(longer) == ModelFileProblem::Corrupted);
}

TEST_CASE("bad files are rejected with distinct messages that name the file") {
  TempDir dir;
  const fs::path path = dir / "model.tnet";
  Mlp net;
  fill(net.block, 5);
  typenet::save(net, path);
  const std::vector<std::byte> good = bytes_of(path);
  Mlp target;
  const auto load = [&] { typenet::load(target, path); };

  SUBCASE("a byte flipped in the middle fails the checksum") {
    std::vector<std::byte> bad = good;
    bad[bad.size() / 2] ^= std::byte{1};
    overwrite(path, bad);
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::Corrupted);
    CHECK(contains(error, "CRC-32 mismatch"));
  }
  SUBCASE("a truncated file says how long it should be") {
    overwrite(path, std::span(good).first(good.size() - 100));
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::Truncated);
    CHECK(contains(error, "announces " + std::to_string(good.size()) + " bytes"));
  }
  SUBCASE("an empty file is a truncated one") {
    overwrite(path, {});
    CHECK(load_error(path, load).problem() == ModelFileProblem::Truncated);
  }
  SUBCASE("another format is not a typenet file") {
    const std::string png = "\x89PNG\r\n\x1a\n and more";
    overwrite(path, std::as_bytes(std::span(png)));
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::NotTypenetFile);
    CHECK(contains(error, "found \"\\x89PNG\\x0d\\x0a\\x1a\\x0a\""));
  }
  SUBCASE("a newer format version is reported as such, even though its checksum would differ") {
    std::vector<std::byte> bad = good;
    put_u32(bad, 8, typenet::io::model_file_version + 1);
    overwrite(path, bad);
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::NewerVersion);
    CHECK(contains(error, "format version 3, this build reads versions up to 2"));
  }
  SUBCASE("another architecture names the first differing layer") {
    FakeMlp<16> other;
    const ModelFileError error = load_error(path, [&] { typenet::load(other, path); });
    CHECK(error.problem() == ModelFileProblem::ArchitectureMismatch);
    CHECK(contains(error, "layer 1 expected 'Dense(16,relu) 20->16', found 'Dense(8,relu) 20->8'"));
  }
  SUBCASE("a net with fewer layers is another architecture too") {
    TruncatedMlp shorter;
    const ModelFileError error = load_error(path, [&] { typenet::load(shorter, path); });
    CHECK(error.problem() == ModelFileProblem::ArchitectureMismatch);
    CHECK(contains(error, "layer 2 expected no layer, found 'Dense(3,softmax) 8->3' (the net has 2 "
                          "layers, the file 3)"));
  }
  SUBCASE("a checkpoint is not a parameters file") {
    typenet::save_checkpoint(path, net, CheckpointExtras{.optimizer = "sgd"});
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::WrongKind);
    CHECK(contains(
        error,
        "expected a parameters file, found a training checkpoint (load it with load_checkpoint)"));
  }
  SUBCASE("a parameters file is not a checkpoint") {
    CheckpointExtras extras{.optimizer = "sgd"};
    const ModelFileError error =
        load_error(path, [&] { typenet::load_checkpoint(path, target, extras); });
    CHECK(error.problem() == ModelFileProblem::WrongKind);
    CHECK(contains(error, "expected a training checkpoint, found a parameters file"));
  }
  SUBCASE("a parameter section of the wrong size") {
    typenet::io::ModelFile file = typenet::io::read_model_file(path);
    std::get<std::vector<float>>(file.sections[0].value).pop_back();
    typenet::io::write_model_file(path, file);
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::SectionMismatch);
    CHECK(contains(error, "expected section 'parameters' to hold 195 floats, found 194"));
  }
  SUBCASE("a non-finite parameter is damage, named with its index") {
    typenet::io::ModelFile file = typenet::io::read_model_file(path);
    std::get<std::vector<float>>(file.sections[0].value)[7] =
        std::numeric_limits<float>::infinity();
    typenet::io::write_model_file(path, file);
    const ModelFileError error = load_error(path, load);
    CHECK(error.problem() == ModelFileProblem::NonFinite);
    CHECK(contains(error, "section 'parameters' holds inf at index 7"));
  }
  SUBCASE("a net holding NaN is not saved") {
    Mlp broken;
    fill(broken.block, 5);
    broken.block[4] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(
        typenet::save(broken, dir / "broken.tnet"),
        "saving a model: parameter 4 is nan; a model file holds finite values only",
        std::invalid_argument);
    CHECK_FALSE(fs::exists(dir / "broken.tnet"));
  }
  SUBCASE("a missing parameter section") {
    typenet::io::ModelFile file = typenet::io::read_model_file(path);
    file.sections[0].name = "weights";
    typenet::io::write_model_file(path, file);
    CHECK(load_error(path, load).problem() == ModelFileProblem::SectionMismatch);
  }
}

TEST_CASE("a checkpoint must match the trainer's optimizer") {
  TempDir dir;
  const fs::path path = dir / "run.ckpt";
  Mlp net;
  std::vector<float> m(Mlp::parameter_count), v(Mlp::parameter_count);
  typenet::save_checkpoint(
      path, net, CheckpointExtras{.optimizer = "adam", .slots = {{"m", m}, {"v", v}}, .step = 10});

  std::vector<float> velocity(Mlp::parameter_count), short_v(Mlp::parameter_count - 1);
  CheckpointExtras sgd{.optimizer = "sgd", .slots = {{"velocity", velocity}}};
  CHECK(contains(load_error(path, [&] { typenet::load_checkpoint(path, net, sgd); }),
                 "expected state of optimizer 'sgd', found 'adam'"));
  CheckpointExtras only_v{.optimizer = "adam", .slots = {{"v", v}}};
  CHECK(contains(load_error(path, [&] { typenet::load_checkpoint(path, net, only_v); }),
                 "found optimizer state 'optimizer/m' that the trainer does not expect"));
  CheckpointExtras wrong_size{.optimizer = "adam", .slots = {{"m", m}, {"v", short_v}}};
  CHECK(contains(load_error(path, [&] { typenet::load_checkpoint(path, net, wrong_size); }),
                 "expected section 'optimizer/v' to hold 194 floats, found 195"));
  CheckpointExtras missing{.optimizer = "adam", .slots = {{"m", m}, {"v", v}, {"w", v}}};
  CHECK(contains(load_error(path, [&] { typenet::load_checkpoint(path, net, missing); }),
                 "expected a section 'optimizer/w', found none"));

  const CheckpointExtras reserved_name{.optimizer = "adam", .slots = {{"step", m}}};
  CHECK_THROWS_AS(typenet::save_checkpoint(path, net, reserved_name), std::invalid_argument);
  const CheckpointExtras twice{.optimizer = "adam", .slots = {{"m", m}, {"m", v}}};
  CHECK_THROWS_AS(typenet::save_checkpoint(path, net, twice), std::invalid_argument);
}

TEST_CASE("a failed load leaves the net and the extras untouched") {
  TempDir dir;
  const fs::path path = dir / "run.ckpt";
  Mlp saved;
  fill(saved.block, 6);
  std::vector<float> m(Mlp::parameter_count, 1.0f), v(Mlp::parameter_count, 2.0f);
  typenet::save_checkpoint(
      path, saved,
      {.optimizer = "adam", .slots = {{"m", m}, {"v", v}}, .step = 77, .epoch = 3, .text = "h"});

  Mlp target;
  fill(target.block, 9);
  const std::vector<float> target_before = target.block;
  std::vector<float> target_m(m.size(), -1.0f),
      target_v(v.size() + 1, -2.0f);  // v has the wrong size
  CheckpointExtras extras{.optimizer = "adam",
                          .slots = {{"m", target_m}, {"v", target_v}},
                          .step = 1,
                          .epoch = 2,
                          .text = "before"};
  CHECK_THROWS_AS(typenet::load_checkpoint(path, target, extras), ModelFileError);
  CHECK(same_bits(target.block, target_before));
  CHECK(std::all_of(target_m.begin(), target_m.end(), [](float x) { return x == -1.0f; }));
  CHECK(std::all_of(target_v.begin(), target_v.end(), [](float x) { return x == -2.0f; }));
  CHECK(extras.step == 1);
  CHECK(extras.epoch == 2);
  CHECK(extras.text == "before");

  // The last section read is the text: everything else matched when the load gave up.
  typenet::io::ModelFile file = typenet::io::read_model_file(path);
  CHECK(file.sections.back().name == "text");
  file.sections.back().value = std::uint64_t{0};
  typenet::io::write_model_file(path, file);
  std::vector<float> right_v(v.size(), -2.0f);
  extras.slots[1].values = right_v;
  const ModelFileError error =
      load_error(path, [&] { typenet::load_checkpoint(path, target, extras); });
  CHECK(contains(error, "expected section 'text' to be a text, found another type"));
  CHECK(same_bits(target.block, target_before));
  CHECK(std::all_of(target_m.begin(), target_m.end(), [](float x) { return x == -1.0f; }));
  CHECK(std::all_of(right_v.begin(), right_v.end(), [](float x) { return x == -2.0f; }));
  CHECK(extras.step == 1);

  std::vector<std::byte> bytes = bytes_of(path);
  bytes[bytes.size() - 10] ^= std::byte{4};
  overwrite(path, bytes);
  CHECK_THROWS_AS(typenet::load(target, path), ModelFileError);
  CHECK(same_bits(target.block, target_before));
}

TEST_CASE(
    "structural damage behind a valid checksum is reported as malformed, without big allocations") {
  std::vector<std::byte> bytes = typenet::io::encode(sample_file());
  // After the 24-byte header: hash (8), layer count (4), two layers (4 + 10, 4 + 18), section
  // count (4), the name "parameters" (4 + 10).
  constexpr std::size_t first_section_type = 24 + 8 + 4 + 14 + 22 + 4 + 14;
  REQUIRE(bytes[first_section_type] == std::byte{1});

  SUBCASE("unknown section type") { bytes[first_section_type] = std::byte{9}; }
  SUBCASE("a float count far beyond the file") {
    for (int i = 0; i < 8; ++i) bytes[first_section_type + 1 + i] = std::byte{0xff};
  }
  SUBCASE("an unknown file kind") { put_u32(bytes, 12, 7); }
  SUBCASE("format version 0") { put_u32(bytes, 8, 0); }
  SUBCASE("format version 2 for a float file, which version 1 holds") { put_u32(bytes, 8, 2); }
  SUBCASE("an architecture hash that does not match the layers") { bytes[24] ^= std::byte{1}; }
  SUBCASE("a layer count larger than the file") { put_u32(bytes, 32, 0xffffffffu); }
  reseal(bytes);
  CHECK(problem_of(bytes) == ModelFileProblem::Malformed);
}

TEST_CASE("reading reports files that cannot be read") {
  TempDir dir;
  CHECK_THROWS_AS(typenet::io::read_model_file(dir / "missing.tnet"), std::system_error);
  try {
    typenet::io::read_model_file(dir.path);
    FAIL("read a directory");
  } catch (const std::system_error& error) {
    CHECK(std::string(error.what()).find("is not a regular file") != std::string::npos);
  }
}

TEST_CASE("atomic writes replace the whole file or nothing") {
  TempDir dir;
  const fs::path path = dir / "model.tnet";
  const std::string old_content = "previous model";
  overwrite(path, std::as_bytes(std::span(old_content)));
  const std::vector<std::byte> old_bytes = bytes_of(path);

  SUBCASE("a successful write replaces the file and leaves no temporary file") {
    const std::vector<std::byte> big(100000, std::byte{42});
    overwrite(path, big);
    CHECK(bytes_of(path) == big);
    CHECK(dir.entries() == std::vector<std::string>{"model.tnet"});
  }
  SUBCASE("a write that fails half-way (file size limit) keeps the old file and removes the "
          "temporary one") {
    // RLIMIT_FSIZE makes write() fail with EFBIG like a full disk fails with ENOSPC, without root
    // or a special file system; SIGXFSZ would otherwise kill the process.
    rlimit saved_limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_limit) == 0);
    const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved_limit;
    small.rlim_cur = 4096;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
      overwrite(path, std::vector<std::byte>(100000, std::byte{1}));
    } catch (const std::system_error& error) {
      message = error.what();
    }
    setrlimit(RLIMIT_FSIZE, &saved_limit);
    std::signal(SIGXFSZ, saved_handler);
    CHECK(message.find("writing '" + path.string() + ".tmp.") != std::string::npos);
    CHECK(message.find("File too large") != std::string::npos);
    CHECK(bytes_of(path) == old_bytes);
    CHECK(dir.entries() == std::vector<std::string>{"model.tnet"});
  }
  SUBCASE("a write removes the temporary file that a dead writer of the same file left") {
    std::ofstream(dir.path / ("model.tnet.tmp." + std::to_string(dead_pid()))) << "half a model";
    overwrite(path, old_bytes);
    CHECK(dir.entries() == std::vector<std::string>{"model.tnet"});
  }
  SUBCASE("a write leaves live writers' temporary files, other files' and other names alone") {
    const std::string dead = std::to_string(dead_pid());
    // Not getpid(): write_file_atomically itself uses that name.
    const std::string live = std::to_string(::getppid());
    const std::vector<std::string> leftovers = {"model.tnet.tmp." + dead, "model.tnet.tmp." + live,
                                                "other.tnet.tmp." + dead, "model.tnet.tmp.12ab"};
    for (const std::string& name : leftovers) std::ofstream(dir.path / name) << "half a model";
    overwrite(path, old_bytes);
    std::vector<std::string> kept = {"model.tnet", "model.tnet.tmp." + live,
                                     "other.tnet.tmp." + dead, "model.tnet.tmp.12ab"};
    std::sort(kept.begin(), kept.end());
    CHECK(dir.entries() == kept);
  }
  SUBCASE("a failed save leaves the previous model loadable") {
    Mlp net;
    fill(net.block, 8);
    typenet::save(net, path);
    Mlp other;
    fill(other.block, 9);
    CHECK_THROWS_AS(typenet::save(other, dir / "missing_dir" / "model.tnet"), std::system_error);
    Mlp loaded;
    typenet::load(loaded, path);
    CHECK(same_bits(loaded.block, net.block));
  }
  SUBCASE("a rename that fails (target is a directory) removes the temporary file") {
    fs::create_directory(dir / "taken");
    try {
      overwrite(dir / "taken", old_bytes);
      FAIL("renamed over a directory");
    } catch (const std::system_error& error) {
      CHECK(std::string(error.what()).find("renaming") != std::string::npos);
    }
    CHECK(dir.entries() == std::vector<std::string>{"model.tnet", "taken"});
  }
}
