#!/usr/bin/env python3
"""Builds the golden Keras fixtures of tests/golden/ with real Keras.

Each model gets seeded random weights (biases too, so that they are tested), is saved by Keras 3
as `<name>.keras` and by tf_keras (Keras 2.18) as `<name>.h5`, and Keras' own outputs for a few
random inputs go to `<name>.expected.txt`. The C++ tests load the files into the matching Net and
compare; they never run Python.

    python -m venv .venv-keras && .venv-keras/bin/pip install -r tests/golden/gen/requirements.txt
    .venv-keras/bin/python tests/golden/gen/make_fixtures.py            # writes tests/golden/
    .venv-keras/bin/python tests/golden/gen/make_fixtures.py check-export DIR
        # DIR holds <name>.h5 files written by typenet's save_keras_weights (the C++ test writes
        # them when TYPENET_KERAS_EXPORT_DIR is set): loads each into Keras 3 and tf_keras with
        # model.load_weights and compares Keras' outputs with the expected ones.

The expected-output format (text, so that a diff shows what changed):
    # comment lines
    input <extents...>        the Net's input shape (channels last)
    output <n>
    samples <k>
    then k lines of input floats, then k lines of output floats (%.9g: exact float32)
"""
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras  # noqa: E402

GOLDEN = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = 4
TOLERANCE = 1e-6  # Keras 3 against tf_keras on the same weights


def conv_same_stride2(k):
    """Same padding, 3x3 and 5x5 kernels, stride 2, rectangular 12x9x2 input, softmax head."""
    L = k.layers
    return k.Sequential([
        k.Input((12, 9, 2)),
        L.Conv2D(6, 3, padding="same", activation="relu"),
        L.Conv2D(5, 5, strides=2, padding="same", activation="tanh"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(7, activation="sigmoid"),
        L.Dense(4, activation="softmax"),
    ])


def conv_valid_gap(k):
    """Valid padding, pool 3 stride 2, a stand-alone Activation, GlobalAvgPool, linear head."""
    L = k.layers
    return k.Sequential([
        k.Input((16, 16, 1)),
        L.Conv2D(8, 5, activation="relu"),
        L.MaxPooling2D(3, strides=2),
        L.Conv2D(6, 3, strides=2),
        L.Activation("relu"),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.3),
        L.Dense(3),
    ])


def conv_even_no_bias(k):
    """Stride-2 same padding on an even input (the extra pad row/column goes bottom/right) and
    a convolution without bias."""
    L = k.layers
    return k.Sequential([
        k.Input((10, 10, 3)),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu", use_bias=False),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ])


def dense_only(k):
    """Dense layers only, as a functional model (InputLayer and inbound nodes), linear head."""
    L = k.layers
    inputs = k.Input((20,))
    x = L.Dense(16, activation="relu")(inputs)
    x = L.Dropout(0.25)(x)
    x = L.Dense(8, activation="tanh")(x)
    return k.Model(inputs, L.Dense(5)(x))


MODELS = {f.__name__: f for f in (conv_same_stride2, conv_valid_gap, conv_even_no_bias, dense_only)}


def randomize(model, rng):
    """Glorot-like kernels and non-zero biases."""
    weights = []
    for w in model.get_weights():
        if w.ndim == 1:
            weights.append(rng.normal(0, 0.2, w.shape).astype(np.float32))
        else:
            fan = w.shape[-1] + int(np.prod(w.shape[:-1]))
            limit = np.sqrt(6 / fan)
            weights.append(rng.uniform(-limit, limit, w.shape).astype(np.float32))
    model.set_weights(weights)


def write_expected(path, name, input_shape, inputs, outputs, note):
    with open(path, "w") as out:
        out.write(f"# {name}: {note}\n")
        out.write(f"# keras {keras.__version__}, tf_keras {tf_keras.__version__}, "
                  f"made by tests/golden/gen/make_fixtures.py\n")
        out.write("input " + " ".join(map(str, input_shape)) + "\n")
        out.write(f"output {outputs.shape[1]}\nsamples {len(inputs)}\n")
        for rows in (inputs.reshape(len(inputs), -1), outputs):
            for row in rows:
                out.write(" ".join(f"{v:.9g}" for v in row) + "\n")


def make_model(name, build, rng):
    k3 = build(keras)
    randomize(k3, rng)
    k2 = build(tf_keras)
    k2.set_weights(k3.get_weights())
    input_shape = k3.input_shape[1:]
    inputs = rng.uniform(0, 1, (SAMPLES, *input_shape)).astype(np.float32)
    outputs = k3.predict(inputs, verbose=0)
    gap = np.abs(k2.predict(inputs, verbose=0) - outputs).max()
    assert gap < TOLERANCE, f"{name}: Keras 3 and tf_keras disagree by {gap}"

    k3.save(GOLDEN / f"{name}.keras")
    k2.save(GOLDEN / f"{name}.h5", save_format="h5")
    write_expected(GOLDEN / f"{name}.expected.txt", name, input_shape, inputs, outputs,
                   "outputs of Keras 3 (tf_keras agrees within 1e-6)")
    return k3, k2


def split_layer_names(source, target):
    """A weights-only file whose layer_names is split into layer_names0, layer_names1, as Keras
    does for attributes over 64 KiB."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        for key, value in src.attrs.items():
            if key != "layer_names":
                dst.attrs[key] = value
        names = src.attrs["layer_names"]
        half = len(names) // 2
        dst.attrs["layer_names0"] = names[:half]
        dst.attrs["layer_names1"] = names[half:]
        for key in src:
            src.copy(src[key], dst, key)


def make_channels_first(rng):
    """The same model saved channels-first two ways. The expected outputs come from the
    channels-last model (what typenet computes on H x W x C inputs).

    channels_first.h5: Flatten(data_format='channels_first'), which Keras 2.1.6+ transposes to
        channels-last before flattening, so the Dense rows are in (h, w, c) order.
    channels_first_old.h5: the same file as Keras < 2.1.6 wrote it: no data_format in the
        Flatten config, features flattened in (c, h, w) order, Dense rows in that order.
    """
    L = tf_keras.layers
    h, w, c = 6, 5, 2

    def build(data_format, shape):
        return tf_keras.Sequential([
            tf_keras.Input(shape),
            L.Conv2D(3, 3, padding="same", activation="relu", data_format=data_format),
            L.Flatten(data_format=data_format),
            L.Dense(4, activation="softmax"),
        ])

    last = build("channels_last", (h, w, c))
    randomize(last, rng)
    inputs = rng.uniform(0, 1, (SAMPLES, h, w, c)).astype(np.float32)
    outputs = last.predict(inputs, verbose=0)
    write_expected(GOLDEN / "channels_first.expected.txt", "channels_first", (h, w, c), inputs,
                   outputs, "outputs of the channels-last twin of channels_first*.h5")

    # Kernels are stored (kh, kw, in, out) whatever the data format; TensorFlow's CPU kernels
    # cannot run channels-first convolutions, so the model is only built and saved.
    first = build("channels_first", (c, h, w))
    first.set_weights(last.get_weights())
    first.save(GOLDEN / "channels_first.h5", save_format="h5")

    kernel, bias, dense_kernel, dense_bias = last.get_weights()
    filters = kernel.shape[-1]
    rows_chw = dense_kernel.reshape(h, w, filters, -1).transpose(2, 0, 1, 3).reshape(
        dense_kernel.shape)
    first.set_weights([kernel, bias, rows_chw, dense_bias])
    old = GOLDEN / "channels_first_old.h5"
    first.save(old, save_format="h5")
    with h5py.File(old, "r+") as f:
        parsed = json.loads(f.attrs["model_config"])
        for layer in parsed["config"]["layers"]:
            if layer["class_name"] == "Flatten":
                del layer["config"]["data_format"]
        f.attrs["model_config"] = json.dumps(parsed)


def make_unsupported():
    """Models typenet must refuse, with a reason: a layer class it lacks, and a functional graph
    that is not a chain. Saved by tf_keras; weights are irrelevant."""
    L = tf_keras.layers
    tf_keras.Sequential([
        tf_keras.Input((8,)),
        L.Dense(4, name="dense_in"),
        L.LayerNormalization(name="layer_norm"),
        L.Dense(2, name="dense_out"),
    ]).save(GOLDEN / "unsupported_layer_norm.h5", save_format="h5")
    inputs = tf_keras.Input((6,), name="input")
    left = L.Dense(4, name="left")(inputs)
    right = L.Dense(4, name="right")(inputs)
    outputs = L.Dense(2, name="head")(L.Add(name="add")([left, right]))
    tf_keras.Model(inputs, outputs).save(GOLDEN / "branching.h5", save_format="h5")


def generate():
    keras.utils.set_random_seed(20240601)
    rng = np.random.default_rng(20240601)
    for name, build in MODELS.items():
        k3, k2 = make_model(name, build, rng)
        if name == "conv_same_stride2":
            # Keras 3's weights-only file (layers/<name>/vars, no layer order), which typenet
            # refuses, and tf_keras' (Keras 2 layout), which it reads.
            k3.save_weights(GOLDEN / f"{name}.weights.h5")
            k2.save_weights(GOLDEN / f"{name}_weights.h5", save_format="h5")
            split_layer_names(GOLDEN / f"{name}_weights.h5", GOLDEN / f"{name}_split_weights.h5")
        if name == "conv_valid_gap":
            # Keras 3's own .h5 (legacy format): Keras 3 config style in a Keras 2 layout.
            keras.models.load_model(GOLDEN / f"{name}.keras").save(GOLDEN / f"{name}.keras3.h5")
    make_channels_first(rng)
    make_unsupported()
    total = sum(p.stat().st_size for p in GOLDEN.iterdir() if p.is_file())
    print(f"fixtures in {GOLDEN}: {total} bytes")


def read_expected(path):
    lines = [line for line in open(path) if not line.startswith("#")]
    shape = tuple(int(v) for v in lines[0].split()[1:])
    count = int(lines[2].split()[1])
    rows = [np.array(line.split(), dtype=np.float32) for line in lines[3:]]
    return np.stack(rows[:count]).reshape(count, *shape), np.stack(rows[count:])


def export_gap(name, build, frameworks, exported):
    """The largest difference between Keras' expected outputs of fixture `name` and those of the
    model `build` makes in each framework after its load_weights of typenet's export."""
    inputs, expected = read_expected(GOLDEN / f"{name}.expected.txt")
    worst = 0.0
    for k in frameworks:
        model = build(k)
        model.load_weights(exported)
        gap = float(np.abs(model.predict(inputs, verbose=0) - expected).max())
        worst = max(worst, gap)
        print(f"{name}: {k.__name__} {k.__version__} load_weights of typenet's export: "
              f"max |difference| {gap:.3g}")
    return worst


def check_exports(directory, builds, tolerance=1e-5):
    """export_gap, in Keras 3 and tf_keras, of each model of `builds` (name: build) whose export
    is in `directory`; there must be at least one."""
    checked = 0
    for name, build in builds.items():
        exported = pathlib.Path(directory) / f"{name}.h5"
        if exported.exists():
            assert export_gap(name, build, (keras, tf_keras), exported) < tolerance
            checked += 1
    assert checked, f"no exported model of {', '.join(builds)} in {directory}"


def check_export(directory):
    worst = 0.0
    for name, build in MODELS.items():
        exported = pathlib.Path(directory) / f"{name}.h5"
        if not exported.exists():
            continue
        if name == "conv_even_no_bias":
            print(f"{name}: skipped: typenet layers always have a bias (zero when loaded from a "
                  "use_bias=False layer), which a use_bias=False Keras layer cannot take")
            continue
        worst = max(worst, export_gap(name, build, (keras, tf_keras), exported))
    assert worst < 1e-5, worst


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check-export":
        check_export(sys.argv[2])
    else:
        generate()
