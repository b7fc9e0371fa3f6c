// expect-success: the harness itself compiles a good net, so a broken include path cannot pass
// every failure test for the wrong reason.
#include <typenet/typenet.hpp>
using namespace typenet;
using Good = Net<Input<28, 28, 1>, Conv<8, 3, Relu>, MaxPool<2>, Flatten, Dense<10, Softmax>>;
static_assert(Good::param_count == 80 + 13 * 13 * 8 * 10 + 10);
