#!/usr/bin/python3
"""xfmr_torch_ref.py — the PyTorch reference of w2sweep's byte-level transformer
(src/transformer.h), run with /usr/bin/python3 and Debian's python3-torch.

Usage: xfmr_torch_ref.py XFMR_REF_DUMP OUT_DIR

Runs XFMR_REF_DUMP OUT_DIR (tests/xfmr_ref_dump.c: a checkpoint init.h5 and ref.h5 with
batches, logits, losses, gradients and 100 training losses), rebuilds the same model in
torch from init.h5 alone (the checkpoint layout is the interface) and checks:
  - LM logits, LM loss and every parameter gradient of batch 0, in float64, agree with
    w2sweep's fp32 values to relative 1e-4 (||c - t|| / ||t|| per tensor);
  - the CLS head (last REAL byte of each sequence, soft-target BCE): logits, loss and
    gradients likewise;
  - 100 AdamW steps of next-byte prediction from the same checkpoint on the same batches:
    w2sweep's fp32 loss at every step within 2 % of torch's. The reference trains in
    float64: torch's own fp32 run (measured 2026-11-28, torch 1.13) follows both to 0.5 %
    except single-step excursions (5.5 % at step 78, back on the curve the next step)
    that neither float64 torch nor w2sweep shows, so fp32 torch is not the yardstick.
Exits 77 (ctest SKIP) when torch or h5py is missing, 1 on any disagreement.
"""
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: xfmr_torch_ref.py XFMR_REF_DUMP OUT_DIR")
    try:
        import h5py
        import numpy as np
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"xfmr_torch_ref.py: SKIP ({e}; .ci/deps.sh --bench installs python3-torch)")
        sys.exit(77)
    dump, out = sys.argv[1], sys.argv[2]
    subprocess.run([dump, out], check=True)
    torch.set_num_threads(1)

    with h5py.File(f"{out}/init.h5", "r") as f:
        a = {k: int(f.attrs[k]) for k in ("width", "depth", "heads", "ctx", "vocab")}
        assert f.attrs["format"] in ("w2sweep-transformer", b"w2sweep-transformer")
        init = {k: f[k][:] for k in f.keys()}
    ref = h5py.File(f"{out}/ref.h5", "r")
    C, L, NH, T, V = a["width"], a["depth"], a["heads"], a["ctx"], a["vocab"]
    hs = C // NH
    PER = ("ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
           "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b")
    names = ["wte", "wpe", "lnf_w", "lnf_b", "cls_w", "cls_b"] + \
            [f"h{l}.{k}" for l in range(L) for k in PER]

    def params(dtype):
        return {n: torch.tensor(init[n], dtype=dtype, requires_grad=True) for n in names}

    def hidden(p, tok):
        """final LayerNorm output (B, T, C) for byte tokens (B, T) (long)"""
        Bn = tok.shape[0]
        x = p["wte"][tok] + p["wpe"][:T]
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        for l in range(L):
            g = lambda k: p[f"h{l}.{k}"]
            h = F.layer_norm(x, (C,), g("ln1_w"), g("ln1_b"), eps=1e-5)
            qkv = h @ g("qkv_w") + g("qkv_b")
            q, k, v = (t.reshape(Bn, T, NH, hs).transpose(1, 2) for t in qkv.split(C, dim=2))
            att = (q @ k.transpose(-2, -1)) / hs ** 0.5
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = (att @ v).transpose(1, 2).reshape(Bn, T, C)
            x = x + y @ g("proj_w") + g("proj_b")
            h = F.layer_norm(x, (C,), g("ln2_w"), g("ln2_b"), eps=1e-5)
            h = F.gelu(h @ g("fc_w") + g("fc_b"), approximate="tanh")
            x = x + h @ g("fcproj_w") + g("fcproj_b")
        return F.layer_norm(x, (C,), p["lnf_w"], p["lnf_b"], eps=1e-5)

    def lm(p, tok):
        logits = hidden(p, tok) @ p["wte"].T                     # tied head
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), tok[:, 1:].reshape(-1))
        return logits, loss

    bad = []

    def close(what, c, t, tol=1e-4):
        c, t = np.asarray(c, dtype=np.float64), np.asarray(t, dtype=np.float64)
        nt = np.linalg.norm(t)
        err = np.linalg.norm(c - t) / nt if nt > 0 else np.linalg.norm(c)
        ok = err <= tol
        if not ok:
            bad.append(f"{what}: relative error {err:.3g} > {tol}")
        return err

    tokens = torch.tensor(ref["tokens"][:], dtype=torch.long)        # (STEPS, B, T)
    tok0 = tokens[0]
    worst = 0.0
    # --- LM head, float64 ---
    p = params(torch.float64)
    logits, loss = lm(p, tok0)
    loss.backward()
    worst = max(worst, close("lm logits", ref["lm_logits"][:], logits.detach().reshape(-1, V)))
    worst = max(worst, close("lm loss", ref["lm_loss"][:], [loss.item()]))
    for n in names:
        g = p[n].grad if p[n].grad is not None else torch.zeros_like(p[n])
        worst = max(worst, close(f"lm grad {n}", ref[f"lm_grad.{n}"][:].reshape(g.shape), g))
    # --- CLS head, float64: the last real byte of each sequence ---
    p = params(torch.float64)
    lens = torch.tensor(ref["cls_len"][:], dtype=torch.long)
    target = torch.tensor(ref["cls_target"][:], dtype=torch.float64)
    ctok = tok0.clone()
    for b in range(ctok.shape[0]):
        ctok[b, lens[b]:] = 0                                       # padding bytes
    h = hidden(p, ctok)[torch.arange(ctok.shape[0]), lens - 1]
    z = h @ p["cls_w"] + p["cls_b"]
    loss = F.binary_cross_entropy_with_logits(z, target)
    loss.backward()
    worst = max(worst, close("cls logits", ref["cls_logit"][:], z.detach()))
    worst = max(worst, close("cls loss", ref["cls_loss"][:], [loss.item()]))
    for n in names:
        g = p[n].grad if p[n].grad is not None else torch.zeros_like(p[n])
        worst = max(worst, close(f"cls grad {n}", ref[f"cls_grad.{n}"][:].reshape(g.shape), g))
    # --- 100 AdamW steps, float64 (see the docstring) ---
    lr, b1, b2, eps, wd = (float(v) for v in ref["hyper"][:])
    p = params(torch.float64)
    decay = [p[n] for n in names if p[n].dim() == 2]               # matrices and embeddings
    other = [p[n] for n in names if p[n].dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": other, "weight_decay": 0.0}],
                            lr=lr, betas=(b1, b2), eps=eps)
    want = ref["losses"][:]
    got = []
    for s in range(len(want)):
        _, loss = lm(p, tokens[s])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        got.append(loss.item())
    dev = np.abs(np.array(got) - want) / np.abs(want)
    if dev.max() > 0.02:
        s = int(dev.argmax())
        bad.append(f"training loss at step {s}: torch {got[s]:.5f}, w2sweep {want[s]:.5f} "
                   f"({100 * dev[s]:.2f} % apart, > 2 %)")
    print(f"xfmr_torch_ref: torch {torch.__version__}; logits/gradients worst relative error "
          f"{worst:.2e} (limit 1e-4); {len(want)} AdamW steps, loss {want[0]:.4f} -> "
          f"{want[-1]:.4f}, worst step deviation {100 * dev.max():.3f} % (limit 2 %)")
    for b in bad:
        print("NOT OK " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
