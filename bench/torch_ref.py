#!/usr/bin/python3
"""torch_ref.py — the PyTorch reference for bench/bench_train.c (run with /usr/bin/python3,
Debian's python3-torch).

Trains the same architecture as bench_train (depth hidden nn.Linear + ReLU layers of
`width` units, d_in inputs, one logit, BCEWithLogitsLoss) with the same data (the file that
`bench_train --dump-data` writes), batch size and AdamW hyperparameters (lr 1e-3,
betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on weight matrices only, biases 0; constant
lr), on the same thread count, and times steps/s per width the way bench_train does: a
warm-up, a calibration that picks steps per repeat (>= --min-time seconds), then the minimum
over --repeats repeats of the mean step time.

A step is what w2_train does: gather a minibatch from a per-epoch random permutation, forward,
loss, backward, AdamW step, and read the loss back (w2_train checks it for NaN every step).

Output: '#' comment lines, then a header "width torch_steps_s torch_step_ms steps" and one
row per width (bench/run_bench.sh merges it with bench_train's table).
"""
import argparse
import math
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--widths", default="64,128,256,512,1024,2048,4096")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--d-in", type=int, default=64)
    p.add_argument("--rows", type=int, default=4096, help="rows when no --data is given")
    p.add_argument("--data", help="training set written by bench_train --dump-data")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.25)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def main():
    a = parse()
    # the BLAS and OpenMP pools read these when torch loads
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(a.threads)
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.data:
        with open(a.data, "rb") as f:
            n, d_in = (int(v) for v in np.fromfile(f, dtype=np.int32, count=2))
            X = np.fromfile(f, dtype=np.float32, count=n * d_in).reshape(n, d_in)
            Y = np.fromfile(f, dtype=np.float32, count=n)
        if X.shape != (n, d_in) or Y.shape != (n,):
            sys.exit(f"torch_ref.py: error: {a.data} is truncated")
        src = a.data
    else:
        rng = np.random.default_rng(a.seed)
        n, d_in = a.rows, a.d_in
        X = rng.standard_normal((n, d_in), dtype=np.float32)
        Y = (X @ rng.standard_normal(d_in).astype(np.float32) > 0).astype(np.float32)
        src = "random (no --data)"
    X = torch.from_numpy(X)
    Y = torch.from_numpy(Y).reshape(n, 1)
    B = min(a.batch, n)

    print(f"# torch_ref: torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"MLP depth {a.depth}, d_in {d_in}, d_out 1, ReLU, BCEWithLogitsLoss; batch {B}; "
          f"{n} rows from {src}")
    print(f"# timing: min over {a.repeats} repeats of >= {a.min_time} s each")
    print(f"{'width':>6} {'torch_steps_s':>13} {'torch_step_ms':>13} {'steps':>7}")
    sys.stdout.flush()

    for width in (int(w) for w in a.widths.split(",")):
        layers, k = [], d_in
        for _ in range(a.depth):
            layers += [torch.nn.Linear(k, width), torch.nn.ReLU()]
            k = width
        layers.append(torch.nn.Linear(k, 1))
        model = torch.nn.Sequential(*layers)
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
        opt = torch.optim.AdamW([{"params": weights, "weight_decay": 0.01},
                                 {"params": biases, "weight_decay": 0.0}],
                                lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        lossf = torch.nn.BCEWithLogitsLoss()
        state = {"pos": 0, "perm": torch.randperm(n)}

        def train(steps):
            for _ in range(steps):
                if state["pos"] + B > n:  # a new epoch
                    state["perm"] = torch.randperm(n)
                    state["pos"] = 0
                idx = state["perm"][state["pos"]:state["pos"] + B]
                state["pos"] += B
                xb, yb = X.index_select(0, idx), Y.index_select(0, idx)
                loss = lossf(model(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if not math.isfinite(loss.item()):
                    sys.exit(f"torch_ref.py: error: training diverged at width {width}")

        train(2)  # warm-up
        t0 = time.perf_counter()
        train(2)
        per = (time.perf_counter() - t0) / 2
        steps = max(3, min(100000, math.ceil(a.min_time / max(per, 1e-9))))
        best = math.inf
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            train(steps)
            best = min(best, (time.perf_counter() - t0) / steps)
        print(f"{width:>6} {1 / best:>13.2f} {best * 1e3:>13.3f} {steps:>7}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
