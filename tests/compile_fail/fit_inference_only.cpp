// expect: typenet: fit: this Net has a layer that cannot train yet (an inference-only layer
#include <typenet/typenet.hpp>
using namespace typenet;
// A layer that says it cannot train (layers/layer.hpp, "Inference-only layers").
struct PredictOnly {
  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr bool trains = false;
    static constexpr LayerInfo info() { return layer_info<bind>("PredictOnly", "PredictOnly"); }
  };
};
using Untrainable = Net<Input<4>, Dense<3>, PredictOnly, Dense<2, Softmax>>;
void train(Untrainable& net, const Samples<std::uint8_t>& data) {
  auto model = compile(net, Adam{}, SparseCategoricalCrossentropy{});
  model.fit(data);
}
