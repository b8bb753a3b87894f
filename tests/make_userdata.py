import sys, h5py, numpy as np
# gen.py OUTDIR: data files of 1, 16, 57 and 784 columns: labels 60 % ones, the first
# min(d, 16) columns shifted by +-0.8 with the label (class-conditional Gaussians), and a
# shuffled-label control of each (same inputs, labels permuted)
out = sys.argv[1]
N = 400
for d in (1, 16, 57, 784):
    rng = np.random.default_rng(d)
    y = (rng.random(N) < 0.6).astype(np.int8)
    X = rng.normal(size=(N, d)).astype(np.float32)
    X[:, :min(d, 16)] += (0.8 * (2 * y - 1))[:, None].astype(np.float32)
    for name, lab in (("d%d" % d, y), ("ctrl%d" % d, rng.permutation(y))):
        with h5py.File("%s/%s.h5" % (out, name), "w") as f:
            f["X"] = X
            f["y"] = lab
