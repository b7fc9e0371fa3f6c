// expect: MaxPool supports Valid padding only
// expect: MaxPool<2, typenet::Same>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<8, 8, 1>, MaxPool<2, Same>>; Bad::plan* p;
