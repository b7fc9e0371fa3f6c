// Writes the header (argv[1]) that test_spelling.cpp compiles: every Net below spelled by
// cpp_type, written at global scope right after #include <typenet/typenet.hpp>, and a
// static_assert that the spelling names the very same type as the Net itself.
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "src/cli/models.hpp"
#include "tests/golden/nets.hpp"
#include "tests/spelling/more_nets.hpp"

namespace {

template <class N>
struct Named {
  using net = N;
  std::string_view name;  // as the static_assert names it
};
#define NAMED(N) \
  Named<N> { #N }

constexpr std::tuple nets{NAMED(typenet::cli::Mlp),
                          NAMED(typenet::cli::DenseNet),
                          NAMED(typenet::cli::Cnn),
                          NAMED(typenet::cli::CnnGap),
                          NAMED(typenet::cli::KerasCnn),
                          NAMED(typenet::golden::Keras224Cnn),
                          NAMED(typenet::golden::Keras3Cnn),
                          NAMED(typenet::golden::ConvSameStride2),
                          NAMED(typenet::golden::ConvValidGap),
                          NAMED(typenet::golden::ConvEvenNoBias),
                          NAMED(typenet::golden::DenseOnly),
                          NAMED(typenet::golden::LayersCnn),
                          NAMED(typenet::golden::LayersConvAvgPool),
                          NAMED(typenet::golden::LayersActivations),
                          NAMED(typenet::golden::LayersKeras3),
                          NAMED(typenet::golden::ChannelsFirst),
                          NAMED(typenet::golden::BnConv),
                          NAMED(typenet::golden::BnOptions),
                          NAMED(typenet::golden::LstmStack),
                          NAMED(typenet::golden::LstmHardSigmoid),
                          NAMED(typenet::golden::ResidualTiny),
                          NAMED(typenet::golden::ResidualShortcutFirst),
                          NAMED(typenet::spelling::ExplicitDefaults),
                          NAMED(typenet::spelling::ReorderedOptions),
                          NAMED(typenet::spelling::ActivationLayers),
                          NAMED(typenet::spelling::RescalingDefaults),
                          NAMED(typenet::spelling::LstmOptions),
                          NAMED(typenet::spelling::NestedBlocks),
                          NAMED(typenet::spelling::LongSpellings)};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_net_types OUTPUT.hpp\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  out << "// Written by tests/spelling/write_net_types.cpp: each Net spelled by "
         "typenet::cpp_type.\n"
         "#pragma once\n\n#include <type_traits>\n\n#include <typenet/typenet.hpp>\n\n";
  std::size_t index = 0;
  bool spelled = true;
  std::apply(
      [&](auto... named) {
        const auto write = [&](auto named_net) {
          const std::string spelling = typenet::cpp_type(decltype(named_net)::net::layer_infos);
          if (spelling.empty()) {
            std::cerr << "write_net_types: " << named_net.name << " has no spelling\n";
            spelled = false;
          }
          out << "using spelled_net_" << index++ << " = " << spelling << ";\n";
        };
        (write(named), ...);
      },
      nets);
  if (!spelled) return 1;
  out << "\n#include \"src/cli/models.hpp\"\n#include \"tests/golden/nets.hpp\"\n"
         "#include \"tests/spelling/more_nets.hpp\"\n\n";
  index = 0;
  std::apply(
      [&](auto... named) {
        ((out << "static_assert(std::is_same_v<spelled_net_" << index++ << ", " << named.name
              << ">, \"cpp_type spells " << named.name << " as another type\");\n"),
         ...);
      },
      nets);
  out.close();
  if (!out) {
    std::cerr << "write_net_types: cannot write " << argv[1] << "\n";
    return 1;
  }
}
