// meson test: the classes mnist_embedded predicted (one per line) against the first column of a
// Keras outputs file (`predicted_class p0 ... p9` per image, ../shared/keras/*.test_pred.txt).
//
//   check_classes PREDICTIONS KERAS_OUTPUTS
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The first number of each line; false when the file cannot be read or a line has none.
bool read_first_column(const char* path, std::vector<int>& classes) {
  std::ifstream in(path);
  if (!in) return false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    int k;
    if (!(fields >> k)) return false;
    classes.push_back(k);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PREDICTIONS KERAS_OUTPUTS\n", argv[0]);
    return 2;
  }
  std::vector<int> ours, keras;
  for (const auto& [path, classes] : {std::pair{argv[1], &ours}, std::pair{argv[2], &keras}})
    if (!read_first_column(path, *classes)) {
      std::fprintf(stderr, "%s: cannot read, or a line does not start with a class\n", path);
      return 1;
    }
  if (ours.size() != keras.size() || ours.empty()) {
    std::fprintf(stderr, "%zu predictions, %zu Keras outputs\n", ours.size(), keras.size());
    return 1;
  }
  std::size_t differences = 0;
  for (std::size_t i = 0; i < ours.size(); ++i)
    if (ours[i] != keras[i] && ++differences <= 10)
      std::fprintf(stderr, "image %zu: class %d, Keras %d\n", i, ours[i], keras[i]);
  std::printf("%zu of %zu classes as Keras'\n", ours.size() - differences, ours.size());
  return differences == 0 ? 0 : 1;
}
