#!/usr/bin/python3
"""compare_results.py A.h5 B.h5 — exit 0 when two w2sweep results files hold bitwise-equal
cell metrics: every /summary column except wall_s, every curve of every /cells group, and
/models. Run-dependent facts (wall time, rank, attempts, provenance) are not compared.
Prints the first differences. Exit 77 when h5py is not available (a skip)."""
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIP: h5py/numpy not available in", sys.executable)
    sys.exit(77)

RUN_DEPENDENT = {"wall_s"}


def cells(f):
    out = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.startswith("cells/"):
            out[name] = obj[()]
    f.visititems(visit)
    return out


def same(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    if x.dtype.kind == "f":
        return np.array_equal(x, y, equal_nan=True)
    return np.array_equal(x, y)


def main(a, b):
    bad = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        sa, sb = fa["summary"][()], fb["summary"][()]
        if len(sa) != len(sb):
            bad.append(f"summary rows {len(sa)} != {len(sb)}")
        else:
            key = lambda r: (r["task"], r["seed"], r["weak_size"], r["strong_size"], r["method"])
            sa, sb = sorted(sa, key=key), sorted(sb, key=key)
            for name in fa["summary"].dtype.names:
                if name in RUN_DEPENDENT:
                    continue
                va = np.array([r[name] for r in sa])
                vb = np.array([r[name] for r in sb])
                if not same(va, vb):
                    bad.append(f"summary.{name} differs")
        ca, cb = cells(fa), cells(fb)
        if set(ca) != set(cb):
            bad.append(f"cell datasets differ: {sorted(set(ca) ^ set(cb))[:5]}")
        for k in sorted(set(ca) & set(cb)):
            if not same(ca[k], cb[k]):
                bad.append(f"{k} differs")
        ma, mb = np.sort(fa["models"][()], order=["task", "size", "role", "seed"]), \
                 np.sort(fb["models"][()], order=["task", "size", "role", "seed"])
        if not same(ma, mb):
            bad.append("/models differs")
    for line in bad[:20]:
        print("DIFF", line)
    if not bad:
        print(f"equal: {a} and {b} ({len(sa)} cells)")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
