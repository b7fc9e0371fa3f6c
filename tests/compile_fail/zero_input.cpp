// expect: Input dimensions must be positive
// expect: Input<0, 28, 1>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<0, 28, 1>, Flatten, Dense<10>>;
Bad::plan* p;
