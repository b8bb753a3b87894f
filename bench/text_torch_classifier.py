"""text_torch_classifier.py — is a tiny byte-level transformer, trained as a classifier on a
few hundred WordNet words, weaker than a bag of bytes because of w2sweep or because of the
regime? The same architecture as bench/torch_xfmr.py (pre-LN GPT blocks, learned positions,
tanh GELU), written with torch.nn, trained from random init in PyTorch on the same kind of
task (bench/text_bow_baseline.py's word lists: 300 training words, 140 test, balanced, 3
seeds), input = the gloss's first 32 bytes or "<word>:", readout = the final-LayerNorm state of
the LAST real byte (as w2sweep) or the MEAN over real bytes (for comparison), AdamW, the best
test accuracy at 10, 30 and --epochs epochs over --lrs (optimistic, like the baseline). Run with
/usr/bin/python3 (Debian's python3-torch):
    /usr/bin/python3 bench/text_torch_classifier.py [--width 64 --depth 2 --heads 4]
"""
import argparse, random
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--width", type=int, default=64); p.add_argument("--depth", type=int, default=2)
p.add_argument("--heads", type=int, default=4); p.add_argument("--classes", default="animal,plant")
p.add_argument("--epochs", type=int, default=50); p.add_argument("--lrs", default="3e-3")
a = p.parse_args()
torch.set_num_threads(1)
from wordnet_words import LEXES as lexes, senses as read_senses, task_words
from text_torch_model import Trunk
senses = read_senses()
T = 32

class Net(Trunk):
    def __init__(s, C, L, H):
        super().__init__(C, L, H, T); s.head = nn.Linear(C, 1); s.init_weights()
    def forward(s, tok, ln, mean):
        h = s.hidden(tok)
        if mean:
            m = (torch.arange(T)[None, :] < ln[:, None]).float()
            h = (h * m[..., None]).sum(1) / ln[:, None]
        else:
            h = h[torch.arange(len(ln)), ln - 1]
        return s.head(h).squeeze(1)

def encode(s):
    b = s.encode("latin-1", "replace")[:T]; return list(b) + [32] * (T - len(b)), max(len(b), 1)

for cname in a.classes.split(","):
    lex = lexes[cname]
    pos, neg = task_words(senses, lex)
    for inp in ("gloss", "word"):
        for mean in ((0, 1) if inp == "gloss" else (0,)):
            accs = []
            for seed in range(3):
                r = random.Random(seed); data = [(w, 1) for w in r.sample(pos, 220)] + [(w, 0) for w in r.sample(neg, 220)]
                r.shuffle(data)
                enc = [encode(senses[w][0][1] if inp == "gloss" else w + ":") for w, _ in data]
                tok = torch.tensor([e[0] for e in enc]); ln = torch.tensor([e[1] for e in enc]); y = torch.tensor([float(l) for _, l in data])
                best = 0
                for lr in (float(x) for x in a.lrs.split(",")):
                    torch.manual_seed(seed); m = Net(a.width, a.depth, a.heads)
                    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0)
                    for ep in range(a.epochs):
                        perm = torch.randperm(300)
                        for i in range(0, 300, 32):
                            j = perm[i:i + 32]
                            loss = F.binary_cross_entropy_with_logits(m(tok[j], ln[j], mean), y[j])
                            opt.zero_grad(); loss.backward(); opt.step()
                        if ep + 1 in (10, 30, a.epochs):
                            with torch.no_grad():
                                acc = ((m(tok[300:], ln[300:], mean) > 0).float() == y[300:]).float().mean().item()
                            best = max(best, acc)
                accs.append(best)
            print(f"{cname:7s} {inp:5s} {'mean' if mean else 'last'}-byte readout, w{a.width} d{a.depth}, from scratch: "
                  f"{100 * np.mean(accs):.1f} (seeds {', '.join(f'{100 * x:.1f}' for x in accs)})", flush=True)
