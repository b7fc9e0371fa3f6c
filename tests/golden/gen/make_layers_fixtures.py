#!/usr/bin/env python3
"""Golden fixtures of the activations selu, elu, leaky_relu, gelu, swish/silu and softplus (as
activation strings and as layers: Activation, LeakyReLU, ELU) and of the layers
AveragePooling2D, Rescaling and Reshape; see make_fixtures.py for the formats.

    /path/to/venv/bin/python tests/golden/gen/make_layers_fixtures.py    # writes tests/golden/
    /path/to/venv/bin/python tests/golden/gen/make_layers_fixtures.py check-export DIR
        # as make_fixtures.py check-export, for these models (Keras 3 only where tf_keras lacks
        # a layer or activation)
"""
import pathlib
import sys

import numpy as np

from make_fixtures import (GOLDEN, SAMPLES, TOLERANCE, keras, randomize, export_gap, tf_keras,
                           write_expected)


def layers_cnn(k):
    """An (h, w) input made an image by Reshape after Rescaling(1/255), a selu convolution,
    AveragePooling2D same with stride 2 (clipped windows at the bottom and right), gelu Dense,
    a LeakyReLU layer, softmax head."""
    L = k.layers
    return k.Sequential([
        k.Input((10, 10)),
        L.Rescaling(1 / 255),
        L.Reshape((10, 10, 1)),
        L.Conv2D(4, 3, activation="selu"),
        L.AveragePooling2D(3, strides=2, padding="same"),
        L.Flatten(),
        L.Dense(8, activation="gelu"),
        L.LeakyReLU(0.1),
        L.Dense(5, activation="softmax"),
    ])


def layers_conv_avgpool(k):
    """Rescaling(1/127.5, offset=-1), a same swish convolution, valid AveragePooling2D, an
    elu convolution, AvgPool2D same with stride 1, softplus Dense."""
    L = k.layers
    return k.Sequential([
        k.Input((9, 8, 2)),
        L.Rescaling(1 / 127.5, offset=-1),
        L.Conv2D(3, 3, padding="same", activation="swish"),
        L.AveragePooling2D(2),
        L.Conv2D(4, 2, activation="elu"),
        L.AvgPool2D(2, strides=1, padding="same"),
        L.Flatten(),
        L.Dense(3, activation="softplus"),
    ])


def layers_activations(k):
    """Every new activation as a stand-alone layer, a rank-2 input through Flatten, ELU with
    alpha 0.5, and Reshape with a -1."""
    L = k.layers
    return k.Sequential([
        k.Input((4, 3)),
        L.Flatten(),
        L.Dense(8),
        L.Activation("selu"),
        L.Dense(8),
        L.Activation("gelu"),
        L.Dense(6),
        L.Activation("swish"),
        L.Reshape((-1, 2)),
        L.Flatten(),
        L.Dense(6),
        L.Activation("softplus"),
        L.Dense(6),
        L.Activation("elu"),
        L.Dense(4),
        L.ELU(0.5),
        L.Dense(3),
    ])


def layers_keras3(k):
    """Keras 3's own spellings: activation strings 'leaky_relu' (slope 0.2) and 'silu', and
    LeakyReLU's default slope (0.3)."""
    L = k.layers
    return k.Sequential([
        k.Input((7,)),
        L.Dense(5, activation="leaky_relu"),
        L.Dense(4, activation="silu"),
        L.LeakyReLU(),
        L.Dense(3),
    ])


# name: (builder, input range, whether tf_keras has every layer and activation)
MODELS = {
    "layers_cnn": (layers_cnn, (0, 255), True),
    "layers_conv_avgpool": (layers_conv_avgpool, (0, 255), True),
    "layers_activations": (layers_activations, (-2, 2), True),
    "layers_keras3": (layers_keras3, (-2, 2), False),
}


def generate():
    keras.utils.set_random_seed(20240602)
    rng = np.random.default_rng(20240602)
    for name, (build, (low, high), tf_keras_too) in MODELS.items():
        k3 = build(keras)
        randomize(k3, rng)
        input_shape = k3.input_shape[1:]
        inputs = rng.uniform(low, high, (SAMPLES, *input_shape)).astype(np.float32)
        outputs = k3.predict(inputs, verbose=0)
        k3.save(GOLDEN / f"{name}.keras")
        note = "outputs of Keras 3"
        if tf_keras_too:
            k2 = build(tf_keras)
            k2.set_weights(k3.get_weights())
            gap = np.abs(k2.predict(inputs, verbose=0) - outputs).max()
            assert gap < TOLERANCE, f"{name}: Keras 3 and tf_keras disagree by {gap}"
            k2.save(GOLDEN / f"{name}.h5", save_format="h5")
            note += " (tf_keras agrees within 1e-6)"
        write_expected(GOLDEN / f"{name}.expected.txt", name, input_shape, inputs, outputs, note)
    print("done")


def check_export(directory):
    worst = 0.0
    for name, (build, _, tf_keras_too) in MODELS.items():
        exported = pathlib.Path(directory) / f"{name}.h5"
        if not exported.exists():
            continue
        frameworks = (keras, tf_keras) if tf_keras_too else (keras,)
        worst = max(worst, export_gap(name, build, frameworks, exported))
    assert worst < 1e-5, worst


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check-export":
        check_export(sys.argv[2])
    else:
        generate()
