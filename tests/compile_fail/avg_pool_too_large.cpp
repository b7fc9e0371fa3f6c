// expect: AvgPool window is larger than its input
// expect: BindChain<1, typenet::Shape<3, 3, 2>, typenet::AvgPool<4>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<3, 3, 2>, AvgPool<4>>;
Bad::plan* p;
