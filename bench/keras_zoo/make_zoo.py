#!/usr/bin/env python3
"""Makes a zoo of Keras MNIST models like those in public repositories, for bench/keras_zoo/check.sh.

Each model is built the way tutorials build it (Sequential or functional, Keras 3 or Keras 2 via
tf_keras, .keras or .h5), trained briefly on real MNIST (so that its predictions mean something),
saved, and Keras' own predicted class for each of the 10,000 test images is written beside it.
The files go to OUT_DIR (outside the project: they are large and made, not sources):

    /path/to/venv/bin/python bench/keras_zoo/make_zoo.py OUT_DIR [MNIST_DIR [MODEL...]]

OUT_DIR/manifest.txt lists one model per line: `file input_scale` where input_scale is `255`
when the model takes pixel/255 floats and `1` when it takes raw 0-255 pixels (it rescales its own
input). OUT_DIR/<file>.pred.txt: one predicted class per test image.
"""
import gzip
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras  # noqa: E402

TRAIN_IMAGES = 12000
EPOCHS = 3
# BatchNormalization's moving statistics follow the batches' within these few hundred steps only
# with a lower momentum than Keras' 0.99 (with 0.99 the models predict one class, and agreeing
# with Keras would say little of them). Inference reads the statistics the same way either way.
BN_MOMENTUM = 0.9


def read_idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(mnist, stem):
    for name in (stem, stem + ".gz"):
        if (mnist / name).exists():
            return mnist / name
    raise SystemExit(f"no {stem} in {mnist}")


def lenet5(k):
    L = k.layers
    return k.Sequential([
        k.Input((32, 32, 1)),
        L.Conv2D(6, 5, activation="tanh"), L.AveragePooling2D(2),
        L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2),
        L.Flatten(), L.Dense(120, activation="tanh"), L.Dense(84, activation="tanh"),
        L.Dense(10, activation="softmax")])


def mlp_784(k):
    L = k.layers
    return k.Sequential([
        k.Input((784,)), L.Dense(512, activation="relu"), L.Dropout(0.2),
        L.Dense(512, activation="relu"), L.Dropout(0.2), L.Dense(10, activation="softmax")])


def mlp_flatten_logits(k):
    L = k.layers
    return k.Sequential([k.Input((28, 28)), L.Flatten(), L.Dense(128, activation="relu"),
                         L.Dense(10)])


def cnn_tutorial(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.25), L.Flatten(),
        L.Dense(128, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")])


def cnn_rescaling(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)), L.Rescaling(1.0 / 255), L.Conv2D(16, 3, padding="same",
                                                             activation="relu"),
        L.MaxPooling2D(), L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(),
        L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10)])


def cnn_batchnorm(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)),
        L.Conv2D(32, 3, use_bias=False), L.BatchNormalization(momentum=BN_MOMENTUM), L.Activation("relu"),
        L.Conv2D(32, 3), L.BatchNormalization(momentum=BN_MOMENTUM), L.Activation("relu"), L.MaxPooling2D(),
        L.Flatten(), L.Dense(128), L.BatchNormalization(momentum=BN_MOMENTUM), L.Activation("relu"),
        L.Dropout(0.3), L.Dense(10, activation="softmax")])


def reshape_784(k):
    L = k.layers
    return k.Sequential([
        k.Input((784,)), L.Reshape((28, 28, 1)), L.Conv2D(8, 5, strides=2, activation="relu"),
        L.Flatten(), L.Dense(10, activation="softmax")])


def reshape_rows(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28)), L.Reshape((28, 28, 1)), L.Conv2D(16, 3, activation="relu"),
        L.MaxPooling2D(2, padding="same"), L.GlobalAveragePooling2D(),
        L.Dense(10, activation="softmax")])


def lstm_rows(k):
    L = k.layers
    return k.Sequential([k.Input((28, 28)), L.LSTM(64), L.Dense(10, activation="softmax")])


def lstm_stacked(k):
    L = k.layers
    return k.Sequential([k.Input((28, 28)), L.LSTM(32, return_sequences=True), L.LSTM(32),
                         L.Dense(10, activation="softmax")])


def resnet_small(k):
    L = k.layers
    inputs = k.Input((28, 28, 1))
    x = L.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    y = L.Conv2D(16, 3, padding="same")(x)
    y = L.BatchNormalization(momentum=BN_MOMENTUM)(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(16, 3, padding="same")(y)
    y = L.BatchNormalization(momentum=BN_MOMENTUM)(y)
    x = L.Activation("relu")(L.Add()([y, x]))
    y = L.Conv2D(32, 3, strides=2, padding="same")(x)
    y = L.BatchNormalization(momentum=BN_MOMENTUM)(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(32, 3, padding="same")(y)
    y = L.BatchNormalization(momentum=BN_MOMENTUM)(y)
    shortcut = L.Conv2D(32, 1, strides=2)(x)
    x = L.Activation("relu")(L.Add()([shortcut, y]))
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs)


def selu_mlp(k):
    L = k.layers
    return k.Sequential([k.Input((784,)), L.Dense(256, activation="selu"),
                         L.Dense(128, activation="selu"), L.Dense(10, activation="softmax")])


def modern_activations(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)), L.Conv2D(16, 3, activation="elu"), L.MaxPooling2D(),
        L.Conv2D(16, 3, activation="swish"), L.Flatten(), L.Dense(64, activation="gelu"),
        L.Dense(32), L.LeakyReLU(), L.Dense(10, activation="softmax")])


def functional_mlp(k):
    L = k.layers
    inputs = k.Input((28, 28, 1), name="digits")
    x = L.Flatten(name="flat")(inputs)
    x = L.Dense(256, activation="relu", name="hidden")(x)
    x = L.Dropout(0.3)(x)
    outputs = L.Dense(10, activation="softmax", name="probabilities")(x)
    return k.Model(inputs, outputs, name="mnist_functional")


def nested_sequential(k):
    L = k.layers
    features = k.Sequential([L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(),
                             L.Flatten()], name="features")
    inputs = k.Input((28, 28, 1))
    outputs = L.Dense(10, activation="softmax")(features(inputs))
    return k.Model(inputs, outputs)


def strided_gap(k):
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)), L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        L.GlobalAveragePooling2D(), L.Dense(10, activation="softmax")])


def fixed_batch_cnn(k):
    """Keras 2 tutorials' batch_input_shape with a fixed batch."""
    L = k.layers
    return k.Sequential([
        L.Conv2D(8, 3, activation="relu", batch_input_shape=(32, 28, 28, 1)), L.MaxPooling2D(),
        L.Flatten(), L.Dense(10, activation="softmax")])


# name, builder, framework ("k3": Keras 3, "k2": tf_keras), file suffix, takes raw pixels
MODELS = [
    ("lenet5_avgpool", lenet5, "k2", ".h5", False),
    ("mlp_784", mlp_784, "k2", ".h5", False),
    ("mlp_784_k3", mlp_784, "k3", ".keras", False),
    ("mlp_flatten_logits", mlp_flatten_logits, "k3", ".keras", False),
    ("cnn_tutorial", cnn_tutorial, "k3", ".keras", False),
    ("cnn_tutorial_k2", cnn_tutorial, "k2", ".h5", False),
    ("cnn_tutorial_k3_h5", cnn_tutorial, "k3", ".h5", False),
    ("cnn_rescaling", cnn_rescaling, "k3", ".keras", True),
    ("cnn_batchnorm", cnn_batchnorm, "k3", ".keras", False),
    ("cnn_batchnorm_k2", cnn_batchnorm, "k2", ".h5", False),
    ("reshape_784", reshape_784, "k2", ".h5", False),
    ("reshape_rows", reshape_rows, "k3", ".keras", False),
    ("lstm_rows", lstm_rows, "k3", ".keras", False),
    ("lstm_stacked_k2", lstm_stacked, "k2", ".h5", False),
    ("resnet_small", resnet_small, "k3", ".keras", False),
    ("resnet_small_k2", resnet_small, "k2", ".h5", False),
    ("selu_mlp", selu_mlp, "k2", ".h5", False),
    ("modern_activations", modern_activations, "k3", ".keras", False),
    ("functional_mlp", functional_mlp, "k2", ".h5", False),
    ("nested_sequential", nested_sequential, "k3", ".keras", False),
    ("strided_gap", strided_gap, "k3", ".keras", False),
    ("fixed_batch_cnn", fixed_batch_cnn, "k2", ".h5", False),
]


def shaped(images, model):
    shape = model.input_shape[1:]
    if shape == (32, 32, 1):
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return images.reshape((len(images),) + tuple(shape))


def main():
    out = pathlib.Path(sys.argv[1])
    mnist = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data/mnist")
    only = set(sys.argv[3:])
    out.mkdir(parents=True, exist_ok=True)
    x_train = read_idx(find(mnist, "train-images-idx3-ubyte"))[:TRAIN_IMAGES].astype("float32")
    y_train = read_idx(find(mnist, "train-labels-idx1-ubyte"))[:TRAIN_IMAGES]
    x_test = read_idx(find(mnist, "t10k-images-idx3-ubyte")).astype("float32")
    manifest = []
    for name, build, framework, suffix, raw in MODELS:
        file = name + suffix
        manifest.append(f"{file} {1 if raw else 255}")
        if only and name not in only:
            continue
        k = keras if framework == "k3" else tf_keras
        k.utils.set_random_seed(1)
        model = build(k)
        scale = 1.0 if raw else 255.0
        logits = model.layers[-1].get_config().get("activation") != "softmax"
        model.compile("adam", k.losses.SparseCategoricalCrossentropy(from_logits=logits))
        model.fit(shaped(x_train / scale, model), y_train, batch_size=128, epochs=EPOCHS, verbose=0)
        model.save(out / file)
        predicted = model.predict(shaped(x_test / scale, model), batch_size=500, verbose=0)
        np.savetxt(out / (file + ".pred.txt"), predicted.argmax(axis=1), fmt="%d")
        print(file, "saved", flush=True)
    (out / "manifest.txt").write_text("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
