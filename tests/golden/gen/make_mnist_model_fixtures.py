#!/usr/bin/env python3
"""Small real MNIST models whose architectures the typenet tool has no built-in type for, trained
briefly by real Keras, for the tool's "any model file" route (tests/cli) and embedded weights.

    .venv-keras/bin/python tests/golden/gen/make_mnist_model_fixtures.py ../shared/data/mnist

Writes tests/golden/<name>.{keras,h5} and <name>.keras_correct.txt: the number of the 10,000 MNIST
test images that Keras' own predictions classify correctly, each input fed as the model expects it
(raw pixels to a model that starts with Rescaling; x / 255 zero-padded to 32 x 32 for the LeNet).
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

GOLDEN = pathlib.Path(__file__).resolve().parent.parent


def read_idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def mnist(directory):
    d = pathlib.Path(directory)
    x_train = read_idx(d / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    y_train = read_idx(d / "train-labels-idx1-ubyte.gz", 8)
    x_test = read_idx(d / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    y_test = read_idx(d / "t10k-labels-idx1-ubyte.gz", 8)
    return x_train.astype("float32"), y_train, x_test.astype("float32"), y_test


def rescaling_cnn(k):
    """Keras 3: raw pixels in, Rescaling(1/255) first, two small convolutions."""
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)), L.Rescaling(1 / 255), L.Conv2D(8, 3, activation="relu"),
        L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
        L.Dense(10, activation="softmax")])


def lenet_padded(k):
    """Keras 2 (tf_keras): LeNet's 32 x 32 input (MNIST zero-padded by 2), average pooling."""
    L = k.layers
    return k.Sequential([
        k.Input((32, 32, 1)), L.Conv2D(4, 5, activation="tanh"), L.AveragePooling2D(2),
        L.Conv2D(8, 5, activation="relu"), L.AveragePooling2D(2), L.Flatten(),
        L.Dense(10, activation="softmax")])


def main():
    x_train, y_train, x_test, y_test = mnist(sys.argv[1])
    pad = ((0, 0), (2, 2), (2, 2), (0, 0))
    cases = [
        ("mnist_rescaling_cnn", rescaling_cnn, keras, ".keras", lambda x: x),
        ("mnist_lenet_padded", lenet_padded, tf_keras, ".h5", lambda x: np.pad(x / 255, pad)),
    ]
    for name, build, k, suffix, shaped in cases:
        k.utils.set_random_seed(1)
        model = build(k)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(shaped(x_train), y_train, batch_size=128, epochs=1, verbose=0)
        model.save(GOLDEN / (name + suffix))
        predicted = model.predict(shaped(x_test), batch_size=500, verbose=0).argmax(axis=1)
        correct = int((predicted == y_test).sum())
        (GOLDEN / (name + ".keras_correct.txt")).write_text(f"{correct}\n")
        print(name + suffix, "correct", correct)


if __name__ == "__main__":
    main()
