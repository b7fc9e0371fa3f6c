// expect: Conv kernel is larger than its input
// expect: BindChain<1, typenet::Shape<4, 4, 1>, typenet::Conv<8, 5>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<4, 4, 1>, Conv<8, 5>>;
Bad::plan* p;
