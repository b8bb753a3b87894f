#!/usr/bin/python3
"""w2sweep_results — a w2sweep results file (results/SCHEMA.md) as tidy pandas tables.

    import sys; sys.path.insert(0, "analysis")
    import w2sweep_results as w2r
    r = w2r.load("results/quickstart.h5")
    r.summary.query("method == 'naive'")[["task", "weak_size", "strong_size", "pgr", "pgr_lo", "pgr_hi"]]
    r.curves.groupby(["strong_size", "point"]).test_acc.mean()

Run it with Debian's /usr/bin/python3 (python3-h5py, python3-pandas). `load` returns a
`Results` named tuple of DataFrames; every byte string is decoded to `str`, and every column
the file has is read (columns added to the file later appear without a change here):

  cells      /summary: one row per cell (task, seed, weak_size, strong_size, method) with its
             metrics (accuracies, PGR and the guard's pgr_status, agreement, FLOPs, recipe, ...)
  curves     /curves: one row per (cell, evaluation point): the cell's key, `point`
             (0-based) and one column per curve metric (step, flops, test_acc, test_auroc,
             test_ece, test_loss, agree, agree_weak_right, agree_weak_wrong, weak_fit).
             `long_curves(r.curves)` melts it to one row per (cell, point, metric).
             Files written before /curves existed are read from /cells/... (slower).
  summary    /intervals: one row per (task, weak_size, strong_size, method): n_seeds, n_pgr
             (seeds with a defined PGR), oracle, and the mean over seeds of weak_acc,
             ceiling_acc, student_acc, pgr, each with its 95 % t-interval <name>_lo,
             <name>_hi: the table `run` and `merge` print. Empty for files without it.
  fits       /fits (written by `w2sweep fit`): one row per fit, `kind` (scaling or pgr),
             `task`, `target` (the role or the method) and every scalar attribute of the fit
             (E, A, alpha, their intervals E_lo ..., converged, note, ...). Empty without /fits.
  backtests  the fits' `backtest` tables, with kind, task, target columns. Empty without /fits.
  health     /health: the known-answer checks (empty when the sweep had none).
  models     /models: one row per trained weak supervisor and ceiling.
  sizes      /sizes: the size ladder.
  attrs      the root attributes (a dict), e.g. complete, cells_present, sweep_name.

A missing or unreadable file, or one without /summary, raises ResultsError (one line).
"""
import collections

import numpy as np

try:
    import h5py
    import pandas as pd
except ImportError as e:  # pragma: no cover - depends on the interpreter
    raise ImportError("w2sweep_results needs h5py and pandas (Debian: /usr/bin/python3 with "
                      "python3-h5py, python3-pandas): %s" % e)

Results = collections.namedtuple(
    "Results", "cells curves summary fits backtests health models sizes attrs")

CURVE_KEY = ["task", "seed", "weak_size", "strong_size", "method"]


class ResultsError(Exception):
    """A file that is not a readable w2sweep results file."""


def _decode_value(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return _decode_value(v[()])
    if isinstance(v, np.generic):
        return v.item()
    return v


def table(ds):
    """A 1-D compound dataset (or structured array) as a DataFrame, byte strings decoded."""
    a = ds[()] if isinstance(ds, h5py.Dataset) else ds
    if a.dtype.names is None:
        raise ResultsError("%s is not a compound table" % getattr(ds, "name", "array"))
    cols = {}
    for name in a.dtype.names:
        col = a[name]
        if col.dtype.kind == "S":
            col = np.char.decode(col, "utf-8", "replace").astype(object)
        elif col.dtype.kind == "O":
            col = np.array([_decode_value(v) for v in col], dtype=object)
        if col.ndim > 1:  # a fixed-size array field: one column per element
            for k in range(col.shape[1]):
                cols["%s_%d" % (name, k)] = col[:, k]
        else:
            cols[name] = col
    return pd.DataFrame(cols, columns=list(cols))


def _curves_from_groups(f):
    """/cells/<task>/s<seed>/<weak>/<strong>/<method>/{step,...}: files without /curves."""
    frames = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Group) or "step" not in obj:
            return
        a = obj.attrs
        n = obj["step"].shape[0]
        d = {"task": _decode_value(a["task"]), "seed": np.uint64(a["seed"]),
             "weak_size": _decode_value(a["weak_size"]),
             "strong_size": _decode_value(a["strong_size"]),
             "method": _decode_value(a["method"])}
        cols = {k: [v] * n for k, v in d.items()}
        cols["point"] = np.arange(n, dtype=np.int32)
        for k, ds in obj.items():
            if isinstance(ds, h5py.Dataset) and ds.shape == (n,) and ds.dtype.kind == "f" \
                    and k != "chain_acc":
                cols[k] = ds[()]
        frames.append(pd.DataFrame(cols))

    if "cells" in f:
        f["cells"].visititems(visit)
    if not frames:
        return pd.DataFrame(columns=CURVE_KEY + ["point"])
    return pd.concat(frames, ignore_index=True)


def long_curves(curves):
    """curves with one row per (cell, point, metric): columns ..., metric, value."""
    ids = [c for c in CURVE_KEY + ["point", "step", "flops"] if c in curves.columns]
    return curves.melt(id_vars=ids, var_name="metric", value_name="value")


def _fits(f):
    rows, bts = [], []
    if "fits" not in f:
        return pd.DataFrame(), pd.DataFrame()
    for kind in ("scaling", "pgr"):
        if kind not in f["fits"]:
            continue
        for task, tg in f["fits"][kind].items():
            for target, g in tg.items():
                if not isinstance(g, h5py.Group):
                    continue
                row = {"kind": kind, "task": task, "target": target}
                for k, v in g.attrs.items():
                    v = _decode_value(v)
                    if np.isscalar(v) or isinstance(v, str):
                        row[k] = v
                rows.append(row)
                if "backtest" in g and isinstance(g["backtest"], h5py.Dataset) \
                        and g["backtest"].shape[0] > 0:
                    bt = table(g["backtest"])
                    bt.insert(0, "target", target)
                    bt.insert(0, "task", task)
                    bt.insert(0, "kind", kind)
                    bts.append(bt)
    fits = pd.DataFrame(rows)
    backtests = pd.concat(bts, ignore_index=True) if bts else pd.DataFrame()
    return fits, backtests


def load(path):
    """The results file at path as a Results named tuple (see the module's docstring)."""
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise ResultsError("%s: cannot open as HDF5 (%s)" % (path, e))
    with f:
        if "summary" not in f or not isinstance(f["summary"], h5py.Dataset):
            raise ResultsError("%s: no /summary table: not a w2sweep results file" % path)

        def opt(name):
            return table(f[name]) if name in f and isinstance(f[name], h5py.Dataset) \
                else pd.DataFrame()

        cells = table(f["summary"])
        curves = table(f["curves"]) if "curves" in f else _curves_from_groups(f)
        fits, backtests = _fits(f)
        attrs = {k: _decode_value(v) for k, v in f.attrs.items()}
        return Results(cells=cells, curves=curves, summary=opt("intervals"), fits=fits,
                       backtests=backtests, health=opt("health"), models=opt("models"),
                       sizes=opt("sizes"), attrs=attrs)


if __name__ == "__main__":  # a quick look: python3 analysis/w2sweep_results.py FILE
    import sys
    r = load(sys.argv[1])
    for name in Results._fields[:-1]:
        print("%-9s %6d rows x %2d columns" % (name, *getattr(r, name).shape))
