#!/usr/bin/env python3
"""Hostile HDF5 files for tests/isolation, written with h5py.

    .venv-keras/bin/python tests/golden/gen/make_hdf5_damaged.py

hdf5_damaged/inflating_dataset.h5: a Keras 2 weights-only layout whose one dataset is 50 million
gzip'd zeros (200 MB inflated from a 200 KB file): a decompression bomb the reader must refuse.
"""
import pathlib

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


if __name__ == "__main__":
    main()
