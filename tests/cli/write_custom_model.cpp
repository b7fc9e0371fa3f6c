// Writes a typenet model file of an architecture the tool has no built-in type for (seeded, not
// trained), for tests/cli's any_model case: write_custom_model FILE.
#include <cstdio>
#include <memory>

#include <typenet/typenet.hpp>

using Custom = typenet::Net<typenet::Input<28, 28, 1>, typenet::Conv<4, 3, typenet::Relu>,
                            typenet::MaxPool<2>, typenet::Flatten, typenet::Dense<10>>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_custom_model FILE\n");
    return 2;
  }
  typenet::save(*std::make_unique<Custom>(3), argv[1]);
  return 0;
}
