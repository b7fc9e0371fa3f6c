#!/usr/bin/env python3
"""Builds the golden fixtures of residual blocks (Keras' functional Add) in tests/golden/ with
real Keras, as make_fixtures.py does for chains (same helpers, same expected-output format).

    .venv-keras/bin/python tests/golden/gen/make_residual_fixtures.py
    .venv-keras/bin/python tests/golden/gen/make_residual_fixtures.py check-export DIR
        # as make_fixtures.py check-export, for the residual models typenet exported to DIR
"""
import sys

import keras
import numpy as np
import tf_keras

from make_fixtures import GOLDEN, check_exports, make_model


def residual_tiny(k):
    """A tiny ResNet: stem, an identity block, a projection block whose main branch and 1x1
    shortcut both downsample with stride 2, GlobalAveragePooling2D and a softmax head."""
    L = k.layers
    inputs = k.Input((8, 8, 2))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    y = L.Conv2D(4, 3, padding="same")(x)
    y = L.Activation("relu")(y)
    y = L.Conv2D(4, 3, padding="same")(y)
    x = L.Activation("relu")(L.Add()([y, x]))
    y = L.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)
    y = L.Conv2D(6, 3, padding="same")(y)
    shortcut = L.Conv2D(6, 1, strides=2)(x)
    x = L.Activation("relu")(L.Add()([y, shortcut]))
    x = L.GlobalAveragePooling2D()(x)
    return k.Model(inputs, L.Dense(3, activation="softmax")(x))


def residual_shortcut_first(k):
    """Add([shortcut, main]) with the identity first, then Flatten and a linear head."""
    L = k.layers
    inputs = k.Input((5, 5, 3))
    y = L.Conv2D(3, 3, padding="same", activation="relu")(inputs)
    y = L.Conv2D(3, 3, padding="same")(y)
    x = L.Activation("relu")(L.Add()([inputs, y]))
    return k.Model(inputs, L.Dense(4)(L.Flatten()(x)))


def make_refused():
    """A graph with an Add whose other fork is joined by Concatenate: refused, naming it."""
    L = tf_keras.layers
    inputs = tf_keras.Input((6,), name="input")
    x = L.Dense(4, name="stem")(inputs)
    joined = L.Concatenate(name="concat")([L.Dense(4, name="left")(x),
                                           L.Dense(4, name="right")(x)])
    x = L.Add(name="add")([L.Dense(8, name="inner")(joined), joined])
    tf_keras.Model(inputs, L.Dense(2, name="head")(x)).save(GOLDEN / "residual_concatenate.h5",
                                                            save_format="h5")


MODELS = {"residual_tiny": residual_tiny, "residual_shortcut_first": residual_shortcut_first}


def generate():
    keras.utils.set_random_seed(20240602)
    rng = np.random.default_rng(20240602)
    for name, build in MODELS.items():
        make_model(name, build, rng)
    make_refused()


def check_export(directory):
    """Keras' own load_weights of typenet's save_keras_weights files (the C++ test writes them
    when TYPENET_KERAS_EXPORT_DIR is set) gives Keras' expected outputs."""
    check_exports(directory, MODELS)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check-export":
        check_export(sys.argv[2])
    else:
        generate()
