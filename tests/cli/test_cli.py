#!/usr/bin/env python3
"""End-to-end tests of the typenet command-line tool.

Usage: test_cli.py TYPENET_BINARY CASE
TYPENET_SHARED names ../shared (real Keras models, photos, MNIST); cases that need it skip (exit
77, meson's skip status) when it is absent.
"""
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

binary, case = sys.argv[1], sys.argv[2]
shared = Path(os.environ.get("TYPENET_SHARED", "../shared"))


def run(*args, expect_ok=True):
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)
    if expect_ok and result.returncode != 0:
        sys.exit(f"typenet {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    if not expect_ok and result.returncode == 0:
        sys.exit(f"typenet {' '.join(args)} succeeded but must fail:\n{result.stdout}")
    return result


def need_shared():
    if not (shared / "keras").is_dir():
        print(f"skipped: {shared}/keras is absent")
        sys.exit(77)


def png_size(path):
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


if case == "photos":
    # The Keras photo project's predictions for its ten photos, through typenet's import.
    need_shared()
    photos = [str(shared / "keras" / "photos" / f"my_{d}.jpg") for d in range(10)]
    out = run("predict", "--model", "keras-cnn", "--keras",
              str(shared / "keras" / "keras224_mnist_cnn.h5"), *photos).stdout
    predicted = [int(line.split()[1]) for line in out.splitlines()]
    assert predicted == [0, 1, 2, 3, 7, 5, 5, 7, 3, 7], out
    probabilities = out.splitlines()[4].split("[")[1].rstrip("]").split()
    assert abs(float(probabilities[7]) - 0.457) < 2e-3 and abs(float(probabilities[4]) - 0.409) < 2e-3, out
elif case == "evaluate_keras":
    need_shared()
    with tempfile.TemporaryDirectory() as out_dir:
        out = run("evaluate", "--model", "keras-cnn", "--keras",
                  str(shared / "keras" / "keras224_mnist_cnn.h5"), "--out", out_dir).stdout
        assert "correct=9902 incorrect=98" in out, out
        assert png_size(Path(out_dir) / "confusion_matrix.png")[0] > 100
        assert (Path(out_dir) / "misclassified.png").exists()
elif case == "summary":
    out = run("summary", "--model", "cnn").stdout
    assert "Total params: 1,199,882" in out and "(None, 24, 24, 64)" in out, out
    out = run("summary", "--model", "keras-cnn").stdout
    assert "Total params: 242,062" in out, out
elif case == "show":
    need_shared()
    with tempfile.TemporaryDirectory() as out_dir:
        out = run("show", "--out", out_dir).stdout
        assert "label 1: 6742 images" in out, out
        width, height = png_size(Path(out_dir) / "digits.png")
        assert width > 200 and height > 100
        png_size(Path(out_dir) / "label_distribution.png")
elif case == "errors":
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "not_an_image.png"
        bad.write_bytes(b"this is not a picture at all")
        result = run("predict", "--model", "cnn", "--weights", str(bad), str(bad), expect_ok=False)
        assert "not_an_image.png" in result.stderr, result.stderr
        result = run("evaluate", "--model", "cnn", expect_ok=False)
        assert "needs trained weights" in result.stderr, result.stderr
        result = run("summary", "--model", "resnet", expect_ok=False)
        assert "resnet" in result.stderr, result.stderr
        for command in ["train", "evaluate", "predict", "summary", "show", "featuremaps",
                        "export-cpp", "quantize"]:
            assert "--" in run(command, "--help").stdout
elif case == "train_featuremaps":
    # A short real run: the dense net for one epoch, then feature maps of a CNN's first layer.
    need_shared()
    with tempfile.TemporaryDirectory() as out_dir:
        out = run("train", "--model", "dense", "--epochs", "1", "--verbose", "2", "--out", out_dir).stdout
        accuracy = float(out.split("test_accuracy=")[1].split()[0])
        assert accuracy > 0.9, out
        for name in ["model.tnet", "best.tnet", "history.csv", "history.json", "history.png",
                     "test_predictions.png", "confusion_matrix.png"]:
            assert (Path(out_dir) / name).exists(), name
        assert not (Path(out_dir) / "backup.ckpt").exists()
        assert "train_seconds=" in out, out
        # train computes in its default precision (auto); evaluate in float32 unless told.
        out = run("evaluate", "--model", "dense", "--weights", str(Path(out_dir) / "model.tnet"),
                  "--out", out_dir, "--precision", "auto").stdout
        assert f"test_accuracy={accuracy:.4f}" in out, out
        out = run("evaluate", "--model", "dense", "--weights", str(Path(out_dir) / "model.tnet"),
                  "--out", out_dir, "--precision", "float32").stdout
        assert abs(float(out.split("test_accuracy=")[1].split()[0]) - accuracy) < 0.005, out
        out = run("featuremaps", "--model", "keras-cnn", "--keras",
                  str(shared / "keras" / "keras224_mnist_cnn.h5"), "--layer", "0", "--out", out_dir).stdout
        png_size(Path(out_dir) / "feature_maps_channel.png")
        png_size(Path(out_dir) / "feature_maps_sample.png")
        result = run("featuremaps", "--model", "keras-cnn", "--keras",
                     str(shared / "keras" / "keras224_mnist_cnn.h5"), "--layer", "5", expect_ok=False)
        assert "no feature maps" in result.stderr, result.stderr
elif case == "export_cpp":
    # The header goes to stdout, or replaces --out; errors name the file and the reason.
    golden = Path(__file__).resolve().parent.parent / "golden"
    out = run("export-cpp", str(golden / "dense_only.h5")).stdout
    assert "using KerasModel = typenet::Net<typenet::Input<20>, " in out, out
    assert out.startswith("// KerasModel: ") and "#pragma once" in out, out
    with tempfile.TemporaryDirectory() as tmp:
        header = Path(tmp) / "model.hpp"
        header.write_text("old content")
        assert run("export-cpp", str(golden / "dense_only.h5"), "--name", "Mlp", "--out",
                   str(header)).stdout == ""
        text = header.read_text()
        assert "using Mlp = typenet::Net<" in text and text == out.replace("KerasModel", "Mlp"), text
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["model.hpp"]
        dense = str(golden / "dense_only.h5")
        failures = [
            ([dense, "--name", "2fast", "--out", str(header)], "is not a C++ identifier"),
            ([str(golden / "dilated_conv.h5"), "--out", str(header)],
             "layer 1 (conv2d): dilated convolution (dilation_rate [2,2]) has no typenet equivalent"),
            ([str(golden / "conv_same_stride2_weights.h5"), "--out", str(header)],
             "is a weights-only file"),
            ([str(Path(tmp) / "missing.h5"), "--out", str(header)], "missing.h5: no such file"),
            ([dense, "--out", str(Path(tmp) / "no" / "dir" / "m.hpp")], "m.hpp"),
        ]
        for args, words in failures:
            result = run("export-cpp", *args, expect_ok=False)
            assert words in result.stderr and result.stderr.startswith("typenet: error: "), \
                result.stderr
            assert header.read_text() == text, "a failed export must leave --out as it was"
        assert "--name" in run("export-cpp", "--help").stdout
elif case == "any_model":
    # Model files of architectures that are not built in: the tool compiles a predictor once
    # (cached), then runs it; evaluate gives Keras' own accuracy (counted by the fixtures'
    # generator, tests/golden/gen/make_mnist_model_fixtures.py).
    need_shared()
    golden = Path(__file__).resolve().parent.parent / "golden"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TYPENET_CACHE"] = str(Path(tmp) / "cache")
        for name, suffix in [("mnist_rescaling_cnn", ".keras"), ("mnist_lenet_padded", ".h5")]:
            model = str(golden / (name + suffix))
            keras_correct = int((golden / (name + ".keras_correct.txt")).read_text())
            result = run("evaluate", "--keras", model, "--out", tmp)
            assert "compiling a predictor" in result.stderr and "compiled in" in result.stderr, \
                result.stderr
            assert f"correct={keras_correct} " in result.stdout, (keras_correct, result.stdout)
            photo = str(shared / "keras" / "photos" / "my_3.jpg")
            start = time.monotonic()
            result = run("predict", "--keras", model, photo)
            seconds = time.monotonic() - start
            assert "compiling" not in result.stderr and seconds < 1.0, (seconds, result.stderr)
            assert result.stdout.startswith(photo + " "), result.stdout
        # The built-in architectures need no compiler: the shared Keras CNN without --model.
        result = run("evaluate", "--keras", str(shared / "keras" / "keras224_mnist_cnn.h5"),
                     "--out", tmp)
        assert "compiling" not in result.stderr and "correct=9902 " in result.stdout, result
        # A typenet model file of a custom architecture records its Net's C++ type: evaluate
        # compiles a predictor for it (logits out: the loss takes softmax), export-cpp spells it,
        # and --embed-weights writes the header and the parameters.
        custom = str(Path(tmp) / "custom.tnet")
        subprocess.run([sys.argv[3], custom], check=True)
        result = run("evaluate", "--weights", custom, "--out", tmp)
        assert "compiling a predictor" in result.stderr and "test_accuracy=" in result.stdout, \
            result
        header = run("export-cpp", custom, "--name", "Custom").stdout
        assert ("using Custom = typenet::Net<typenet::Input<28, 28, 1>, typenet::Conv<4, 3, "
                "typenet::Relu>, typenet::MaxPool<2>, typenet::Flatten, typenet::Dense<10>>;"
                in header), header
        run("export-cpp", custom, "--name", "Custom", "--embed-weights", "--out",
            str(Path(tmp) / "Custom.hpp"))
        parameters = (Path(tmp) / "Custom_parameters.cpp").read_text()
        assert parameters.count("f,") + parameters.count("f\n") >= 4 * 9 + 4 + 676 * 10 + 10, \
            parameters[:200]
        # A file whose config spells a huge architecture: refused before the Net is allocated.
        huge = str(golden / "hdf5_damaged" / "huge_architecture.h5")
        result = run("predict", "--keras", huge, photo, expect_ok=False)
        assert "over the tool's 1024 MiB: the file is damaged or hostile" in result.stderr, \
            result.stderr
        # No compiler: a clear error, no crash.
        os.environ["TYPENET_CACHE"] = str(Path(tmp) / "empty_cache")
        os.environ["CXX"] = "no-such-compiler"
        result = run("evaluate", "--keras", str(golden / "mnist_rescaling_cnn.keras"),
                     expect_ok=False)
        assert "needs a C++20 compiler: 'no-such-compiler' was not found" in result.stderr, \
            result.stderr
        del os.environ["CXX"]
elif case == "quantize":
    # The 8-bit net of a model file, with the test accuracy of both nets and the sizes of both
    # files: a built-in architecture by --model (a dense net trained for an epoch), a Keras file
    # of a built-in one (the shared 5x5 CNN) and of another, for which the tool compiles a
    # predictor (the shared Keras 3 CNN).
    need_shared()

    def quantize(*args):
        result = run("quantize", *args)
        line = result.stdout.strip().splitlines()[-1]
        assert line.startswith("quantize_accuracy "), result.stdout
        return {key: float(value) for key, value in
                (field.split("=") for field in line.split()[1:])}, result.stderr

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TYPENET_CACHE"] = str(Path(tmp) / "cache")
        run("train", "--model", "dense", "--epochs", "1", "--verbose", "0", "--out", tmp)
        weights, int8_file = Path(tmp) / "model.tnet", Path(tmp) / "dense.int8.tnet"
        dense, _ = quantize("--model", "dense", "--weights", str(weights), "--out", str(int8_file),
                            "--calibration", "100")
        assert dense["float"] > 0.9 and abs(dense["int8"] - dense["float"]) <= 0.002, dense
        assert dense["float_bytes"] == weights.stat().st_size, dense
        assert dense["int8_bytes"] == int8_file.stat().st_size, dense
        assert dense["float_bytes"] > 3.9 * dense["int8_bytes"], dense

        cnn, stderr = quantize("--keras", str(shared / "keras" / "keras224_mnist_cnn.h5"), "--out",
                               str(Path(tmp) / "keras224.int8.tnet"))
        assert "compiling" not in stderr, stderr
        assert cnn["float"] == 0.9902 and abs(cnn["int8"] - cnn["float"]) <= 0.001, cnn
        keras3, stderr = quantize("--keras", str(shared / "keras" / "keras3_mnist_cnn.keras"),
                                  "--out", str(Path(tmp) / "keras3.int8.tnet"),
                                  "--calibration-method", "percentile")
        assert "compiling a predictor" in stderr, stderr
        assert keras3["float"] == 0.9918 and abs(keras3["int8"] - keras3["float"]) <= 0.001, keras3

        failures = [
            (["--model", "dense", "--weights", str(int8_file), "--out", str(Path(tmp) / "x")],
             "expected a parameters file, found a quantized net"),
            (["--model", "dense", "--weights", str(weights)], "--out is required"),
            (["--model", "dense", "--weights", str(weights), "--out", str(Path(tmp) / "x"),
              "--calibration", "60001"], "--calibration 60001: the training set has 60000 images"),
            (["--model", "dense", "--weights", str(weights), "--out", str(Path(tmp) / "x"),
              "--calibration-method", "entropy"], "entropy not in {minmax,percentile}"),
        ]
        for args, words in failures:
            result = run("quantize", *args, expect_ok=False)
            assert words in result.stderr, (args, result.stderr)
else:
    sys.exit(f"unknown case {case}")
print(f"{case}: ok")
