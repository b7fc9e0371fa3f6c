#!/usr/bin/env python3
"""Builds tests/golden/learning_rate.expected.txt with real Keras 3: the values of Keras'
learning-rate schedules at chosen optimizer steps, and the learning rates that Keras' own
ReduceLROnPlateau and LearningRateScheduler callbacks set for given sequences of epochs, with
their verbose messages. tests/train/test_learning_rate.cpp compares typenet against it.

    .venv-keras/bin/python tests/golden/gen/make_lr_fixtures.py

Format (text, whitespace-separated, one record a line; '#' lines are comments):
    case <kind> <name>      kind: exponential_decay, cosine_decay, reduce_lr_on_plateau,
                            learning_rate_scheduler
    config <key> <value>    the schedule's or callback's arguments, one per line
    steps <s...>            (schedules) optimizer steps (Keras' `iterations`, from 0)
    learning_rate <r...>    (schedules) schedule(step) for each step; (callbacks) the optimizer's
                            learning rate after each epoch's callback calls (float32, %.9g)
    monitored <v...>        (ReduceLROnPlateau) the monitored metric's value at each epoch end
    message <text>          (callbacks) a verbose message, in order (the text after Keras' '\\n')
    end
"""
import contextlib
import io
import math

import keras
import numpy as np

from make_fixtures import GOLDEN

SCHEDULE_STEPS = [0, 1, 2, 37, 99, 100, 101, 250, 500, 999, 1000, 1001, 1099, 1100, 1500, 5000]

SCHEDULES = [
    ("exponential_decay", "smooth",
     dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.96, staircase=False)),
    ("exponential_decay", "staircase",
     dict(initial_learning_rate=0.01, decay_steps=370, decay_rate=0.5, staircase=True)),
    ("cosine_decay", "alpha",
     dict(initial_learning_rate=0.1, decay_steps=1000, alpha=0.05)),
    ("cosine_decay", "warmup",
     dict(initial_learning_rate=0.0, decay_steps=1000, alpha=0.0, warmup_target=0.1,
          warmup_steps=100)),
    ("cosine_decay", "warmup_from_nonzero",
     dict(initial_learning_rate=0.001, decay_steps=500, alpha=0.1, warmup_target=0.01,
          warmup_steps=99)),
]

# Monitored values per epoch: plateaus, improvements smaller than min_delta, recoveries.
# 0.69989999999 improves on 0.7 by min_delta 1e-4 in double precision, not in float32, where
# Keras compares.
FALLING_THEN_FLAT = [1.0, 0.9, 0.85, 0.85, 0.86, 0.8499, 0.85, 0.7, 0.71, 0.69989999999, 0.73,
                     0.74, 0.75, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69,
                     0.69, 0.69, 0.69]
RISING_THEN_FLAT = [0.5, 0.6, 0.6, 0.61, 0.605, 0.7, 0.7, 0.69, 0.68, 0.7, 0.71, 0.7, 0.7,
                    0.7, 0.7, 0.7]

PLATEAUS = [
    ("defaults", 0.01, FALLING_THEN_FLAT, dict(monitor="val_loss", verbose=1)),
    ("patience2_half", 0.01, FALLING_THEN_FLAT,
     dict(monitor="val_loss", factor=0.5, patience=2, verbose=1)),
    ("cooldown_min_lr", 0.01, FALLING_THEN_FLAT,
     dict(monitor="loss", factor=0.2, patience=1, cooldown=2, min_lr=0.0005, verbose=1)),
    ("min_delta", 0.1, FALLING_THEN_FLAT,
     dict(monitor="val_loss", factor=0.3, patience=1, min_delta=0.02, verbose=1)),
    ("zero_patience", 0.1, FALLING_THEN_FLAT,
     dict(monitor="val_loss", factor=0.5, patience=0, min_lr=0.01, verbose=1)),
    ("max_mode", 0.001, RISING_THEN_FLAT,
     dict(monitor="val_accuracy", mode="max", factor=0.1, patience=2, min_delta=0.005,
          verbose=1)),
]


def halve_every_third(epoch, lr):
    return lr * 0.5 if epoch % 3 == 2 else lr


def keras_doc_example(epoch, lr):  # LearningRateScheduler's docstring, with math.exp
    return lr if epoch < 10 else lr * math.exp(-0.1)


def epoch_table(epoch, lr):
    return [0.1, 0.05, 0.05, 0.02, 0.02, 0.001, 0.001][epoch]


SCHEDULERS = [("halve_every_third", 0.01, 9, halve_every_third),
              ("keras_doc_example", 0.01, 15, keras_doc_example),
              ("epoch_table", 0.3, 7, epoch_table)]


def f32(value):
    return "%.9g" % np.float32(value)


def config_lines(config):
    return [f"config {key} {value}" for key, value in config.items()]


def schedule_case(kind, name, config):
    make = {"exponential_decay": keras.optimizers.schedules.ExponentialDecay,
            "cosine_decay": keras.optimizers.schedules.CosineDecay}[kind]
    schedule = make(**config)
    rates = [f32(keras.ops.convert_to_numpy(schedule(step))) for step in SCHEDULE_STEPS]
    return [f"case {kind} {name}", *config_lines(config),
            "steps " + " ".join(map(str, SCHEDULE_STEPS)), "learning_rate " + " ".join(rates),
            "end"]


def tiny_model(learning_rate):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def messages(text):
    return [f"message {line}" for line in text.split("\n") if line]


def plateau_case(name, initial, values, config):
    model = tiny_model(initial)
    callback = keras.callbacks.ReduceLROnPlateau(**config)
    callback.set_model(model)
    rates, out = [], io.StringIO()
    with contextlib.redirect_stdout(out):
        callback.on_train_begin()
        for epoch, value in enumerate(values):
            callback.on_epoch_end(epoch, {config["monitor"]: value})
            rates.append(f32(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return [f"case reduce_lr_on_plateau {name}", f"config initial_learning_rate {initial}",
            *config_lines(config), "monitored " + " ".join(map(str, values)),
            "learning_rate " + " ".join(rates), *messages(out.getvalue()), "end"]


def scheduler_case(name, initial, epochs, schedule):
    model = tiny_model(initial)
    callback = keras.callbacks.LearningRateScheduler(schedule, verbose=1)
    callback.set_model(model)
    rates, out = [], io.StringIO()
    with contextlib.redirect_stdout(out):
        for epoch in range(epochs):
            callback.on_epoch_begin(epoch)
            callback.on_epoch_end(epoch, {})
            rates.append(f32(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return [f"case learning_rate_scheduler {name}", f"config initial_learning_rate {initial}",
            f"config epochs {epochs}", "learning_rate " + " ".join(rates),
            *messages(out.getvalue()), "end"]


def generate():
    lines = [f"# made by tests/golden/gen/make_lr_fixtures.py with Keras {keras.__version__}"]
    for case in SCHEDULES:
        lines += schedule_case(*case)
    for case in PLATEAUS:
        lines += plateau_case(*case)
    for case in SCHEDULERS:
        lines += scheduler_case(*case)
    (GOLDEN / "learning_rate.expected.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    generate()
