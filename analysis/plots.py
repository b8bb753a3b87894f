#!/usr/bin/python3
"""The figure types of Burns et al. (2023), "Weak-to-strong generalization", from any
w2sweep results file (results/SCHEMA.md), as PNG, PDF and SVG.

    /usr/bin/python3 analysis/plots.py RESULTS.h5 --out DIR [--task T] [--method naive]

Run it with Debian's /usr/bin/python3 (python3-h5py, python3-matplotlib). One figure per
type and task, each as NAME.png (150 dpi), NAME.pdf and NAME.svg (vector; SVG text is kept as
text). Error bars are 95 % t-intervals over seeds: for accuracy and PGR exactly the stored
/intervals of `run` / `merge` (the table they print), for the other metrics the same formula:

  fig3_<task>.png         test accuracy and PGR against strong-student compute, one line per
                          weak supervisor, with the strong ceiling (paper Fig. 3)
  fig4_<task>.png         bootstrapping through intermediate sizes vs naive (Fig. 4)
  fig5_<task>.png         auxiliary confidence loss vs naive (Fig. 5)
  fig7_<task>.png         test accuracy over training for a small and a large compute gap,
                          and best (early-stopped, oracle) vs final PGR (Fig. 7)
  fig8_<task>.png         student-supervisor agreement: overall, where the supervisor is
                          right, where it is wrong (Fig. 8)
  fig11_<task>.png        linear-probe strategies (Fig. 11)
  scaling_<task>.png      error-vs-compute fits of weak supervisors and ceilings with 95 %
                          bands, the backtest refits and the held-out points (/fits)
  pgrfit_<task>.png       PGR-vs-compute fits per method with bands and held-out points

A figure whose methods (or /fits, or /cells curves) are absent is skipped with a note on
stdout. How to read each figure: analysis/README.md. Exit status 0 when at least one figure
was written; 2 (one line on stderr) for a missing, unreadable or malformed file.
"""
import argparse
import math
import os
import sys

import numpy as np

try:
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.patches
    import matplotlib.ticker
    from matplotlib.lines import Line2D
except ImportError as e:  # pragma: no cover - depends on the interpreter
    sys.stderr.write("plots.py: error: %s (run with /usr/bin/python3, which has Debian's "
                     "python3-h5py and python3-matplotlib)\n" % e)
    sys.exit(2)

PROG = "plots.py"
SUMMARY_FIELDS = ["task", "seed", "weak_size", "strong_size", "method", "weak_acc",
                  "ceiling_acc", "student_acc", "student_best_acc", "pgr", "pgr_best",
                  "agree", "agree_weak_right", "agree_weak_wrong", "weak_flops",
                  "strong_flops"]
STR_FIELDS = ("task", "weak_size", "strong_size", "method")

plt.rcParams.update({
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 9,
    "legend.title_fontsize": 9, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "figure.dpi": 110, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False,
    "svg.fonttype": "none", "pdf.fonttype": 42,  # editable text in SVG and PDF
})
FORMATS = ("png", "pdf", "svg")
INTERVAL_TXT = "bars: 95 % t-interval over seeds"
COMPUTE_LABEL = "strong student training compute (FLOPs)"
ACC_LABEL = "test accuracy (fraction correct)"
PGR_LABEL = "performance gap recovered (PGR)"
METHOD_LABEL = {
    "naive": "naive finetuning on weak labels",
    "conf": "aux. confidence loss",
    "bootstrap": "bootstrapping",
    "lp_weak": "linear probe on weak labels",
    "lp_gt": "linear probe on ground truth",
    "ftweak_lpgt": "finetune on weak, then probe on GT",
}


class InputError(Exception):
    """A results file that cannot be plotted: one line, exit 2."""


def note(msg):
    print("%s: note: %s" % (PROG, msg))


# --------------------------------------------------------------------------------------
# Reading


def decode(x):
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


# t(0.975, df) for df = 1..30 (beyond: 1.96 + 2.4/df, within 0.002): the 95 % t-interval of
# src/health.c w2_mean_ci95 without needing scipy
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def ci95_half(v):
    """half-width of the 95 % t-interval of the mean of v (finite values); 0 with < 2"""
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n < 2:
        return 0.0
    t = T975[n - 2] if n - 1 <= len(T975) else 1.96 + 2.4 / (n - 1)
    return float(t * np.std(v, ddof=1) / math.sqrt(n))


def num(v, fmt="%.3g"):
    """a number for a label; never 'nan'"""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return fmt % v if np.isfinite(v) else "n/a"


def load(path):
    if not os.path.exists(path):
        raise InputError("%s: no such file" % path)
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise InputError("%s: not an HDF5 file (or unreadable)" % path)
    sv = f.attrs.get("schema_version")
    if sv is None:
        raise InputError("%s: no schema_version attribute (not a w2sweep results file)" % path)
    if int(np.asarray(sv).ravel()[0]) != 1:
        raise InputError("%s: schema_version %s is not supported (expected 1)" % (path, sv))
    if "summary" not in f or not isinstance(f["summary"], h5py.Dataset):
        raise InputError("%s: no /summary dataset" % path)
    ds = f["summary"]
    if ds.dtype.names is None or ds.ndim != 1:
        raise InputError("%s: /summary is not a 1-D compound table" % path)
    missing = [k for k in SUMMARY_FIELDS if k not in ds.dtype.names]
    if missing:
        raise InputError("%s: /summary has no field '%s'" % (path, missing[0]))
    raw = ds[:]
    rows = {}
    for k in SUMMARY_FIELDS:
        col = raw[k]
        rows[k] = np.array([decode(v) for v in col], dtype=object) if k in STR_FIELDS else \
            np.asarray(col, dtype=float if k != "seed" else np.int64)  # seeds: uint64, < 2^63
    # PGR only where it means something (results/SCHEMA.md): w2sweep stores NaN when the gap
    # is below max(1 point, 2 SE) or negative; files written before that guard may hold a
    # finite PGR over a negative or zero gap, which must not enter any figure either
    undefined = ~(rows["ceiling_acc"] - rows["weak_acc"] > 0)
    if "pgr_status" in ds.dtype.names:
        undefined |= np.array([len(decode(v).strip("\0")) > 0 for v in raw["pgr_status"]],
                              dtype=bool)
    for k in ("pgr", "pgr_best"):
        rows[k] = np.where(undefined, np.nan, rows[k])
    # the method's kind (results/SCHEMA.md `method_kind`): figures pick methods by kind, not
    # by name, so a conf named conf_a05 is still Fig. 5's; files without it: the name
    rows["method_kind"] = np.array([decode(v).strip("\0") for v in raw["method_kind"]], dtype=object) \
        if "method_kind" in ds.dtype.names else rows["method"].copy()
    # the known-answer cells (weak check_*) have their own figure (fig_health), not a place
    # among the weak supervisors of the paper's figures
    keep = np.array([not w.startswith("check_") for w in rows["weak_size"]], dtype=bool)
    rows = {k: v[keep] for k, v in rows.items()}
    # the stored means and 95 % intervals (/intervals, written by run and merge): the error
    # bars of accuracy and PGR are these very numbers
    INTERVALS.clear()
    if "intervals" in f and isinstance(f["intervals"], h5py.Dataset) and \
            f["intervals"].dtype.names is not None:
        for r in f["intervals"][:]:
            key = tuple(decode(r[k]) for k in ("task", "weak_size", "strong_size", "method"))
            INTERVALS[key] = {k: float(r[k]) for k in r.dtype.names if k.endswith(("_acc", "_lo", "_hi")) or k == "pgr"}
    return f, rows


# (task, weak, strong, method) -> {"student_acc": mean, "student_acc_lo": ..., "pgr": ...}
INTERVALS = {}
STORED = ("weak_acc", "ceiling_acc", "student_acc", "pgr")


# Set by main from /health@passed: every figure of a sweep whose known-answer checks (a) or
# (b) failed, or (e) where the sweep sets checks.min_ceiling_rise, carries a banner
# (results/SCHEMA.md, /health).
HEALTH_FAILED = False


def order_by(names, key):
    """names sorted by key[name] (compute), names without compute last."""
    return sorted(names, key=lambda n: (not np.isfinite(key.get(n, np.nan)) or key[n] <= 0,
                                        key.get(n, 0.0), n))


class Table:
    """The /summary rows of one task, with helpers to average over seeds."""

    def __init__(self, rows, task):
        m = rows["task"] == task
        self.r = {k: v[m] for k, v in rows.items()}
        self.task = task
        self.methods = sorted(set(self.r["method"]))
        self.kind = dict(zip(self.r["method"], self.r["method_kind"]))
        wf, sf = {}, {}
        for w, x in zip(self.r["weak_size"], self.r["weak_flops"]):
            wf.setdefault(w, []).append(x)
        for s, x in zip(self.r["strong_size"], self.r["strong_flops"]):
            sf.setdefault(s, []).append(x)
        self.weak_flops = {k: float(np.mean(v)) for k, v in wf.items()}
        self.strong_flops = {k: float(np.mean(v)) for k, v in sf.items()}

    def of_kind(self, kind):
        """Names of the methods of this kind, the one named like the kind first."""
        return sorted((m for m in self.methods if self.kind.get(m) == kind),
                      key=lambda m: (m != kind, m))

    def sel(self, method, **eq):
        m = self.r["method"] == method
        for k, v in eq.items():
            m &= self.r[k] == v
        return {k: v[m] for k, v in self.r.items()}

    def weaks(self, method):
        return order_by(set(self.sel(method)["weak_size"]), self.weak_flops)

    def curve(self, method, weak, field):
        """x = mean strong compute per strong size, y = mean over seeds, e = half-width of
        the 95 % t-interval over seeds (the stored /intervals numbers where the file has
        them: accuracies and PGR)"""
        d = self.sel(method, weak_size=weak)
        xs, ys, es = [], [], []
        for s in order_by(set(d["strong_size"]), self.strong_flops):
            v = d[field][d["strong_size"] == s]
            v = v[np.isfinite(v)]
            if len(v) == 0:
                continue
            st = INTERVALS.get((self.task, weak, s, method)) if field in STORED else None
            if st is not None and np.isfinite(st[field]):
                y, hi = st[field], st[field + "_hi"]
                e = hi - y if np.isfinite(hi) else 0.0
            else:
                y, e = float(np.mean(v)), ci95_half(v)
            xs.append(self.strong_flops[s])
            ys.append(y)
            es.append(e)
        return np.array(xs), np.array(ys), np.array(es)

    def ceiling(self):
        xs, ys = [], []
        for s in order_by(set(self.r["strong_size"]), self.strong_flops):
            v = self.r["ceiling_acc"][self.r["strong_size"] == s]
            v = v[np.isfinite(v)]
            if len(v):
                xs.append(self.strong_flops[s])
                ys.append(float(np.mean(v)))
        return np.array(xs), np.array(ys)


def weak_colors(weaks, flops):
    """viridis by weak compute (yellow end cut: unreadable on white); synthetic grey."""
    comp = [w for w in weaks if flops.get(w, 0) > 0]
    cmap = plt.get_cmap("viridis")
    out = {}
    for i, w in enumerate(comp):
        out[w] = cmap(0.05 + 0.8 * (i / max(1, len(comp) - 1)))
    for w in weaks:
        out.setdefault(w, (0.45, 0.45, 0.45, 1.0))
    return out


def weak_label(w, flops):
    c = flops.get(w, 0)
    return "%s (%.1e FLOPs)" % (w, c) if c > 0 else "%s (synthetic)" % w


def setup_compute_axis(ax):
    ax.set_xscale("log")
    ax.set_xlabel(COMPUTE_LABEL)


def pgr_refs(ax):
    ax.axhline(0, color="0.3", lw=0.8, ls=":")
    ax.axhline(1, color="0.3", lw=0.8, ls=":")


def save(fig, out, name, written):
    if HEALTH_FAILED:
        fig.text(0.5, 1.0, "known-answer checks FAILED (see /health): not a result",
                 ha="center", va="bottom", color="#c0392b", fontsize=11, fontweight="bold")
    base = os.path.join(out, os.path.splitext(name)[0])
    for ext in FORMATS:
        fig.savefig(base + "." + ext, bbox_inches="tight")
        written.append(base + "." + ext)
    plt.close(fig)


# --------------------------------------------------------------------------------------
# Fig. 3 / 4 / 5: accuracy and PGR vs strong compute


def draw_acc_pgr(t, axes, method, ls="-", marker="o", label_weak=True, alpha=1.0):
    weaks = t.weaks(method)
    col = weak_colors(t.weaks(method), t.weak_flops)
    for w in weaks:
        for ax, field in zip(axes, ("student_acc", "pgr")):
            x, y, e = t.curve(method, w, field)
            if len(x) == 0:
                continue
            ax.errorbar(x, y, yerr=e if np.any(e > 0) else None, color=col[w], ls=ls,
                        marker=marker, ms=4, lw=1.6, capsize=2, alpha=alpha,
                        label=weak_label(w, t.weak_flops) if label_weak and ax is axes[0]
                        else None)
    return weaks


def ceiling_line(t, ax):
    x, y = t.ceiling()
    if len(x):
        ax.plot(x, y, color="black", lw=2.2, marker="s", ms=4, label="strong ceiling (GT)")


def fig_acc_pgr(t, out, written, name, methods, title):
    """methods: [(method, linestyle, marker, legend text)] drawn on the same axes."""
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8), layout="constrained")
    for i, (m, ls, mk, _) in enumerate(methods):
        draw_acc_pgr(t, axes, m, ls=ls, marker=mk, label_weak=(i == 0))
    ceiling_line(t, axes[0])
    setup_compute_axis(axes[0])
    setup_compute_axis(axes[1])
    axes[0].set_ylabel(ACC_LABEL)
    axes[1].set_ylabel(PGR_LABEL)
    pgr_refs(axes[1])
    axes[0].set_title("(a) student accuracy, by weak supervisor")
    axes[1].set_title("(b) PGR = (student - weak) / (ceiling - weak)")
    h, l = axes[0].get_legend_handles_labels()
    if len(methods) > 1:
        for m, ls, mk, txt in methods:
            h.append(Line2D([], [], color="0.2", ls=ls, marker=mk, ms=4))
            l.append(txt)
    fig.legend(h, l, loc="center left", bbox_to_anchor=(1.0, 0.5), title="weak supervisor",
               frameon=False)
    fig.suptitle(title + " — task %s (mean over seeds, %s)" % (t.task, INTERVAL_TXT))
    save(fig, out, name, written)


def fig3(t, out, written, method):
    if method not in t.methods:
        return note("skipping Fig. 3 for %s: no '%s' cells" % (t.task, method))
    fig_acc_pgr(t, out, written, "fig3_%s.png" % t.task, [(method, "-", "o", method)],
                "Fig. 3: %s" % METHOD_LABEL.get(method, method))


def label_of(t, m):
    """The legend text of method m: its kind's label, and its name when that differs."""
    k = t.kind.get(m, m)
    return METHOD_LABEL.get(k, k) + ("" if m == k else " (%s)" % m)


def fig_vs(t, out, written, other_kind, figno, name):
    missing = [k for k in ("naive", other_kind) if not t.of_kind(k)]
    if missing:
        return note("skipping Fig. %d for %s: no '%s' cells" % (figno, t.task,
                                                                 "', '".join(missing)))
    other = t.of_kind(other_kind)[0]
    fig_acc_pgr(t, out, written, "%s_%s.png" % (name, t.task),
                [(other, "-", "o", "%s (solid)" % label_of(t, other)),
                 (t.of_kind("naive")[0], "--", "x", "naive finetuning (dashed)")],
                "Fig. %d: %s vs naive" % (figno, label_of(t, other)))


# --------------------------------------------------------------------------------------
# Fig. 7: accuracy over training, best vs final PGR


def read_curves(f, task, method, weak, strong):
    """mean over seeds of the test_acc curve of one (weak, strong) pair and the half-width
    of its 95 % t-interval at each point, or None."""
    base = "cells/%s" % task
    if base not in f:
        return None
    ys, xs = [], None
    for seed in f[base]:
        p = "%s/%s/%s/%s/%s" % (base, seed, weak, strong, method)
        if p in f and "test_acc" in f[p] and "step" in f[p]:
            y = np.asarray(f[p]["test_acc"][:], float)
            x = np.asarray(f[p]["step"][:], float)
            if xs is None or len(x) == len(xs):
                xs = x
                ys.append(y)
    if not ys:
        return None
    ys = np.array(ys)
    half = np.array([ci95_half(ys[:, i]) for i in range(ys.shape[1])])
    return xs, ys.mean(axis=0), len(ys), half


def fig7(f, t, out, written, method):
    if method not in t.methods:
        return note("skipping Fig. 7 for %s: no '%s' cells" % (t.task, method))
    d = t.sel(method)
    pairs = {}
    for w, s in zip(d["weak_size"], d["strong_size"]):
        wf, sf = t.weak_flops.get(w, 0), t.strong_flops.get(s, 0)
        if wf > 0 and sf > 0:
            pairs[(w, s)] = math.log10(sf / wf)
    if not pairs:
        return note("skipping Fig. 7 for %s: no (weak, strong) pair with compute" % t.task)
    small = min(pairs, key=lambda p: (pairs[p], -t.strong_flops[p[1]]))
    large = max(pairs, key=lambda p: (pairs[p], t.strong_flops[p[1]]))
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8), layout="constrained")
    ax = axes[0]
    drawn = 0
    for (w, s), c, tag in ((small, "tab:blue", "small gap"), (large, "tab:red", "large gap")):
        cv = read_curves(f, t.task, method, w, s)
        if cv is None:
            continue
        x, y, n, half = cv
        ax.plot(x, y, color=c, lw=2, label="%s: %s -> %s (%.1f decades, %d seed%s)" % (
            tag, w, s, pairs[(w, s)], n, "s" if n > 1 else ""))
        if n > 1:
            ax.fill_between(x, y - half, y + half, color=c, alpha=0.15, lw=0)
        dd = t.sel(method, weak_size=w, strong_size=s)
        ax.axhline(np.nanmean(dd["weak_acc"]), color=c, ls=":", lw=1.2)
        ax.axhline(np.nanmean(dd["ceiling_acc"]), color=c, ls="--", lw=1.2)
        ax.plot(x[np.argmax(y)], y.max(), marker="*", ms=12, color=c, ls="none")
        drawn += 1
    if drawn:
        ax.set_xlabel("student finetuning step")
        ax.set_ylabel(ACC_LABEL)
        ax.set_title("(a) test accuracy over training")
        h, l = ax.get_legend_handles_labels()
        h += [Line2D([], [], color="0.3", ls="--"), Line2D([], [], color="0.3", ls=":"),
              Line2D([], [], color="0.3", marker="*", ls="none", ms=10)]
        l += ["strong ceiling", "weak supervisor", "best point (early stopping)"]
        h.append(matplotlib.patches.Patch(color="0.3", alpha=0.15))
        l.append("95 % t-interval over seeds")
        # below the axes, never over a curve
        ax.legend(h, l, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
                  frameon=False)
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no /cells training curves in this file", ha="center",
                transform=ax.transAxes)
        note("Fig. 7 for %s: no /cells curves, panel (a) left empty" % t.task)
    ax = axes[1]
    gaps, fin, best, efin, ebest = [], [], [], [], []
    for (w, s), g in pairs.items():
        dd = t.sel(method, weak_size=w, strong_size=s)
        a, b = dd["pgr"], dd["pgr_best"]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.any():
            gaps.append(g)
            fin.append(np.mean(a[ok]))
            best.append(np.mean(b[ok]))
            efin.append(ci95_half(a[ok]))
            ebest.append(ci95_half(b[ok]))
    if gaps:
        ax.errorbar(fin, best, xerr=efin, yerr=ebest, fmt="none", ecolor="0.6", lw=0.8,
                    capsize=2, zorder=1, label="95 % t-intervals over seeds")
    sc = ax.scatter(fin, best, c=gaps, cmap="plasma", s=40, edgecolor="k", lw=0.4,
                    vmin=0, vmax=max(gaps) if gaps else 1, zorder=3)
    lo = min(fin + best + [0.0]) - 0.05
    hi = max(fin + best + [1.0]) + 0.05
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", label="best = final")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("final PGR")
    ax.set_ylabel("best PGR over training (oracle early stopping)")
    ax.set_title("(b) best vs final PGR, one point per (weak, strong) pair")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, fontsize=8)
    cb = fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("compute gap: log10(strong / weak FLOPs)")
    fig.suptitle("Fig. 7: %s — task %s (mean over seeds, 95 %% t-intervals)" % (
        METHOD_LABEL.get(method, method), t.task))
    save(fig, out, "fig7_%s.png" % t.task, written)


# --------------------------------------------------------------------------------------
# Fig. 8: agreement


def fig8(t, out, written):
    methods = [t.of_kind(k)[0] for k in ("naive", "conf", "bootstrap") if t.of_kind(k)]
    if not methods:
        return note("skipping Fig. 8 for %s: none of naive/conf/bootstrap present" % t.task)
    fields = [("agree", "overall"), ("agree_weak_right", "where the supervisor is right"),
              ("agree_weak_wrong", "where the supervisor is wrong")]
    fig, axes = plt.subplots(len(methods), 3, figsize=(15, 3.9 * len(methods)), squeeze=False,
                             layout="constrained")
    for i, m in enumerate(methods):
        col = weak_colors(t.weaks(m), t.weak_flops)
        for j, (fld, txt) in enumerate(fields):
            ax = axes[i][j]
            for w in t.weaks(m):
                x, y, e = t.curve(m, w, fld)
                if len(x):
                    ax.errorbar(x, y, yerr=e if np.any(e > 0) else None, color=col[w],
                                marker="o", ms=4, lw=1.6, capsize=2,
                                label=weak_label(w, t.weak_flops))
            setup_compute_axis(ax)
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("student-supervisor agreement")
            ax.set_title("%s: %s" % (m, txt))
    h, l = axes[0][0].get_legend_handles_labels()
    fig.legend(h, l, loc="center left", bbox_to_anchor=(1.0, 0.5), title="weak supervisor",
               frameon=False)
    fig.suptitle("Fig. 8: agreement of the strong student with its weak supervisor on test — "
                 "task %s (%s)" % (t.task, INTERVAL_TXT))
    save(fig, out, "fig8_%s.png" % t.task, written)


# --------------------------------------------------------------------------------------
# Fig. 11: linear-probe strategies


def fig11(t, out, written):
    lp = [t.of_kind(k)[0] for k in ("lp_weak", "lp_gt", "ftweak_lpgt") if t.of_kind(k)]
    if not lp:
        return note("skipping Fig. 11 for %s: no linear-probe methods (lp_weak, lp_gt, "
                    "ftweak_lpgt)" % t.task)
    methods = t.of_kind("naive")[:1] + lp
    weaks = [w for w in t.weaks(methods[0]) if t.weak_flops.get(w, 0) > 0]
    if not weaks:
        return note("skipping Fig. 11 for %s: no weak supervisor with compute" % t.task)
    w = weaks[0]  # the weakest supervisor: the largest gap to recover
    colors = dict(zip(["naive", "lp_weak", "lp_gt", "ftweak_lpgt"],
                      ["tab:blue", "tab:orange", "tab:green", "tab:purple"]))
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8), layout="constrained")
    for m in methods:
        for ax, fld in zip(axes, ("student_acc", "pgr")):
            x, y, e = t.curve(m, w, fld)
            if len(x):
                ax.errorbar(x, y, yerr=e if np.any(e > 0) else None, color=colors[t.kind[m]],
                            marker="o", ms=4, lw=1.8, capsize=2,
                            label=METHOD_LABEL.get(m, m) if ax is axes[0] else None)
    ceiling_line(t, axes[0])
    wacc = np.nanmean(t.sel(methods[0], weak_size=w)["weak_acc"])
    axes[0].axhline(wacc, color="0.4", ls=":", lw=1.2, label="weak supervisor %s" % w)
    for ax in axes:
        setup_compute_axis(ax)
    axes[0].set_ylabel(ACC_LABEL)
    axes[1].set_ylabel(PGR_LABEL)
    pgr_refs(axes[1])
    axes[0].set_title("(a) accuracy, supervisor %s" % w)
    axes[1].set_title("(b) PGR, supervisor %s" % w)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="center left",
               bbox_to_anchor=(1.0, 0.5), frameon=False, title="strategy")
    fig.suptitle("Fig. 11: finetuning vs linear probes — task %s (mean over seeds, %s)" % (
        t.task, INTERVAL_TXT))
    save(fig, out, "fig11_%s.png" % t.task, written)


# --------------------------------------------------------------------------------------
# Fits (/fits, written by `w2sweep fit`)


def attr(g, k, default=np.nan):
    v = g.attrs.get(k, default)
    if isinstance(v, (bytes, np.bytes_)):
        return decode(v)
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    return v


def band(g, fn, xs, logscale=False):
    """Pointwise 95 % band of fn(params, x): percentile over the bootstrap samples stored
    in group g, widened about the fit by g's interval_k for the number of seeds, exactly
    as `w2sweep fit` widens its parameter intervals (src/fit.h)."""
    if g is None or "bootstrap" not in g or len(g["bootstrap"]) < 2:
        return None
    samples = g["bootstrap"][:]
    vals = np.array([fn(p, xs) for p in samples])
    level = float(attr(g, "level", 0.95))
    q = (1 - level) / 2
    lo, hi = np.quantile(vals, q, axis=0), np.quantile(vals, 1 - q, axis=0)
    k = float(attr(g, "interval_k", np.nan))
    if np.isfinite(k):
        names = ("E", "A", "alpha") if "E" in g.attrs else ("p0", "pw", "ps")
        c = fn([attr(g, n) for n in names], xs)
        with np.errstate(divide="ignore", invalid="ignore"):
            if logscale:
                lw = np.exp(np.log(c) - k * (np.log(c) - np.log(lo)))
                hw = np.exp(np.log(c) + k * (np.log(hi) - np.log(c)))
            else:
                lw, hw = c - k * (c - lo), c + k * (hi - c)
        lo, hi = np.fmin(lo, lw), np.fmax(hi, hw)
    return lo, hi


def scaling_fn(p, c):
    E, A, alpha = p
    return E + np.exp(np.log(A) - alpha * np.log(c))


def sig(v, ref):
    """v rounded to the precision of ref (an interval's half-width): two significant digits
    of ref, so "0.0734 [0.061, 0.085]", not "0.0734218 [0.0610077, ...]"."""
    if not np.isfinite(ref) or ref <= 0:
        return "%.3g" % v
    d = 1 - int(math.floor(math.log10(ref)))
    if 0 <= d <= 6 and abs(v) < 1e5:
        return "%.*f" % (d, v)
    return "%.2g" % v if abs(v) < 1e-3 or abs(v) >= 1e5 else "%.3g" % v


# a positive parameter whose 95 % interval spans more than this many decades is reported as
# not identifiable: the data do not determine it (e.g. A with E and alpha free on few sizes)
MAX_DECADES = 2.0


def fmt_ci(g, k, fmt=None):
    """value [lo, hi] at the interval's precision; a parameter held at 0, not identified by
    the fit, or with an interval spanning > MAX_DECADES decades says so; never 'nan'."""
    v, lo, hi = (float(attr(g, x)) for x in (k, k + "_lo", k + "_hi"))
    if not int(attr(g, k + "_fitted", 1)):
        if k == "E":
            return "0 (held: %d sizes < 5)" % int(attr(g, "n_sizes", 0))
        return "(not identified)"
    if not np.isfinite(v):
        return "n/a"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return sig(v, abs(v) / 10) + " (no interval)"
    if lo > 0 and v > 0 and math.log10(hi / lo) > MAX_DECADES:
        return "not identifiable (95 %% interval spans %.1f decades)" % math.log10(hi / lo)
    h = max(hi - v, v - lo)
    return "%s [%s, %s]" % (sig(v, h), sig(lo, h), sig(hi, h))


def backtest_text(g):
    """mean |err| of the backtests that were possible; 'not possible (N sizes)' otherwise."""
    parts = []
    for h in (1, 2):
        bg = g.get("backtest_%d" % h)
        if bg is not None and int(attr(bg, "ok", 0)) and np.isfinite(
                float(attr(bg, "mean_abs_err"))):
            parts.append("-%d: %.3f" % (h, float(attr(bg, "mean_abs_err"))))
    if parts:
        return "backtest |err| " + ", ".join(parts)
    return "backtest: not possible (%d sizes)" % int(attr(g, "n_sizes", 0))


def fig_scaling(f, task, out, written):
    path = "fits/scaling/%s" % task.replace("/", "_")
    if path not in f:
        return note("skipping scaling fits for %s: no %s (run `w2sweep fit` first)" % (task, path))
    roles = [r for r in ("weak", "ceiling", "ceiling_unsup") if r in f[path]]
    roles += [r for r in f[path] if r not in roles]
    fig, axes = plt.subplots(1, len(roles), figsize=(6.6 * len(roles), 5.2), squeeze=False,
                             layout="constrained")
    for ax, role in zip(axes[0], roles):
        g = f[path][role]
        pts = g["points"][:] if "points" in g else None
        if pts is None or len(pts) == 0:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "%s: no points" % role, ha="center", transform=ax.transAxes)
            continue
        c, e = np.asarray(pts["flops"], float), np.asarray(pts["err"], float)
        ax.scatter(c, e, s=14, color="0.55", alpha=0.7, label="one model (size, seed)",
                   zorder=3)
        sizes = sorted(set(decode(s) for s in pts["size"]),
                       key=lambda s: np.mean(c[[decode(z) == s for z in pts["size"]]]))
        mc = np.array([np.exp(np.mean(np.log(c[[decode(z) == s for z in pts["size"]]])))
                       for s in sizes])
        me = np.array([np.mean(e[[decode(z) == s for z in pts["size"]]]) for s in sizes])
        held = set()
        if "backtest" in g and len(g["backtest"]):
            held = set(decode(s) for s in g["backtest"]["held_out"])
        keep = np.array([s not in held for s in sizes])
        ax.plot(mc[keep], me[keep], "o", color="black", ms=7, label="mean over seeds", zorder=4)
        if (~keep).any():
            ax.plot(mc[~keep], me[~keep], "o", mfc="white", mec="crimson", mew=2, ms=10,
                    label="held out in backtests", zorder=5)
        xs = np.geomspace(c.min() / 3, c.max() * 30, 200)
        if attr(g, "fitted", 0):
            p = [attr(g, "E"), attr(g, "A"), attr(g, "alpha")]
            bd = band(g, scaling_fn, xs, logscale=True)
            if bd is not None:
                ax.fill_between(xs, bd[0], bd[1], color="tab:blue", alpha=0.18,
                                label="95% band, all sizes")
            ax.plot(xs, scaling_fn(p, xs), color="tab:blue", lw=2,
                    label="fit, all sizes%s" % ("" if attr(g, "converged", 0)
                                                else " (NOT converged)"))
            for h, colr, ls in ((1, "tab:orange", "--"), (2, "tab:green", ":")):
                bg = g.get("backtest_%d" % h)
                if bg is None or not attr(bg, "ok", 0):
                    continue
                pb = [attr(bg, "E"), attr(bg, "A"), attr(bg, "alpha")]
                bdb = band(bg, scaling_fn, xs, logscale=True)
                if bdb is not None:
                    ax.fill_between(xs, bdb[0], bdb[1], color=colr, alpha=0.12)
                ax.plot(xs, scaling_fn(pb, xs), color=colr, lw=1.8, ls=ls,
                        label="fit without largest %d (mean |err| %s)" % (
                            h, num(attr(bg, "mean_abs_err"), "%.3f")))
            txt = "E = %s\nalpha = %s\nA = %s\n%d sizes x %d seeds\n%s" % (
                fmt_ci(g, "E"), fmt_ci(g, "alpha"), fmt_ci(g, "A"),
                attr(g, "n_sizes", 0), attr(g, "n_seeds", 0), backtest_text(g))
            ax.text(0.03, 0.03, txt, transform=ax.transAxes, fontsize=9, va="bottom",
                    bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
        else:
            ax.text(0.5, 0.9, "not fitted: %s" % attr(g, "note", ""), ha="center",
                    transform=ax.transAxes, fontsize=9)
        # y range from the data and the fits: a wide extrapolation band should not
        # squash the points into a strip
        ylo, yhi = e.min(), e.max()
        if attr(g, "fitted", 0):
            fc = scaling_fn([attr(g, "E"), attr(g, "A"), attr(g, "alpha")], xs)
            ylo, yhi = min(ylo, fc.min()), max(yhi, fc.max())
        ax.set_ylim(ylo / 1.8, min(1.0, yhi * 1.6))
        ax.set_xscale("log")
        ax.set_yscale("log")
        # plain decimals at 1-2-5 steps: a single "10^-1" label is not readable
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("training compute (FLOPs, pretraining + finetuning)")
        ax.set_ylabel("test error (1 - accuracy)")
        ax.set_title("%s: err = E + A C^-alpha%s" % (
            {"weak": "weak supervisors", "ceiling": "strong ceilings"}.get(role, role),
            "" if attr(g, "complete", 1) else "\n(partial: %s)" % attr(g, "coverage", "")))
        # below the axes: the upper right is where the data of small models are
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8,
                  frameon=False)
    fig.suptitle("Scaling fits with extrapolation backtests — task %s (bands: 95%%, bootstrap "
                 "over seeds)" % task)
    save(fig, out, "scaling_%s.png" % task.replace("/", "_"), written)


def fig_pgrfit(f, t, out, written):
    path = "fits/pgr/%s" % t.task.replace("/", "_")
    if path not in f:
        return note("skipping PGR fits for %s: no %s (run `w2sweep fit` first)" % (t.task, path))
    # only fitted methods get a panel; saturated or skipped ones are named in a note, never
    # drawn as an empty panel
    allm = sorted(f[path])
    methods = [m for m in allm if int(attr(f[path][m], "fitted", 0)) and
               "points" in f[path][m] and len(f[path][m]["points"])]
    unfitted = ["%s (%s)" % (m, "saturated" if int(attr(f[path][m], "saturated", 0)) else
                             "skipped") for m in allm if m not in methods]
    if unfitted:
        note("PGR fits for %s not drawn: %s" % (t.task, ", ".join(unfitted)))
    if not methods:
        return note("skipping PGR fits for %s: no method has a PGR fit" % t.task)
    ncol = min(3, len(methods))
    nrow = int(math.ceil(len(methods) / ncol))
    # exactly one panel per fitted method: no empty grid cells
    fig = plt.figure(figsize=(5.6 * ncol, 4.4 * nrow), layout="constrained")
    handles = {}
    for k, m in enumerate(methods):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        g = f[path][m]
        pts = g["points"][:]
        weak = np.array([decode(s) for s in pts["weak"]])
        strong = np.array([decode(s) for s in pts["size"]])
        wf = np.asarray(pts["weak_flops"], float)
        sf = np.asarray(pts["flops"], float)
        y = np.asarray(pts["pgr"], float)
        wflops = {w: float(np.exp(np.mean(np.log(wf[weak == w])))) for w in set(weak)}
        weaks = order_by(set(weak), wflops)
        col = weak_colors(weaks, wflops)
        held = {}  # (weak, strong) -> backtest row of the fit without the largest 1 size
        if "backtest" in g:
            for r in g["backtest"][:]:
                if int(r["n_held_out"]) == 1:
                    held[(decode(r["weak"]), decode(r["held_out"]))] = r
        p = np.array([attr(g, "p0"), attr(g, "pw"), attr(g, "ps")])
        cw, cs = attr(g, "cw_ref"), attr(g, "cs_ref")
        xs = np.geomspace(sf.min() / 2, sf.max() * 3, 100)
        for w in weaks:
            mw = weak == w
            names = sorted(set(strong[mw]), key=lambda s: np.mean(sf[mw & (strong == s)]))
            mx = np.array([np.exp(np.mean(np.log(sf[mw & (strong == s)]))) for s in names])
            my = np.array([np.mean(y[mw & (strong == s)]) for s in names])
            is_held = np.array([(w, s) in held for s in names])
            # the dots' 95 % t-intervals over seeds: the stored /intervals where present
            ey = []
            for s, vy in zip(names, my):
                st = INTERVALS.get((t.task, w, s, m))
                if st is not None and np.isfinite(st["pgr_hi"]):
                    ey.append(st["pgr_hi"] - st["pgr"])
                else:
                    ey.append(ci95_half(y[mw & (strong == s)]))
            ax.errorbar(mx, my, yerr=ey, fmt="none", ecolor=col[w], lw=0.9, capsize=2,
                        alpha=0.7)
            ax.plot(mx[~is_held], my[~is_held], "o", color=col[w], ms=5)
            if is_held.any():
                ax.plot(mx[is_held], my[is_held], "o", mfc="white", mec=col[w], mew=2, ms=9)
            for s in names:  # what the fit without this size predicted for it
                r = held.get((w, s))
                if r is not None:
                    lo, hi = float(r["pred_lo"]), float(r["pred_hi"])
                    yerr = [[max(0.0, r["predicted"] - lo)], [max(0.0, hi - r["predicted"])]] \
                        if np.isfinite(lo) else None
                    ax.errorbar([float(r["flops"]) * 1.5], [r["predicted"]], yerr=yerr,
                                fmt="x", color=col[w], ms=7, mew=2, capsize=3, lw=1.2)

            def fn(q, x, w=w):
                return q[0] + q[1] * np.log10(wflops[w] / cw) + q[2] * np.log10(x / cs)
            ax.plot(xs, fn(p, xs), color=col[w], lw=1.6)
            bd = band(g, fn, xs)
            if bd is not None:
                ax.fill_between(xs, bd[0], bd[1], color=col[w], alpha=0.10)
            handles[w] = (Line2D([], [], color=col[w], marker="o", lw=1.6),
                          weak_label(w, wflops))
        ax.text(0.03, 0.97, "p0 %s\nps %s /decade\n%s" % (
            fmt_ci(g, "p0"), fmt_ci(g, "ps"), backtest_text(g)),
            transform=ax.transAxes, va="top", fontsize=8.5,
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
        pgr_refs(ax)
        setup_compute_axis(ax)
        ax.set_ylabel(PGR_LABEL)
        ax.set_title(METHOD_LABEL.get(m, m) + ("" if attr(g, "complete", 1) else
                                               "\n(partial: %s)" % attr(g, "coverage", "")),
                     fontsize=11)
    h = [v[0] for v in handles.values()] + [
        Line2D([], [], color="0.3", marker="o", mfc="white", mew=2, ls="none", ms=8),
        Line2D([], [], color="0.3", marker="x", mew=2, ls="-", lw=1.2, ms=7)]
    l = [v[1] for v in handles.values()] + [
        "held out: largest strong size (measured)",
        "its prediction without it, 95% band\n(drawn just right of the point)"]
    fig.legend(h, l, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
               title="weak supervisor")
    fig.suptitle("PGR fits: PGR = p0 + pw log10(Cw/Cw_ref) + ps log10(Cs/Cs_ref) — task %s "
                 "(lines: fit, bands: 95%% bootstrap over seeds, dots: mean over seeds with 95%% "
                 "t-intervals)" % t.task)
    save(fig, out, "pgrfit_%s.png" % t.task.replace("/", "_"), written)


# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Known-answer checks: the noise-robustness figure

def fig_health(f, out, written):
    """Student minus supervisor (points, 95 % interval over seeds) for each uniform-noise
    check supervisor, naive and conf, one panel per task (/health rows c_margin)."""
    if "health" not in f:
        return
    h = f["health"][:]
    if not len(h):
        return
    chk = np.array([decode(x) for x in h["check"]])
    sup = np.array([decode(x) for x in h["supervisor"]])
    meth = np.array([decode(x) for x in h["method"]])
    task = np.array([decode(x) for x in h["task"]])
    c = chk == "c_margin"
    if not c.any():
        return
    tasks = sorted(set(task[c]))
    sups = sorted(set(sup[c]))
    meths = [m for m in dict.fromkeys(meth[c])]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    for ax, tk in zip(axes[0], tasks):
        for j, m in enumerate(meths):
            xs, ys, lo, hi = [], [], [], []
            for i, sp in enumerate(sups):
                r = np.where(c & (task == tk) & (sup == sp) & (meth == m))[0]
                if not len(r):
                    continue
                row = h[r[0]]
                xs.append(i + (j - (len(meths) - 1) / 2) * 0.25)
                ys.append(row["mean"])
                lo.append(row["mean"] - row["lo"] if np.isfinite(row["lo"]) else 0)
                hi.append(row["hi"] - row["mean"] if np.isfinite(row["hi"]) else 0)
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3, label=m)
        ax.axhline(0, color="0.3", lw=0.8, ls=":")
        ax.set_xticks(range(len(sups)))
        ax.set_xticklabels(["%d %% noise" % int(s[-2:]) if s[-2:].isdigit() else s
                            for s in sups])
        ax.set_title(tk)
        ax.set_ylabel("student − supervisor (points)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("noise robustness: largest student vs uniform-noise supervisors "
                 "(95 % intervals over seeds)", y=1.06 if HEALTH_FAILED else 1.02)
    save(fig, out, "noise_robustness.png", written)


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Figures of Burns et al. (2023) from a "
                                 "w2sweep results file (see analysis/README.md).")
    ap.add_argument("results", help="results file (HDF5, results/SCHEMA.md)")
    ap.add_argument("--out", required=True, help="directory for the PNG files (created)")
    ap.add_argument("--task", action="append", help="only this task (repeatable)")
    ap.add_argument("--method", default="naive", help="method of Figs. 3 and 7 (default naive)")
    a = ap.parse_args(argv)
    try:
        f, rows = load(a.results)
    except InputError as e:
        sys.stderr.write("%s: error: %s\n" % (PROG, e))
        return 2
    try:
        os.makedirs(a.out, exist_ok=True)
    except OSError as e:
        sys.stderr.write("%s: error: %s: %s\n" % (PROG, a.out, e.strerror))
        return 2
    tasks = sorted(set(rows["task"]))
    if "fits" in f and "scaling" in f["fits"]:
        tasks = sorted(set(tasks) | set(f["fits/scaling"]))
    if a.task:
        unknown = [t for t in a.task if t not in tasks]
        if unknown:
            sys.stderr.write("%s: error: %s: no task '%s' (tasks: %s)\n" % (
                PROG, a.results, unknown[0], ", ".join(tasks) or "none"))
            return 2
        tasks = a.task
    if "fits" in f and attr(f["fits"], "partial", 0):
        items = [x.strip() for x in str(attr(f["fits"], "notes", "")).split(";") if x.strip()]
        note("/fits was made from a partial sweep (%d note%s, e.g. '%s'; all in the /fits "
             "attribute 'notes')" % (len(items), "s" if len(items) != 1 else "",
                                     items[0] if items else "?"))
    global HEALTH_FAILED
    HEALTH_FAILED = "health" in f and int(np.asarray(f["health"].attrs.get("passed", -1))) == 0
    if HEALTH_FAILED:
        h = f["health"][:]
        failed = sorted({x.decode().split("_")[0] for x in h["check"][h["pass"] == 0]})
        note("known-answer checks %s failed (/health): every figure is flagged"
             % "/".join("(%s)" % x for x in failed))
    written = []
    fig_health(f, a.out, written)
    for task in tasks:
        t = Table(rows, task)
        if len(t.r["task"]):
            fig3(t, a.out, written, a.method)
            fig_vs(t, a.out, written, "bootstrap", 4, "fig4")
            fig_vs(t, a.out, written, "conf", 5, "fig5")
            fig7(f, t, a.out, written, a.method)
            fig8(t, a.out, written)
            fig11(t, a.out, written)
            fig_pgrfit(f, t, a.out, written)
        else:
            note("task %s has no /summary rows: only its scaling fits are drawn" % task)
        fig_scaling(f, task, a.out, written)
    f.close()
    for p in written:
        print("wrote", p)
    if not written:
        sys.stderr.write("%s: error: %s: nothing to plot (no cells and no /fits)\n" % (
            PROG, a.results))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
