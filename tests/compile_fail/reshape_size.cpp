// expect: Reshape<Extents...> must hold as many values as its input
// expect: BindChain<1, typenet::Shape<28, 28>, typenet::Reshape<28, 27, 1>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<28, 28>, Reshape<28, 27, 1>, Flatten, Dense<10>>;
Bad::plan* p;
