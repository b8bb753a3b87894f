#!/usr/bin/python3
"""Write a synthetic w2sweep results file (results/SCHEMA.md, version 1) from known parameters.

Used by the tests of `w2sweep fit` and analysis/plots.py, and to develop figures without
running a sweep. Every number is drawn from a stated model, so a fit can be checked
against the truth (written with --truth as JSON):

  reference models (/models): test error err = (E + A * C^-alpha) * exp(N(0, seed_sigma)),
      then test accuracy is a Binomial(n_test, 1 - err) / n_test draw. Weak supervisors
      (role weak) and ceilings (role ceiling) follow the same law (same architecture and
      data size), with independent noise.
  cells (/summary, /cells): PGR = p0 + pw*log10(Cw/cw_ref) + ps*log10(Cs/cs_ref) + N(0, s)
      per method, cw_ref / cs_ref = geometric means of the weak / strong compute over all
      (weak < strong) pairs; student_acc = weak_acc + PGR * (ceiling_acc - weak_acc).
      Training curves peak before the end when the compute gap is large (the student
      starts imitating its supervisor's errors), so best > final PGR there.

Usage: /usr/bin/python3 analysis/make_synthetic_results.py OUT.h5 [--seeds 3] [--sizes 6]
           [--tasks 2] [--methods naive,conf,...] [--partial] [--truth T.json] [--seed 0]
"""
import argparse
import json
import math
import sys

import h5py
import numpy as np

S32 = "S32"
ALL_METHODS = ["naive", "conf", "bootstrap", "lp_weak", "lp_gt", "ftweak_lpgt"]
# PGR truth per method: (p0, pw, ps). Orders follow Burns et al. 2023: the confidence loss
# recovers the most, linear probes on weak labels the least, a probe on ground truth is
# close to the ceiling.
PGR_TRUTH = {
    "naive": (0.35, 0.05, 0.10),
    "conf": (0.62, 0.04, 0.12),
    "bootstrap": (0.45, 0.06, 0.11),
    "lp_weak": (0.22, 0.03, 0.05),
    "lp_gt": (0.92, 0.00, 0.02),
    "ftweak_lpgt": (0.70, 0.02, 0.06),
}
TASK_TRUTH = [  # (E, A at 1e15 FLOPs, alpha)
    (0.06, 0.34, 0.28),
    (0.10, 0.30, 0.35),
    (0.04, 0.40, 0.22),
]
SUMMARY_DTYPE = np.dtype([
    ("task", S32), ("seed", "<i4"), ("weak_size", S32), ("strong_size", S32), ("method", S32),
    ("weak_acc", "<f8"), ("ceiling_acc", "<f8"), ("student_acc", "<f8"),
    ("student_best_acc", "<f8"), ("pgr", "<f8"), ("pgr_best", "<f8"), ("agree", "<f8"),
    ("agree_weak_right", "<f8"), ("agree_weak_wrong", "<f8"), ("student_auroc", "<f8"),
    ("student_ece", "<f8"), ("weak_flops", "<f8"), ("strong_flops", "<f8"),
    ("weak_params", "<f8"), ("strong_params", "<f8"), ("wall_s", "<f8"),
])
MODELS_DTYPE = np.dtype([
    ("task", S32), ("size", S32), ("role", S32), ("seed", "<i4"), ("test_acc", "<f8"),
    ("test_auroc", "<f8"), ("test_loss", "<f8"), ("flops", "<f8"), ("params", "<f8"),
])
SIZES_DTYPE = np.dtype([
    ("name", S32), ("width", "<i4"), ("depth", "<i4"), ("params", "<f8"),
    ("pretrain_flops", "<f8"), ("ranks", "<i4"), ("family", S32), ("heads", "<i4"),
    ("ctx", "<i4"),
])


def clip(x, lo, hi):
    return min(max(x, lo), hi)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", type=int, default=6)
    ap.add_argument("--tasks", type=int, default=2, choices=[1, 2, 3])
    ap.add_argument("--methods", default=",".join(ALL_METHODS),
                    help="comma-separated subset of " + ",".join(ALL_METHODS))
    ap.add_argument("--noise-supervisor", action="store_true",
                    help="add a synthetic 'noise0.2' supervisor (weak_flops 0) to naive")
    ap.add_argument("--partial", action="store_true",
                    help="drop some models and cells and the end_time, as an interrupted sweep")
    ap.add_argument("--seed-sigma", type=float, default=0.04,
                    help="per-(model, seed) log-normal noise on error")
    ap.add_argument("--n-test", type=int, default=4000)
    ap.add_argument("--pgr-sigma", type=float, default=0.04)
    ap.add_argument("--truth", help="write the generating parameters here (JSON)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    methods = [m for m in a.methods.split(",") if m]
    bad = [m for m in methods if m not in PGR_TRUTH]
    if bad:
        ap.error("unknown method(s): " + ",".join(bad))
    if a.sizes < 2 or a.seeds < 1:
        ap.error("need --sizes >= 2 and --seeds >= 1")
    rng = np.random.default_rng(a.seed)

    # size ladder: pretraining compute 1e15 .. 1e15 * 10^(K-1) FLOPs; finetuning adds 2 %
    sizes = [f"s{k}" for k in range(a.sizes)]
    pre = {s: 10.0 ** (15 + k) for k, s in enumerate(sizes)}
    params = {s: pre[s] / (6 * 2e9) for s in sizes}  # 2e9 pretraining tokens
    flops = {s: 1.02 * pre[s] for s in sizes}
    tasks = [f"task{chr(ord('A') + t)}" for t in range(a.tasks)]
    seeds = list(range(a.seeds))
    pairs = [(w, s) for i, w in enumerate(sizes) for s in sizes[i + 1:]]
    cw_ref = math.exp(np.mean([math.log(flops[w]) for w, _ in pairs]))
    cs_ref = math.exp(np.mean([math.log(flops[s]) for _, s in pairs]))

    truth = {"tasks": {}, "methods": {}, "cw_ref": cw_ref, "cs_ref": cs_ref,
             "form_scaling": "err = E + A*C^-alpha", "sizes": {s: flops[s] for s in sizes}}
    models, acc = [], {}
    dropped_models = set()
    if a.partial:  # an interrupted sweep: the largest weak model of the last seed is missing
        dropped_models.add((sizes[-1], "weak", seeds[-1]))
    for t, task in enumerate(tasks):
        E, A15, alpha = TASK_TRUTH[t]
        A = A15 * (1e15 ** alpha)
        truth["tasks"][task] = {r: {"E": E, "A": A, "alpha": alpha} for r in ("weak", "ceiling")}
        for role in ("weak", "ceiling"):
            for s in sizes:
                for sd in seeds:
                    err = (E + A * flops[s] ** -alpha) * math.exp(rng.normal(0, a.seed_sigma))
                    ta = rng.binomial(a.n_test, clip(1 - err, 0, 1)) / a.n_test
                    acc[(task, role, s, sd)] = ta
                    if (s, role, sd) in dropped_models:
                        continue
                    models.append((task, s, role, sd, ta, clip(0.5 + 0.9 * (ta - 0.5), 0, 1),
                                   -math.log(max(ta, 1e-6)), flops[s], params[s]))
    for m in methods:
        p0, pw, ps = PGR_TRUTH[m]
        truth["methods"][m] = {"p0": p0, "pw": pw, "ps": ps}

    rows, curves = [], []
    for task in tasks:
        for sd in seeds:
            for m in methods:
                p0, pw, ps = PGR_TRUTH[m]
                cell_pairs = list(pairs)
                if a.noise_supervisor and m == "naive":
                    cell_pairs += [("noise0.2", s) for s in sizes]
                for w, s in cell_pairs:
                    if a.partial and sd == seeds[-1] and s == sizes[-1]:
                        continue  # the last seed never reached the largest student
                    ca = acc[(task, "ceiling", s, sd)]
                    if w == "noise0.2":
                        wa, wfl, wpar = 0.8, 0.0, 0.0
                        pgr_true = 0.5
                    else:
                        wa, wfl, wpar = acc[(task, "weak", w, sd)], flops[w], params[w]
                        pgr_true = (p0 + pw * math.log10(flops[w] / cw_ref)
                                    + ps * math.log10(flops[s] / cs_ref))
                    pgr = pgr_true + rng.normal(0, a.pgr_sigma)
                    gap = ca - wa
                    sa = wa + pgr * gap
                    # larger compute gaps overfit more: the curve peaks, then falls to sa
                    decades = math.log10(flops[s] / max(wfl, 1e13))
                    drop = max(0.0, 0.08 * gap * (decades - 1.0))
                    n_eval = 16
                    step = np.arange(1, n_eval + 1) * 50.0
                    x = step / step[-1]
                    t_peak = 0.45
                    rise = 1 - np.exp(-x / 0.12)
                    curve = 0.5 + (sa + drop - 0.5) * rise / rise[-1]
                    curve -= drop * np.clip((x - t_peak) / (1 - t_peak), 0, 1)
                    curve[-1] = sa
                    curve += rng.normal(0, 0.002, n_eval) * (np.arange(n_eval) < n_eval - 1)
                    best = float(max(curve.max(), sa))
                    pgr_best = (best - wa) / gap if gap != 0 else float("nan")
                    pgr_obs = (sa - wa) / gap if gap != 0 else float("nan")
                    ar = clip(0.97 - 0.01 * decades, 0.5, 1.0)  # agreement where weak is right
                    aw = clip(1 - (sa - wa * ar) / max(1 - wa, 1e-9), 0.0, 1.0)
                    agree = wa * ar + (1 - wa) * aw
                    auroc = clip(0.5 + 1.1 * (sa - 0.5), 0, 1)
                    ece = 0.02 + 0.05 * aw
                    ft = 0.02 * pre[s]
                    row = (task, sd, w, s, m, wa, ca, sa, best, pgr_obs, pgr_best, agree, ar, aw,
                           auroc, ece, wfl, flops[s], wpar, params[s],
                           float(rng.uniform(5, 50)))
                    rows.append(row)
                    prog = rise / rise[-1]
                    curves.append({
                        "step": step, "flops": ft * x, "test_acc": curve,
                        "test_auroc": np.clip(0.5 + 1.1 * (curve - 0.5), 0, 1),
                        "test_ece": 0.02 + 0.05 * aw * prog,
                        "test_loss": -np.log(np.clip(curve, 1e-6, 1)),
                        "agree": 0.5 + (agree - 0.5) * prog,
                        "agree_weak_right": 0.5 + (ar - 0.5) * prog,
                        "agree_weak_wrong": 0.5 + (aw - 0.5) * prog,
                        "weak_fit": 0.5 + (0.5 * (1 + agree) - 0.5) * prog,
                        "bootstrap": m == "bootstrap",
                        "chain": [w] + [z for z in sizes if z != s and w != "noise0.2" and
                                        flops[w] < flops[z] < flops[s]][:2] + [s],
                    })

    summary = np.array(rows, dtype=SUMMARY_DTYPE)
    with h5py.File(a.out, "w") as f:
        f.attrs["schema_version"] = np.int64(1)
        f.attrs["sweep_name"] = "synthetic"
        f.create_dataset("summary", data=summary)
        f.create_dataset("models", data=np.array(models, dtype=MODELS_DTYPE))
        f.create_dataset("sizes", data=np.array(
            [(s, 64 * 2 ** k, 2 + k, params[s], pre[s], 1, "mlp", 0, 0) for k, s in enumerate(sizes)],
            dtype=SIZES_DTYPE))
        for r, c in zip(summary, curves):
            path = "cells/{}/{}/{}/{}/{}".format(r["task"].decode(), int(r["seed"]),
                                                  r["weak_size"].decode(),
                                                  r["strong_size"].decode(),
                                                  r["method"].decode())
            g = f.create_group(path)
            for name in SUMMARY_DTYPE.names:
                g.attrs[name] = r[name]
            g.attrs["rank"] = 0
            g.attrs["attempts"] = 1
            g.attrs["config_hash"] = "synthetic"
            for k in ("step", "flops", "test_acc", "test_auroc", "test_ece", "test_loss",
                      "agree", "agree_weak_right", "agree_weak_wrong", "weak_fit"):
                g.create_dataset(k, data=np.asarray(c[k], dtype="<f8"), compression="gzip")
            if c["bootstrap"]:
                g.create_dataset("chain", data=np.array(c["chain"], dtype=S32))
                chain_acc = [acc[(r["task"].decode(), "weak", z, int(r["seed"]))]
                             if z in pre and z != c["chain"][-1] else float(r["student_acc"])
                             for z in c["chain"]]
                g.create_dataset("chain_acc", data=np.array(chain_acc, dtype="<f8"))
        p = f.create_group("provenance")
        p["config_text"] = "# synthetic results from analysis/make_synthetic_results.py\n"
        p.attrs["git_commit"] = ""
        p.attrs["w2sweep_version"] = "synthetic"
        p.attrs["nranks"] = 1
        p.attrs["start_time"] = "2024-01-01T00:00:00Z"
        if not a.partial:
            p.attrs["end_time"] = "2024-01-01T01:00:00Z"
    if a.truth:
        with open(a.truth, "w") as fh:
            json.dump(truth, fh, indent=1)
    print(f"wrote {a.out}: {len(summary)} cells, {len(models)} models, {len(tasks)} task(s), "
          f"{len(seeds)} seed(s), {len(sizes)} sizes, methods {','.join(methods)}"
          + (" (partial)" if a.partial else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
