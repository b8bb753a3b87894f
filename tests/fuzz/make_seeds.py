# make_seeds.py — seed corpora for the HDF5 fuzz harnesses (tests/test_fuzz.sh), small files
# (a few KB) so that libFuzzer's mutations stay fast:
#   make_seeds.py data OUTDIR
#       data files per data/FORMAT.md: valid ones of every accepted type and storage (float32
#       or float64 inputs, int/bool/float labels, /pretrain, name attribute, chunked, gzip,
#       shuffle, lzf, fletcher32, big-endian, both file-format versions) and odd ones (wrong
#       rank, class, shape, soft labels, NaN, links, groups where datasets belong, ...)
#   make_seeds.py results OUTDIR [RESULTS.h5 CELL.h5]
#       results-like files (results/SCHEMA.md: root attributes, /summary, /models, /health,
#       /provenance) with odd shapes and types; with a real results file and cell file (from
#       a tiny sweep), the objects the readers read copied from them exactly (H5Ocopy), and
#       the cell file itself.
# Deterministic: the same files every time. Needs h5py and numpy (Debian's python3).
import os
import sys

import h5py
import numpy as np

kind, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(14)
N, D = 8, 3


def new(name, libver="earliest"):
    return h5py.File(os.path.join(out, name + ".h5"), "w", libver=libver)


def data_seeds():
    X = rng.normal(size=(N, D)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int8)
    PX = rng.normal(size=(5, D)).astype(np.float32)
    PY = (PX[:, :2] > 0).astype(np.float32)
    valid = {
        "plain": dict(X=X, y=y),
        "f64_bool": dict(X=X.astype(np.float64), y=y.astype(bool)),
        "float_labels": dict(X=X, y=y.astype(np.float32)),
        "u64_labels": dict(X=X, y=y.astype(np.uint64)),
        "pretrain_x": dict(X=X, y=y, **{"pretrain/X": PX}),
        "pretrain_xy": dict(X=X, y=y, **{"pretrain/X": PX, "pretrain/Y": PY}),
        "bigendian": dict(X=X.astype(">f4"), y=y.astype(">i8")),
        "one_by_one": dict(X=X[:1, :1], y=y[:1]),
    }
    for name, dsets in valid.items():
        for libver in ("earliest", "latest"):
            with new("%s_%s" % (name, libver), libver) as f:
                for k, v in dsets.items():
                    f[k] = v
                f.attrs["name"] = name
    with new("storage") as f:  # every filter a user's h5py may apply
        f.create_dataset("X", data=X, chunks=(4, 2), compression="gzip", shuffle=True,
                         fletcher32=True)
        f.create_dataset("y", data=y, chunks=(3,), compression="gzip")
        f.attrs.create("name", np.bytes_("fixed"))  # a fixed-length string
    with new("lzf") as f:  # h5py's own filter: not in the HDF5 library w2sweep links
        # (compressible values: a chunk lzf cannot shrink is stored unfiltered)
        f.create_dataset("X", data=np.repeat(X[:2], 32, axis=0), chunks=(64, D),
                         compression="lzf")
        f["y"] = np.repeat(y[:2], 32)
    with new("resizable") as f:
        f.create_dataset("X", data=X, maxshape=(None, D), chunks=(2, D))
        f.create_dataset("y", data=y, maxshape=(None,), chunks=(4,))
    with new("fill_only") as f:  # allocated, never written: the fill value
        f.create_dataset("X", shape=(N, D), dtype=np.float32, fillvalue=0.5)
        f.create_dataset("y", shape=(N,), dtype=np.int8, fillvalue=1)
    odd = {
        "x_1d": dict(X=X[:, 0], y=y),
        "x_3d": dict(X=X.reshape(N, D, 1), y=y),
        "x_int": dict(X=X.astype(np.int32), y=y),
        "x_string": dict(X=np.array([b"a", b"b"]), y=y),
        "x_empty": dict(X=np.zeros((0, D), np.float32), y=y[:0]),
        "x_nan": dict(X=np.where(X > 1, np.nan, X).astype(np.float32), y=y),
        "x_huge_f64": dict(X=X.astype(np.float64) * 1e300, y=y),
        "y_soft": dict(X=X, y=np.full(N, 0.3, np.float32)),
        "y_short": dict(X=X, y=y[:-1]),
        "y_2d": dict(X=X, y=y.reshape(N, 1)),
        "y_big": dict(X=X, y=np.full(N, 2**62, np.int64)),
        "y_compound": dict(X=X, y=np.zeros(N, dtype=[("a", "i4"), ("b", "f8")])),
        "pre_cols": dict(X=X, y=y, **{"pretrain/X": PX[:, :2]}),
        "pre_y_range": dict(X=X, y=y, **{"pretrain/X": PX, "pretrain/Y": PY * 1.5}),
        "pre_y_rows": dict(X=X, y=y, **{"pretrain/X": PX, "pretrain/Y": PY[:3]}),
        "pre_y_only": dict(X=X, y=y, **{"pretrain/Y": PY}),
    }
    for name, dsets in odd.items():
        with new(name) as f:
            for k, v in dsets.items():
                f[k] = v
    with new("pretrain_dataset") as f:
        f["X"], f["y"], f["pretrain"] = X, y, PX
    with new("x_group") as f:
        f.create_group("X")
        f["y"] = y
    with new("links") as f:
        f["data/X"], f["y"] = X, y
        f["X"] = h5py.SoftLink("/data/X")
        f["pretrain"] = h5py.SoftLink("/nowhere")
    with new("external_link") as f:
        f["X"] = h5py.ExternalLink("other.h5", "/X")
        f["y"] = y
    with new("scalar") as f:
        f["X"], f["y"] = np.float32(1), np.int8(1)
    with new("name_odd") as f:
        f["X"], f["y"] = X, y
        f.attrs["name"] = np.arange(3)
    with new("empty_file") as f:
        pass


def copy_attrs(src, dst):
    for k in src.attrs:
        aid = src.attrs.get_id(k)
        dst.attrs.create(k, src.attrs[k], dtype=aid.dtype)


def results_seeds(real, cell):
    if real:
        with h5py.File(real, "r") as s, new("real", "earliest") as d:
            copy_attrs(s, d)
            for k in ("summary", "models", "health", "sizes"):
                if k in s:
                    s.copy(s[k], d, k)
            if "provenance" in s:
                g = d.create_group("provenance")
                copy_attrs(s["provenance"], g)
        with h5py.File(cell, "r") as s, new("cell", "earliest") as d:
            copy_attrs(s, d)
            for k in s:
                s.copy(s[k], d, k)
    names = ["linear", "a-name-of-exactly-thirty-one-ch", "x" * 40]
    def summary(strlen, n=4, vlen=False):
        st = h5py.string_dtype() if vlen else "S%d" % strlen
        dt = [("task", st), ("seed", "<u8"), ("weak_size", st), ("strong_size", st),
              ("method", st), ("weak_acc", "<f8"), ("ceiling_acc", "<f8"),
              ("student_acc", "<f8"), ("pgr", "<f8"), ("weak_flops", "<f8"),
              ("strong_flops", "<f8"), ("pgr_status", st)]
        a = np.zeros(n, dtype=dt)
        for i in range(n):
            t = names[i % len(names)]
            a[i] = (t if vlen else t.encode(), i % 2, b"t2" if not vlen else "t2",
                    (b"t4", b"t6")[i % 2] if not vlen else "t4", b"naive" if not vlen else "naive",
                    0.6, 0.8, 0.7 + 0.01 * i, 0.5, 1e3, 1e4 * (1 + i % 2), b"" if not vlen else "")
        return a
    def models(n=6):
        dt = [("task", "S32"), ("size", "S32"), ("role", "S32"), ("seed", "<u8"),
              ("test_acc", "<f8"), ("test_auroc", "<f8"), ("test_loss", "<f8"),
              ("flops", "<f8"), ("params", "<f8")]
        a = np.zeros(n, dtype=dt)
        for i in range(n):
            a[i] = (b"linear", (b"t2", b"t4", b"t6")[i % 3], (b"weak", b"ceiling")[i // 3],
                    i % 2, 0.6 + 0.05 * (i % 3), 0.7, 0.5, 10.0 ** (3 + i % 3), 10 * (i + 1))
        return a
    def root(f, **over):
        attrs = dict(schema_version=np.int32(1), complete=np.int32(1),
                     cells_expected=np.int32(4), cells_present=np.int32(4),
                     sweep_name=np.bytes_("tiny"), sweep_hash=np.uint64(12345))
        attrs.update(over)
        for k, v in attrs.items():
            if v is not None:
                f.attrs[k] = v
        g = f.create_group("provenance")
        g.attrs["end_time"] = np.bytes_("2026-11-28T00:00:00Z")
    variants = {
        "s32": lambda f: (root(f), f.create_dataset("summary", data=summary(32)),
                          f.create_dataset("models", data=models())),
        "s64_long_names": lambda f: (root(f), f.create_dataset("summary", data=summary(64)),
                                     f.create_dataset("models", data=models())),
        "vlen_strings": lambda f: (root(f), f.create_dataset("summary", data=summary(0, vlen=True)),
                                   f.create_dataset("models", data=models())),
        "empty_tables": lambda f: (root(f, complete=np.int32(0), cells_present=np.int32(0)),
                                   f.create_dataset("summary", data=summary(32, 0)),
                                   f.create_dataset("models", data=models(0))),
        "summary_2d": lambda f: (root(f), f.create_dataset("summary", data=summary(32).reshape(2, 2))),
        "summary_group": lambda f: (root(f), f.create_group("summary")),
        "summary_floats": lambda f: (root(f), f.create_dataset("summary", data=np.zeros(4))),
        "schema_v2": lambda f: (root(f, schema_version=np.int32(2)),
                                f.create_dataset("summary", data=summary(32))),
        "attrs_odd": lambda f: (root(f, cells_expected=np.bytes_("4"), complete=np.arange(2),
                                     sweep_hash=np.float64(1.5), sweep_name=np.int32(3),
                                     schema_version=np.bytes_("1")),
                                f.create_dataset("summary", data=summary(32))),
        "no_attrs": lambda f: f.create_dataset("summary", data=summary(32)),
        "chunked_gzip": lambda f: (root(f), f.create_dataset("summary", data=summary(32),
                                                             chunks=(2,), compression="gzip"),
                                   f.create_dataset("models", data=models(), chunks=(3,),
                                                    compression="gzip")),
        "lzf": lambda f: (root(f), f.create_dataset("summary", data=summary(32), chunks=(4,),
                                                    compression="lzf"),
                          f.create_dataset("models", data=models())),
        "bigendian": lambda f: (root(f), f.create_dataset(
            "summary", data=summary(32).astype(summary(32).dtype.newbyteorder(">"))),
                                f.create_dataset("models", data=models())),
        "health_odd": lambda f: (root(f), f.create_dataset("summary", data=summary(32)),
                                 f.create_dataset("health", data=np.arange(5.0))),
    }
    for name, make in variants.items():
        with new(name) as f:
            make(f)


if kind == "data":
    data_seeds()
elif kind == "results":
    results_seeds(sys.argv[3] if len(sys.argv) > 4 else None,
                  sys.argv[4] if len(sys.argv) > 4 else None)
else:
    sys.exit("usage: make_seeds.py data|results OUTDIR [RESULTS.h5 CELL.h5]")
