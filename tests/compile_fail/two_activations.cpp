// expect: more than one activation
// expect: Dense<10, typenet::Relu, typenet::Tanh>
#include <typenet/typenet.hpp>
using namespace typenet;
using Bad = Net<Input<8>, Dense<10, Relu, Tanh>>;
Bad::plan* p;
