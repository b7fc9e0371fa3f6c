#!/usr/bin/env python3
"""Builds tests/golden/augmentation.expected.txt with real Keras 3 (TensorFlow backend): what
keras.ops.image.affine_transform (TensorFlow's ImageProjectiveTransformV3) gives for fixed
transforms, in every fill mode and interpolation, and what Keras' RandomTranslation,
RandomRotation and RandomZoom layers give in training, alone and one after the other, for
factor ranges of one value (lower == upper: the draw is that value), with the transforms the
layers built. tests/train/test_augmentation.cpp compares typenet against it.

    .venv-keras/bin/python tests/golden/gen/make_augmentation_fixtures.py

Format (text, whitespace-separated, one record a line; '#' lines are comments):
    image <name> <h> <w> <c> <h*w*c floats>   an input image, channels last (multiples of 1/64)
    case <name>
    input <image name>
    transform <8 floats>            (affine_transform cases) the transform
    sampling <interpolation> <fill_mode> <fill_value>   (affine_transform cases)
    augment translation <height> <width> <interpolation> <fill_mode> <fill_value>
    augment rotation <factor> <interpolation> <fill_mode> <fill_value>
    augment zoom <height> <width|none> <interpolation> <fill_mode> <fill_value>
                                    (layer cases, in order) a layer and its one-value factors
    keras_transform <8 floats>      (layer cases) the transform each layer built, in order
    expected <h*w*c floats>         Keras' output (float32, %.9g)
    end
"""
import keras
import numpy as np
import tensorflow as tf

from make_fixtures import GOLDEN

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
INTERPOLATIONS = ["bilinear", "nearest"]
FILL_VALUE = 0.25  # only Constant uses it; the other modes are given it too, to show that

# Transforms (output pixel -> input point) that reach beyond the edges by fractions of a pixel,
# by more than an image (Reflect's and Wrap's periods, both sides) and through a projection.
TRANSFORMS = {
    "shift_fractional": [1, 0, -1.3, 0, 1, 0.6, 0, 0],
    "shift_far": [1, 0, 13.7, 0, 1, -11.2, 0, 0],
    "rotate_30": None,  # built by the rotation layer's formula below
    "zoom_out_in": [1.4, 0, -1.2, 0, 0.7, 0.6, 0, 0],
    "shear": [1, 0.35, -0.8, -0.2, 1, 0.9, 0, 0],
    "projective": [0.9, 0.1, 0.3, -0.05, 1.1, -0.4, 0.03, -0.02],
}


def rotation(degrees, h, w):
    layer = keras.layers.RandomRotation(0.1)
    matrix = layer._compute_affine_matrix(
        center_x=0.5, center_y=0.5, angle=tf.constant([degrees], tf.float32),
        translate_x=tf.zeros([1]), translate_y=tf.zeros([1]), scale=tf.ones([1]),
        shear_x=tf.zeros([1]), shear_y=tf.zeros([1]), height=h, width=w)
    return np.asarray(matrix)[0].tolist()


def floats(values):
    return " ".join("%.9g" % v for v in np.asarray(values, np.float32).ravel())


def image(out, rng, name, h, w, c):
    """A random image of multiples of 1/64 (short in text, exact in float32), written out."""
    pixels = (rng.integers(0, 65, (h, w, c)) / 64).astype(np.float32)
    out.append(f"image {name} {h} {w} {c} {floats(pixels)}")
    return name, pixels


def affine_case(out, name, source, transform, interpolation, fill_mode):
    image_name, pixels = source
    result = keras.ops.image.affine_transform(
        pixels, np.asarray(transform, np.float32), interpolation=interpolation,
        fill_mode=fill_mode, fill_value=FILL_VALUE, data_format="channels_last")
    out += [f"case {name}_{interpolation}_{fill_mode}", f"input {image_name}",
            f"transform {floats(transform)}",
            f"sampling {interpolation} {fill_mode} {FILL_VALUE}",
            f"expected {floats(result)}", "end"]


# Layer cases: (kind, factors, interpolation, fill_mode, fill_value) per layer, in order.
LAYER_CASES = {
    "translation": [("translation", (0.1, -0.2), "bilinear", "reflect", 0.0)],
    "translation_constant_nearest": [("translation", (-0.15, 0.3), "nearest", "constant", 0.5)],
    "rotation": [("rotation", (0.05,), "bilinear", "reflect", 0.0)],
    "rotation_wrap": [("rotation", (-0.125,), "bilinear", "wrap", 0.0)],
    "zoom_out": [("zoom", (0.2, None), "bilinear", "reflect", 0.0)],
    "zoom_in_anisotropic": [("zoom", (-0.3, 0.1), "nearest", "nearest", 0.0)],
    "rotate_zoom_translate": [
        ("rotation", (0.04,), "bilinear", "constant", 0.0),
        ("zoom", (0.1, -0.05), "bilinear", "reflect", 0.0),
        ("translation", (-0.1, 0.12), "bilinear", "nearest", 0.0),
    ],
}


def layer(kind, factors, interpolation, fill_mode, fill_value):
    common = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=fill_value, seed=1)
    if kind == "translation":
        return keras.layers.RandomTranslation((factors[0],) * 2, (factors[1],) * 2, **common)
    if kind == "rotation":
        return keras.layers.RandomRotation((factors[0],) * 2, **common)
    width = None if factors[1] is None else (factors[1],) * 2
    return keras.layers.RandomZoom((factors[0],) * 2, width, **common)


def layer_transform(keras_layer, kind, batch):
    """The transform the layer builds for its (one-value) draw."""
    drawn = keras_layer.get_random_transformation(batch, training=True)
    if kind == "translation":
        return keras_layer._get_translation_matrix(drawn["translations"])
    if kind == "rotation":
        return drawn["rotation_matrix"]
    zooms = tf.concat([drawn["width_zoom"], drawn["height_zoom"]], axis=1)
    return keras_layer._get_zoom_matrix(zooms, batch.shape[1], batch.shape[2])


def layer_case(out, name, source, layers):
    image_name, pixels = source
    out += [f"case {name}", f"input {image_name}"]
    batch = tf.constant(pixels[None])
    transforms = []
    for kind, factors, interpolation, fill_mode, fill_value in layers:
        keras_layer = layer(kind, factors, interpolation, fill_mode, fill_value)
        transforms.append(np.asarray(layer_transform(keras_layer, kind, batch))[0])
        batch = keras_layer(batch, training=True)
        text = " ".join("none" if f is None else repr(f) for f in factors)
        out.append(f"augment {kind} {text} {interpolation} {fill_mode} {fill_value}")
    for transform in transforms:
        out.append(f"keras_transform {floats(transform)}")
    out += [f"expected {floats(batch[0])}", "end"]


def main():
    rng = np.random.default_rng(23)
    out = [f"# made by tests/golden/gen/make_augmentation_fixtures.py with Keras "
           f"{keras.__version__}, TensorFlow {tf.__version__}"]
    rectangular = image(out, rng, "rectangular", 5, 6, 1)
    TRANSFORMS["rotate_30"] = rotation(30.0, 5, 6)
    for name, transform in TRANSFORMS.items():
        for interpolation in INTERPOLATIONS:
            for fill_mode in FILL_MODES:
                affine_case(out, name, rectangular, transform, interpolation, fill_mode)
    column = image(out, rng, "column", 4, 1, 1)  # one pixel wide: Reflect and Wrap map every x to 0
    for fill_mode in FILL_MODES:
        affine_case(out, "column", column, [1, 0, 0.7, 0, 1, -2.4, 0, 0], "bilinear", fill_mode)
    photo = image(out, rng, "photo", 7, 6, 2)
    for name, layers in LAYER_CASES.items():
        layer_case(out, name, photo, layers)
    path = GOLDEN / "augmentation.expected.txt"
    path.write_text("\n".join(out) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
