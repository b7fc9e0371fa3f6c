// expect: MaxPool window is larger than its input
// expect: BindChain<2, typenet::Shape<3, 3, 2>, typenet::MaxPool<4>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<5, 5, 1>, Conv<2, 3>, MaxPool<4>>;
Bad::plan* p;
