// What every MNIST example shares: its flags, loading the data, and turning errors into a message
// and exit status 1.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <string>

#include <typenet/data/categorical.hpp>
#include <typenet/data/mnist.hpp>
#include <typenet/typenet.hpp>

namespace examples {

struct Flags {
  std::size_t epochs = 5;
  std::size_t batch_size = 128;
  std::uint64_t seed = 1;
  std::size_t threads = 0;  // every core
  std::string data;         // empty: $TYPENET_DATA, then the per-user cache
  int verbose = 1;
  std::string precision = "auto";    // typenet/precision.hpp
  std::string convolution = "auto";  // likewise
  std::string save;                  // where the trained model goes; empty: nowhere

  typenet::ModelOptions model_options() const {
    return {.threads = threads,
            .seed = seed,
            .precision = typenet::parse_precision(precision),
            .convolution = typenet::parse_conv_algorithm(convolution)};
  }
};

// Writes the trained net where --save says, if it says.
template <class NetT>
void save_if_asked(const Flags& flags, const NetT& net) {
  if (!flags.save.empty()) typenet::save(net, flags.save);
}

inline typenet::MnistData load_data(const Flags& flags) {
  typenet::LoadOptions options;
  options.directory = flags.data;
  return typenet::load_mnist(options);
}

// Parses the common flags (defaults as given) plus any the example adds, then runs it.
inline int run(int argc, char** argv, const std::string& description, Flags flags,
               const std::function<void(CLI::App&)>& add_flags,
               const std::function<void(const Flags&)>& body) {
  CLI::App app(description);
  app.add_option("--epochs", flags.epochs, "Training epochs")->capture_default_str();
  app.add_option("--batch-size", flags.batch_size, "Samples per optimizer step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", flags.seed, "Seed of initialisation, shuffling and dropout")
      ->capture_default_str();
  app.add_option("--threads", flags.threads, "Worker threads (0: every core)")
      ->capture_default_str();
  app.add_option(
      "--data", flags.data,
      "Folder with the MNIST files (default: $TYPENET_DATA, then ~/.cache/typenet/mnist)");
  app.add_option("--verbose", flags.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));
  app.add_option("--precision", flags.precision,
                 "Arithmetic of the Conv and Dense products: auto (mixed_bfloat16 where the CPU "
                 "has AMX or is an AMD Zen 4, else float32), float32 or mixed_bfloat16")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "float32", "mixed_bfloat16"}));
  app.add_option("--convolution", flags.convolution,
                 "How 3x3 convolutions are computed: auto (Winograd's F(4x4, 3x3) in float32 "
                 "where the layer suits it, unless mixed_bfloat16 runs on AMX) or direct")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "direct"}));
  app.add_option("--save", flags.save, "Write the trained model to this typenet file");
  if (add_flags) add_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    body(flags);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: error: %s\n",
                 app.get_name().empty() ? argv[0] : app.get_name().c_str(), error.what());
    return 1;
  }
}

}  // namespace examples
