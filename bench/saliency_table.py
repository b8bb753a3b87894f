#!/usr/bin/env python3
"""saliency_table.py — the saliency knob's table (bench/SALIENCY.md) from results files of
bench/saliency_knob.sh (or any sweep with `checks`): per (world.saliency, n_b, task), the
largest ceiling, the trained weak supervisors, the naive and conf PGR of the trained weak
supervisors (mean over weak sizes and seeds, pairs with an undefined PGR left out), and the
naive student's margin over each uniform-noise check supervisor with its 95 % interval.

    /usr/bin/python3 bench/saliency_table.py FILE.h5 [FILE.h5 ...]
"""
import re
import sys

import h5py
import numpy as np


def dec(a):
    return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a])


def world_setting(f):
    text = f["provenance"].attrs.get("config_text", b"")
    if "config_text" in f["provenance"]:
        text = f["provenance/config_text"][()]
    text = text.decode() if isinstance(text, bytes) else str(text)
    sal = re.search(r"saliency\s*=\s*([0-9.eE+-]+)", text)
    nb = re.search(r"n_b\s*=\s*([0-9]+)", text)
    return (float(sal.group(1)) if sal else 0.0), (int(nb.group(1)) if nb else -1)


def main(paths):
    print("| saliency | n_b | task | ceiling % | weak % (w8 / w32) | naive PGR | conf PGR | "
          "naive − 20 % supervisor | naive − 30 % supervisor | checks (a)/(b) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        with h5py.File(path, "r") as f:
            sal, nb = world_setting(f)
            s = f["summary"][:]
            h = f["health"][:] if "health" in f else None
            passed = int(f["health"].attrs["passed"]) if h is not None else -1
            task, weak, meth = dec(s["task"]), dec(s["weak_size"]), dec(s["method"])
            for t in sorted(set(task)):
                tr = (task == t) & np.array([not w.startswith("check_") for w in weak])
                ceil = 100 * np.mean(s["ceiling_acc"][tr])
                wk = []
                for w in ("w8", "w32"):
                    r = tr & (weak == w)
                    wk.append("%.1f" % (100 * np.mean(s["weak_acc"][r])) if r.any() else "-")
                pg = {}
                for m in ("naive", "conf"):
                    v = s["pgr"][tr & (meth == m)]
                    v = v[np.isfinite(v)]
                    pg[m] = "%.2f (n=%d)" % (np.mean(v), len(v)) if len(v) else "undefined"
                marg = {}
                if h is not None:
                    hc, hs, hm, ht = dec(h["check"]), dec(h["supervisor"]), dec(h["method"]), \
                        dec(h["task"])
                    for sup in ("check_u20", "check_u30"):
                        r = np.where((hc == "c_margin") & (hs == sup) & (hm == "naive") &
                                     (ht == t))[0]
                        if len(r):
                            x = h[r[0]]
                            marg[sup] = "%+.1f [%+.1f, %+.1f] (%.1f below ceil.)" % (
                                x["mean"], x["lo"], x["hi"], x["ref"])
                print("| %g | %d | %s | %.1f | %s | %s | %s | %s | %s | %s |" % (
                    sal, nb, t, ceil, " / ".join(wk), pg["naive"], pg["conf"],
                    marg.get("check_u20", "-"), marg.get("check_u30", "-"),
                    {1: "pass", 0: "FAIL", -1: "-"}[passed]))


if __name__ == "__main__":
    main(sys.argv[1:])
