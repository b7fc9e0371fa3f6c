// expect: unknown layer option
// expect: MaxPool<2, typenet::Relu>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<8, 8, 1>, MaxPool<2, Relu>>;
Bad::plan* p;
