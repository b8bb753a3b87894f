"""make_tabular.py OUT.h5 ROWS COLS [SEED] — a synthetic data file in data/FORMAT.md's layout
for the benchmarks (bench/calibrate.sh, bench/filesweep.cfg): labels from a random two-layer
function of the inputs (so that wider models do better), ~55 % ones, standardized columns."""
import sys

import h5py
import numpy as np

out, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
z = rng.normal(size=(n, 8))
X = np.tanh(z @ rng.normal(size=(8, d)) / np.sqrt(8)) + 0.3 * rng.normal(size=(n, d))
X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
h = np.maximum(z @ rng.normal(size=(8, 16)), 0) @ rng.normal(size=16)
y = (h > np.quantile(h, 0.45)).astype(np.int8)
with h5py.File(out, "w") as f:
    f["X"] = X
    f["y"] = y
