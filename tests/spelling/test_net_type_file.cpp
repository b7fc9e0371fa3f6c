// Model files and checkpoints record the saved Net's C++ type (the net_type section); files
// without it, as typenet wrote them before, load as ever, and loads never compare it.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace fs = std::filesystem;
using namespace typenet;

namespace {

using Small = Net<Input<6, 6, 1>, Conv<2, 3, Relu, Same>, MaxPool<2>, Flatten, Dense<3, Softmax>>;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("typenet_net_type_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path operator/(const std::string& name) const { return path / name; }
};

// The file as typenet wrote it before net_type: the same sections but that one.
void drop_net_type(const fs::path& path) {
  io::ModelFile file = io::read_model_file(path);
  std::erase_if(file.sections,
                [](const io::Section& section) { return section.name == io::net_type_section; });
  io::write_model_file(path, file);
}

bool same_parameters(const Small& a, const Small& b) {
  return std::ranges::equal(a.parameters(), b.parameters());
}

}  // namespace

TEST_CASE("a parameters file records the Net's C++ type") {
  TempDir dir;
  const fs::path path = dir / "small.tnet";
  const Small net(7);
  save(net, path);
  const io::ModelFile file = io::read_model_file(path);
  CHECK(io::net_type(file, path.string()) == cpp_type(Small::layer_infos));
  CHECK(io::net_type(file, path.string())->starts_with("typenet::Net<typenet::Input<6, 6, 1>, "));
  Small loaded(1);
  load(loaded, path);
  CHECK(same_parameters(loaded, net));

  SUBCASE("a file without it (an older typenet's) still loads") {
    drop_net_type(path);
    CHECK_FALSE(io::net_type(io::read_model_file(path), path.string()).has_value());
    Small older(1);
    load(older, path);
    CHECK(same_parameters(older, net));
  }
  SUBCASE("a net_type that is not a text is a section mismatch") {
    io::ModelFile bad = file;
    std::erase_if(bad.sections,
                  [](const io::Section& section) { return section.name == io::net_type_section; });
    bad.sections.push_back({std::string(io::net_type_section), std::uint64_t{3}});
    try {
      (void)io::net_type(bad, "bad.tnet");
      FAIL("no exception");
    } catch (const ModelFileError& error) {
      CHECK(error.problem() == ModelFileProblem::SectionMismatch);
      CHECK(std::string(error.what()) ==
            "bad.tnet: expected section 'net_type' to be a text, found another type");
    }
  }
  SUBCASE("loads compare the architecture lines, not the spelling") {
    // Valid is the default padding: the same layers, spelled otherwise.
    using Spelled = Net<Input<6, 6, 1>, Conv<2, 3, Same, Relu>, MaxPool<2, Stride<2>>, Flatten,
                        Dense<3, Softmax>>;
    Spelled other(1);
    load(other, path);
    CHECK(std::ranges::equal(other.parameters(), net.parameters()));
  }
}

TEST_CASE("a checkpoint records the Net's C++ type; its slot checks ignore it") {
  TempDir dir;
  const fs::path path = dir / "run.ckpt";
  const Small net(3);
  std::vector<float> m(Small::param_count, 0.5f), v(Small::param_count, 0.25f);
  save_checkpoint(path, net,
                  CheckpointExtras{.optimizer = "adam", .slots = {{"m", m}, {"v", v}}, .step = 4});
  CHECK(io::net_type(io::read_model_file(path), path.string()) == cpp_type(Small::layer_infos));

  const auto load_back = [&] {
    Small loaded(1);
    std::vector<float> m2(Small::param_count), v2(Small::param_count);
    CheckpointExtras extras{.optimizer = "adam", .slots = {{"m", m2}, {"v", v2}}};
    load_checkpoint(path, loaded, extras);
    CHECK(same_parameters(loaded, net));
    CHECK(m2 == m);
    CHECK(v2 == v);
    CHECK(extras.step == 4);
  };
  load_back();
  SUBCASE("a checkpoint without it (an older typenet's) still loads") {
    drop_net_type(path);
    CHECK_FALSE(io::net_type(io::read_model_file(path), path.string()).has_value());
    load_back();
  }
}

TEST_CASE("a Net whose layers do not all spell themselves is saved without net_type") {
  // io's core functions take any layer records: these two have no spelling.
  std::array<LayerInfo, 2> layers{};
  layers[0].type = "Input";
  layers[0].in = layers[0].out = Dims{1, {2, 0, 0}};
  layers[1].type = "Custom";
  layers[1].in = layers[1].out = Dims{1, {2, 0, 0}};
  layers[1].param_count = 2;
  TempDir dir;
  const fs::path path = dir / "custom.tnet";
  const std::vector<float> parameters{1.0f, 2.0f};
  io::save_parameters(path, layers, parameters);
  CHECK(io::read_model_file(path).find(io::net_type_section) == nullptr);
  std::vector<float> loaded(2);
  io::load_parameters(path, layers, loaded);
  CHECK(loaded == parameters);
}
