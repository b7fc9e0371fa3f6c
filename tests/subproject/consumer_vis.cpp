// An app that writes and reads pictures: typenet-vis.
#include <typenet/vis/vis.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  std::vector<std::uint8_t> pixels(16 * 8);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t(i * 2);
  typenet::vis::write_png("consumer_vis.png", pixels, 16, 8, typenet::vis::PixelFormat::gray);
  const typenet::vis::GrayImage image = typenet::vis::read_image("consumer_vis.png");
  bool same = image.width == 16 && image.height == 8;
  for (std::size_t i = 0; same && i < pixels.size(); ++i)
    same = image.pixels[i] == float(pixels[i]);
  std::printf("PNG round trip: %s\n", same ? "same" : "DIFFERENT");
  return same ? 0 : 1;
}
