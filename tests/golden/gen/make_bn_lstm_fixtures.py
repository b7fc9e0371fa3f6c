#!/usr/bin/env python3
"""Builds the golden fixtures of BatchNormalization and LSTM (tests/golden/bn_*, lstm_*) with real
Keras, in the format of make_fixtures.py (whose helpers it reuses).

Moving statistics, gamma and beta are random (a BatchNormalization with its initial weights is
the identity up to epsilon, which would test nothing), and so are the LSTM's weights.

    .venv-keras/bin/python tests/golden/gen/make_bn_lstm_fixtures.py   # writes tests/golden/
    .venv-keras/bin/python tests/golden/gen/make_bn_lstm_fixtures.py check-export DIR
        # Keras' load_weights of typenet's save_keras_weights files, as make_fixtures.py's
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras  # noqa: E402

from make_fixtures import GOLDEN, SAMPLES, check_exports, write_expected  # noqa: E402

TOLERANCE = 1e-5  # Keras 3 against tf_keras (their batch norms round differently)


def bn_conv(k):
    """Conv-BN-Relu twice, Flatten, Dense-BN, softmax head: BN on image channels and features."""
    L = k.layers
    return k.Sequential([
        k.Input((8, 7, 2)),
        L.Conv2D(4, 3, padding="same"),
        L.BatchNormalization(),
        L.Activation("relu"),
        L.Conv2D(3, 3, strides=2),
        L.BatchNormalization(),
        L.Activation("relu"),
        L.Flatten(),
        L.Dense(6),
        L.BatchNormalization(),
        L.Dense(3, activation="softmax"),
    ])


def bn_options(k):
    """BN without beta (center=False), without gamma and with epsilon 1e-5, and without both."""
    L = k.layers
    return k.Sequential([
        k.Input((10,)),
        L.Dense(6),
        L.BatchNormalization(center=False),
        L.Dense(5),
        L.BatchNormalization(scale=False, epsilon=1e-5),
        L.Dense(4),
        L.BatchNormalization(center=False, scale=False),
        L.Dense(3),
    ])


def lstm_stack(k):
    """LSTM with return_sequences, BN over the features of each step, a last-state LSTM, Dense."""
    L = k.layers
    return k.Sequential([
        k.Input((12, 7)),
        L.LSTM(8, return_sequences=True),
        L.BatchNormalization(),
        L.LSTM(6),
        L.Dense(3),
    ])


def lstm_hard_sigmoid(k):
    """Keras 2's hard_sigmoid recurrent activation (clip(0.2 x + 0.5, 0, 1)), no bias."""
    L = k.layers
    return k.Sequential([
        k.Input((9, 4)),
        L.LSTM(5, recurrent_activation="hard_sigmoid", use_bias=False),
        L.Dense(2),
    ])


def randomize(model, rng):
    """Random kernels and biases; BN: gamma in [0.5, 1.5], beta and moving mean around zero,
    moving variance in [0.2, 2]."""
    for layer in model.layers:
        weights = []
        for variable, w in zip(layer.weights, layer.get_weights()):
            name = variable.name.split("/")[-1].split(":")[0]
            if name == "gamma":
                w = rng.uniform(0.5, 1.5, w.shape)
            elif name == "moving_variance":
                w = rng.uniform(0.2, 2.0, w.shape)
            elif name in ("beta", "moving_mean", "bias"):
                w = rng.normal(0, 0.5, w.shape)
            else:
                limit = np.sqrt(6 / (w.shape[0] + w.shape[-1]))
                w = rng.uniform(-limit, limit, w.shape)
            weights.append(w.astype(np.float32))
        layer.set_weights(weights)


def make(name, build, rng, keras3=True):
    k2 = build(tf_keras)
    randomize(k2, rng)
    input_shape = k2.input_shape[1:]
    inputs = rng.uniform(0, 1, (SAMPLES, *input_shape)).astype(np.float32)
    outputs = k2.predict(inputs, verbose=0)
    k2.save(GOLDEN / f"{name}.h5", save_format="h5")
    note = "outputs of tf_keras"
    if keras3:
        k3 = build(keras)
        k3.set_weights(k2.get_weights())
        gap = np.abs(k3.predict(inputs, verbose=0) - outputs).max()
        assert gap < TOLERANCE, f"{name}: Keras 3 and tf_keras disagree by {gap}"
        k3.save(GOLDEN / f"{name}.keras")
        note += f" (Keras 3 agrees within {TOLERANCE:g})"
    write_expected(GOLDEN / f"{name}.expected.txt", name, input_shape, inputs, outputs, note)


def make_refused():
    """BatchNormalization settings typenet must refuse: another axis than the channels', renorm.
    Weights are irrelevant."""
    L = tf_keras.layers
    for name, layer in (("bn_axis", L.BatchNormalization(axis=1)),
                        ("bn_renorm", L.BatchNormalization(renorm=True))):
        tf_keras.Sequential([tf_keras.Input((4, 3, 2)), layer]).save(
            GOLDEN / f"{name}.h5", save_format="h5")


def main():
    keras.utils.set_random_seed(20240602)
    rng = np.random.default_rng(20240602)
    for build in (bn_conv, bn_options, lstm_stack):
        make(build.__name__, build, rng)
    # Keras 3's hard_sigmoid is another function (relu6(x + 3) / 6): tf_keras only.
    make("lstm_hard_sigmoid", lstm_hard_sigmoid, rng, keras3=False)
    make_refused()


def check_export(directory):
    # Not bn_options: typenet's BatchNorm always has gamma and beta (1 and 0 when loaded from a
    # center=False or scale=False layer), which such a Keras layer cannot take.
    check_exports(directory, {build.__name__: build for build in (bn_conv, lstm_stack)},
                  TOLERANCE)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check-export":
        check_export(sys.argv[2])
    else:
        main()
