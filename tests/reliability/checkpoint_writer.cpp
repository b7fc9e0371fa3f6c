// The process that test_kill.cpp kills at random moments. Two modes:
//
//   checkpoint_writer loop CHECKPOINT
//       Resumes from CHECKPOINT when it exists, prints "ready", then trains one step and
//       rewrites CHECKPOINT (epoch = steps done), as fast as it can, until killed.
//   checkpoint_writer fit BACKUP WEIGHTS
//       Fits FitNet on the first images of MNIST ($TYPENET_DATA) with BACKUP as its backup
//       (resuming from it when it exists), then saves the weights to WEIGHTS.
//
// Errors go to stderr with exit status 1, which the test reports: a helper that ends on its own in
// loop mode means a checkpoint it wrote could not be read back.
#include <sys/prctl.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <typenet/data/mnist.hpp>

#include "fixtures.hpp"

using namespace typenet;
using namespace typenet::reliability;

namespace {

// Never outlive a test that died before killing us.
constexpr auto longest_life = std::chrono::seconds(60);

int rewrite_checkpoint_forever(const std::filesystem::path& checkpoint) {
  auto net = std::make_unique<LoopNet>(1);
  auto model = compile_loop_model(*net);
  std::uint64_t steps_done = 0;
  if (std::filesystem::exists(checkpoint)) steps_done = model.load_checkpoint(checkpoint).first;
  // The test times its kill from here, so that kills land in the loop, not in process start-up.
  std::cout << "ready" << std::endl;
  const auto give_up = std::chrono::steady_clock::now() + longest_life;
  while (std::chrono::steady_clock::now() < give_up) {
    train_loop_step(model, steps_done);
    model.save_checkpoint(checkpoint, ++steps_done);
  }
  std::cerr << "checkpoint_writer: nobody killed me within 60 s\n";
  return 2;
}

int fit_with_backup(const std::filesystem::path& backup, const std::filesystem::path& weights) {
  LoadOptions options;
  options.verify_md5 = false;  // the same bytes every run; checking them would only slow restarts
  const Dataset train = take(load_mnist(options).train, fit_images);
  auto net = std::make_unique<FitNet>(1);
  auto model = compile_fit_model(*net);
  // Set one by one: designated initializers warn about the members they leave out.
  FitOptions<std::uint8_t> fit_options;
  fit_options.batch_size = 32;
  fit_options.epochs = fit_epochs;
  fit_options.verbose = 0;
  fit_options.backup = backup;
  model.fit({train.images, train.labels}, fit_options);
  save(*net, weights);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  try {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    if (mode == "loop" && argc == 3) return rewrite_checkpoint_forever(argv[2]);
    if (mode == "fit" && argc == 4) return fit_with_backup(argv[2], argv[3]);
    std::cerr << "usage: checkpoint_writer loop CHECKPOINT | fit BACKUP WEIGHTS\n";
    return 64;
  } catch (const std::exception& error) {
    std::cerr << "checkpoint_writer: " << error.what() << '\n';
    return 1;
  }
}
