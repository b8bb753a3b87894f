/* texttask.c — text tasks and transformer pretraining for the sweep runner (texttask.h). */
#include "texttask.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "store.h"
#include "train.h"
#include "xfmodel.h"

/* textdata.h's classes, in its order */
const char *const w2_text_class_names[] = {"animal", "artifact", "food", "person", "plant", NULL};

int w2_text_class_index(const char *name) {
  for (int i = 0; w2_text_class_names[i]; i++)
    if (!strcmp(name, w2_text_class_names[i])) return i;
  return -1;
}

void w2_text_arch(const W2SizeSpec *z, W2XfArch *a) {
  *a = (W2XfArch){.width = z->width, .depth = z->depth, .heads = z->heads, .ctx = z->ctx};
}

long w2_text_pretrain_examples(const W2Sweep *s, const W2SizeSpec *z) {
  W2XfArch a;
  w2_text_arch(z, &a);
  double n = floor(w2_xf_params(&a) * s->pretrain.examples_per_param + 0.5);
  if (n < s->pretrain.min_examples) n = s->pretrain.min_examples;
  if (n > s->pretrain.max_examples) n = s->pretrain.max_examples;
  return n < 1 ? 1 : (long)n;
}

long w2_text_pretrain_steps(const W2Sweep *s, const W2SizeSpec *z) {
  return w2_train_steps_for_epochs((int)w2_text_pretrain_examples(s, z), s->pretrain.hyper.batch,
                                   s->pretrain.hyper.epochs);
}

double w2_text_pretrain_flops(const W2Sweep *s, const W2SizeSpec *z) {
  W2XfArch a;
  w2_text_arch(z, &a);
  return w2_xf_step_flops(&a, s->pretrain.hyper.batch, 1) * (double)w2_text_pretrain_steps(s, z);
}

/* ----------------------------------------------------------------------------------- */
/* the source's content hash: once per process and WordNet directory */

#define W2_TEXT_CORPUS_VERSION "wordnet-corpus-v1" /* bump when textdata.c's output changes */
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static char hash_dir[W2_PATH_MAX];
static uint64_t hash_val;

W2Err w2_text_source_hash(const W2Sweep *s, uint64_t *hash) {
  pthread_mutex_lock(&hash_lock);
  int have = hash_dir[0] && !strcmp(hash_dir, s->text.wordnet);
  uint64_t h = hash_val;
  pthread_mutex_unlock(&hash_lock);
  if (have) {
    *hash = h;
    return W2_OK;
  }
  static const char *const files[] = {"data.noun", "data.verb", "data.adj", "data.adv"};
  h = w2_fnv1a(W2_FNV_OFFSET, W2_TEXT_CORPUS_VERSION, sizeof W2_TEXT_CORPUS_VERSION);
  for (int i = 0; i < 4; i++) {
    char path[W2_PATH_MAX + 16], *buf;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", s->text.wordnet, files[i]);
    W2_CALL(w2_read_file(path, &buf, &n));
    h = w2_fnv1a(h, buf, n);
    free(buf);
  }
  pthread_mutex_lock(&hash_lock);
  snprintf(hash_dir, sizeof hash_dir, "%s", s->text.wordnet);
  hash_val = h;
  pthread_mutex_unlock(&hash_lock);
  *hash = h;
  return W2_OK;
}

unsigned w2_text_class_mask(const W2Sweep *s) {
  unsigned m = 0;
  for (int i = 0; i < s->ntasks; i++) {
    int k = s->tasks[i].kind == W2_TASK_TEXT ? w2_text_class_index(s->tasks[i].text_class) : -1;
    if (k >= 0) m |= 1u << k;
  }
  return m;
}

W2Err w2_text_pretrain_hash(const W2Sweep *s, uint64_t *hash) {
  uint64_t h;
  W2_CALL(w2_text_source_hash(s, &h));
  if (s->text.corpus == W2_TEXT_CORPUS_DICTIONARY) {
    unsigned mask = w2_text_class_mask(s);
    int per = s->text.max_per_class;
    h = w2_fnv1a(h, "dictionary-v1", 13);
    h = w2_fnv1a(h, &per, sizeof per);
    h = w2_fnv1a(h, &mask, sizeof mask);
  }
  *hash = h;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* pretraining */

/* The pretraining text of s for seed: the whole WordNet corpus (cached under dir), or the
 * dictionary of the seed's task words with its line starts (*starts NULL for WordNet). */
static W2Err pretrain_text(const W2Sweep *s, uint64_t seed, const char *dir, char **text,
                           size_t *nbytes, int T, size_t **starts, size_t *nstarts) {
  *text = NULL;
  *starts = NULL;
  *nstarts = 0;
  if (s->text.corpus == W2_TEXT_CORPUS_WORDNET) {
    char path[W2_PATH_MAX + 64];
    uint64_t chash;
    W2_CALL(w2_wordnet_corpus(s->text.wordnet, dir, path, sizeof path, &chash, nbytes));
    W2_CALL(w2_read_file(path, text, nbytes));
    if (*nbytes < (size_t)T + 1) {
      free(*text);
      *text = NULL;
      W2_RAISE(W2_ERR_DATA, "%s: %zu bytes of corpus for a context of %d", path, *nbytes, T);
    }
    return W2_OK;
  }
  W2TextTask tasks[W2_WN_NTASKS];
  W2_CALL(w2_wordnet_tasks(s->text.wordnet, seed, s->text.max_per_class, tasks));
  W2Err e = w2_text_dictionary(tasks, w2_text_class_mask(s), text, nbytes);
  for (int k = 0; k < W2_WN_NTASKS; k++) w2_text_task_free(&tasks[k]);
  if (!e) e = w2_text_line_starts(*text, *nbytes, T, starts, nstarts);
  if (e) {
    free(*text);
    *text = NULL;
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}

W2Err w2_text_model_create(const W2SizeSpec *z, uint64_t seed, const W2Grid *grid,
                           W2Model **out) {
  W2XfArch a;
  w2_text_arch(z, &a);
  uint64_t shape = (uint64_t)z->depth << 32 | (uint64_t)z->heads << 16 | (uint64_t)z->ctx;
  W2_CALL(w2_xfmodel_create(grid, &a, W2_TEXT_ROW, w2_key(seed, "xf-init", (uint64_t)z->width, shape),
                            out));
  return W2_OK;
}

W2Err w2_text_pretrain(const W2Sweep *s, const W2SizeSpec *z, uint64_t seed, const W2Grid *grid,
                       const char *cache_dir, W2Model **out, double *flops) {
  *out = NULL;
  const W2StageHyper *h = &s->pretrain.hyper;
  int T = z->ctx, B = h->batch;
  char dir[W2_PATH_MAX + 16];
  snprintf(dir, sizeof dir, "%s/text", cache_dir && cache_dir[0] ? cache_dir : "/tmp/w2sweep");
  W2_CALL(w2_mkdirs(dir));
  size_t nbytes, *starts, nstarts;
  char *text;
  W2_CALL(pretrain_text(s, seed, dir, &text, &nbytes, T, &starts, &nstarts));
  W2Model *m = NULL;
  uint8_t *tok = malloc((size_t)B * T);
  int *len = malloc(sizeof(int) * (size_t)B);
  W2Err e = W2_OK;
  if (!tok || !len) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (text batch)");
    goto done;
  }
  W2_CALL_GOTO(e, done, w2_text_model_create(z, seed, grid, &m));
  W2Xf *xf = w2_xfmodel_xf(m);
  W2_CALL_GOTO(e, done, w2_xf_set_batch(xf, B));
  /* the schedule of w2_train: a spec with what w2_train_lr reads */
  W2TrainSpec sp = {.steps = w2_text_pretrain_steps(s, z), .warmup_frac = h->warmup_frac,
                    .sched = h->sched,
                    .opt = {.lr = h->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                            .weight_decay = h->weight_decay}};
  W2XfArch a;
  w2_text_arch(z, &a);
  double step_flops = w2_xf_step_flops(&a, B, 1);
  uint64_t key = w2_key(seed, "xf-pretrain-data", 0, 0);
  for (int b = 0; b < B; b++) len[b] = T;
  for (long st = 0; st < sp.steps; st++) {
    for (int b = 0; b < B; b++) {
      size_t o = starts ? starts[w2_below(key, (uint64_t)st, (uint64_t)b, (uint64_t)nstarts)]
                        : (size_t)w2_below(key, (uint64_t)st, (uint64_t)b, (uint64_t)(nbytes - T + 1));
      memcpy(tok + (size_t)b * T, text + o, (size_t)T);
    }
    double loss;
    W2_CALL_GOTO(e, done, w2_xf_load_tokens(xf, tok, len, B));
    W2_CALL_GOTO(e, done, w2_xf_forward(xf));
    W2_CALL_GOTO(e, done, w2_xf_lm_loss(xf, &loss));
    if (!isfinite(loss)) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_NUM,
                         "text pretraining of '%s' diverged: loss %g at step %ld of %ld (lower "
                         "pretrain.lr?)", z->name, loss, st + 1, sp.steps);
      goto done;
    }
    W2_CALL_GOTO(e, done, w2_xf_backward(xf));
    w2_xf_adamw(xf, &sp.opt, w2_train_lr(&sp, st));
    m->flops += step_flops;
  }
  if (flops) *flops = m->flops;
done:
  free(text);
  free(starts);
  free(tok);
  free(len);
  if (e) {
    w2_model_destroy(&m);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  *out = m;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* task data */

static void put_row(const W2TextTask *tt, int i, W2TextInput input, float *row) {
  int gloss = input == W2_TEXT_INPUT_GLOSS;
  const char *s = gloss ? tt->gloss[i] : tt->word[i];
  int l = (int)strlen(s), j = 0, n = gloss ? W2_TEXT_GLOSS_BYTES : W2_TEXT_ROW - 1;
  for (; j < l && j < n; j++) row[j] = (float)(unsigned char)s[j];
  if (!gloss) row[j++] = ':';
  if (j == 0) row[j++] = ' '; /* an empty gloss: one blank */
  for (; j < W2_TEXT_ROW; j++) row[j] = -1.f;
}

W2Err w2_text_task_fill(const W2Sweep *s, const W2TaskSpec *t, uint64_t seed, W2TaskData *td) {
  int k = w2_text_class_index(t->text_class);
  W2_CHECK(k >= 0, W2_ERR_CONFIG, "task '%s': '%s' is not a WordNet class", t->name,
           t->text_class);
  W2TextTask tasks[W2_WN_NTASKS];
  memset(tasks, 0, sizeof tasks);
  W2_CALL(w2_wordnet_tasks(s->text.wordnet, seed, s->text.max_per_class, tasks));
  const W2TextTask *tt = &tasks[k];
  /* balanced classes in every split: want/2 words in the class (rounded down), the rest not */
  int want[3] = {s->split.n_a, s->split.n_b, s->split.n_test};
  int have[3][2] = {{0, 0}, {0, 0}, {0, 0}}; /* [split][in the class] */
  for (int i = 0; i < tt->n; i++) have[tt->split[i]][tt->label[i] > 0.5f]++;
  W2Err e = W2_OK;
  int *idx = malloc(sizeof(int) * (size_t)(tt->n ? tt->n : 1));
  int *perm = malloc(sizeof(int) * (size_t)(tt->n ? tt->n : 1));
  const int d = W2_TEXT_ROW;
  td->d = d;
  td->n_a = want[0];
  td->n_b = want[1];
  td->n_test = want[2];
  float **X[3] = {&td->Xa, &td->Xb, &td->Xt}, **y[3] = {&td->ya, &td->yb, &td->yt};
  long **id[3] = {&td->ida, &td->idb, &td->idt};
  static const char *const split_name[3] = {"A (data.n_a)", "B (data.n_b)", "test (data.n_test)"};
  if (!idx || !perm) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (text task)");
    goto done;
  }
  uint64_t salt = w2_fnv1a(W2_FNV_OFFSET, t->text_class, strlen(t->text_class));
  double ones = 0;
  for (int sp = 0; sp < 3; sp++) {
    int need[2] = {want[sp] - want[sp] / 2, want[sp] / 2}; /* [not in the class, in it] */
    for (int c = 1; c >= 0; c--)
      if (have[sp][c] < need[c]) {
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                           "task '%s' (class %s, seed %llu): split %s needs %d words %s the "
                           "class but WordNet gives %d (text.max_per_class = %d; 0 = all)",
                           t->name, t->text_class, (unsigned long long)seed, split_name[sp],
                           need[c], c ? "in" : "not in", have[sp][c], s->text.max_per_class);
        goto done;
      }
    int n = 0;
    for (int i = 0; i < tt->n; i++)
      if (tt->split[i] == sp) idx[n++] = i;
    w2_permutation(w2_key(seed, "text-split", salt, (uint64_t)sp), 0, n, perm);
    *X[sp] = malloc(sizeof(float) * (size_t)want[sp] * d);
    *y[sp] = malloc(sizeof(float) * (size_t)want[sp]);
    *id[sp] = malloc(sizeof(long) * (size_t)want[sp]);
    if (!*X[sp] || !*y[sp] || !*id[sp]) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (text task)");
      goto done;
    }
    /* the permutation's order, skipping a word whose class already has its share */
    int taken[2] = {0, 0};
    for (int q = 0, r = 0; r < want[sp]; q++) {
      int i = idx[perm[q]], c = tt->label[i] > 0.5f;
      if (taken[c] == need[c]) continue;
      taken[c]++;
      put_row(tt, i, t->text_input, *X[sp] + (size_t)r * d);
      (*y[sp])[r] = tt->label[i];
      (*id[sp])[r] = i;
      if (sp < 2) ones += tt->label[i];
      r++;
    }
  }
  td->prior = ones / (want[0] + want[1]);
done:
  free(idx);
  free(perm);
  for (int i = 0; i < W2_WN_NTASKS; i++) w2_text_task_free(&tasks[i]);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
