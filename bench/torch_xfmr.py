#!/usr/bin/python3
"""torch_xfmr.py — the PyTorch side of bench/bench_xfmr.c (run with /usr/bin/python3,
Debian's python3-torch): the same byte-level transformer (pre-LN GPT blocks, tanh GELU,
tied LM head, vocabulary 256), the same random bytes, batch, context, LM loss and AdamW,
the same thread count, timed the same way (3 warm-up steps, then the minimum over
--repeats of the mean CPU time — time.process_time — and wall time of --steps steps).

Prints "size params step_ms_cpu step_ms_wall" per size.
"""
import argparse
import os
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="64:2:4,128:4:4,256:4:8")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ctx", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(a.threads)
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    B, T, V = a.batch, a.ctx, 256
    tok = torch.randint(0, V, (B, T))
    print(f"# torch_xfmr: torch {torch.__version__}, threads {torch.get_num_threads()}, batch "
          f"{B} x ctx {T}; min over {a.repeats} repeats of {a.steps} steps")
    print(f"{'size':<12} {'params':>10} {'step_ms_cpu':>12} {'step_ms_wall':>13}")
    for s in a.sizes.split(","):
        C, L, NH = (int(x) for x in s.split(":"))
        hs = C // NH
        P = {"wte": torch.randn(V, C) * 0.02, "wpe": torch.randn(T, C) * 0.02,
             "lnf_w": torch.ones(C), "lnf_b": torch.zeros(C)}
        for l in range(L):
            P.update({f"{l}.ln1_w": torch.ones(C), f"{l}.ln1_b": torch.zeros(C),
                      f"{l}.qkv_w": torch.randn(C, 3 * C) * 0.02, f"{l}.qkv_b": torch.zeros(3 * C),
                      f"{l}.proj_w": torch.randn(C, C) * 0.02, f"{l}.proj_b": torch.zeros(C),
                      f"{l}.ln2_w": torch.ones(C), f"{l}.ln2_b": torch.zeros(C),
                      f"{l}.fc_w": torch.randn(C, 4 * C) * 0.02, f"{l}.fc_b": torch.zeros(4 * C),
                      f"{l}.fcproj_w": torch.randn(4 * C, C) * 0.02,
                      f"{l}.fcproj_b": torch.zeros(C)})
        for t in P.values():
            t.requires_grad_(True)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        opt = torch.optim.AdamW([{"params": [t for t in P.values() if t.dim() == 2],
                                  "weight_decay": 0.1},
                                 {"params": [t for t in P.values() if t.dim() != 2],
                                  "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.99), eps=1e-8)

        def step():
            x = P["wte"][tok] + P["wpe"]
            for l in range(L):
                g = lambda k: P[f"{l}.{k}"]
                h = F.layer_norm(x, (C,), g("ln1_w"), g("ln1_b"))
                q, k, v = ((h @ g("qkv_w") + g("qkv_b")).reshape(B, T, 3, NH, hs)
                           .permute(2, 0, 3, 1, 4))
                att = ((q @ k.transpose(-2, -1)) / hs ** 0.5).masked_fill(~mask, float("-inf"))
                y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
                x = x + y @ g("proj_w") + g("proj_b")
                h = F.layer_norm(x, (C,), g("ln2_w"), g("ln2_b"))
                x = x + F.gelu(h @ g("fc_w") + g("fc_b"), approximate="tanh") @ g("fcproj_w") \
                    + g("fcproj_b")
            logits = F.layer_norm(x, (C,), P["lnf_w"], P["lnf_b"]) @ P["wte"].T
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tok[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()

        for _ in range(3):
            step()
        best_c = best_w = float("inf")
        for _ in range(a.repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(a.steps):
                step()
            best_c = min(best_c, (time.process_time() - c0) / a.steps)
            best_w = min(best_w, (time.perf_counter() - w0) / a.steps)
        n = sum(t.numel() for t in P.values()) + C + 1  # + the CLS head w2sweep also holds
        print(f"{'w%dd%dh%d' % (C, L, NH):<12} {n:>10} {1e3 * best_c:>12.2f} {1e3 * best_w:>13.2f}",
              flush=True)


if __name__ == "__main__":
    main()
