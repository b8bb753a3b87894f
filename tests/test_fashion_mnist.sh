#!/usr/bin/env bash
# test_fashion_mnist.sh — the Fashion-MNIST converter (data/fashion_mnist.py) on tiny
# synthetic idx files written here (CI never installs dataset-fashion-mnist):
#   1. it writes the four task files of data/FORMAT.md: labels = class membership,
#      balanced; /X = the 2x2-pooled images standardised with the pretraining pool's
#      per-pixel statistics (recomputed here from the idx files); /pretrain/Y the clean
#      pooled images in [0, 1], /pretrain/X shifted/mirrored views with one erased block;
#      no labelled row is a pretraining image and every pretraining image is a training one;
#   2. `w2sweep check` accepts the shipped sweeps/fashion_mnist.cfg on them;
#   3. the four files share one /pretrain, so a sweep over them pretrains once per (size,
#      seed) for all tasks (the /pretrain hash covered /X's row count before), and a tiny
#      sweep runs end to end with the pretrained models predicting the 196 clean pixels;
#   4. a truncated idx file is refused with one line, exit 2, and no task file is written.
. "$(dirname "$0")/testlib.sh" fashion_mnist
src=${W2SWEEP_SOURCE_DIR:?}
cd "$T" || exit 1

# ---- synthetic idx files: 28x28 images, class c = a bright bar at a class-specific place
$PY - <<'PY'
import gzip, struct, numpy as np
rng = np.random.default_rng(7)
def images(labels):
    X = rng.integers(0, 40, size=(labels.size, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        X[i, 2 + 2 * c:6 + 2 * c, 4:24] = 200 + rng.integers(0, 50)
    return X
def write(path, arr, gz):
    hdr = bytes([0, 0, 8, arr.ndim]) + struct.pack(">%dI" % arr.ndim, *arr.shape)
    (gzip.open if gz else open)(path, "wb").write(hdr + arr.tobytes())
# 820 training images per class (200 of them go to pretraining) and 800 test images per
# class: about 1,600 labelled rows per class, enough for n_a + n_b + n_test = 3,000 on a pair
ytr = rng.permutation(np.arange(10).repeat(820)).astype(np.uint8)
yte = rng.permutation(np.arange(10).repeat(800)).astype(np.uint8)
import os; os.makedirs("idx", exist_ok=True)
write("idx/train-images-idx3-ubyte.gz", images(ytr), True)
write("idx/train-labels-idx1-ubyte.gz", ytr, True)
write("idx/t10k-images-idx3-ubyte", images(yte), False)    # plain files are read too
write("idx/t10k-labels-idx1-ubyte", yte, False)
PY
check "the converter runs" $PY "$src/data/fashion_mnist.py" --src idx --out data/fashion_mnist \
  --pretrain 200
check "the task files are what the converter documents" $PY - <<'PY'
import gzip, struct, h5py, numpy as np
def idx(p):
    raw = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
    dims = struct.unpack(">%dI" % raw[3], raw[4:4 + 4 * raw[3]])
    return np.frombuffer(raw[4 + 4 * raw[3]:], np.uint8).reshape(dims)
imgs = np.concatenate([idx("idx/train-images-idx3-ubyte.gz"), idx("idx/t10k-images-idx3-ubyte")])
labs = np.concatenate([idx("idx/train-labels-idx1-ubyte.gz"), idx("idx/t10k-labels-idx1-ubyte")])
ntr = idx("idx/train-labels-idx1-ubyte.gz").size
pool = (imgs.astype(np.float64) / 255).reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196)
tasks = {"footwear": ({5, 7, 9}, {0, 1, 2, 3, 4, 6, 8}), "upper": ({0, 2, 4, 6}, {1, 3, 5, 7, 8, 9}),
         "shirt_tshirt": ({6}, {0}), "pullover_coat": ({2}, {4}),
         "winter": ({2, 4, 9}, {0, 3, 5}), "parity": ({0, 2, 4, 6, 8}, {1, 3, 5, 7, 9})}
pre_src = None
for name, (pos, neg) in tasks.items():
    f = h5py.File("data/fashion_mnist/%s.h5" % name, "r")
    X, y, s = f["X"][:], f["y"][:], f["source"][:]
    PX, PY, ps = f["pretrain/X"][:], f["pretrain/Y"][:], f["pretrain/source"][:]
    assert X.dtype == np.float32 and X.shape[1] == 196 and PX.shape == PY.shape == (400, 196), name   # 2 views of 200
    assert set(np.unique(y)) == {0, 1} and y.sum() * 2 == y.size, (name, y.sum(), y.size)
    lab = np.setdiff1d(np.arange(labs.size), ps)                  # the labelled images
    k = min(np.isin(labs[lab], list(pos)).sum(), np.isin(labs[lab], list(neg)).sum())
    assert y.size == 2 * k, (name, y.size, k)                     # balanced, the smaller side whole
    assert (y == np.isin(labs[s], list(pos))).all(), name
    assert np.isin(labs[s][y == 0], list(neg)).all(), name
    assert len(set(s)) == s.size and not set(s) & set(ps), name   # no labelled row pretrained on
    assert (ps < ntr).all(), name                                 # pretraining: training images only
    pre_src = ps if pre_src is None else pre_src
    assert (ps == pre_src).all() and (PX == h5py.File("data/fashion_mnist/footwear.h5")["pretrain/X"][:]).all()
    mu = pool[ps].mean(axis=0)
    sd = pool[ps].std(axis=0)
    sd = np.maximum(sd, 0.1 * sd.mean())
    assert np.abs(X - (pool[s] - mu) / sd).max() < 1e-3, name
    assert np.abs(PY - pool[ps]).max() < 1e-6 and PY.min() >= 0 and PY.max() <= 1, name
    assert ((PX == 0).sum(axis=1) >= 49).all(), name              # a 7x7 erased block per view
    assert f.attrs["name"] == name
print("ok")
PY

# ---- the shipped sweep file checks on files of the converter's shape ---------------------
mkdir -p sweeps && cp "$src/sweeps/fashion_mnist.cfg" sweeps/
check "check accepts sweeps/fashion_mnist.cfg" "$W2" check sweeps/fashion_mnist.cfg

# ---- one pretraining per (size, seed) for the four tasks; a tiny run end to end ----------
cat >tiny.cfg <<'CFG'
name = "tiny";
seeds = [0];
data = { n_a = 100; n_b = 100; n_test = 100; };
tasks = ( { name = "footwear"; kind = "file"; file = "data/fashion_mnist/footwear.h5"; },
          { name = "upper"; kind = "file"; file = "data/fashion_mnist/upper.h5"; },
          { name = "shirt_tshirt"; kind = "file"; file = "data/fashion_mnist/shirt_tshirt.h5"; },
          { name = "pullover_coat"; kind = "file"; file = "data/fashion_mnist/pullover_coat.h5"; } );
sizes = ( { name = "w2"; width = 2; depth = 1; }, { name = "w8"; width = 8; depth = 1; } );
weak = ["w2"];
strong = ["w8"];
methods = ( "naive" );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 0.1; min_examples = 64; max_examples = 256; };
finetune = { epochs = 2.0; batch = 16; lr = 0.01; };
eval_points = 2;
output = "out/tiny.h5";
cache = "cache";
CFG
check "plan: one pretraining job per size for the four tasks" sh -c \
  "'$W2' plan tiny.cfg --jobs --rate 1e9 | grep -c '^  pretrain/' | grep -qx 2"
check "the tiny sweep runs" "$W2" run tiny.cfg --quiet
check "4 cells, every ceiling above chance" $PY - <<PY
import csv, subprocess
rows = list(csv.DictReader(subprocess.run(["$W2", "export", "out/tiny.h5", "--csv"],
            capture_output=True, text=True, check=True).stdout.splitlines()))
assert len(rows) == 4, len(rows)
for r in rows:
    assert float(r["ceiling_acc"]) > 0.7, (r["task"], r["ceiling_acc"])
PY
check "two pretrained models, predicting the 196 clean pixels" $PY - <<'PY'
import glob, h5py
ps = glob.glob("cache/pretrained/*.h5")
assert len(ps) == 2, ps
for p in ps:
    a = h5py.File(p, "r").attrs
    assert a["d_in"] == 196 and a["d_out"] == 196, (p, a["d_in"], a["d_out"])
PY

# ---- a truncated idx file: one line, exit 2, nothing written -----------------------------
mkdir -p bad && cp idx/* bad/ && truncate -s 1000 bad/t10k-images-idx3-ubyte
$PY "$src/data/fashion_mnist.py" --src bad --out badout >bad.out 2>bad.err
rc=$?
check "truncated idx: exit 2" test $rc -eq 2
check "truncated idx: one line naming the file" sh -c \
  "test \$(wc -l <bad.err) -eq 1 && grep -q 'bad/t10k-images-idx3-ubyte: .* data bytes' bad.err"
check "truncated idx: no task file" test ! -e badout
finish
