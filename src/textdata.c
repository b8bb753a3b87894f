/* textdata.c — WordNet corpus and lexicographer-class tasks (see textdata.h). */
#include "textdata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h" /* w2_tmp_path */
#include "rng.h"

static const struct { const char *name; int lexfile; } g_classes[W2_WN_NTASKS] = {
    {"animal", 5}, {"artifact", 6}, {"food", 13}, {"person", 18}, {"plant", 20}};

W2Err w2_read_file(const char *path, char **buf, size_t *n) {
  FILE *f = fopen(path, "rb");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char *b = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (cap - len < 65536) {
      size_t nc = cap ? 2 * cap : 1 << 20;
      char *nb = realloc(b, nc + 1);
      if (!nb) {
        free(b);
        fclose(f);
        W2_RAISE(W2_ERR_MEM, "%s: out of memory reading %zu bytes", path, nc);
      }
      b = nb;
      cap = nc;
    }
    size_t r = fread(b + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(b);
    W2_RAISE(W2_ERR_IO, "%s: read error", path);
  }
  b[len] = '\0';
  *buf = b;
  *n = len;
  return W2_OK;
}

/* One data line: lexfile number, words (pointers into the line, NUL-terminated in place),
 * gloss. Lines of the license header start with two blanks and are skipped (*skip = 1). */
#define MAX_WORDS 256
typedef struct {
  int lexfile, nwords;
  char *words[MAX_WORDS];
  char *gloss;
} SynLine;

static W2Err parse_line(char *line, const char *file, long lineno, SynLine *s, int *skip) {
  *skip = line[0] == ' ' || line[0] == '\0';
  if (*skip) return W2_OK;
  char *bar = strstr(line, " | ");
  W2_CHECK(bar, W2_ERR_DATA, "%s:%ld: not a WordNet data line (no ' | ' before the gloss)",
           file, lineno);
  *bar = '\0';
  s->gloss = bar + 3;
  size_t gl = strlen(s->gloss);
  while (gl > 0 && (s->gloss[gl - 1] == ' ' || s->gloss[gl - 1] == '\r')) s->gloss[--gl] = '\0';
  char *save = NULL, *tk[4];
  for (int i = 0; i < 4; i++) {
    tk[i] = strtok_r(i == 0 ? line : NULL, " ", &save);
    W2_CHECK(tk[i], W2_ERR_DATA, "%s:%ld: not a WordNet data line (%d fields before the words)",
             file, lineno, i);
  }
  char *end;
  long lex = strtol(tk[1], &end, 10), wc = strtol(tk[3], NULL, 16);
  W2_CHECK(*end == '\0' && lex >= 0 && lex < 64 && wc >= 1 && wc <= MAX_WORDS, W2_ERR_DATA,
           "%s:%ld: lexicographer file '%s' or word count '%s' out of range", file, lineno,
           tk[1], tk[3]);
  s->lexfile = (int)lex;
  s->nwords = (int)wc;
  for (int i = 0; i < wc; i++) {
    char *w = strtok_r(NULL, " ", &save), *lexid = strtok_r(NULL, " ", &save);
    W2_CHECK(w && lexid, W2_ERR_DATA, "%s:%ld: %ld words announced, %d found", file, lineno,
             wc, i);
    char *paren = strchr(w, '('); /* adjective position markers: "(a)", "(p)", "(ip)" */
    if (paren && paren > w) *paren = '\0';
    for (char *c = w; *c; c++)
      if (*c == '_') *c = ' ';
    s->words[i] = w;
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* corpus */

typedef struct {
  char *b;
  size_t n, cap;
} Buf;

static W2Err buf_put(Buf *o, const char *s, size_t n) {
  if (o->n + n + 1 > o->cap) {
    size_t nc = o->cap ? o->cap * 2 : 1 << 22;
    while (nc < o->n + n + 1) nc *= 2;
    char *nb = realloc(o->b, nc);
    W2_CHECK(nb, W2_ERR_MEM, "out of memory building the corpus (%zu bytes)", nc);
    o->b = nb;
    o->cap = nc;
  }
  memcpy(o->b + o->n, s, n);
  o->n += n;
  return W2_OK;
}

static W2Err corpus_file(const char *wndir, const char *pos, Buf *o) {
  char path[4096];
  snprintf(path, sizeof path, "%s/data.%s", wndir, pos);
  char *text;
  size_t n;
  W2_CALL(w2_read_file(path, &text, &n));
  W2Err e = W2_OK;
  long lineno = 0;
  for (char *line = text; line && *line && !e;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    lineno++;
    SynLine s;
    int skip;
    e = parse_line(line, path, lineno, &s, &skip);
    for (int i = 0; i < s.nwords && !e && !skip; i++) {
      if (i) e = buf_put(o, ", ", 2);
      if (!e) e = buf_put(o, s.words[i], strlen(s.words[i]));
    }
    if (!e && !skip) e = buf_put(o, ": ", 2);
    if (!e && !skip) e = buf_put(o, s.gloss, strlen(s.gloss));
    if (!e && !skip) e = buf_put(o, "\n", 1);
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

static int file_matches(const char *path, uint64_t hash, size_t n) {
  char *b;
  size_t m;
  if (w2_read_file(path, &b, &m)) {
    w2_error_clear();
    return 0;
  }
  int ok = m == n && w2_fnv1a(W2_FNV_OFFSET, b, m) == hash;
  free(b);
  return ok;
}

W2Err w2_wordnet_corpus(const char *wndir, const char *cache_dir, char *path, size_t cap,
                        uint64_t *hash, size_t *bytes) {
  static const char *pos[4] = {"noun", "verb", "adj", "adv"};
  Buf o = {0};
  W2Err e = W2_OK;
  for (int i = 0; i < 4 && !e; i++) e = corpus_file(wndir, pos[i], &o);
  if (e) {
    free(o.b);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, o.b, o.n);
  if (mkdir(cache_dir, 0755) != 0 && errno != EEXIST) {
    free(o.b);
    W2_RAISE(W2_ERR_IO, "%s: cannot create the cache directory: %s", cache_dir, strerror(errno));
  }
  int len = snprintf(path, cap, "%s/wordnet-%016llx.txt", cache_dir, (unsigned long long)h);
  if (len < 0 || (size_t)len >= cap) {
    free(o.b);
    W2_RAISE(W2_ERR_ARG, "%s: cache path too long", cache_dir);
  }
  *hash = h;
  *bytes = o.n;
  if (file_matches(path, h, o.n)) {
    free(o.b);
    return W2_OK;
  }
  char tmp[4096];
  w2_tmp_path(path, tmp, sizeof tmp);
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    free(o.b);
    W2_RAISE(W2_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
  }
  int ok = fwrite(o.b, 1, o.n, f) == o.n;
  ok &= fclose(f) == 0;
  free(o.b);
  if (!ok || rename(tmp, path) != 0) {
    int err = errno;
    remove(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write the corpus: %s", path, strerror(err));
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* tasks */

typedef struct {
  char word[W2_WN_WORD_MAX + 1];
  uint64_t mask; /* bit l: a noun sense in lexicographer file l */
  uint64_t key;  /* ordering within a task */
  long seq;      /* position of the sense in data.noun */
  char *gloss;   /* the gloss of that sense (after merging: of the first sense) */
} WordSenses;

static int cmp_word(const void *a, const void *b) {
  const WordSenses *x = a, *y = b;
  int c = strcmp(x->word, y->word);
  return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_key(const void *a, const void *b) {
  uint64_t x = ((const WordSenses *)a)->key, y = ((const WordSenses *)b)->key;
  return x < y ? -1 : x > y;
}

static int usable(const char *w) {
  size_t n = strlen(w);
  if (n == 0 || n > W2_WN_WORD_MAX) return 0;
  for (const char *c = w; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == ' ' || *c == '-' ||
          *c == '\'' || *c == '.'))
      return 0;
  return 1;
}

static int word_split(const char *w) {
  uint64_t u = w2_mix64(w2_fnv1a(W2_FNV_OFFSET, w, strlen(w))) % 10;
  return u < 4 ? W2_SPLIT_A : u < 8 ? W2_SPLIT_B : W2_SPLIT_TEST;
}

/* collects (word, noun lexfile) over data.noun, then merges equal words into one mask */
static W2Err collect_nouns(const char *wndir, WordSenses **out, int *nout) {
  char path[4096];
  snprintf(path, sizeof path, "%s/data.noun", wndir);
  char *text;
  size_t n;
  W2_CALL(w2_read_file(path, &text, &n));
  WordSenses *ws = NULL;
  size_t nw = 0, cap = 0;
  W2Err e = W2_OK;
  long lineno = 0;
  for (char *line = text; line && *line && !e;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    lineno++;
    SynLine s;
    int skip;
    e = parse_line(line, path, lineno, &s, &skip);
    for (int i = 0; i < s.nwords && !e && !skip; i++) {
      if (!usable(s.words[i])) continue;
      if (nw == cap) {
        cap = cap ? 2 * cap : 1 << 16;
        WordSenses *nb = realloc(ws, cap * sizeof *ws);
        if (!nb) {
          e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (words)");
          break;
        }
        ws = nb;
      }
      snprintf(ws[nw].word, sizeof ws[nw].word, "%s", s.words[i]);
      ws[nw].mask = (uint64_t)1 << s.lexfile;
      ws[nw].key = 0;
      ws[nw].seq = (long)nw;
      ws[nw].gloss = strdup(s.gloss);
      if (!ws[nw++].gloss) {
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (glosses)");
        break;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  if (e) {
    for (size_t i = 0; i < nw; i++) free(ws[i].gloss);
    free(ws);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  if (nw) qsort(ws, nw, sizeof *ws, cmp_word);
  size_t u = 0;
  for (size_t i = 0; i < nw; i++) {
    if (u > 0 && strcmp(ws[u - 1].word, ws[i].word) == 0) {
      ws[u - 1].mask |= ws[i].mask; /* senses in file order: the first one's gloss stays */
      free(ws[i].gloss);
    } else {
      ws[u++] = ws[i];
    }
  }
  *out = ws;
  *nout = (int)u;
  return W2_OK;
}

void w2_text_task_free(W2TextTask *t) {
  for (int i = 0; t->gloss && i < t->n; i++) free(t->gloss[i]);
  free(t->gloss);
  t->gloss = NULL;
  free(t->word);
  free(t->label);
  free(t->split);
  t->word = NULL;
  t->label = NULL;
  t->split = NULL;
  t->n = 0;
}

static W2Err make_task(const WordSenses *all, int nall, int k, uint64_t seed, int max_per,
                       WordSenses *scratch, W2TextTask *t) {
  uint64_t bit = (uint64_t)1 << g_classes[k].lexfile;
  snprintf(t->name, sizeof t->name, "%s", g_classes[k].name);
  uint64_t key = w2_key(seed, "wordnet_task", (uint64_t)k, 0);
  /* positives first, then negatives, each ordered by a keyed hash of the word */
  int np = 0, nn = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < nall; i++) {
      int pos = all[i].mask == bit, neg = (all[i].mask & bit) == 0;
      if (pass == 0 ? !pos : !neg) continue;
      WordSenses *w = &scratch[np + nn];
      *w = all[i];
      w->key = w2_mix64(key ^ w2_fnv1a(W2_FNV_OFFSET, w->word, strlen(w->word)));
      if (pass == 0) np++;
      else nn++;
    }
  qsort(scratch, (size_t)np, sizeof *scratch, cmp_key);
  qsort(scratch + np, (size_t)nn, sizeof *scratch, cmp_key);
  int m = np < nn ? np : nn;
  if (max_per > 0 && m > max_per) m = max_per;
  W2_CHECK(m >= 1, W2_ERR_DATA, "task %s: no words (%d positives, %d negatives)", t->name, np,
           nn);
  /* the m first negatives follow the m first positives; then one keyed order for both */
  memmove(scratch + m, scratch + np, (size_t)m * sizeof *scratch);
  for (int i = 0; i < 2 * m; i++) scratch[i].mask = i < m; /* the label, kept in mask */
  qsort(scratch, (size_t)2 * m, sizeof *scratch, cmp_key);
  t->n = 2 * m;
  W2_CALLOC(t->word, t->n);
  W2_CALLOC(t->label, t->n);
  W2_CALLOC(t->split, t->n);
  W2_CALLOC(t->gloss, t->n);
  for (int i = 0; i < t->n; i++) {
    memcpy(t->word[i], scratch[i].word, sizeof t->word[i]);
    t->gloss[i] = strdup(scratch[i].gloss);
    W2_CHECK(t->gloss[i], W2_ERR_MEM, "out of memory (glosses)");
    t->label[i] = (float)scratch[i].mask;
    t->split[i] = word_split(scratch[i].word);
  }
  return W2_OK;
}

W2Err w2_wordnet_tasks(const char *wndir, uint64_t seed, int max_per_class,
                       W2TextTask *tasks) {
  memset(tasks, 0, sizeof *tasks * W2_WN_NTASKS);
  WordSenses *all, *scratch;
  int n;
  W2_CALL(collect_nouns(wndir, &all, &n));
  scratch = malloc(sizeof *scratch * (size_t)(n > 0 ? n : 1));
  W2Err e = scratch ? W2_OK
                    : w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
  for (int k = 0; k < W2_WN_NTASKS && !e; k++)
    e = make_task(all, n, k, seed, max_per_class, scratch, &tasks[k]);
  for (int i = 0; i < n; i++) free(all[i].gloss);
  free(all);
  free(scratch);
  if (e) {
    for (int k = 0; k < W2_WN_NTASKS; k++) w2_text_task_free(&tasks[k]);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* the tasks' dictionary */

typedef struct {
  const char *word, *gloss;
} DictEntry;

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const DictEntry *)a)->word, ((const DictEntry *)b)->word);
}

W2Err w2_text_dictionary(const W2TextTask *tasks, unsigned task_mask, char **out, size_t *n) {
  size_t total = 0;
  for (int k = 0; k < W2_WN_NTASKS; k++)
    if (task_mask >> k & 1u) total += (size_t)tasks[k].n;
  W2_CHECK(total > 0, W2_ERR_ARG, "the dictionary of no task words");
  DictEntry *e = malloc(sizeof *e * total);
  W2_CHECK(e, W2_ERR_MEM, "out of memory (dictionary)");
  size_t m = 0;
  for (int k = 0; k < W2_WN_NTASKS; k++)
    for (int i = 0; (task_mask >> k & 1u) && i < tasks[k].n; i++)
      e[m++] = (DictEntry){tasks[k].word[i], tasks[k].gloss[i]};
  qsort(e, m, sizeof *e, cmp_entry);
  Buf o = {0};
  W2Err err = W2_OK;
  for (size_t i = 0; i < m && !err; i++) {
    if (i && !strcmp(e[i].word, e[i - 1].word)) continue; /* a word in two tasks */
    err = buf_put(&o, e[i].word, strlen(e[i].word));
    if (!err) err = buf_put(&o, ": ", 2);
    if (!err) err = buf_put(&o, e[i].gloss, strlen(e[i].gloss));
    if (!err) err = buf_put(&o, "\n", 1);
  }
  free(e);
  if (err) {
    free(o.b);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  o.b[o.n] = '\0';
  *out = o.b;
  *n = o.n;
  return W2_OK;
}

W2Err w2_text_line_starts(const char *text, size_t n, int T, size_t **starts, size_t *nstarts) {
  size_t c = 0;
  for (size_t i = 0; i + (size_t)T <= n; i++)
    if (i == 0 || text[i - 1] == '\n') c++;
  W2_CHECK(c > 0, W2_ERR_DATA, "no line of the corpus has %d bytes after its start", T);
  size_t *s = malloc(sizeof *s * c);
  W2_CHECK(s, W2_ERR_MEM, "out of memory (line starts)");
  c = 0;
  for (size_t i = 0; i + (size_t)T <= n; i++)
    if (i == 0 || text[i - 1] == '\n') s[c++] = i;
  *starts = s;
  *nstarts = c;
  return W2_OK;
}
