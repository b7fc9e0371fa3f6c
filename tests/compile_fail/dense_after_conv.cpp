// expect: Dense needs a flat input
// expect: BindChain<2, typenet::Shape<26, 26, 8>, typenet::Dense<10>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<28, 28, 1>, Conv<8, 3>, Dense<10>>;
Bad::plan* p;
