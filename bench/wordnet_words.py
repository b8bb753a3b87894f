"""wordnet_words.py — the WordNet nouns of the text benchmarks' Python baselines
(text_bow_baseline.py, text_torch_classifier.py), read as src/textdata.c reads them: words
of ASCII letters, blanks, hyphens, apostrophes and dots, at most 24 bytes, '_' read as ' '.
The word lists are drawn by these scripts' own seeds, not by textdata.c's hash."""
import collections
import random

LEXES = {"animal": 5, "artifact": 6, "food": 13, "person": 18, "plant": 20}


def _ok(w):
    """a word textdata.c keeps"""
    return len(w) <= 24 and all(c.isalpha() or c in " -'." for c in w)


def senses(path="/usr/share/wordnet/data.noun"):
    """word -> [(lexicographer file, gloss)] in file order"""
    out = collections.defaultdict(list)
    for line in open(path, encoding="latin-1"):
        if line.startswith("  "):
            continue
        head, gloss = line.split(" | ", 1)
        f = head.split()
        lex, wc = int(f[1]), int(f[3], 16)
        for i in range(wc):
            w = f[4 + 2 * i].replace("_", " ")
            if _ok(w):
                out[w].append((lex, gloss.strip()))
    return out


def task_words(all_senses, lex):
    """(positives: every noun sense in the class, negatives: none is)"""
    pos = [w for w, ss in all_senses.items() if all(l == lex for l, _ in ss)]
    neg = [w for w, ss in all_senses.items() if all(l != lex for l, _ in ss)]
    return pos, neg


def hyponym_lists(words, width, perms, cap, seed, path="/usr/share/wordnet/data.noun"):
    """A corpus of WordNet co-hyponym lists ("dog, wolf, jackal\\n"): for every noun synset
    with at least two hyponym words, one of them in `words`, the words of its hyponyms (all
    their lemmas, in pointer order; with cap > 0 the ones in `words` plus `cap` others),
    shuffled `perms` times and cut into lines of at most `width` bytes. The class of a word
    is never written, only which words are listed together (text_pretrain_probe.py
    --corpus lists; bench/TEXT_GAP.md, fourth round). Returns (lines, words listed)."""
    syn = {}
    for line in open(path, encoding="latin-1"):
        if line.startswith("  "):
            continue
        f = line.split(" | ")[0].split()
        wc = int(f[3], 16)
        lem = [f[4 + 2 * i].replace("_", " ") for i in range(wc)]
        k = 4 + 2 * wc
        hy = [f[k + 2 + 4 * j] for j in range(int(f[k]))
              if f[k + 1 + 4 * j] in ("~", "~i") and f[k + 3 + 4 * j] == "n"]
        syn[f[0]] = ([w for w in lem if _ok(w)], hy)
    rng = random.Random(seed)
    lines, covered = [], set()
    for off, (_, hy) in syn.items():
        kids = [w for h in hy for w in syn[h][0]]
        if len(kids) < 2 or not (set(kids) & words):
            continue
        if cap:
            tw = [w for w in kids if w in words]
            ot = [w for w in kids if w not in words]
            random.Random(off).shuffle(ot)
            kids = tw + ot[:cap]
        covered |= set(kids) & words
        for _ in range(perms):
            k = kids[:]
            rng.shuffle(k)
            cur = ""
            for w in k:
                nxt = (cur + ", " + w) if cur else w
                if len(nxt) + 1 > width and cur:
                    lines.append(cur + "\n")
                    cur = w
                else:
                    cur = nxt
            if cur:
                lines.append(cur + "\n")
    rng.shuffle(lines)
    return lines, covered
