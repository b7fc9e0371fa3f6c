#!/usr/bin/env python3
"""Golden fixtures of what real Keras files hold beyond the basic ones of make_fixtures.py: the
loader's and export-cpp's cases. Made with tf_keras (Keras 2 .h5 files); run as
make_fixtures.py (same environment); writes tests/golden/.

    fixed_batch.h5          an Input with a fixed batch size (batch_input_shape [3, 6, 6, 1])
    nested_sequential.{h5,keras} a functional model whose middle is a Sequential model (the
                            .keras: the same model and weights rebuilt in Keras 3)
    lenet_avgpool_weights.h5 a weights-only LeNet-5-like model with AveragePooling2D (layer_names
                            name the weightless layers too)
    custom_names_weights.h5 a weights-only file whose layers have custom names ("hidden", "scores")
    dilated_conv.h5, locally_connected.h5, free_input.h5
                            models export-cpp refuses: a dilated Conv2D, a layer class typenet
                            lacks, an input with a free (None) size
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tf_keras  # noqa: E402

from make_fixtures import GOLDEN, SAMPLES, randomize, write_expected  # noqa: E402

L = tf_keras.layers


def save_with_outputs(model, name, rng, note):
    randomize(model, rng)
    input_shape = model.input_shape[1:]
    inputs = rng.uniform(0, 1, (SAMPLES, *input_shape)).astype(np.float32)
    write_expected(GOLDEN / f"{name}.expected.txt", name, input_shape, inputs,
                   model.predict(inputs, verbose=0), note)
    model.save(GOLDEN / f"{name}.h5", save_format="h5")


def fixed_batch(rng):
    model = tf_keras.Sequential([
        tf_keras.Input((6, 6, 1), batch_size=3),
        L.Conv2D(2, 3, activation="relu"),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])
    # predict runs any batch size; the file records the fixed one.
    save_with_outputs(model, "fixed_batch", rng, "outputs of tf_keras; the input's batch is 3")


def nested_sequential(rng):
    inner = tf_keras.Sequential([L.Dense(6, activation="relu"), L.Dense(5, activation="tanh")],
                                name="inner")
    inputs = tf_keras.Input((4,))
    outputs = L.Dense(3, activation="softmax")(inner(inputs))
    model = tf_keras.Model(inputs, outputs)
    save_with_outputs(model, "nested_sequential", rng, "outputs of tf_keras")
    nested_sequential_keras3(model)


def nested_sequential_keras3(model):
    import keras
    inner = keras.Sequential([keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(5, activation="tanh")], name="inner")
    inputs = keras.Input((4,))
    twin = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inner(inputs)))
    twin.set_weights(model.get_weights())
    twin.save(GOLDEN / "nested_sequential.keras")


def lenet_avgpool_weights(rng):
    tf_keras.backend.clear_session()
    model = tf_keras.Sequential([
        tf_keras.Input((12, 12, 1)),
        L.Conv2D(2, 3, activation="relu"),
        L.AveragePooling2D(2),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])
    randomize(model, rng)
    model.save_weights(GOLDEN / "lenet_avgpool_weights.h5", save_format="h5")


def custom_names_weights(rng):
    model = tf_keras.Sequential([
        tf_keras.Input((5,)),
        L.Dense(4, activation="relu", name="hidden"),
        L.Dense(2, name="scores"),
    ])
    randomize(model, rng)
    model.save_weights(GOLDEN / "custom_names_weights.h5", save_format="h5")


def unsupported():
    tf_keras.backend.clear_session()  # Keras' default layer names: conv2d, flatten, ...
    tf_keras.Sequential([
        tf_keras.Input((8, 8, 1)),
        L.Conv2D(2, 3, dilation_rate=2),
        L.Flatten(),
    ]).save(GOLDEN / "dilated_conv.h5", save_format="h5")
    tf_keras.backend.clear_session()
    tf_keras.Sequential([
        tf_keras.Input((6, 6, 1)),
        L.Conv2D(2, 3),
        L.LocallyConnected2D(2, 3),
        L.Flatten(),
    ]).save(GOLDEN / "locally_connected.h5", save_format="h5")
    tf_keras.backend.clear_session()
    tf_keras.Sequential([
        tf_keras.Input((None, 4)),
        L.Dense(2),
    ]).save(GOLDEN / "free_input.h5", save_format="h5")


if __name__ == "__main__":
    tf_keras.utils.set_random_seed(20240602)
    rng = np.random.default_rng(20240602)
    fixed_batch(rng)
    nested_sequential(rng)
    lenet_avgpool_weights(rng)
    unsupported()
    custom_names_weights(rng)
