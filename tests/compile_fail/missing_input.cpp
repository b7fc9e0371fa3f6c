// expect: the first layer of a Net must be Input
// expect: Net<typenet::Conv<32, 3>
#include <typenet/typenet.hpp>
using namespace typenet;
Net<Conv<32, 3>, Flatten, Dense<10>> bad;
