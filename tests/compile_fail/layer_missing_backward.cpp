// expect: a layer's bind<In> needs `static void backward(
// expect: BindChain<1, typenet::Shape<4>, NoBackward,
#include <typenet/typenet.hpp>
using namespace typenet;
struct NoBackward {
  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr LayerInfo info() { return layer_info<bind>("NoBackward", "NoBackward"); }
    static void backward() noexcept {}
  };
};
using Bad = Net<Input<4>, NoBackward, Dense<2>>;
Bad::plan* p;
