// expect: Input may only be the first layer
// expect: Input<10>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<8>, Dense<10>, Input<10>>;
Bad::plan* p;
