#!/usr/bin/env python3
"""Builds tests/golden/batch_norm_training.expected.txt with real Keras 3: tiny models with
BatchNormalization trained a few SGD steps by model.fit (fixed batches, no shuffle) from fixed
weights, and the weights after those steps: gamma and beta trained through the batch statistics,
the moving mean and variance updated by Keras' momentum. tests/train/test_batch_norm.cpp trains
the same Nets from the same weights and compares.

    .venv-keras/bin/python tests/golden/gen/make_batch_norm_training_fixtures.py

Format (text, one record a line; '#' lines are comments):
    case <name>
    input <extents...>            the Net's input shape (channels last)
    classes <k>
    batch_size <b>
    epochs <e>
    learning_rate <r>             SGD without momentum, sparse categorical cross-entropy
    x <floats>                    one line per sample
    y <labels>
    initial <weight> <floats>     one line per weight, in Keras' order (model.weights), flattened
    trained <weight> <floats>     the same after fit
    predictions <floats>          one line per sample: the trained model's outputs at inference
                                  (moving statistics)
    end
Floats are %.9g (exact float32).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from make_bn_lstm_fixtures import randomize  # noqa: E402
from make_fixtures import GOLDEN  # noqa: E402

SAMPLES = 9  # batches of 4, 4 and 1 (a batch of one image: each feature's variance is 0)
BATCH_SIZE = 4
EPOCHS = 2
LEARNING_RATE = 0.1


def bn_train_conv():
    """Conv2D -> BatchNormalization over image channels -> ReLU -> softmax head."""
    L = keras.layers
    return keras.Sequential([
        keras.Input((5, 5, 2)),
        L.Conv2D(4, 3),
        L.BatchNormalization(),
        L.Activation("relu"),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])


def bn_train_dense():
    """Dense -> BatchNormalization over features (epsilon 1e-2) -> tanh -> softmax head."""
    L = keras.layers
    return keras.Sequential([
        keras.Input((5,)),
        L.Dense(6),
        L.BatchNormalization(epsilon=1e-2),
        L.Activation("tanh"),
        L.Dense(3, activation="softmax"),
    ])


def floats(values):
    return " ".join(f"{v:.9g}" for v in np.asarray(values, np.float32).ravel())


def weight_lines(record, model):
    return [f"{record} {variable.path} {floats(keras.ops.convert_to_numpy(variable))}"
            for variable in model.weights]


def case(name, build, rng):
    model = build()
    randomize(model, rng)
    classes = model.output_shape[-1]
    input_shape = model.input_shape[1:]
    x = rng.uniform(0, 1, (SAMPLES, *input_shape)).astype(np.float32)
    y = rng.integers(0, classes, SAMPLES)
    lines = [f"case {name}", "input " + " ".join(map(str, input_shape)), f"classes {classes}",
             f"batch_size {BATCH_SIZE}", f"epochs {EPOCHS}", f"learning_rate {LEARNING_RATE}"]
    lines += [f"x {floats(sample)}" for sample in x]
    lines.append("y " + " ".join(map(str, y)))
    lines += weight_lines("initial", model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=False, verbose=0)
    lines += weight_lines("trained", model)
    lines += [f"predictions {floats(row)}" for row in model.predict(x, verbose=0)]
    return lines + ["end"]


def main():
    keras.utils.set_random_seed(20240611)
    rng = np.random.default_rng(20240611)
    lines = [f"# made by tests/golden/gen/make_batch_norm_training_fixtures.py with Keras "
             f"{keras.__version__}"]
    for build in (bn_train_conv, bn_train_dense):
        lines += case(build.__name__, build, rng)
    (GOLDEN / "batch_norm_training.expected.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
