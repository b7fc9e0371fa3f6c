// The Winograd F(4x4, 3x3) kernels against their reference (the same algorithm in double) and
// against the direct convolution's reference, within 1e-5 of the sum of the direct terms'
// magnitudes: forward on tile-row ranges and by teams of threads, the kernel and input gradients, odd channel and
// filter counts, outputs that end in partial tiles, images wider than the windows read; on
// every Highway target.
#include <algorithm>
#include <barrier>
#include <cstddef>
#include <cstring>
#include <limits>
#include <thread>

#include "kernel_test_support.h"
#include "typenet/kernels/winograd.hpp"

namespace {

using typenet::kernels::Trans;
namespace kernels = typenet::kernels;
namespace testing = typenet::kernels::testing;
namespace winograd = typenet::kernels::winograd;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  std::size_t h, w, c, filters;
  std::size_t oh() const { return h - 2; }
  std::size_t ow() const { return w - 2; }
  std::size_t pixels() const { return oh() * ow(); }
  std::size_t patch() const { return 9 * c; }
};

constexpr Case kCases[] = {
    {26, 26, 32, 64},   // conv2 of the seed CNN: 6 x 6 whole tiles
    {11, 13, 9, 7},     // partial tiles both ways, a channel and filters past whole vectors
    {16, 16, 64, 128},  // a Conv64/128 layer (Same padding's frame around 14 x 14)
    {6, 30, 16, 24},    // one tile row
    {3, 3, 8, 8},       // one pixel
};

std::string describe(const Case& g) {
  return std::to_string(g.h) + "x" + std::to_string(g.w) + "x" + std::to_string(g.c) + " -> " +
         std::to_string(g.filters);
}

// A bound no smaller than `fraction` of the largest: Winograd's rounding is relative to the
// magnitudes of the whole tile a result comes from, which its own direct terms may not show
// (an output pixel alone in its tile gives each kernel gradient one term).
std::vector<float> floored(std::vector<float> bound, float fraction) {
  float largest = 0.0f;
  for (const float value : bound) largest = std::max(largest, value);
  for (float& value : bound) value = std::max(value, fraction * largest);
  return bound;
}

std::vector<float> transformed(const std::vector<float>& kernel, const Case& g, bool transposed) {
  std::vector<float> u(winograd::kernel_floats(g.c, g.filters), kNaN);
  kernels::winograd_kernel_transform(kernel.data(), g.c, g.filters, transposed, u.data());
  return u;
}

// The points' matrices of a transformed kernel, without the padding between them.
std::vector<float> points_of(const std::vector<float>& u, const Case& g) {
  const std::size_t plane = g.c * g.filters;
  std::vector<float> points(winograd::kPoints * plane);
  for (std::size_t p = 0; p < winograd::kPoints; ++p)
    std::copy_n(u.begin() + std::ptrdiff_t(p * winograd::point_stride(plane)), plane,
                points.begin() + std::ptrdiff_t(p * plane));
  return points;
}

TEST_CASE("winograd_kernel_transform equals its reference, u and its transpose") {
  std::mt19937 rng(11);
  for (const Case& g : kCases) {
    INFO(describe(g));
    const std::vector<float> kernel = testing::random_floats(g.patch() * g.filters, rng);
    std::vector<float> u(winograd::kernel_floats(g.c, g.filters)), ut(u.size());
    kernels::reference::winograd_kernel_transform(kernel.data(), g.c, g.filters, false, u.data());
    kernels::reference::winograd_kernel_transform(kernel.data(), g.c, g.filters, true, ut.data());
    const std::vector<float> expected = points_of(u, g), expected_t = points_of(ut, g);
    testing::for_each_target([&] {
      testing::check_close(points_of(transformed(kernel, g, false), g), expected,
                           testing::own_magnitude(expected, 1.0f));
      testing::check_close(points_of(transformed(kernel, g, true), g), expected_t,
                           testing::own_magnitude(expected_t, 1.0f));
    });
  }
}

TEST_CASE("winograd_conv_forward equals the direct convolution, on tile-row ranges") {
  std::mt19937 rng(12);
  for (const Case& g : kCases) {
    INFO(describe(g));
    const std::vector<float> image = testing::random_floats(g.h * g.w * g.c, rng);
    const std::vector<float> kernel = testing::random_floats(g.patch() * g.filters, rng);
    const std::vector<float> bias = testing::random_floats(g.filters, rng);
    const std::size_t outputs = g.pixels() * g.filters;
    std::vector<float> direct(outputs), bound(outputs), expected(outputs);
    kernels::reference::conv_forward(image.data(), g.w, g.c, 3, 3, 1, g.ow(), 0, g.pixels(),
                                     kernel.data(), g.filters, bias.data(), direct.data());
    kernels::reference::conv_forward(testing::absolute(image).data(), g.w, g.c, 3, 3, 1, g.ow(), 0,
                                     g.pixels(), testing::absolute(kernel).data(), g.filters,
                                     testing::absolute(bias).data(), bound.data());
    std::vector<float> u_reference(winograd::kernel_floats(g.c, g.filters));
    kernels::reference::winograd_kernel_transform(kernel.data(), g.c, g.filters, false,
                                                  u_reference.data());
    kernels::reference::winograd_conv_forward(image.data(), g.w, g.c, g.oh(), g.ow(), 0,
                                              winograd::tiles(g.oh()), u_reference.data(),
                                              g.filters, bias.data(), expected.data(), nullptr);
    testing::check_close(expected, direct, bound);
    testing::for_each_target([&] {
      const std::vector<float> u = transformed(kernel, g, false);
      std::vector<float> scratch(winograd::forward_scratch_floats(g.ow(), g.c, g.filters), kNaN);
      std::vector<float> whole(outputs, kNaN);
      kernels::winograd_conv_forward(image.data(), g.w, g.c, g.oh(), g.ow(), 0,
                                     winograd::tiles(g.oh()), u.data(), g.filters, bias.data(),
                                     whole.data(), scratch.data());
      testing::check_close(whole, direct, bound);
      testing::check_close(whole, expected, bound);
      // Tile row by tile row, as a team splits it: the same bits, nothing outside written.
      std::vector<float> rows(outputs, kNaN);
      for (std::size_t ty = 0; ty < winograd::tiles(g.oh()); ++ty) {
        kernels::winograd_conv_forward(image.data(), g.w, g.c, g.oh(), g.ow(), ty, ty + 1, u.data(),
                                       g.filters, bias.data(), rows.data(), scratch.data());
        const std::size_t written = std::min(g.oh(), (ty + 1) * winograd::kTile) * g.ow();
        for (std::size_t i = written * g.filters; i < outputs; ++i) REQUIRE(std::isnan(rows[i]));
      }
      CHECK(std::memcmp(rows.data(), whole.data(), outputs * sizeof(float)) == 0);
      // By teams of two and three threads sharing one scratch, each member its part of the
      // windows and of the filters: the same bits.
      for (const std::size_t members : {2, 3}) {
        std::vector<float> shared(outputs, kNaN);
        std::barrier<> barrier{std::ptrdiff_t(members)};
        auto wait = [](const void* team) {
          static_cast<std::barrier<>*>(const_cast<void*>(team))->arrive_and_wait();
        };
        std::vector<std::thread> team;
        for (std::size_t member = 0; member < members; ++member)
          team.emplace_back([&, member] {
            kernels::winograd_conv_forward(image.data(), g.w, g.c, g.oh(), g.ow(), 0,
                                           winograd::tiles(g.oh()), u.data(), g.filters,
                                           bias.data(), shared.data(), scratch.data(),
                                           typenet::KernelTeam{member, members, wait, &barrier});
          });
        for (std::thread& thread : team) thread.join();
        CHECK(std::memcmp(shared.data(), whole.data(), outputs * sizeof(float)) == 0);
      }
    });
  }
}

TEST_CASE("winograd_conv_backward gives the direct convolution's kernel and image gradients") {
  std::mt19937 rng(13);
  for (const Case& g : kCases) {
    INFO(describe(g));
    const std::vector<float> image = testing::random_floats(g.h * g.w * g.c, rng);
    const std::vector<float> kernel = testing::random_floats(g.patch() * g.filters, rng);
    const std::vector<float> dy = testing::random_floats(g.pixels() * g.filters, rng);
    const std::vector<float> earlier_dkernel = testing::random_floats(kernel.size(), rng);
    const std::vector<float> earlier_dimage = testing::random_floats(image.size(), rng);
    const auto patches = [&](const std::vector<float>& of) {
      std::vector<float> col(g.pixels() * g.patch());
      kernels::reference::im2col(of.data(), g.h, g.w, g.c, 3, 3, 1, 0, 0, g.oh(), g.ow(),
                                 col.data());
      return col;
    };
    // The direct gradients: col^T dy (+ the earlier gradient), and col2im(dy kernel^T).
    const std::vector<float> col = patches(image), abs_col = patches(testing::absolute(image));
    const auto kernel_grad = [&](const std::vector<float>& c, const std::vector<float>& d,
                                 const std::vector<float>& earlier) {
      std::vector<float> result = earlier;
      kernels::reference::gemm(Trans::Yes, Trans::No, g.patch(), g.filters, g.pixels(), c.data(),
                               g.patch(), d.data(), g.filters, 1.0f, result.data(), g.filters,
                               nullptr);
      return result;
    };
    const auto image_grad = [&](const std::vector<float>& d, const std::vector<float>& k,
                                const std::vector<float>& earlier) {
      std::vector<float> dcol(col.size());
      kernels::reference::gemm(Trans::No, Trans::Yes, g.pixels(), g.patch(), g.filters, d.data(),
                               g.filters, k.data(), g.filters, 0.0f, dcol.data(), g.patch(),
                               nullptr);
      std::vector<float> result = earlier;
      kernels::reference::col2im_add(dcol.data(), g.h, g.w, g.c, 3, 3, 1, 0, 0, g.oh(), g.ow(),
                                     result.data());
      return result;
    };
    const std::vector<float> abs_dy = testing::absolute(dy);
    const std::vector<float> dkernel = kernel_grad(col, dy, earlier_dkernel);
    const std::vector<float> dkernel_bound =
        floored(kernel_grad(abs_col, abs_dy, testing::absolute(earlier_dkernel)), 0.1f);
    const std::vector<float> dimage = image_grad(dy, kernel, earlier_dimage);
    const std::vector<float> dimage_bound =
        image_grad(abs_dy, testing::absolute(kernel), testing::absolute(earlier_dimage));
    // A second image of the batch, whose kernel gradient's points add to the first's.
    const std::vector<float> image2 = testing::random_floats(image.size(), rng);
    const std::vector<float> dy2 = testing::random_floats(dy.size(), rng);
    const std::vector<float> zeros(kernel.size(), 0.0f);
    const std::vector<float> batch_dkernel =
        kernel_grad(patches(image2), dy2, kernel_grad(col, dy, zeros));
    const std::vector<float> batch_bound =
        floored(kernel_grad(patches(testing::absolute(image2)), testing::absolute(dy2),
                            kernel_grad(abs_col, abs_dy, zeros)),
                0.1f);
    const std::size_t points = winograd::kernel_floats(g.c, g.filters);
    std::vector<float> ut_reference(points);
    kernels::reference::winograd_kernel_transform(kernel.data(), g.c, g.filters, true,
                                                  ut_reference.data());
    {
      std::vector<float> reference_dkernel = earlier_dkernel, reference_dimage = earlier_dimage;
      std::vector<float> du(points, kNaN);
      kernels::reference::winograd_conv_backward(image.data(), g.w, g.c, g.oh(), g.ow(), dy.data(),
                                                 ut_reference.data(), g.filters, false, du.data(),
                                                 reference_dimage.data(), nullptr);
      kernels::reference::winograd_kernel_gradient(du.data(), g.c, g.filters, 1.0f,
                                                   reference_dkernel.data());
      testing::check_close(reference_dkernel, dkernel, dkernel_bound);
      testing::check_close(reference_dimage, dimage, dimage_bound);
    }
    testing::for_each_target([&] {
      const std::vector<float> ut = transformed(kernel, g, true);
      std::vector<float> scratch(winograd::backward_scratch_floats(g.ow(), g.c, g.filters), kNaN);
      std::vector<float> du(points, kNaN);
      std::vector<float> got_dkernel = earlier_dkernel, got_dimage = earlier_dimage;
      kernels::winograd_conv_backward(image.data(), g.w, g.c, g.oh(), g.ow(), dy.data(), ut.data(),
                                      g.filters, false, du.data(), got_dimage.data(),
                                      scratch.data());
      kernels::winograd_kernel_gradient(du.data(), g.c, g.filters, 1.0f, got_dkernel.data());
      testing::check_close(got_dkernel, dkernel, dkernel_bound);
      testing::check_close(got_dimage, dimage, dimage_bound);
      // Two images' points summed (no image gradient leaves no trace), then beta 0 assigns.
      std::fill(du.begin(), du.end(), kNaN);
      kernels::winograd_conv_backward(image.data(), g.w, g.c, g.oh(), g.ow(), dy.data(), nullptr,
                                      g.filters, false, du.data(), nullptr, scratch.data());
      kernels::winograd_conv_backward(image2.data(), g.w, g.c, g.oh(), g.ow(), dy2.data(), nullptr,
                                      g.filters, true, du.data(), nullptr, scratch.data());
      std::vector<float> assigned(kernel.size(), kNaN);
      kernels::winograd_kernel_gradient(du.data(), g.c, g.filters, 0.0f, assigned.data());
      testing::check_close(assigned, batch_dkernel, batch_bound);
    });
  }
}

}  // namespace
