// expect: Conv needs an HxWxC image input
// expect: BindChain<1, typenet::Shape<784>, typenet::Conv<8, 3>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<784>, Conv<8, 3>>;
Bad::plan* p;
