#!/usr/bin/python3
"""check_reader.py FILE --cells N --summary N --curves N [--fits] [--printed LOG]

Checks analysis/w2sweep_results.load() on a results file of a real run or merge:
  * the documented tables with the expected row counts (cells, summary, curves), every
    string column decoded to str, the documented columns present;
  * summary (the stored /intervals) equal to means and 95 % t-intervals recomputed here
    from the cells (scipy's t quantile), with n_pgr = seeds with a defined PGR;
  * curves (the flat /curves) equal to the per-cell datasets under /cells, row for row;
  * --fits: one fits row per /fits/scaling and /fits/pgr group, with task/target/E/alpha;
  * --printed LOG: every summary row appears, as `run` / `merge` print it, in LOG.
Exit 0 when all hold; prints the failures and exits 1 otherwise; 77 without h5py/pandas."""
import argparse
import os
import sys

try:
    import h5py
    import numpy as np
    import pandas as pd
    from scipy import stats
except ImportError as e:
    print("SKIP:", e)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
import w2sweep_results as w2r  # noqa: E402

KEY = ["task", "weak_size", "strong_size", "method"]
bad = []


def expect(cond, what):
    if not cond:
        bad.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--cells", type=int, required=True)
    ap.add_argument("--summary", type=int, required=True)
    ap.add_argument("--curves", type=int, required=True)
    ap.add_argument("--fits", action="store_true")
    ap.add_argument("--printed")
    a = ap.parse_args()
    r = w2r.load(a.file)
    for name in w2r.Results._fields[:-1]:
        expect(isinstance(getattr(r, name), pd.DataFrame), "%s is a DataFrame" % name)
    expect(len(r.cells) == a.cells, "cells: %d rows, want %d" % (len(r.cells), a.cells))
    expect(len(r.summary) == a.summary, "summary: %d rows, want %d" % (len(r.summary), a.summary))
    expect(len(r.curves) == a.curves, "curves: %d rows, want %d" % (len(r.curves), a.curves))
    for name, df in (("cells", r.cells), ("summary", r.summary), ("curves", r.curves),
                     ("models", r.models)):
        for c in df.columns:
            if df[c].dtype == object:
                expect(all(isinstance(v, str) for v in df[c]), "%s.%s decoded to str" % (name, c))
    for c in ["n_seeds", "n_pgr", "oracle"] + [m + s for m in ("weak_acc", "ceiling_acc",
                                                                 "student_acc", "pgr")
                                                for s in ("", "_lo", "_hi")]:
        expect(c in r.summary.columns, "summary has column %s" % c)
    for c in ["point", "step", "flops", "test_acc", "agree_weak_wrong", "weak_fit"]:
        expect(c in r.curves.columns, "curves has column %s" % c)
    expect(r.attrs.get("cells_present") == a.cells, "attrs.cells_present")
    if bad:
        return

    # summary = the seeds' means and t-intervals, recomputed from the cells
    def ci(v):
        v = v[np.isfinite(v)]
        m = v.mean() if len(v) else np.nan
        h = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) \
            if len(v) > 1 else np.nan
        return len(v), m, m - h, m + h

    s = r.summary.set_index(KEY)
    expect(s.index.is_unique, "summary: one row per (task, weak, strong, method)")
    for key, g in r.cells.groupby(KEY):
        row = s.loc[key]
        expect(row.n_seeds == len(g), "%s n_seeds" % (key,))
        for m in ("weak_acc", "ceiling_acc", "student_acc", "pgr"):
            n, mean, lo, hi = ci(g[m].to_numpy(dtype=float))
            got = np.array([row[m], row[m + "_lo"], row[m + "_hi"]], dtype=float)
            expect(np.allclose(got, [mean, lo, hi], rtol=1e-7, atol=1e-9, equal_nan=True),
                   "%s %s: stored %s, recomputed %s" % (key, m, got, [mean, lo, hi]))
            if m == "pgr":
                expect(row.n_pgr == n, "%s n_pgr %d, want %d" % (key, row.n_pgr, n))
        expect(row.oracle == int(key[3] == "es_gt_oracle"), "%s oracle flag" % (key,))

    # curves = the /cells datasets
    with h5py.File(a.file, "r") as f:
        walk = w2r._curves_from_groups(f)
    order = w2r.CURVE_KEY + ["point"]
    x = r.curves.sort_values(order).reset_index(drop=True)
    y = walk.sort_values(order).reset_index(drop=True)
    expect(list(sorted(x.columns)) == list(sorted(y.columns)),
           "curves columns %s vs /cells %s" % (sorted(x.columns), sorted(y.columns)))
    if not bad:
        y = y[x.columns]
        for c in x.columns:
            same = np.array_equal(x[c].to_numpy(), y[c].to_numpy()) if x[c].dtype == object \
                else np.allclose(x[c].to_numpy(float), y[c].to_numpy(float), rtol=0, atol=0,
                                 equal_nan=True)
            expect(same, "curves.%s equals the /cells datasets" % c)
    lc = w2r.long_curves(r.curves)
    expect(len(lc) == len(r.curves) * 8, "long_curves: 8 metrics per point (%d)" % len(lc))

    if a.fits:
        with h5py.File(a.file, "r") as f:
            groups = [(k, t, g) for k in ("scaling", "pgr") if k in f["fits"]
                      for t in f["fits"][k] for g in f["fits"][k][t]]
        expect(len(groups) > 0 and len(r.fits) == len(groups),
               "fits: %d rows for %d /fits groups" % (len(r.fits), len(groups)))
        for c in ("kind", "task", "target", "E", "alpha", "converged"):
            expect(c in r.fits.columns, "fits has column %s" % c)
        if not bad:
            got = sorted(zip(r.fits.kind, r.fits.task, r.fits.target))
            expect(got == sorted(groups), "fits rows name their groups")
            expect(set(r.fits.task) <= set(r.cells.task), "fits tasks are the sweep's")

    if a.printed:
        text = open(a.printed).read()
        for _, row in r.summary.iterrows():
            line = "%-10s %-9s %-9s %-14s %5s %8.2f %8.2f %8.2f" % (
                row.task, row.weak_size, row.strong_size, row.method,
                "%d/%d" % (row.n_pgr, row.n_seeds), 100 * row.weak_acc,
                100 * row.ceiling_acc, 100 * row.student_acc)
            expect(line in text, "printed table has: %s" % line)


if __name__ == "__main__":
    try:
        main()
    except w2r.ResultsError as e:
        bad.append(str(e))
    for b in bad[:20]:
        print("FAIL:", b)
    print("check_reader %s: %s" % (sys.argv[1], "OK" if not bad else "%d failures" % len(bad)))
    sys.exit(1 if bad else 0)
