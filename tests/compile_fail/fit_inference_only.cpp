// expect: typenet: fit: this Net has a layer that cannot train yet (an inference-only layer such as BatchNorm
#include <typenet/typenet.hpp>
using namespace typenet;
using Bn = Net<Input<4>, Dense<3>, BatchNorm<>, Dense<2, Softmax>>;
void train(Bn& net, const Samples<std::uint8_t>& data) {
  auto model = compile(net, Adam{}, SparseCategoricalCrossentropy{});
  model.fit(data);
}
