// Frozen<NetT>: a trained Net's forward pass over parameters that live elsewhere, read-only: the
// weights `typenet export-cpp --embed-weights` compiles into a program, or any block the caller
// keeps (a memory-mapped file).
//
//   alignas(64) extern const float MnistCnn_parameters[MnistCnn::param_count];
//   inline constexpr typenet::Frozen<MnistCnn> MnistCnn_net{MnistCnn_parameters};
//   auto probabilities = MnistCnn_net.predict(image);
//
// A Frozen holds only a pointer, so a constexpr one is constant-initialised: usable from static
// constructors, nothing runs before main. Its predict is const and safe from several threads at
// once: the activations go to a workspace, either one per thread (allocated by the thread's first
// call, the only allocation) or one the caller owns (real-time threads, small stacks). A
// workspace also keeps the 3x3 convolutions' transformed kernels, made by its first prediction
// (and again if it is then used with other parameters). It runs the very forward pass of
// Net::predict on the same parameter bits, so both give the same bits.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include "typenet/net.hpp"

namespace typenet {

template <class NetT>
class Frozen {
 public:
  using net_type = NetT;
  // What one prediction writes: every layer's output for one image, the layers' scratch and the
  // kept transformed kernels.
  using Workspace = Buffers<NetT, 1, false>;
  static constexpr std::size_t input_size = NetT::input_size;
  static constexpr std::size_t output_size = NetT::output_size;
  static constexpr std::size_t param_count = NetT::param_count;

  // `parameters`: param_count floats in the Net's layout (Net::parameters()), 64-byte aligned as
  // a Net's own, alive and unchanged while the Frozen is used.
  constexpr explicit Frozen(const float* parameters) noexcept : parameters_(parameters) {}

  constexpr std::span<const float, param_count> parameters() const noexcept {
    return std::span<const float, param_count>(parameters_, param_count);
  }

  // Output for one image, as Net::predict. The calling thread's workspace is allocated by its
  // first call.
  std::array<float, output_size> predict(std::span<const float> image) const {
    return predict(image, thread_workspace());
  }
  // The same in the caller's workspace; allocates nothing. One workspace serves one call at a
  // time.
  std::array<float, output_size> predict(std::span<const float> image, Workspace& workspace) const {
    NetT::check_input_size(image.size(), 1, "predict");
    std::array<float, output_size> result;
    std::copy_n(forward(image.data(), workspace), output_size, result.begin());
    return result;
  }
  // Outputs for images.size() / input_size images, written to outputs (output_size each).
  void predict(std::span<const float> images, std::span<float> outputs) const {
    const std::size_t count = NetT::check_batch(images.size(), outputs.size());
    Workspace& workspace = thread_workspace();
    for (std::size_t i = 0; i < count; ++i)
      std::copy_n(forward(images.data() + i * input_size, workspace), output_size,
                  outputs.data() + i * output_size);
  }

  // Copies the parameters into a Net (to fine-tune or save it).
  void copy_to(NetT& net) const noexcept {
    std::copy_n(parameters_, param_count, net.parameters().data());
  }

 private:
  const float* forward(const float* image, Workspace& workspace) const noexcept {
    return NetT::forward(parameters_, image, 1, workspace,
                         NetT::predict_context(parameters(), workspace));
  }
  static Workspace& thread_workspace() {
    thread_local const std::unique_ptr<Workspace> workspace = std::make_unique<Workspace>();
    return *workspace;
  }

  const float* parameters_;
};

}  // namespace typenet
