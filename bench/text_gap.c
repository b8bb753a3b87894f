/* text_gap.c — first gap study of the byte-level transformer family (issue 15, item 4):
 * does the ground-truth ceiling on WordNet's "is <word> a <class>?" tasks rise with size?
 *
 * For each size of the ladder: initialise (seed), measure the ceiling at init, pretrain on
 * the WordNet gloss corpus (textdata.h; next-byte prediction on random windows of ctx bytes,
 * AdamW, linear warm-up then cosine decay to lr/10), measure held-out loss (windows from
 * every 20th 4 KiB block, which training never samples) and the ceiling again. The ceiling
 * here is a linear probe (probe.h, lambda by 5-fold CV) fitted with ground truth on split
 * B of the model's final-LayerNorm state at the last real byte of "<word>:" (the corpus
 * writes a word's gloss after "word: "), scored on the test split. Prints a markdown table.
 *
 *   OPENBLAS_NUM_THREADS=1 ./text_gap [--sizes W:D:H,...] [--steps N] [--batch B] [--ctx T]
 *        [--lr LR] [--seed S] [--max-per-class M] [--wordnet DIR] [--cache DIR]
 *        [--input word|gloss]
 * Without --input gloss, the pretrained column is "A / B": the probe on "<word>:" / on
 * "<word>: " (whose next byte is the gloss's first).
 * --input gloss replaces "<word>:" by the word's gloss (its first noun sense, cut to ctx
 * bytes): the fallback when the bare word shows no gap (a reading task, not recall).
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"
#include "rng.h"
#include "textdata.h"
#include "transformer.h"

#define MAXS 8

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void die(W2Err e) {
  if (e) {
    w2_error_report();
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}
#define OK(x) die(x)

static int g_gloss; /* --input gloss: the task input is the word's gloss, not "<word>:" */
static int g_space; /* "<word>: " (the state that predicts the gloss's first byte) */
static int g_dict;  /* --corpus dict: pretrain on the tasks' dictionary (textdata.h) */
static size_t *g_starts, g_nstarts; /* --lines: windows start at line starts */

static int held_out(size_t o) { return (o / 4096) % 20 == 19; }

/* B windows of T bytes at keyed random offsets, training or held-out blocks only */
static void sample(const char *text, size_t n, int T, int B, uint64_t key, uint64_t step,
                   int eval, uint8_t *tok) {
  if (g_starts) { /* line starts; the dictionary has no held-out part: eval = memorised */
    for (int b = 0; b < B; b++) {
      size_t o = g_starts[w2_below(key, step, (uint64_t)b, (uint64_t)g_nstarts)];
      memcpy(tok + (size_t)b * T, text + o, (size_t)T);
    }
    return;
  }
  if (g_dict) eval = 0;
  for (int b = 0, k = 0; b < B; k++) {
    size_t o = (size_t)w2_below(key, step, (uint64_t)k, (uint64_t)(n - T));
    if (held_out(o) != eval || held_out(o + T - 1) != eval) continue;
    memcpy(tok + (size_t)b * T, text + o, (size_t)T);
    b++;
  }
}

/* test accuracy of a GT probe fitted on split B of "<word>:" features */
static double ceiling(W2Xf *m, const W2TextTask *t, uint64_t seed) {
  int B = m->B, T = m->arch.ctx, C = m->arch.width;
  float *F = malloc(sizeof(float) * (size_t)t->n * C);
  uint8_t *tok = calloc((size_t)B * T, 1);
  int *len = malloc(sizeof(int) * B);
  for (int r0 = 0; r0 < t->n; r0 += B) {
    int nr = t->n - r0 < B ? t->n - r0 : B;
    for (int i = 0; i < nr; i++) {
      if (g_gloss) { /* the gloss alone, cut to T bytes */
        int l = (int)strlen(t->gloss[r0 + i]);
        len[i] = l < T ? (l > 0 ? l : 1) : T;
        memset(tok + (size_t)i * T, ' ', (size_t)T);
        memcpy(tok + (size_t)i * T, t->gloss[r0 + i], (size_t)(l < T ? l : T));
        continue;
      }
      int l = (int)strlen(t->word[r0 + i]);
      if (l > T - 1 - g_space) l = T - 1 - g_space; /* the head of a long word, then ':' */
      memcpy(tok + (size_t)i * T, t->word[r0 + i], (size_t)l);
      tok[(size_t)i * T + l] = ':';
      if (g_space) tok[(size_t)i * T + l + 1] = ' ';
      len[i] = l + 1 + g_space;
    }
    double loss;
    OK(w2_xf_load_tokens(m, tok, len, nr));
    OK(w2_xf_forward(m));
    OK(w2_xf_cls_loss(m, &loss)); /* fills hlast */
    memcpy(F + (size_t)r0 * C, m->hlast, sizeof(float) * (size_t)nr * C);
  }
  int nb = 0, nt = 0;
  for (int i = 0; i < t->n; i++) nb += t->split[i] == W2_SPLIT_B, nt += t->split[i] == W2_SPLIT_TEST;
  float *Fb = malloc(sizeof(float) * (size_t)nb * C), *yb = malloc(sizeof(float) * nb);
  float *Ft = malloc(sizeof(float) * (size_t)nt * C), *yt = malloc(sizeof(float) * nt);
  float *pt = malloc(sizeof(float) * nt);
  for (int i = 0, ib = 0, it = 0; i < t->n; i++) {
    if (t->split[i] == W2_SPLIT_B) {
      memcpy(Fb + (size_t)ib * C, F + (size_t)i * C, sizeof(float) * C);
      yb[ib++] = t->label[i];
    } else if (t->split[i] == W2_SPLIT_TEST) {
      memcpy(Ft + (size_t)it * C, F + (size_t)i * C, sizeof(float) * C);
      yt[it++] = t->label[i];
    }
  }
  W2ProbeOpts po;
  w2_probe_opts_default(&po);
  po.key = seed;
  W2Probe *p;
  OK(w2_probe_fit(Fb, yb, nb, C, &po, &p));
  w2_probe_predict(p, Ft, nt, pt);
  int right = 0;
  for (int i = 0; i < nt; i++) right += (pt[i] > 0.5f) == (yt[i] > 0.5f);
  w2_probe_destroy(&p);
  free(F), free(tok), free(len), free(Fb), free(yb), free(Ft), free(yt), free(pt);
  return 100.0 * right / nt;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *wndir = "/usr/share/wordnet", *cache = "cache";
  const char *sizes = "32:1:2,64:2:4,128:4:4";
  int steps = 600, B = 16, T = 64, maxper = 1000;
  double lr = 2e-3;
  uint64_t seed = 1;
  unsigned dict_mask = 0x15; /* animal, food, plant */
  int lines = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--sizes")) sizes = v;
    else if (!strcmp(k, "--steps")) steps = atoi(v);
    else if (!strcmp(k, "--batch")) B = atoi(v);
    else if (!strcmp(k, "--ctx")) T = atoi(v);
    else if (!strcmp(k, "--lr")) lr = atof(v);
    else if (!strcmp(k, "--seed")) seed = (uint64_t)atoll(v);
    else if (!strcmp(k, "--max-per-class")) maxper = atoi(v);
    else if (!strcmp(k, "--wordnet")) wndir = v;
    else if (!strcmp(k, "--cache")) cache = v;
    else if (!strcmp(k, "--input") && (!strcmp(v, "word") || !strcmp(v, "gloss")))
      g_gloss = !strcmp(v, "gloss");
    else if (!strcmp(k, "--corpus") && (!strcmp(v, "full") || !strcmp(v, "dict")))
      g_dict = !strcmp(v, "dict");
    else if (!strcmp(k, "--dict-tasks")) dict_mask = (unsigned)strtoul(v, NULL, 0);
    else if (!strcmp(k, "--lines")) lines = atoi(v);
    else {
      fprintf(stderr, "text_gap: unknown option %s\n", k);
      return 2;
    }
  }
  W2XfArch arch[MAXS];
  int ns = 0;
  for (const char *s = sizes; s && *s && ns < MAXS;) {
    if (sscanf(s, "%d:%d:%d", &arch[ns].width, &arch[ns].depth, &arch[ns].heads) != 3) {
      fprintf(stderr, "text_gap: --sizes wants W:D:H,... (got '%s')\n", s);
      return 2;
    }
    arch[ns++].ctx = T;
    s = strchr(s, ',');
    if (s) s++;
  }
  char path[4096];
  uint64_t hash;
  size_t nbytes;
  double t0 = now();
  OK(w2_wordnet_corpus(wndir, cache, path, sizeof path, &hash, &nbytes));
  char *text;
  OK(w2_read_file(path, &text, &nbytes));
  W2TextTask tasks[W2_WN_NTASKS];
  OK(w2_wordnet_tasks(wndir, seed, maxper, tasks));
  if (g_dict) {
    free(text);
    OK(w2_text_dictionary(tasks, dict_mask, &text, &nbytes));
    snprintf(path, sizeof path, "dictionary of the tasks");
  }
  if (lines) OK(w2_text_line_starts(text, nbytes, T, &g_starts, &g_nstarts));
  printf("# corpus %s: %zu bytes (%.1f s); tasks:", path, nbytes, now() - t0);
  for (int k = 0; k < W2_WN_NTASKS; k++) {
    int c[3] = {0};
    for (int i = 0; i < tasks[k].n; i++) c[tasks[k].split[i]]++;
    printf(" %s %d (A %d, B %d, test %d)", tasks[k].name, tasks[k].n, c[0], c[1], c[2]);
  }
  printf("\n# steps %d, batch %d x ctx %d, lr %g, seed %llu, input %s, corpus %s, %s\n", steps,
         B, T, lr, (unsigned long long)seed, g_gloss ? "gloss" : "word:",
         g_dict ? "dictionary" : "full", lines ? "line starts" : "random windows");
  fflush(stdout);
  W2Grid *g;
  OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  double acc0[MAXS][W2_WN_NTASKS], acc1[MAXS][W2_WN_NTASKS], acc2[MAXS][W2_WN_NTASKS], eval[MAXS], flops[MAXS], secs[MAXS];
  uint8_t *tok = malloc((size_t)B * T);
  int *len = malloc(sizeof(int) * B);
  for (int b = 0; b < B; b++) len[b] = T;
  uint64_t dkey = w2_key(seed, "text_gap_data", 0, 0);
  for (int s = 0; s < ns; s++) {
    W2Xf *m;
    OK(w2_xf_create(g, &arch[s], &m));
    w2_xf_init(m, w2_key(seed, "text_gap_init", (uint64_t)s, 0));
    OK(w2_xf_set_batch(m, B));
    for (int k = 0; k < W2_WN_NTASKS; k++) acc0[s][k] = ceiling(m, &tasks[k], seed);
    W2AdamW opt = {.lr = (float)lr, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f};
    double ts = now(), loss = 0, tail = 0;
    int warm = steps / 20 > 0 ? steps / 20 : 1;
    for (int it = 0; it < steps; it++) {
      sample(text, nbytes, T, B, dkey, (uint64_t)it, 0, tok);
      OK(w2_xf_load_tokens(m, tok, len, B));
      OK(w2_xf_forward(m));
      OK(w2_xf_lm_loss(m, &loss));
      OK(w2_xf_backward(m));
      double f = it < warm ? (it + 1.0) / warm
                           : 0.1 + 0.45 * (1 + cos(3.141592653589793 * (it - warm) / (double)(steps - warm)));
      w2_xf_adamw(m, &opt, (float)(lr * f));
      if (it >= steps - 50) tail += loss / (steps < 50 ? steps : 50);
      if (it % 200 == 0) {
        printf("#   size %d step %d loss %.3f (%.1f s)\n", s, it, loss, now() - ts);
        fflush(stdout);
      }
    }
    secs[s] = now() - ts;
    flops[s] = steps * w2_xf_step_flops(&arch[s], B, 1);
    eval[s] = 0;
    for (int e = 0; e < 20; e++) {
      sample(text, nbytes, T, B, dkey ^ 0x5bd1e995u, (uint64_t)e, 1, tok);
      OK(w2_xf_load_tokens(m, tok, len, B));
      OK(w2_xf_forward(m));
      OK(w2_xf_lm_loss(m, &loss));
      eval[s] += loss / 20;
    }
    for (int k = 0; k < W2_WN_NTASKS; k++) acc1[s][k] = ceiling(m, &tasks[k], seed);
    if (!g_gloss) {
      g_space = 1;
      for (int k = 0; k < W2_WN_NTASKS; k++) acc2[s][k] = ceiling(m, &tasks[k], seed);
      g_space = 0;
    }
    printf("# size %d: w%d d%d h%d, %.0f params, train loss %.3f, held-out %.3f nats/byte, "
           "%.1f s\n", s, arch[s].width, arch[s].depth, arch[s].heads, w2_xf_params(&arch[s]),
           tail, eval[s], secs[s]);
    fflush(stdout);
    w2_xf_destroy(&m);
  }
  printf("\n| size | params | pretrain FLOPs | s | held-out bits/byte |");
  for (int k = 0; k < W2_WN_NTASKS; k++) printf(" %s init -> pretrained |", tasks[k].name);
  printf("\n|---|---|---|---|---|");
  for (int k = 0; k < W2_WN_NTASKS; k++) printf("---|");
  printf("\n");
  for (int s = 0; s < ns; s++) {
    printf("| w%d d%d h%d | %.0f | %.2e | %.0f | %.3f |", arch[s].width, arch[s].depth,
           arch[s].heads, w2_xf_params(&arch[s]), flops[s], secs[s], eval[s] / log(2.0));
    for (int k = 0; k < W2_WN_NTASKS; k++)
      if (g_gloss) printf(" %.1f -> %.1f |", acc0[s][k], acc1[s][k]);
      else printf(" %.1f -> %.1f / %.1f |", acc0[s][k], acc1[s][k], acc2[s][k]);
    printf("\n");
  }
  for (int k = 0; k < W2_WN_NTASKS; k++) w2_text_task_free(&tasks[k]);
  free(text);
  free(g_starts);
  free(tok);
  free(len);
  w2_grid_destroy(&g);
  MPI_Finalize();
  return 0;
}
