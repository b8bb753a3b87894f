"""text_pretrain_probe.py — does pretraining put a WordNet class where a linear probe can read
it, and which readout, input and pretraining text would show it? (bench/TEXT_GAP.md, third
round.) The architecture of bench/torch_xfmr.py in PyTorch: pretrain by next-byte prediction
on a dictionary of the tasks' words (windows from line starts, AdamW, warm-up then cosine to
lr/10), then fit an L2 logistic probe (lambda by 3-fold CV) with ground truth on 65 % of each
task's words and score it on the rest, at initialisation and after pretraining, on:
  word    "<word>: "                    (the state that predicts the gloss's first byte)
  gloss   the gloss's first 32 bytes
  glossq  the gloss's first 32 bytes + " ="   (the reverse dictionary's cue, --corpus rdict)
each read at the LAST real byte / as the MEAN over real bytes ("last/mean" in the output).
--corpus dict: "word: gloss" lines; rdict: "gloss[:32] = word" lines; both: the two;
lists: WordNet co-hyponym lists "dog, wolf, jackal" (wordnet_words.hyponym_lists, --perms
shuffles of each, --cap other words per list besides the task words), probed instead on
  bare    "<word>"
  item    "<word>, "                    (the state that predicts the next word of a list)
  word    "<word>: "
--recall 1: instead, greedy-decode each word's line from "<word>: " and probe the model's own
recall against the true line (oracle recall), with the fraction recalled exactly.
    /usr/bin/python3 bench/text_pretrain_probe.py --sizes 64:2:4 --steps 3000 --corpus both
    /usr/bin/python3 bench/text_pretrain_probe.py --sizes 16:1:2 --steps 8000 --ctx 32 \
        --corpus lists --perms 2 --cap 4
"""
import argparse, random, sys, time, math
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from wordnet_words import LEXES, senses as read_senses, task_words, hyponym_lists
from text_torch_model import Trunk
p = argparse.ArgumentParser()
p.add_argument("--sizes", default="32:1:2,64:2:4")
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--ctx", type=int, default=48)
p.add_argument("--corpus", default="dict")  # dict | rdict | both | lists
p.add_argument("--perms", type=int, default=2)  # lists: shuffles of each list
p.add_argument("--cap", type=int, default=0)  # lists: other words kept per list (0: all)
p.add_argument("--per", type=int, default=400)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--recall", type=int, default=0)
a = p.parse_args()
torch.set_num_threads(1)
S = read_senses()
T = a.ctx
tasks = {}
words = set()
for c in ("animal", "plant", "food"):
    pos, neg = task_words(S, LEXES[c]); r = random.Random(a.seed * 7 + LEXES[c])
    pw, nw = r.sample(sorted(pos), a.per), r.sample(sorted(neg), a.per)
    d = [(w, 1) for w in pw] + [(w, 0) for w in nw]; r.shuffle(d)
    tasks[c] = d; words |= set(pw) | set(nw)
def gl(w): return S[w][0][1]
lines = []
if a.corpus == "lists":
    lines, covered = hyponym_lists(words, T, a.perms, a.cap, a.seed)
    for c, d in tasks.items():
        print(f"{c}: {sum(w in covered for w, _ in d)} of {len(d)} words in some list", flush=True)
for w in sorted(words):
    if a.corpus in ("dict", "both"): lines.append(f"{w}: {gl(w)}\n")
    if a.corpus in ("rdict", "both"): lines.append(f"{gl(w)[:32]} = {w}\n")
text = "".join(lines).encode("latin-1", "replace")
starts = [0]
for i, b in enumerate(text[:-1]):
    if b == 10: starts.append(i + 1)
starts = [s for s in starts if s + T <= len(text)]
data = torch.tensor(list(text), dtype=torch.long)
print(f"corpus {a.corpus}: {len(text)} bytes, {len(lines)} lines", flush=True)

class Net(Trunk):
    def __init__(s, C, L, H):
        super().__init__(C, L, H, T); s.init_weights()
    def lm(s, tok): return s.hidden(tok) @ s.wte.weight.T

def enc(s):
    b = s.encode("latin-1", "replace")[:T]; return list(b) + [32] * (T - len(b)), max(len(b), 1)

def feats(m, strs):
    e = [enc(s) for s in strs]; tok = torch.tensor([x[0] for x in e]); ln = torch.tensor([x[1] for x in e])
    with torch.no_grad():
        h = m.hidden(tok)
    last = h[torch.arange(len(ln)), ln - 1]
    msk = (torch.arange(T)[None, :] < ln[:, None]).float()
    mean = (h * msk[..., None]).sum(1) / ln[:, None]
    return last.numpy(), mean.numpy()

def probe(X, y, ntr):
    X = torch.tensor(X, dtype=torch.float64); y = torch.tensor(y, dtype=torch.float64)
    mu, sd = X[:ntr].mean(0), X[:ntr].std(0) + 1e-6; X = (X - mu) / sd
    X = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], 1)
    def fit(Xt, yt, lam):
        w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")
        def cl():
            opt.zero_grad(); l = F.binary_cross_entropy_with_logits(Xt @ w, yt) + lam * (w[:-1] ** 2).sum(); l.backward(); return l
        opt.step(cl); return w.detach()
    best, bl = -1, None
    idx = np.arange(ntr); folds = np.array_split(idx, 3)
    for lam in (1e-4, 1e-3, 1e-2, 1e-1, 1.0):
        acc = 0
        for f in folds:
            tr = np.setdiff1d(idx, f); w = fit(X[tr], y[tr], lam)
            acc += ((X[f] @ w > 0).double() == y[f]).double().mean().item()
        if acc > best: best, bl = acc, lam
    w = fit(X[:ntr], y[:ntr], bl)
    return 100 * ((X[ntr:] @ w > 0).double() == y[ntr:]).double().mean().item()

def generate(m, prompts):
    e = [enc(s) for s in prompts]; tok = torch.tensor([x[0] for x in e]); ln = torch.tensor([x[1] for x in e])
    done = torch.zeros(len(ln), dtype=torch.bool)
    with torch.no_grad():
        while True:
            act = (~done) & (ln < T)
            if not act.any(): break
            lg = m.lm(tok)[torch.arange(len(ln)), ln - 1].argmax(-1)
            i = act.nonzero().squeeze(1)
            nl = lg[i] == 10
            tok[i[~nl], ln[i[~nl]]] = lg[i[~nl]]; ln[i[~nl]] += 1; done[i[nl]] = True
    return [bytes(tok[j, :ln[j]].tolist()).decode("latin-1") for j in range(len(ln))]

def evaluate(m, tag):
    out = []
    if a.recall:
        for c, d in tasks.items():
            y = [l for _, l in d]; ntr = int(0.65 * len(d))
            gen = generate(m, [w + ": " for w, _ in d])
            if c == "animal": print("    e.g. " + " | ".join(gen[:3]), flush=True)
            ok = np.mean([g == (w + ": " + gl(w))[:T] for g, (w, _) in zip(gen, d)])
            L, M = feats(m, gen); L2, M2 = feats(m, [(w + ": " + gl(w))[:T] for w, _ in d])
            out.append(f"{c[:2]} exact {100*ok:.0f}% recall:{probe(L, y, ntr):.0f}/{probe(M, y, ntr):.0f} true:{probe(L2, y, ntr):.0f}/{probe(M2, y, ntr):.0f}")
        print(f"  {tag:10s} " + " ".join(out), flush=True)
        return
    for c, d in tasks.items():
        y = [l for _, l in d]; ntr = int(0.65 * len(d))
        inputs = (("word", [w + ": " for w, _ in d]), ("gloss", [gl(w)[:32] for w, _ in d]), ("glossq", [gl(w)[:32] + " =" for w, _ in d]))
        if a.corpus == "lists":
            inputs = (("bare", [w for w, _ in d]), ("item", [w + ", " for w, _ in d]), ("word", [w + ": " for w, _ in d]))
        for inp, strs in inputs:
            L, M = feats(m, strs)
            out.append(f"{c[:2]}/{inp}:{probe(L, y, ntr):.0f}/{probe(M, y, ntr):.0f}")
    print(f"  {tag:10s} " + " ".join(out), flush=True)

for spec in a.sizes.split(","):
    W, D, H = map(int, spec.split(":"))
    torch.manual_seed(a.seed); m = Net(W, D, H)
    nparam = sum(p.numel() for p in m.parameters())
    print(f"w{W} d{D} h{H}: {nparam} params", flush=True)
    evaluate(m, "init")
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr, betas=(0.9, 0.99), weight_decay=0.1)
    g = torch.Generator().manual_seed(a.seed); t0 = time.time()
    for st in range(a.steps):
        lr = a.lr * min(1, (st + 1) / (0.05 * a.steps)) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * st / a.steps)))
        for pg in opt.param_groups: pg["lr"] = lr
        o = torch.tensor(starts)[torch.randint(len(starts), (32,), generator=g)]
        tok = data[o[:, None] + torch.arange(T)[None, :]]
        loss = F.cross_entropy(m.lm(tok[:, :-1]).reshape(-1, 256), tok[:, 1:].reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
        if (st + 1) % (a.steps // 4) == 0:
            print(f"    step {st+1} loss {loss.item()/math.log(2):.3f} bits/byte  {time.time()-t0:.0f}s", flush=True)
    evaluate(m, "pretrained")
