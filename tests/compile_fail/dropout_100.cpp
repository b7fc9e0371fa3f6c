// expect: Dropout<Percent> needs Percent < 100
// expect: Dropout<100>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<8>, Dropout<100>>;
Bad::plan* p;
