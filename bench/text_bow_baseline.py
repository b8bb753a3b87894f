# bag-of-byte-n-gram logistic regression on WordNet class tasks: how readable are the tasks?
# (bench/TEXT_GAP.md; /usr/bin/python3 bench/text_bow_baseline.py [TRAIN_WORDS])
import random, sys, zlib, numpy as np, torch
from wordnet_words import LEXES as cls, senses as read_senses, task_words
senses = read_senses()  # word -> [(lexfile, gloss)]
def feats(s, n=32, D=8192):
    s = s[:n].encode("latin-1", "replace"); v = np.zeros(D, np.float32)
    for k in (1, 2, 3):  # crc32, not hash(): the same features in every process
        for i in range(len(s) - k + 1): v[zlib.crc32(s[i:i + k]) % D] += 1
    return v
ntr, nte = int(sys.argv[1]) if len(sys.argv) > 1 else 300, 140
for name, lex in cls.items():
    pos, neg = task_words(senses, lex)
    for inp in ("word", "gloss"):
        accs = []
        for seed in range(3):
            r = random.Random(seed); p = r.sample(pos, (ntr + nte) // 2); q = r.sample(neg, (ntr + nte) // 2)
            data = [(w, 1) for w in p] + [(w, 0) for w in q]; r.shuffle(data)
            X = np.stack([feats(senses[w][0][1] if inp == "gloss" else w + ":") for w, _ in data]); y = np.array([l for _, l in data], np.float32)
            Xt, yt = torch.tensor(X), torch.tensor(y)
            best = 0
            for lam in (1e-3, 1e-2, 1e-1):
                m = torch.nn.Linear(X.shape[1], 1); opt = torch.optim.LBFGS(m.parameters(), max_iter=200)
                def clo():
                    opt.zero_grad(); l = torch.nn.functional.binary_cross_entropy_with_logits(m(Xt[:ntr]).squeeze(1), yt[:ntr]) + lam * (m.weight ** 2).sum(); l.backward(); return l
                opt.step(clo)
                acc = ((m(Xt[ntr:]).squeeze(1) > 0).float() == yt[ntr:]).float().mean().item()
                best = max(best, acc)  # optimistic: best lambda on test
            accs.append(best)
        print(f"{name:9s} {inp:6s} bag-of-byte-1..3-grams, {ntr} train: {100*np.mean(accs):.1f} (seeds {', '.join(f'{100*a:.1f}' for a in accs)})", flush=True)
