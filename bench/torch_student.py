#!/usr/bin/python3
"""torch_student.py — PyTorch reference for w2sweep's students (issue 3's acceptance).

Reads what bench/export_student writes for a (task, seed, weak -> strong) cell — the
training inputs X_b and weak labels, the test split, the initial student checkpoint, and
for each method (naive, conf) the exact row indices every step used — and trains the same
MLP in PyTorch from the same initial weights with the same batch order, AdamW, learning-rate
schedule and loss targets, then compares with the C run at every evaluation point:

  training loss   mean over the steps since the previous evaluation point (what w2_train
                  reports); relative difference |torch - C| / |C|, threshold 2 %
  test accuracy   at the final evaluation point; |torch - C| in points, threshold 1

Variants (all from the same exported data; only the first decides PASS/FAIL):
  f32-manual   float32, AdamW written out as model.c's adamw_update does it:
               m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m c1 / (sqrt(v c2) + eps)
               + wd p), c_i = 1 / (1 - b_i^t), weight decay on weight matrices only
  f32-optim    float32, torch.optim.AdamW with weight decay only on the weight matrices
               (torch applies p *= 1 - lr wd before the Adam step: the same update to first
               order in lr wd; identical here when weight_decay is 0)
  f64-manual   float64 everything: how far float32 rounding alone moves the C run
The conf loss's targets are recomputed from this run's own (detached) student, as the C
target function does: t = the (npos+1)-th largest batch probability, npos =
lround(prior B), hard = p > t, target = float((1-a) w + a hard), a = alpha_max
min(1, progress / alpha_warmup), progress = step / steps.

Usage: /usr/bin/python3 bench/torch_student.py DIR/<task>.h5 [...] [--variants LIST]
       [--json OUT] [--threads 1]
Prints Markdown (one table per task and method, then a summary) and exits 1 on FAIL.
"""
import argparse
import json
import math
import os
import sys

LOSS_REL_TOL = 0.02   # 2 % at every evaluation point
ACC_TOL = 1.0         # 1 accuracy point at the final evaluation point


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+", help="DIR/<task>.h5 written by export_student")
    p.add_argument("--variants", default="f32-manual,f32-optim,f64-manual")
    p.add_argument("--json", help="write the comparison as JSON here")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def c_lround(x):
    """C's lround for x >= 0 (half away from zero)."""
    return int(math.floor(x + 0.5))


def c_lr(lr, steps, warmup_frac, sched, s):
    """train.c's w2_train_lr, with its float casts."""
    import numpy as np
    f32 = np.float32
    warm = int(f32(warmup_frac) * f32(steps))  # (long)(float * long): float math, truncated
    if warm > 0 and s < warm:
        return float(f32(lr * (s + 1) / warm))
    span = float(steps - warm)
    t = (s - warm) / span if span > 0 else 0.0
    if sched == "cosine":
        return float(f32(lr * 0.5 * (1.0 + math.cos(3.14159265358979323846 * t))))
    if sched == "linear":
        return float(f32(lr * (1.0 - t)))
    return float(f32(lr))


def c_sigmoid(z):
    """model.c's sigmoid of float32 logits, in float32 (or float64 for float64 logits)."""
    import numpy as np
    one = z.dtype.type(1)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = one / (one + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (one + e)
    return out


def load_task(path):
    import h5py
    import numpy as np
    d = {}
    with h5py.File(path, "r") as f:
        d["attrs"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        for k in ("X_b", "weak_b", "y_b", "X_test", "y_test", "init_prob_test"):
            d[k] = np.asarray(f[k][()])
        d["methods"] = {}
        for name, g in f["methods"].items():
            m = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
            for k in g:
                m[k] = np.asarray(g[k][()])
            d["methods"][name] = m
    base = path[:-3] if path.endswith(".h5") else path
    d["init"] = load_ckpt(base + "-init.h5")
    for name, m in d["methods"].items():
        m["final_ckpt"] = load_ckpt(f"{base}-{name}-final.h5")
    return d


def load_ckpt(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        names = sorted(k for k in f if k.startswith("layer"))
        return [(np.asarray(f[k]["W"][()]), np.asarray(f[k]["b"][()])) for k in names]


def train(task, meth, variant):
    """Trains one student; returns per-eval training loss, test acc and diagnostics."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    a = task["attrs"]
    f64 = variant.startswith("f64")
    ndt = np.float64 if f64 else np.float32
    rows = meth["rows"]
    steps, B = rows.shape
    Xb = torch.from_numpy(task["X_b"].astype(ndt))
    Xt = torch.from_numpy(task["X_test"].astype(ndt))
    weak = task["weak_b"]  # float32, as the C target function reads it
    params = []
    for W, b in task["init"]:
        params.append(torch.tensor(W.astype(ndt), requires_grad=True))
        params.append(torch.tensor(b.astype(ndt), requires_grad=True))
    nl = len(params) // 2

    def forward(x):
        h = x
        for l in range(nl):
            h = torch.addmm(params[2 * l + 1], h, params[2 * l])
            if l < nl - 1:
                h = torch.relu(h)
        return h[:, 0]

    # the constants in the precision C uses them (float fields of W2AdamW)
    f32 = np.float32
    b1, b2, eps = float(f32(a["beta1"])), float(f32(a["beta2"])), float(f32(a["eps"]))
    wd = float(f32(a["weight_decay"]))
    omb1, omb2 = float(f32(1) - f32(b1)), float(f32(1) - f32(b2))
    if variant == "f32-optim":
        opt = torch.optim.AdamW(
            [{"params": params[0::2], "weight_decay": wd},
             {"params": params[1::2], "weight_decay": 0.0}],
            lr=float(a["lr"]), betas=(b1, b2), eps=eps)
    else:
        mom = [torch.zeros_like(p) for p in params]
        vel = [torch.zeros_like(p) for p in params]

    steps_attr = int(a["steps"])
    assert steps == steps_attr, "rows do not cover the planned steps"
    lrs = [c_lr(float(a["lr"]), steps, float(a["warmup_frac"]), a["sched"], s)
           for s in range(steps)]
    lr_err = float(np.max(np.abs(np.array(lrs) - meth["lr"])))
    E = int(a["eval_points"])
    eval_steps = [((k + 1) * steps + E - 1) // E for k in range(E)]
    assert eval_steps == [int(v) for v in meth["eval_step"]], "evaluation points differ"

    conf = meth["kind"] == "conf"
    prior = float(a["prior"])
    npos = c_lround(prior * B)
    losses, ev_loss, ev_acc, ev_pdiff = [], [], [], []
    tdiff_steps, tdiff_elems, tdiff_first = 0, 0, -1
    pmax = 0.0
    yt = task["y_test"] > 0.5
    for s in range(steps):
        idx = rows[s]
        z = forward(Xb[idx])
        p = c_sigmoid(z.detach().numpy())
        pmax = max(pmax, float(np.max(np.abs(p.astype(np.float64) - meth["prob"][s]))))
        tgt = weak[idx].astype(np.float32)
        if conf:
            al = float(meth["alpha_max"])
            prog = s / steps
            if meth["alpha_warmup"] > 0 and prog < meth["alpha_warmup"]:
                al *= prog / float(meth["alpha_warmup"])
            srt = np.sort(p)
            t = srt[B - npos - 1] if npos < B else p.dtype.type(-1)
            hard = (p > t).astype(np.float64)
            tgt = ((1.0 - al) * tgt.astype(np.float64) + al * hard).astype(np.float32)
            nd = int(np.sum(np.abs(tgt - meth["target"][s]) > 0))
            tdiff_elems += nd
            tdiff_steps += nd > 0
            if nd and tdiff_first < 0:
                tdiff_first = s + 1
        loss = F.binary_cross_entropy_with_logits(z, torch.from_numpy(tgt.astype(ndt)))
        for q in params:
            q.grad = None
        loss.backward()
        lr = lrs[s]
        with torch.no_grad():
            if variant == "f32-optim":
                for g in opt.param_groups:
                    g["lr"] = lr
                opt.step()
            else:
                t1 = s + 1
                c1 = float(f32(1.0 / (1.0 - math.pow(b1, t1))))
                c2 = float(f32(1.0 / (1.0 - math.pow(b2, t1))))
                for i, q in enumerate(params):
                    g = q.grad
                    mom[i].mul_(b1).add_(g * omb1)
                    vel[i].mul_(b2).add_(g * g * omb2)
                    upd = (mom[i] * c1) / (torch.sqrt(vel[i] * c2) + eps)
                    if i % 2 == 0 and wd != 0.0:
                        upd = upd + wd * q
                    q.sub_(lr * upd)
        losses.append(float(loss.item()))
        if s + 1 in eval_steps:
            k = eval_steps.index(s + 1)
            k0 = eval_steps[k - 1] if k > 0 else 0
            ev_loss.append(sum(losses[k0:s + 1]) / (s + 1 - k0))
            with torch.no_grad():
                pt = c_sigmoid(forward(Xt).numpy())
            ev_acc.append(float(np.mean((pt > 0.5) == yt)))
            ev_pdiff.append(pmax)
    with torch.no_grad():
        pt = c_sigmoid(forward(Xt).numpy()).astype(np.float64)
    cp = meth["final_prob_test"].astype(np.float64)
    wnum = sum(float(np.sum((params[2 * l].detach().numpy().astype(np.float64)
                              - meth["final_ckpt"][l][0]) ** 2)) for l in range(nl))
    wden = sum(float(np.sum(meth["final_ckpt"][l][0].astype(np.float64) ** 2)) for l in range(nl))
    return {
        "eval_loss": ev_loss, "eval_acc": ev_acc, "eval_max_batch_prob_diff": ev_pdiff,
        "lr_max_abs_diff": lr_err,
        "conf_target_diff_steps": tdiff_steps, "conf_target_diff_elems": tdiff_elems,
        "conf_target_first_diff_step": tdiff_first,
        "final_test_prob_max_abs_diff": float(np.max(np.abs(pt - cp))),
        "final_test_pred_flips": int(np.sum((pt > 0.5) != (cp > 0.5))),
        "final_weight_rel_l2_diff": math.sqrt(wnum / wden),
    }


def init_check(task):
    """Max |p_torch - p_C| of the initial student on the test split (float32)."""
    import numpy as np
    import torch
    h = torch.from_numpy(task["X_test"])
    L = task["init"]
    with torch.no_grad():
        for l, (W, b) in enumerate(L):
            h = torch.addmm(torch.from_numpy(b), h, torch.from_numpy(W))
            if l < len(L) - 1:
                h = torch.relu(h)
    p = c_sigmoid(h[:, 0].numpy())
    return float(np.max(np.abs(p.astype(np.float64) - task["init_prob_test"])))


def main():
    args = parse()
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    variants = args.variants.split(",")
    for v in variants:
        if v not in ("f32-manual", "f32-optim", "f64-manual"):
            sys.exit(f"torch_student.py: error: unknown variant '{v}'")
    primary = variants[0]
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads "
          f"{torch.get_num_threads()}; thresholds: training loss within "
          f"{100 * LOSS_REL_TOL:.0f} % at every evaluation point, final test accuracy within "
          f"{ACC_TOL:g} point; PASS/FAIL on variant {primary}\n")
    report, all_pass = [], True
    for path in args.files:
        try:
            task = load_task(path)
        except (OSError, KeyError) as e:
            sys.exit(f"torch_student.py: error: {path}: {e}")
        a = task["attrs"]
        ic = init_check(task)
        print(f"#### {a['task']}: {a['weak']} -> {a['strong']}, seed {a['seed']}\n")
        print(f"{a['n_b']} training rows, batch {a['batch']}, {a['steps']} steps, lr "
              f"{a['lr']:.3g} ({a['sched']}, warm-up {a['warmup_frac']:.3g}), weight decay "
              f"{a['weight_decay']:g}, weak prior {a['prior']:.4f}, weak test acc "
              f"{100 * a['weak_acc']:.2f} %; initial student: max |p_torch - p_C| on test = "
              f"{ic:.2e}\n")
        order = sorted(task["methods"], key=lambda n: (task["methods"][n]["kind"] != "naive", n))
        for name in order:
            meth = task["methods"][name]
            res = {v: train(task, meth, v) for v in variants}
            r = res[primary]
            cl, ca = [float(x) for x in meth["eval_loss"]], [float(x) for x in meth["eval_acc"]]
            rel = [abs(t - c) / abs(c) for t, c in zip(r["eval_loss"], cl)]
            dacc = 100 * (r["eval_acc"][-1] - ca[-1])
            ok = max(rel) <= LOSS_REL_TOL and abs(dacc) <= ACC_TOL
            all_pass &= ok
            print(f"**{name}** ({meth['kind']}; C run = w2_pipe_cell's: "
                  f"{'yes' if int(meth['pipeline_match']) else 'NO'})\n")
            print("| eval | step | C train loss | torch train loss | rel diff | C test acc % "
                  "| torch test acc % | max batch \\|dp\\| so far |")
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
            for k in range(len(cl)):
                print(f"| {k} | {int(meth['eval_step'][k])} | {cl[k]:.6f} | "
                      f"{r['eval_loss'][k]:.6f} | {rel[k]:.1e} | {100 * ca[k]:.2f} | "
                      f"{100 * r['eval_acc'][k]:.2f} | {r['eval_max_batch_prob_diff'][k]:.2e} |")
            print(f"\n{'PASS' if ok else 'FAIL'}: max training-loss rel diff "
                  f"{max(rel):.1e} (<= {LOSS_REL_TOL:g}), final test acc "
                  f"diff {dacc:+.2f} points (<= {ACC_TOL:g}); final test predictions: "
                  f"{r['final_test_pred_flips']} of {a['n_test']} on the other side of 0.5, "
                  f"max |dp| {r['final_test_prob_max_abs_diff']:.2e}; final weights rel L2 "
                  f"diff {r['final_weight_rel_l2_diff']:.2e}; lr schedule max |d| "
                  f"{r['lr_max_abs_diff']:.1e}" +
                  (f"; conf targets differing from C's in {r['conf_target_diff_steps']} of "
                   f"{a['steps']} steps ({r['conf_target_diff_elems']} rows)"
                   if meth["kind"] == "conf" else "") + "\n")
            others = [v for v in variants if v != primary]
            for v in others:
                rv = res[v]
                relv = [abs(t - c) / abs(c) for t, c in zip(rv["eval_loss"], cl)]
                print(f"- {v}: max loss rel diff {max(relv):.1e}, final acc diff "
                      f"{100 * (rv['eval_acc'][-1] - ca[-1]):+.2f} points, "
                      f"{rv['final_test_pred_flips']} prediction flips, weights rel L2 diff "
                      f"{rv['final_weight_rel_l2_diff']:.2e}" +
                      (f", conf targets differing from C's in {rv['conf_target_diff_steps']} "
                       f"steps ({rv['conf_target_diff_elems']} rows; first at step "
                       f"{rv['conf_target_first_diff_step'] if rv['conf_target_diff_steps'] else '-'})"
                       if meth["kind"] == "conf" else ""))
            print()
            report.append({"file": path, "task": a["task"], "weak": a["weak"],
                           "strong": a["strong"], "seed": int(a["seed"]), "method": name,
                           "kind": meth["kind"], "pipeline_match": int(meth["pipeline_match"]),
                           "c_eval_loss": cl, "c_eval_acc": ca, "init_max_prob_diff": ic,
                           "max_loss_rel_diff": max(rel), "final_acc_diff_points": dacc,
                           "pass": ok, "variants": res})
    n = len(report)
    npass = sum(r["pass"] for r in report)
    worst_l = max(r["max_loss_rel_diff"] for r in report)
    worst_a = max(abs(r["final_acc_diff_points"]) for r in report)
    print(f"**{'PASS' if all_pass else 'FAIL'}** ({npass} of {n} students): worst training-"
          f"loss rel diff {worst_l:.1e} (threshold {LOSS_REL_TOL:g}), worst "
          f"final test-acc diff {worst_a:.2f} points (threshold {ACC_TOL:g}).")
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"pass": all_pass, "students": report}, f, indent=1)
        os.replace(tmp, args.json)
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
