#!/usr/bin/python3
"""fashion_mnist.py -- Fashion-MNIST as w2sweep file tasks (data/FORMAT.md).

    /usr/bin/python3 data/fashion_mnist.py [--src DIR] [--out DIR] [--side 14|28]
        [--pretrain N] [--objective views|masked] [--views V]

reads the four idx files of Debian's dataset-fashion-mnist (`bash .ci/deps.sh --data`;
/usr/share/datasets/fashion-mnist, gzipped or not) and writes one HDF5 file per binary task
into --out (default data/fashion_mnist/, what sweeps/fashion_mnist.cfg reads):

    footwear.h5       sandal, sneaker, ankle boot          vs  the 7 other classes
    upper.h5          T-shirt/top, pullover, coat, shirt   vs  the 6 other classes
    shirt_tshirt.h5   shirt                                vs  T-shirt/top   (hard pairs)
    pullover_coat.h5  pullover                             vs  coat
    winter.h5         pullover, coat, ankle boot           vs  T-shirt/top, dress, sandal
    parity.h5         even class numbers (0 2 4 6 8)       vs  odd (1 3 5 7 9)

Images: the 60,000 training images are put in one seeded order; the first --pretrain
(50,000) are the pretraining pool, the same in every file (so w2sweep pretrains one set of
models for all tasks), used without labels. The labelled rows /X, /y of each task come from
the other 20,000 images (the remaining 10,000 training images and the 10,000 test images,
2,000 per class), so no labelled row of any task -- in particular no row of w2sweep's test
split -- is ever pretrained on. The two sides of a task are balanced (the larger side
subsampled to the smaller): footwear 6,062 + 6,062 rows, upper 7,950 + 7,950, the pairs
about 1,980 + 1,980, winter 5,938 + 5,938, parity 9,961 + 9,961.

Inputs: --side 14 (the default) averages 2x2 pixel blocks (196 inputs; a quarter of the
compute of every model's first layer and reconstruction head), --side 28 keeps the 784
pixels. Each pixel is standardised with the mean and standard deviation of the pretraining
pool (its statistics only, so nothing about the labelled rows leaks in), the deviation
floored at 0.1 of the mean deviation so that border pixels that are almost always black do
not become huge. Standardised, not scaled to [0, 1]: a masked or erased input is set to 0,
which after standardisation is the pixel's mean -- a neutral "unknown" -- while in [0, 1] it
would be black, indistinguishable from the background; and inputs of unit scale are what the
models' initialisation and the shared learning rates assume (data/FORMAT.md).

Pretraining objective (--objective):
  views   (default) /pretrain/X holds V (--views, 2) augmented views of each pool image --
          shifted by up to 2 pixels each way, mirrored left-right with probability 1/2, one
          random (side/2)x(side/2) block erased (set to 0) -- and /pretrain/Y the clean
          image (2x2-pooled pixel intensities in [0, 1]): the models learn to undo the
          shift and fill in a missing quarter of a garment, which takes knowing what
          garment it is. w2sweep trains this as /pretrain/Y targets (sigmoid outputs, BCE).
  masked  /pretrain/X only: w2sweep's own masked-pixel reconstruction (25 % of pixels, one
          at a time). Single missing pixels are filled in from their neighbours; in the
          measurements of bench/FASHION_MNIST.md the ceilings it gives are flat in size.

Besides the format's datasets each file holds /source and /pretrain/source (int32, ignored by
w2sweep): the image behind each row, an index into the training images (0 .. 59,999) followed
by the test images (60,000 .. 69,999), so the split can be audited (tests/test_fashion_mnist.sh
does).

Files are written to NAME.h5.tmp.<pid> and renamed, so an interrupted run leaves no
half-written file under the real name. Exit 2 with one line on a bad input file.
"""
import argparse
import gzip
import os
import struct
import sys

import h5py
import numpy as np

CLASSES = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
           "sneaker", "bag", "ankle_boot"]
# name: (positive classes, negative classes, description)
TASKS = {
    "footwear": ((5, 7, 9), (0, 1, 2, 3, 4, 6, 8), "footwear vs not"),
    "upper": ((0, 2, 4, 6), (1, 3, 5, 7, 8, 9), "upper-body garment vs not"),
    "shirt_tshirt": ((6,), (0,), "shirt vs T-shirt/top"),
    "pullover_coat": ((2,), (4,), "pullover vs coat"),
    # unions across garment types (appended last: the rows drawn for the tasks above do not
    # change). Neither side is one region of pixel space, so a model needs several features
    # to tell them apart, and with few labels how many it brings from pretraining shows.
    "winter": ((2, 4, 9), (0, 3, 5), "cold weather (pullover, coat, ankle boot) vs warm "
              "(T-shirt/top, dress, sandal)"),
    "parity": ((0, 2, 4, 6, 8), (1, 3, 5, 7, 9), "even vs odd class number"),
}
SEED = 20231214  # fixes the image order and the balancing subsamples


class BadInput(Exception):
    pass


def read_idx(path, want_dims):
    """An idx file (gzipped when the name ends in .gz): uint8 array of want_dims dims."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise BadInput("%s: cannot read (%s)" % (path, e))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != want_dims:
        raise BadInput("%s: not an idx file of unsigned bytes with %d dimensions" %
                       (path, want_dims))
    if len(raw) < 4 + 4 * want_dims:
        raise BadInput("%s: truncated header" % path)
    dims = struct.unpack(">%dI" % want_dims, raw[4:4 + 4 * want_dims])
    size = int(np.prod(dims))
    body = raw[4 + 4 * want_dims:]
    if len(body) != size:
        raise BadInput("%s: %d data bytes, the header's shape %s needs %d" %
                       (path, len(body), "x".join(map(str, dims)), size))
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def find(src, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(src, name)
        if os.path.exists(p):
            return p
    raise BadInput("%s: no %s(.gz) (install it: bash .ci/deps.sh --data)" % (src, stem))


def load_split(src, split):
    X = read_idx(find(src, "%s-images-idx3-ubyte" % split), 3)
    y = read_idx(find(src, "%s-labels-idx1-ubyte" % split), 1)
    if X.shape[0] != y.shape[0]:
        raise BadInput("%s: %d %s images but %d labels" % (src, X.shape[0], split, y.shape[0]))
    if X.shape[1] != X.shape[2] or X.shape[1] % 2:
        raise BadInput("%s: %s images are %dx%d, expected square with an even side" %
                       (src, split, X.shape[1], X.shape[2]))
    if y.size and y.max() > 9:
        raise BadInput("%s: %s label %d is not a class 0..9" % (src, split, int(y.max())))
    return X, y


def augment(X, rng):
    """A random view of each 28x28 image: shifted by up to 2 pixels each way (the black
    background fills in) and mirrored left-right with probability 1/2."""
    n, side = X.shape[0], X.shape[1]
    P = np.zeros((n, side + 4, side + 4), np.uint8)
    P[:, 2:-2, 2:-2] = X
    dy, dx = rng.integers(0, 5, n), rng.integers(0, 5, n)
    out = np.empty_like(X)
    for i in range(n):
        out[i] = P[i, dy[i]:dy[i] + side, dx[i]:dx[i] + side]
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    return out


def erase_mask(n, side, rng):
    """(n, side*side) bool: one random square of side/2 per row erased (random erasing)."""
    b = side // 2
    m = np.zeros((n, side, side), bool)
    oy, ox = rng.integers(0, side - b + 1, n), rng.integers(0, side - b + 1, n)
    for i in range(n):
        m[i, oy[i]:oy[i] + b, ox[i]:ox[i] + b] = True
    return m.reshape(n, -1)


def write_h5(path, X, y, PX, PY, src, psrc, name, attrs):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("X", data=X)
            f.create_dataset("y", data=y)
            f.create_dataset("source", data=src)
            f.create_dataset("pretrain/source", data=psrc)
            f.create_dataset("pretrain/X", data=PX)
            if PY is not None:
                f.create_dataset("pretrain/Y", data=PY)
            f.attrs["name"] = name
            for k, v in attrs.items():
                f.attrs[k] = v
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "fashion_mnist"))
    ap.add_argument("--side", type=int, choices=(14, 28), default=14,
                    help="image side: 14 = 2x2 mean pooling (196 inputs), 28 = 784 pixels")
    ap.add_argument("--pretrain", type=int, default=50000,
                    help="training images in the pretraining pool (the rest are labelled rows)")
    ap.add_argument("--objective", choices=("views", "masked"), default="views",
                    help="views: /pretrain/X augmented views, /pretrain/Y the clean images; "
                         "masked: /pretrain/X only (w2sweep's masked-pixel reconstruction)")
    ap.add_argument("--views", type=int, default=2, help="augmented views per image (views)")
    a = ap.parse_args(argv)
    try:
        Xtr, ytr = load_split(a.src, "train")
        Xte, yte = load_split(a.src, "t10k")
    except BadInput as e:
        print("fashion_mnist.py: error: %s" % e, file=sys.stderr)
        return 2
    if Xtr.shape[1:] != Xte.shape[1:]:
        print("fashion_mnist.py: error: train and t10k images differ in shape", file=sys.stderr)
        return 2
    if not 1 <= a.pretrain < Xtr.shape[0]:
        print("fashion_mnist.py: error: --pretrain %d must be in [1, %d)" %
              (a.pretrain, Xtr.shape[0]), file=sys.stderr)
        return 2
    side = Xtr.shape[1]

    def pixels(X):
        X = X.astype(np.float32) / 255.0
        if a.side != side:  # 2x2 mean pooling
            n, s = X.shape[0], side // 2
            X = X.reshape(n, s, 2, s, 2).mean(axis=(2, 4))
        return X.reshape(X.shape[0], -1)

    rng = np.random.default_rng(SEED)
    order = rng.permutation(Xtr.shape[0])
    pre, rest = order[:a.pretrain], order[a.pretrain:]
    PX = pixels(Xtr[pre])
    mu = PX.mean(axis=0)
    sd = PX.std(axis=0)
    sd = np.maximum(sd, 0.1 * sd.mean())
    PY = None
    if a.objective == "views":
        psrc = np.tile(pre, a.views)
        V = np.concatenate([augment(Xtr[pre], rng) for _ in range(a.views)])
        PY = np.tile(PX, (a.views, 1)).astype(np.float32)   # the clean image, in [0, 1]
        PX = ((pixels(V) - mu) / sd).astype(np.float32)
        PX[erase_mask(PX.shape[0], a.side, rng)] = 0.0       # erased block: the pixel mean
    else:
        psrc = pre
        PX = ((PX - mu) / sd).astype(np.float32)
    LX = ((pixels(np.concatenate([Xtr[rest], Xte])) - mu) / sd).astype(np.float32)
    ly = np.concatenate([ytr[rest], yte])
    lsrc = np.concatenate([rest, Xtr.shape[0] + np.arange(Xte.shape[0])])
    os.makedirs(a.out, exist_ok=True)
    for name, (pos, neg, desc) in TASKS.items():
        ip = np.flatnonzero(np.isin(ly, pos))
        ineg = np.flatnonzero(np.isin(ly, neg))
        k = min(ip.size, ineg.size)
        if k < 1:
            print("fashion_mnist.py: error: task %s has no rows of one side" % name,
                  file=sys.stderr)
            return 2
        rows = np.concatenate([rng.choice(ip, k, replace=False),
                               rng.choice(ineg, k, replace=False)])
        rows = rows[rng.permutation(rows.size)]
        path = os.path.join(a.out, name + ".h5")
        write_h5(path, LX[rows], (np.isin(ly[rows], pos)).astype(np.int8), PX, PY,
                 lsrc[rows].astype(np.int32), psrc.astype(np.int32), name,
                 {"description": desc, "side": a.side,
                  "positive": ",".join(CLASSES[c] for c in pos),
                  "negative": ",".join(CLASSES[c] for c in neg),
                  "pretrain_objective": a.objective})
        print("%s: %d rows (%d positive), %d inputs, /pretrain/X %d rows" %
              (path, rows.size, k, LX.shape[1], PX.shape[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
