// expect: a Residual's main branch and shortcut must produce the same shape
// expect: MainOut = typenet::Shape<4, 4, 6>; ShortcutOut = typenet::Shape<8, 8, 4>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad =
    Net<Input<8, 8, 4>, Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>>>, Flatten, Dense<2>>;
Bad::plan* p;
