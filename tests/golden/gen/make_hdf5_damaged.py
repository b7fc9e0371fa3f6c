#!/usr/bin/env python3
"""Hostile HDF5 files for tests/isolation, written with h5py.

    .venv-keras/bin/python tests/golden/gen/make_hdf5_damaged.py

hdf5_damaged/inflating_dataset.h5: a Keras 2 weights-only layout whose one dataset is 50 million
gzip'd zeros (200 MB inflated from a 200 KB file): a decompression bomb the reader must refuse.
hdf5_damaged/huge_architecture.h5: dense_only.h5 whose config says its first Dense has 100
million units: the typenet tool must refuse the architecture before allocating it.
"""
import pathlib

import json
import shutil

import h5py
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "hdf5_damaged"


def main():
    OUT.mkdir(exist_ok=True)
    with h5py.File(OUT / "inflating_dataset.h5", "w") as f:
        f.attrs["layer_names"] = np.array([b"dense"])
        group = f.create_group("dense")
        group.attrs["weight_names"] = np.array([b"dense/kernel:0"])
        group.create_dataset("dense/kernel:0", data=np.zeros((50_000_000,), np.float32),
                             compression="gzip", compression_opts=9, chunks=(1_000_000,))
    shutil.copy(OUT.parent / "dense_only.h5", OUT / "huge_architecture.h5")
    with h5py.File(OUT / "huge_architecture.h5", "r+") as f:
        config = json.loads(f.attrs["model_config"])
        first_dense = next(layer for layer in config["config"]["layers"]
                           if layer["class_name"] == "Dense")
        first_dense["config"]["units"] = 100_000_000
        f.attrs["model_config"] = json.dumps(config)


if __name__ == "__main__":
    main()
