// Conv<Filters, Kernel, options...>: 2-D cross-correlation over channels-last images, as Keras'
// Conv2D. Kernel stored (kh, kw, cin, cout). Forward: one GEMM per image (patches x kernel,
// bias fused into the write-back) whose patches are read from the image in place
// (kernels::conv_forward); Same padding first copies the image into a zero frame in the scratch.
// Backward: im2col of the image into the scratch, then the GEMMs of the kernel and patch
// gradients. A 3x3 stride-1 layer with 8 or more channels and filters computes its forward (and,
// with 16 tiles or more, its backward) by Winograd's F(4x4, 3x3) products instead, in Float32
// with ConvAlgorithm::Auto, from its kernel transformed once per pass (its packed weights;
// kernels/winograd.hpp); single-image predictions too, from the transformed kernel their Net
// keeps.
// 8-bit: im2col of the codes (padded with the code of zero) and one int8 GEMM, ReLU fused; other
// activations run in float on its float output.
// Keras: Conv2D (filters, kernel_size, strides, padding, activation, use_bias; no dilation or
// groups; weights kernel (kh, kw, cin, filters) and bias).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/products.hpp"
#include "typenet/kernels/winograd.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/options.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

inline constexpr std::string_view conv_keras_classes[] = {"Conv2D", "Convolution2D"};

namespace detail {
// Conv2D's settings that no Conv can have; shared by the check and the export spelling.
inline void refuse_conv_extras(const KerasConfig& config) {
  if (const auto dilation = config.size_pair("dilation_rate");
      dilation && (*dilation)[0] * (*dilation)[1] != 1)
    config.unsupported("dilated convolution (dilation_rate " + config.json("dilation_rate") +
                       ") has no typenet equivalent");
  if (const auto groups = config.positive("groups"); groups && *groups != 1)
    config.unsupported("grouped convolution (groups " + config.json("groups") +
                       ") has no typenet equivalent");
}
}  // namespace detail

inline constexpr KerasLayerClass conv_keras_layer{
    conv_keras_classes, [](const KerasConfig& config) {
      detail::refuse_conv_extras(config);
      const std::size_t kernel = config.square("kernel_size", 0);
      if (kernel == 0) config.corrupted("config has no 'kernel_size'");
      const std::size_t stride = config.square("strides", 1);
      return "Conv<" + std::to_string(config.required_positive("filters")) + ", " +
             std::to_string(kernel) + activation_option(config) +
             (config.padding() == PaddingKind::Same ? ", Same" : "") +
             (stride == 1 ? "" : ", Stride<" + std::to_string(stride) + ">") + ">";
    }};

template <std::size_t Filters, std::size_t Kernel, class... Opts>
struct Conv {
  static_assert(Filters > 0, "typenet: Conv<Filters, Kernel> needs Filters > 0");
  static_assert(Kernel > 0, "typenet: Conv<Filters, Kernel> needs Kernel > 0");
  using options = detail::Options</*activation*/ true, /*padding*/ true, 1, Opts...>;

  template <class In>
  struct bind {
    static_assert(In::rank == 3,
                  "typenet: Conv needs an HxWxC image input but gets a flat vector (use "
                  "Input<H, W, C>, and put Conv before Flatten)");
    static_assert(options::padding == PaddingKind::Same ||
                      (Kernel <= In::height && Kernel <= In::width),
                  "typenet: Conv kernel is larger than its input (Valid padding)");
    static constexpr std::size_t height = In::height, width = In::width, channels = In::channels;
    static constexpr std::size_t stride = options::stride;
    static constexpr PaddingKind padding = options::padding;
    static constexpr std::size_t out_height =
        detail::output_extent(height, Kernel, stride, padding);
    static constexpr std::size_t out_width = detail::output_extent(width, Kernel, stride, padding);
    static constexpr std::size_t pad_top =
        detail::padding_before(height, out_height, Kernel, stride, padding);
    static constexpr std::size_t pad_left =
        detail::padding_before(width, out_width, Kernel, stride, padding);
    static constexpr std::size_t pixels = out_height * out_width;
    static constexpr std::size_t patch = Kernel * Kernel * channels;
    // The extent the windows cover: the image, cropped (Valid, a stride that leaves pixels
    // over) or framed by zeros (Same).
    static constexpr std::size_t framed_height = (out_height - 1) * stride + Kernel;
    static constexpr std::size_t framed_width = (out_width - 1) * stride + Kernel;
    static constexpr bool framed = pad_top != 0 || pad_left != 0 || framed_height > height ||
                                   framed_width > width;
    static constexpr std::size_t framed_size = framed_height * framed_width * channels;
    static constexpr std::size_t read_width = framed ? framed_width : width;  // row stride

    using input_shape = In;
    using output_shape = Shape<out_height, out_width, Filters>;
    using activation = typename options::activation;
    static constexpr std::size_t kernel_count = patch * Filters;
    static constexpr std::size_t param_count = kernel_count + Filters;
    // Winograd's products, when the layer suits them (kernels/winograd.hpp).
    static constexpr bool winograd = kernels::winograd::suits(Kernel, stride, channels, Filters);
    static constexpr bool winograd_backward =
        winograd && kernels::winograd::suits_backward(out_height, out_width);
    static constexpr std::size_t winograd_kernel_floats =
        winograd ? kernels::winograd::kernel_floats(channels, Filters) : 0;
    // The patches (backward) or Winograd's products (backward: after the kernel gradient's
    // points, summed over the images), then the framed image (forward; backward in bfloat16 and
    // by Winograd), then (Winograd's backward) the framed image's gradient.
    static constexpr std::size_t products_floats = std::max(
        pixels * patch,
        winograd_backward ? winograd_kernel_floats + kernels::winograd::backward_scratch_floats(
                                                         out_width, channels, Filters)
        : winograd ? kernels::winograd::forward_scratch_floats(out_width, channels, Filters)
                   : 0);
    static constexpr std::size_t scratch_floats =
        products_floats + (framed ? framed_size * (winograd_backward ? 2 : 1) : 0);
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 2 * pixels * patch * Filters;
    // In a team, each member computes its part of the output pixels (whole 6-row micro-tiles of
    // the float kernel and 16-row tiles of the bfloat16 one) or, by Winograd's products, of the
    // filters, so that a team's bits are one thread's.
    static constexpr bool team_split = flops >= kTeamSplitFlops;
    static constexpr bool images_independent = true;
    using packed_kernel = PackedKernel<patch, Filters>;
    // bf16: the kernel packed for the products; Float32 (Winograd): its u, then (backward too)
    // its ut.
    static constexpr std::size_t packed_weight_words =
        std::max(packed_kernel::words, 2 * winograd_kernel_floats);
    static constexpr std::size_t predict_weight_words = winograd_kernel_floats;  // its u
    static void pack_weights(const float* params, std::uint32_t* packed,
                             const PackRequest& request) noexcept {
      if constexpr (winograd) {
        if (!request.winograd) return packed_kernel::pack(params, packed, request);
        float* u = reinterpret_cast<float*>(packed);
        if (request.part == 0)
          kernels::winograd_kernel_transform(params, channels, Filters, false, u);
        if (winograd_backward && request.backward && request.next().part == 0)
          kernels::winograd_kernel_transform(params, channels, Filters, true,
                                             u + winograd_kernel_floats);
      } else {
        packed_kernel::pack(params, packed, request);
      }
    }
    // Whether a pass computes by Winograd's products: asked for (ctx.winograd) and its kernel
    // transformed (packed) for it. (A team shares forward passes only.)
    static bool by_winograd(const Context& ctx) noexcept {
      return winograd && ctx.winograd && ctx.packed_weights;
    }
    // The kernel packed for the bf16 products, unless the packed weights are Winograd's.
    static const std::uint32_t* packed_bf16(const Context& ctx) noexcept {
      return winograd && ctx.winograd ? nullptr : ctx.packed_weights;
    }
    static const float* winograd_u(const Context& ctx) noexcept {
      return reinterpret_cast<const float*>(ctx.packed_weights);
    }
    static constexpr std::size_t team_pixel_granule = 48;
    static constexpr std::pair<std::size_t, std::size_t> team_share(const Team& team) noexcept {
      const auto [first, end] = team.part(pixels, team_pixel_granule);
      return {first * Filters, end * Filters};
    }

    struct int8 : Int8Member, Int8GemmWeights<patch, Filters> {
      static constexpr std::size_t depth = kernels::int8_depth(patch);  // an im2col row's bytes
      static constexpr std::size_t weight_bytes = kernels::int8_packed_size(patch, Filters);
      static constexpr std::size_t channel_floats = 2 * kernels::int8_padded_columns(Filters);
      static constexpr std::size_t scratch_bytes = pixels * depth;
      static constexpr bool codes_out = activation::kind == ActivationKind::Linear ||
                                        activation::kind == ActivationKind::Relu;
      // In a team, each member computes its part of the output rows: their patches, their GEMM.
      static constexpr bool team_split = bind::team_split;
      static void quantize(const Int8Quantize& q) {
        detail::quantize_gemm_layer(q, q.params, q.params + kernel_count, patch, Filters);
      }
      template <class Out>  // std::uint8_t codes, or float before the activation
      static void forward(const Int8Call& call, const std::uint8_t* in, Out* out,
                          std::size_t n) noexcept {
        const auto [first_row, end_row] = call.team.part(out_height);
        const std::size_t first_pixel = first_row * out_width;
        std::uint8_t* col = call.scratch + first_pixel * depth;
        for (std::size_t i = 0; i < n; ++i) {
          patch_rows(in + i * call.in_stride, first_row, end_row, std::uint8_t(call.in.zero_point),
                     col);
          detail::int8_gemm_columns(call, (end_row - first_row) * out_width, patch, Filters, 0,
                                    Filters, col, depth, activation::kind == ActivationKind::Relu,
                                    out + i * call.out_stride + first_pixel * Filters, Filters);
        }
      }
      // The patches of output rows [first_row, end_row), read from the image's first row they
      // cover (or with the rows of padding above it that they still cover).
      static void patch_rows(const std::uint8_t* image, std::size_t first_row, std::size_t end_row,
                             std::uint8_t zero_code, std::uint8_t* col) noexcept {
        if (first_row == end_row) return;            // a team member with no rows
        const std::size_t top = first_row * stride;  // in padded coordinates
        const std::size_t skipped = top > pad_top ? top - pad_top : 0;
        kernels::int8_im2col(image + skipped * width * channels, height - skipped, width, channels,
                             Kernel, Kernel, stride, pad_top - (top - skipped), pad_left,
                             end_row - first_row, out_width, zero_code, col, depth);
      }
    };

    static void check_keras(const KerasConfig& config) {
      detail::refuse_conv_extras(config);
      config.expect("Conv2D with", Filters, config.required_positive("filters"), " filters");
      const auto kernel = config.size_pair("kernel_size");
      if (!kernel) config.corrupted("config has no 'kernel_size'");
      config.expect_window("Conv2D", "kernel size", Kernel, stride, *kernel,
                           config.size_pair("strides").value_or(std::array<std::size_t, 2>{1, 1}));
      config.expect_padding("Conv2D with padding", padding);
      config.expect_activation("Conv2D with activation",
                               KerasActivation{activation::kind, activation::alpha});
    }
    static constexpr KerasMapping keras{
        conv_keras_classes, check_keras,
        kernel_and_bias<Filters, Kernel, Kernel, channels, Filters>};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Conv", "Conv2D");
      layer.arguments << "(" << Filters << ",k" << Kernel << ",s" << stride << ","
                      << to_string(padding) << ",";
      activation::write_name(layer.arguments);
      layer.arguments << ")";
      layer.cpp << "Conv<" << Filters << ", " << Kernel;
      write_cpp_options<Opts...>(layer.cpp);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    static void init(float* params, Rng& rng) noexcept {
      glorot_uniform_init(params, kernel_count, Filters, patch, Kernel * Kernel * Filters, rng);
    }
    static void im2col(const float* image, float* col) noexcept {
      kernels::im2col(image, height, width, channels, Kernel, Kernel, stride, pad_top, pad_left,
                      out_height, out_width, col);
    }
    // The image as conv_forward reads it: itself, or its copy framed by zeros in `scratch`
    // (in a team, each member frames its part of the rows, then the team syncs).
    static const float* framed_image(const float* image, float* scratch,
                                     const Team& team) noexcept {
      if constexpr (!framed) {
        return image;
      } else {
        const auto [first_row, end_row] = team.part(framed_height);
        constexpr std::size_t row_floats = std::min(width, framed_width - pad_left) * channels;
        constexpr std::size_t left = pad_left * channels, right_start = left + row_floats;
        constexpr std::size_t framed_row = framed_width * channels;
        for (std::size_t y = first_row; y < end_row; ++y) {
          float* row = scratch + y * framed_row;
          if (y < pad_top || y >= pad_top + height) {
            std::fill_n(row, framed_row, 0.0f);
          } else {
            // Zeros only where the frame is.
            std::fill_n(row, left, 0.0f);
            std::memcpy(row + left, image + (y - pad_top) * width * channels,
                        row_floats * sizeof(float));
            std::fill(row + right_start, row + framed_row, 0.0f);
          }
        }
        team.sync();
        return scratch;
      }
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      if (by_winograd(ctx)) {
        float* frame = ctx.scratch + products_floats;
        for (std::size_t i = 0; i < n; ++i)
          kernels::winograd_conv_forward(
              framed_image(in + i * In::size, frame, ctx.team), read_width, channels, out_height,
              out_width, 0, kernels::winograd::tiles(out_height), winograd_u(ctx), Filters,
              params + kernel_count, out + i * output_shape::size, ctx.scratch,
              ctx.team.for_kernels());
        return;
      }
      // Alone: every pixel of each image. In a team (one image): this member's pixels.
      const auto [first_pixel, end_pixel] = ctx.team.part(pixels, team_pixel_granule);
      const Precision precision = kernels::layer_precision(ctx.precision, patch);
      for (std::size_t i = 0; i < n; ++i)
        kernels::conv_forward(precision, framed_image(in + i * In::size, ctx.scratch, ctx.team),
                              read_width, channels, Kernel, Kernel, stride, out_width, first_pixel,
                              end_pixel, params, packed_kernel::forward(packed_bf16(ctx)), Filters,
                              params + kernel_count, out + i * output_shape::size);
    }
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      using kernels::Trans;
      if (winograd_backward && by_winograd(ctx))
        return backward_by_winograd(in, dout, din, dparams, n, ctx);
      float* col = ctx.scratch;
      float* frame = ctx.scratch + pixels * patch;
      const Precision precision = kernels::layer_precision(ctx.precision, patch);
      if (ctx.assign_grads) std::fill_n(dparams + kernel_count, Filters, 0.0f);
      for (std::size_t i = 0; i < n; ++i) {
        const float* dy = dout + i * output_shape::size;
        const float* image = in + i * In::size;
        const float beta = i == 0 && ctx.assign_grads ? 0.0f : 1.0f;
        kernels::add_column_sums(dy, pixels, Filters, Filters, dparams + kernel_count);
        if (precision == Precision::MixedBfloat16) {
          // The patches straight from the image: no im2col.
          kernels::conv_kernel_grad_bf16(framed_image(image, frame, Team{}), read_width, channels,
                                         Kernel, Kernel, stride, out_width, pixels, dy, Filters,
                                         beta, dparams);
        } else {
          im2col(image, col);
          kernels::gemm(Trans::Yes, Trans::No, patch, Filters, pixels, col, patch, dy, Filters,
                        beta, dparams, Filters, nullptr);
        }
        if (!din) continue;
        // The patch gradients, then their sums into the image's pixels.
        kernels::gemm(precision, Trans::No, Trans::Yes, pixels, patch, Filters, dy, Filters, params,
                      Filters, packed_kernel::transposed(packed_bf16(ctx)), 0.0f, col, patch,
                      nullptr);
        float* dimage = din + i * In::size;
        std::memset(dimage, 0, In::size * sizeof(float));
        kernels::col2im_add(col, height, width, channels, Kernel, Kernel, stride, pad_top, pad_left,
                            out_height, out_width, dimage);
      }
    }
    static void backward_by_winograd(const float* in, const float* dout, float* din, float* dparams,
                                     std::size_t n, const Context& ctx) noexcept {
      float* frame = ctx.scratch + products_floats;
      float* dframe = frame + framed_size;  // framed: the framed image's gradient
      const float* ut = winograd_u(ctx) + winograd_kernel_floats;
      float* du = ctx.scratch;  // the kernel gradient's points, summed over the n images
      if (ctx.assign_grads) std::fill_n(dparams + kernel_count, Filters, 0.0f);
      for (std::size_t i = 0; i < n; ++i) {
        const float* dy = dout + i * output_shape::size;
        kernels::add_column_sums(dy, pixels, Filters, Filters, dparams + kernel_count);
        float* dimage = din ? din + i * In::size : nullptr;
        float* dwindows = framed && din ? dframe : dimage;
        if (dwindows) std::fill_n(dwindows, framed ? framed_size : In::size, 0.0f);
        kernels::winograd_conv_backward(framed_image(in + i * In::size, frame, Team{}), read_width,
                                        channels, out_height, out_width, dy, din ? ut : nullptr,
                                        Filters, i > 0, du, dwindows, du + winograd_kernel_floats);
        if constexpr (framed) {
          if (din) unframe(dframe, dimage);
        }
      }
      if (n > 0)
        kernels::winograd_kernel_gradient(du, channels, Filters, ctx.assign_grads ? 0.0f : 1.0f,
                                          dparams);
    }
    // The image's part of its framed copy's gradient (Same padding: all but the frame).
    static void unframe(const float* dframe, float* dimage) noexcept {
      constexpr std::size_t row_floats = std::min(width, framed_width - pad_left) * channels;
      for (std::size_t y = 0; y < height; ++y) {
        float* row = dimage + y * width * channels;
        const std::size_t framed_y = y + pad_top;
        const std::size_t copied = framed_y < framed_height ? row_floats : 0;
        if (copied)
          std::memcpy(row, dframe + (framed_y * framed_width + pad_left) * channels,
                      copied * sizeof(float));
        std::fill(row + copied, row + width * channels, 0.0f);
      }
    }
  };
};

}  // namespace typenet
