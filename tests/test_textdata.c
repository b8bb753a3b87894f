/* test_textdata.c — the WordNet corpus and tasks (textdata.h) on a hand-written miniature
 * WordNet (exact corpus text, content-hashed cache that repairs a damaged file, labels,
 * ambiguous words left out, balance, one split per word, errors naming file:line), then,
 * when Debian's wordnet-base is installed, the invariants on the real database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rng.h"
#include "testutil.h"
#include "sweepcfg.h"
#include "textdata.h"
#include "texttask.h"

static void put(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static const char *NOUN =
    "  1 This software and database is being provided to you, the LICENSEE, by  \n"
    "00000001 05 n 02 cat 0 true_cat 0 001 @ 00000002 n 0000 | feline mammal  \n"
    "00000002 05 n 01 dog 0 000 | a canine\n"
    "00000003 13 n 01 bass 0 000 | the lean flesh of a fish\n"
    "00000004 05 n 01 bass 1 000 | a fish\n"
    "00000005 06 n 01 hammer 0 000 | a hand tool\n"
    "00000006 18 n 01 teacher 0 000 | a person who teaches\n"
    "00000007 20 n 01 oak 0 000 | a tree\n"
    "00000008 13 n 01 bread 0 000 | baked food\n"
    "00000009 06 n 02 3-D 0 x_ray_machine 0 000 | an apparatus\n";
static const char *WANT =
    "cat, true cat: feline mammal\ndog: a canine\nbass: the lean flesh of a fish\n"
    "bass: a fish\nhammer: a hand tool\nteacher: a person who teaches\noak: a tree\n"
    "bread: baked food\n3-D, x ray machine: an apparatus\n"
    "run: move fast\nable: having the means\nquickly: with speed\n";

static int find(const W2TextTask *t, const char *w) {
  for (int i = 0; i < t->n; i++)
    if (!strcmp(t->word[i], w)) return i;
  return -1;
}

typedef struct {
  const char *word;
  int split, task;
} Entry;

static int cmp_entry(const void *a, const void *b) {
  const Entry *x = a, *y = b;
  int c = strcmp(x->word, y->word);
  return c ? c : x->task - y->task;
}

/* balanced; no word twice in a task; every occurrence of a word in the same split */
static void check_invariants(const W2TextTask *tasks, const char *where) {
  int total = 0;
  for (int k = 0; k < W2_WN_NTASKS; k++) {
    int pos = 0;
    for (int i = 0; i < tasks[k].n; i++) pos += tasks[k].label[i] == 1.f;
    W2T_CHECK(tasks[k].n > 0 && 2 * pos == tasks[k].n, "%s %s: balanced (%d of %d positive)",
              where, tasks[k].name, pos, tasks[k].n);
    total += tasks[k].n;
  }
  Entry *e = malloc(sizeof *e * total);
  int n = 0;
  for (int k = 0; k < W2_WN_NTASKS; k++)
    for (int i = 0; i < tasks[k].n; i++) e[n++] = (Entry){tasks[k].word[i], tasks[k].split[i], k};
  qsort(e, n, sizeof *e, cmp_entry);
  int dup = 0, moved = 0;
  for (int i = 1; i < n; i++)
    if (!strcmp(e[i].word, e[i - 1].word)) {
      dup += e[i].task == e[i - 1].task;
      moved += e[i].split != e[i - 1].split;
    }
  W2T_CHECK(dup == 0, "%s: %d words listed twice in a task", where, dup);
  W2T_CHECK(moved == 0, "%s: %d words in two splits", where, moved);
  free(e);
}

/* the dictionary of animal + food (text.corpus = "dictionary"): one "word: gloss" line per
 * distinct word, in byte order, a word of both tasks once; then the line starts */
static void check_dictionary(const W2TextTask *t) {
  char *d = NULL;
  size_t n = 0;
  W2T_OK(w2_text_dictionary(t, 1u << 0 | 1u << 2, &d, &n));
  int distinct = 0;
  const W2TextTask *use[2] = {&t[0], &t[2]};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < use[k]->n; i++)
      distinct += k == 0 || find(&t[0], use[k]->word[i]) < 0;
  int lines = 0, sorted = 1;
  const char *prev = NULL;
  for (const char *l = d; l && *l; l = strchr(l, '\n') + 1) {
    lines++;
    if (prev && strncmp(prev, l, (size_t)(strchr(l, ':') - l)) >= 0) sorted = 0;
    prev = l;
  }
  W2T_CHECK(d && n == strlen(d) && lines == distinct && sorted,
            "dictionary: %d lines for %d distinct words, sorted %d:\n%s", lines, distinct, sorted,
            d ? d : "");
  W2T_CHECK(strstr(d, "true cat: feline mammal\n") && strstr(d, "dog: a canine\n") &&
                strstr(d, "bread: baked food\n"),
            "dictionary lines are 'word: gloss of its first noun sense':\n%s", d);
  free(d);
  W2T_CHECK(w2_text_dictionary(t, 0, &d, &n) == W2_ERR_ARG, "the dictionary of no task");
  w2_error_clear();
  const char *text = "ab\ncdef\ng\n";
  size_t *s = NULL, ns = 0;
  W2T_OK(w2_text_line_starts(text, strlen(text), 3, &s, &ns));
  W2T_CHECK(ns == 2 && s[0] == 0 && s[1] == 3,
            "line starts with 3 bytes after them: 0 and 3, not 8 (%zu starts)", ns);
  free(s);
  W2T_CHECK(w2_text_line_starts(text, strlen(text), 12, &s, &ns) == W2_ERR_DATA,
            "no line long enough is W2_ERR_DATA");
  w2_error_clear();
}

static void check_mini(void) {
  char dir[256], cache[300];
  snprintf(dir, sizeof dir, "wn_mini_%d", (int)getpid());
  snprintf(cache, sizeof cache, "%s/cache", dir);
  mkdir(dir, 0755);
  put(dir, "data.noun", NOUN);
  put(dir, "data.verb", "00000010 30 v 01 run 0 000 01 + 02 00 | move fast\n");
  put(dir, "data.adj", "00000011 00 a 01 able(a) 0 000 | having the means\n");
  put(dir, "data.adv", "00000012 02 r 01 quickly 0 000 | with speed \n");
  char path[512];
  uint64_t h;
  size_t n;
  W2T_OK(w2_wordnet_corpus(dir, cache, path, sizeof path, &h, &n));
  char *text = NULL;
  size_t m = 0;
  W2T_OK(w2_read_file(path, &text, &m));
  W2T_CHECK(text && !strcmp(text, WANT), "corpus text:\n%s\nwant:\n%s", text ? text : "", WANT);
  char hex[32];
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)w2_fnv1a(W2_FNV_OFFSET, WANT, strlen(WANT)));
  W2T_CHECK(h == w2_fnv1a(W2_FNV_OFFSET, WANT, strlen(WANT)) && strstr(path, hex) && n == m,
            "the cache file is named by its content hash: %s", path);
  free(text);
  /* a damaged cache file is rebuilt, not trusted */
  put(cache, strrchr(path, '/') + 1, "damaged");
  W2T_OK(w2_wordnet_corpus(dir, cache, path, sizeof path, &h, &n));
  W2T_OK(w2_read_file(path, &text, &m));
  W2T_CHECK(text && !strcmp(text, WANT), "a damaged cache file is rewritten");
  free(text);

  W2TextTask t[W2_WN_NTASKS];
  W2T_OK(w2_wordnet_tasks(dir, 1, 0, t));
  const W2TextTask *animal = &t[0], *food = &t[2];
  W2T_CHECK(!strcmp(animal->name, "animal") && !strcmp(food->name, "food"), "task names");
  /* positives: every noun sense in the class; bass (animal and food) is in neither task */
  W2T_CHECK(animal->n == 6 && food->n == 2, "animal %d words (want 3 + 3), food %d (1 + 1)",
            animal->n, food->n);
  const char *pos[] = {"cat", "true cat", "dog"};
  for (int i = 0; i < 3; i++) {
    int j = find(animal, pos[i]);
    W2T_CHECK(j >= 0 && animal->label[j] == 1.f, "%s is a positive animal", pos[i]);
  }
  W2T_CHECK(!strcmp(animal->gloss[find(animal, "true cat")], "feline mammal") &&
                !strcmp(animal->gloss[find(animal, "dog")], "a canine"),
            "each word carries the gloss of its first noun sense");
  W2T_CHECK(find(animal, "bass") < 0 && find(food, "bass") < 0, "ambiguous bass left out");
  W2T_CHECK(find(food, "bread") >= 0 && food->label[find(food, "bread")] == 1.f, "bread is food");
  W2T_CHECK(find(&t[1], "3-D") < 0 && find(&t[1], "x ray machine") >= 0,
            "words with digits are left out, '_' reads as ' '");
  check_invariants(t, "mini");
  check_dictionary(t);
  for (int k = 0; k < W2_WN_NTASKS; k++) w2_text_task_free(&t[k]);

  /* errors: a broken line names file:line; a missing file names it */
  put(dir, "data.noun", "00000001 05 n 01 cat 0 000 | feline\n00000002 05 n 01 dog 0 000 a canine\n");
  W2T_CHECK(w2_wordnet_tasks(dir, 1, 0, t) == W2_ERR_DATA &&
                strstr(w2_error_message(), "data.noun:2:"),
            "a broken line is W2_ERR_DATA naming file:line: %s", w2_error_message());
  remove(path);
  char p2[512];
  snprintf(p2, sizeof p2, "%s/data.noun", dir);
  remove(p2);
  W2T_CHECK(w2_wordnet_corpus(dir, cache, path, sizeof path, &h, &n) == W2_ERR_IO &&
                strstr(w2_error_message(), "data.noun"),
            "a missing data file is W2_ERR_IO naming it: %s", w2_error_message());
  w2_error_clear();
  const char *rest[] = {"data.verb", "data.adj", "data.adv"};
  for (int i = 0; i < 3; i++) {
    snprintf(p2, sizeof p2, "%s/%s", dir, rest[i]);
    remove(p2);
  }
  rmdir(cache);
  rmdir(dir);
}

/* the real database (wordnet-base), when installed: the same invariants at scale */
static void check_real(void) {
  const char *wn = "/usr/share/wordnet";
  if (access("/usr/share/wordnet/data.noun", R_OK) != 0) {
    printf("# /usr/share/wordnet absent (.ci/deps.sh --data installs wordnet-base): skipped\n");
    return;
  }
  W2TextTask t[W2_WN_NTASKS];
  W2T_OK(w2_wordnet_tasks(wn, 1, 1000, t));
  for (int k = 0; k < W2_WN_NTASKS; k++) {
    int c[3] = {0};
    for (int i = 0; i < t[k].n; i++) c[t[k].split[i]]++;
    W2T_CHECK(t[k].n == 2000, "%s: 1000 + 1000 words (%d)", t[k].name, t[k].n);
    W2T_CHECK(c[2] > 300 && c[2] < 500 && c[0] > 700 && c[1] > 700,
              "%s: splits near 40/40/20 (A %d, B %d, test %d)", t[k].name, c[0], c[1], c[2]);
  }
  check_invariants(t, "wordnet");
  for (int k = 0; k < W2_WN_NTASKS; k++) w2_text_task_free(&t[k]);
  /* the runner's splits (texttask.h "Tasks"): balanced classes, no word in two splits */
  const char *src = getenv("W2SWEEP_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/sweeps/text_tiny.cfg", src ? src : "..");
  W2Sweep s;
  W2T_OK(w2_sweep_load(path, &s));
  for (int j = 0; j < s.ntasks; j++)
    for (uint64_t seed = 0; seed < 3; seed++) {
      W2TaskData td;
      memset(&td, 0, sizeof td);
      W2T_OK(w2_text_task_fill(&s, &s.tasks[j], seed, &td));
      const float *y[3] = {td.ya, td.yb, td.yt};
      const long *id[3] = {td.ida, td.idb, td.idt};
      int n[3] = {td.n_a, td.n_b, td.n_test};
      for (int sp = 0; sp < 3; sp++) {
        int ones = 0;
        for (int r = 0; r < n[sp]; r++) ones += y[sp][r] > 0.5f;
        W2T_CHECK(ones == n[sp] / 2, "%s seed %d split %d: %d of %d rows in the class, want %d",
                  s.tasks[j].name, (int)seed, sp, ones, n[sp], n[sp] / 2);
        for (int q = 0; q < sp; q++)
          for (int r = 0; r < n[sp]; r++)
            for (int u = 0; u < n[q]; u++)
              if (id[sp][r] == id[q][u])
                W2T_CHECK(0, "%s seed %d: word %ld in splits %d and %d", s.tasks[j].name,
                          (int)seed, id[sp][r], q, sp);
      }
      free(td.Xa), free(td.ya), free(td.ida), free(td.Xb), free(td.yb), free(td.idb);
      free(td.Xt), free(td.yt), free(td.idt);
    }
  w2_sweep_free(&s);
}

int main(void) {
  check_mini();
  check_real();
  return w2t_summary();
}
