// expect: unknown layer option
// expect: Conv<8, 3, Full>
#include <typenet/typenet.hpp>
using namespace typenet;
struct Full {};
using Bad = Net<Input<28, 28, 1>, Conv<8, 3, Full>>;
Bad::plan* p;
