#!/usr/bin/python3
"""fashion_mnist_table.py — the tables of bench/FASHION_MNIST.md from a results file of
sweeps/fashion_mnist.cfg (or any sweep with several strong sizes):

  1. per task, test accuracy of every weak size and every ceiling size, mean of the seeds
     with the 95 % t-interval over seeds, and the ceiling's rise from the smallest to the
     largest strong size with its paired 95 % interval (paired by seed);
  1b. per task, the ceiling's paired rise (by seed) into the largest strong size from every
     smaller strong size, and how many seeds it is positive in;
  2. per task and method, PGR of each weak size into the largest strong size and pooled
     over all (weak, strong) pairs with a defined PGR: mean and 95 % t-interval over the
     defined values (n = how many), undefined PGRs (gap below noise, negative gap) left out
     and counted.

    /usr/bin/python3 bench/fashion_mnist_table.py results/fashion_mnist.h5
"""
import sys

import h5py
import numpy as np
from scipy import stats


def dec(a):
    return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a])


def ci(v):
    """mean and half-width of the 95 % t-interval of v (nan half-width for one value)"""
    v = np.asarray(v, float)
    if v.size == 0:
        return np.nan, np.nan
    if v.size == 1:
        return v[0], np.nan
    return v.mean(), stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)


def fmt(m, h, scale=100, digits=1):
    if not np.isfinite(m):
        return "–"
    if not np.isfinite(h):
        return "%.*f" % (digits, scale * m)
    return "%.*f ± %.*f" % (digits, scale * m, digits, scale * h)


def size_order(names, params):
    return [n for _, n in sorted((params[n], n) for n in names)]


def main(path):
    with h5py.File(path, "r") as f:
        s = f["summary"][:]
    task, weak, strong, meth = (dec(s[k]) for k in ("task", "weak_size", "strong_size",
                                                     "method"))
    seed = s["seed"]
    real = np.array([not w.startswith("check_") for w in weak])
    params = {}
    for w, p in zip(weak[real], s["weak_params"][real]):
        params[w] = p
    for st, p in zip(strong, s["strong_params"]):
        params[st] = p
    weaks = size_order(set(weak[real]), params)
    strongs = size_order(set(strong), params)
    tasks = sorted(set(task))

    print("Test accuracy %, mean of seeds ± 95 % t-interval over seeds:\n")
    print("| task | " + " | ".join("weak %s" % w for w in weaks) + " | " +
          " | ".join("ceiling %s" % c for c in strongs) +
          " | ceiling %s − %s (paired) |" % (strongs[-1], strongs[0]))
    print("|---" * (2 + len(weaks) + len(strongs)) + "|")
    rises = {}
    for t in tasks:
        row = [t]
        for w in weaks:
            r = (task == t) & (weak == w)
            per_seed = [s["weak_acc"][r & (seed == sd)][0] for sd in sorted(set(seed[r]))]
            row.append(fmt(*ci(per_seed)))
        ceil = {}
        for c in strongs:
            r = (task == t) & (strong == c)
            ceil[c] = {sd: s["ceiling_acc"][r & (seed == sd)][0] for sd in sorted(set(seed[r]))}
            row.append(fmt(*ci(list(ceil[c].values()))))
        both = sorted(set(ceil[strongs[-1]]) & set(ceil[strongs[0]]))
        diff = [ceil[strongs[-1]][sd] - ceil[strongs[0]][sd] for sd in both]
        row.append(fmt(*ci(diff)))
        print("| " + " | ".join(row) + " |")
        rises[t] = ceil

    print("\nThe ceiling's rise into %s, points, paired by seed (mean ± 95 %% t-interval; "
          "seeds where it is > 0):\n" % strongs[-1])
    print("| task | " + " | ".join("%s → %s" % (c, strongs[-1]) for c in strongs[:-1]) + " |")
    print("|---" * len(strongs) + "|")
    for t in tasks:
        ceil, row = rises[t], [t]
        for c in strongs[:-1]:
            both = sorted(set(ceil[strongs[-1]]) & set(ceil[c]))
            diff = np.array([ceil[strongs[-1]][sd] - ceil[c][sd] for sd in both])
            row.append("%s (%d/%d)" % (fmt(*ci(diff)), (diff > 0).sum(), diff.size))
        print("| " + " | ".join(row) + " |")

    methods = [m for m in dict.fromkeys(meth[real])]
    top = strongs[-1]
    print("\nPGR, mean ± 95 % t-interval over the defined values (n defined / n cells):\n")
    print("| task | method | " + " | ".join("%s → %s" % (w, top) for w in weaks) +
          " | all pairs |")
    print("|---" * (3 + len(weaks)) + "|")
    for t in tasks:
        for m in methods:
            row = [t, m]
            sel = real & (task == t) & (meth == m)
            for w in weaks:
                v = s["pgr"][sel & (weak == w) & (strong == top)]
                d = v[np.isfinite(v)]
                mu, h = ci(d)
                row.append("%s (%d/%d)" % (fmt(mu, h, 1, 2), d.size, v.size))
            v = s["pgr"][sel]
            d = v[np.isfinite(v)]
            mu, h = ci(d)
            row.append("%s (%d/%d)" % (fmt(mu, h, 1, 2), d.size, v.size))
            print("| " + " | ".join(row) + " |")

    # conf - naive, paired by (seed, weak, strong): the auxiliary loss's effect
    if "conf" in methods and "naive" in methods:
        print("\nconf − naive student accuracy, points, paired by (seed, weak, strong) over all "
              "trained pairs (mean ± 95 % t-interval; n):\n")
        print("| task | conf − naive | n |\n|---|---|---|")
        for t in tasks:
            acc = {}
            for m in ("conf", "naive"):
                sel = real & (task == t) & (meth == m)
                acc[m] = {(seed[i], weak[i], strong[i]): s["student_acc"][i]
                          for i in np.flatnonzero(sel)}
            keys = sorted(set(acc["conf"]) & set(acc["naive"]))
            d = [acc["conf"][k] - acc["naive"][k] for k in keys]
            print("| %s | %s | %d |" % (t, fmt(*ci(d)), len(d)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
