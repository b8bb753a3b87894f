"""wordnet_words.py — the WordNet nouns of the text benchmarks' Python baselines
(text_bow_baseline.py, text_torch_classifier.py), read as src/textdata.c reads them: words
of ASCII letters, blanks, hyphens, apostrophes and dots, at most 24 bytes, '_' read as ' '.
The word lists are drawn by these scripts' own seeds, not by textdata.c's hash."""
import collections

LEXES = {"animal": 5, "artifact": 6, "food": 13, "person": 18, "plant": 20}


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
            if len(w) <= 24 and all(c.isalpha() or c in " -'." for c in w):
                out[w].append((lex, gloss.strip()))
    return out


def task_words(all_senses, lex):
    """(positives: every noun sense in the class, negatives: none is)"""
    pos = [w for w, ss in all_senses.items() if all(l == lex for l, _ in ss)]
    neg = [w for w, ss in all_senses.items() if all(l != lex for l, _ in ss)]
    return pos, neg
