/* pipeline.c — weak supervisors, ceilings and students; every method of the paper (see
 * pipeline.h for the experiment and the artifact cache, spec.h for the methods). */
#include "pipeline.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "pretrain.h"
#include "rng.h"
#include "store.h"
#include "supervisor.h"

struct W2Pipeline {
  const W2Sweep *s;
  W2World *world;
  const W2Grid *grid;
  char cache[W2_PATH_MAX];
  FILE *log;
};

/* ----------------------------------------------------------------------------------- */
/* small helpers */

double w2_pgr(double weak, double student, double ceiling) {
  double den = ceiling - weak;
  return den != 0 ? (student - weak) / den : NAN;
}

double w2_paired_acc_diff_se(const float *pa, const float *pb, const float *y, int n) {
  if (n < 2) return NAN;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; i++) {
    int d = ((pa[i] > 0.5f) == (y[i] > 0.5f)) - ((pb[i] > 0.5f) == (y[i] > 0.5f));
    s += d;
    s2 += d * d;
  }
  double mean = s / n, var = (s2 - n * mean * mean) / (n - 1);
  return sqrt(var > 0 ? var : 0) / sqrt((double)n);
}

double w2_pgr_guarded(double weak, double student, double ceiling, double gap_se,
                      const char **status) {
  double gap = ceiling - weak, min_gap = fmax(W2_PGR_MIN_GAP, 2 * gap_se); /* fmax drops NaN */
  if (gap < 0) {
    *status = "negative_gap";
    return NAN;
  }
  if (!(gap >= min_gap)) {
    *status = "gap_below_noise";
    return NAN;
  }
  *status = "";
  return (student - weak) / gap;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void plog(const W2Pipeline *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(const W2Pipeline *p, const char *fmt, ...) {
  if (!p->log || p->grid->rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(p->log, fmt, ap);
  va_end(ap);
  fputc('\n', p->log);
  fflush(p->log);
}

static W2Err result_new(int n_b, int n_test, W2RunResult **out) {
  W2RunResult *r;
  W2_CALLOC(r, 1);
  r->n_b = n_b;
  r->n_test = n_test;
  W2_CALLOC(r->prob_b, n_b);
  W2_CALLOC(r->prob_test, n_test);
  *out = r;
  return W2_OK;
}

void w2_run_result_free(W2RunResult **rp) {
  W2RunResult *r = *rp;
  if (!r) return;
  free(r->prob_b);
  free(r->prob_test);
  w2_curve_free(&r->curve);
  free(r);
  *rp = NULL;
}

void w2_cell_result_clear(W2CellResult *c) {
  w2_curve_free(&c->curve);
  memset(c, 0, sizeof *c);
}

/* ----------------------------------------------------------------------------------- */
/* hashes: field by field (never struct bytes: padding is not data) */

#define H(h, x) ((h) = w2_fnv1a((h), &(x), sizeof(x)))
static uint64_t hstr(uint64_t h, const char *s) { return w2_fnv1a(h, s, strlen(s) + 1); }

static uint64_t hash_hyper(uint64_t h, const W2StageHyper *x) {
  H(h, x->epochs);
  H(h, x->batch);
  H(h, x->lr);
  H(h, x->weight_decay);
  H(h, x->warmup_frac);
  int sc = x->sched;
  H(h, sc);
  return h;
}

static uint64_t hash_task(uint64_t h, const W2Sweep *s, const W2TaskSpec *t) {
  h = hstr(h, t->name);
  int k = t->kind;
  H(h, k);
  if (t->kind == W2_TASK_FILE) {
    /* the file's identity: path, size and modification time */
    h = hstr(h, t->file);
    struct stat st;
    if (stat(t->file, &st) == 0) {
      long long sz = st.st_size, mt = st.st_mtime;
      H(h, sz);
      H(h, mt);
    }
  }
  H(h, s->split.n_a);
  H(h, s->split.n_b);
  H(h, s->split.n_test);
  H(h, s->eval_points);
  return h;
}

uint64_t w2_pipe_weak_hash(const W2Pipeline *p, const char *weak, const W2TaskSpec *t,
                           uint64_t seed) {
  const W2Sweep *s = p->s;
  uint64_t h = hstr(W2_FNV_OFFSET, "weak-v2");
  h = hash_task(h, s, t);
  H(h, seed);
  const W2SupervisorSpec *sup = w2_sweep_supervisor(s, weak);
  if (sup) {
    h = hstr(h, sup->name);
    int k = sup->kind;
    H(h, k);
    H(h, sup->error_rate);
    H(h, sup->confidence);
    /* the world that generated the data */
    int ver = W2_WORLD_VERSION;
    H(h, ver);
    h = w2_world_spec_hash(h, &s->world);
  } else {
    const W2SizeSpec *sz = w2_sweep_size(s, weak);
    uint64_t ph = w2_pretrain_hash(s, sz, seed);
    H(h, ph);
    h = hash_hyper(h, &s->finetune);
  }
  return h;
}

static uint64_t unsup_hash(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                           uint64_t seed) {
  uint64_t h = hstr(W2_FNV_OFFSET, "unsup-v1");
  uint64_t ph = w2_pretrain_hash(p->s, size, seed);
  H(h, ph);
  h = hash_task(h, p->s, t);
  return hash_hyper(h, &p->s->unsup);
}

uint64_t w2_pipe_ceiling_hash(const W2Pipeline *p, const W2SizeSpec *size,
                              const W2TaskSpec *t, uint64_t seed, int unsup) {
  uint64_t h = hstr(W2_FNV_OFFSET, "ceiling-v2");
  uint64_t ph = unsup ? unsup_hash(p, size, t, seed) : w2_pretrain_hash(p->s, size, seed);
  H(h, ph);
  h = hash_task(h, p->s, t);
  H(h, seed);
  return hash_hyper(h, &p->s->finetune);
}

void w2_pipe_pretrained_path(const W2Pipeline *p, const W2SizeSpec *size, uint64_t seed,
                             char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  snprintf(path, len, "%s/pretrained/%s-s%llu-%016llx.h5", p->cache, size->name,
           (unsigned long long)seed, (unsigned long long)w2_pretrain_hash(p->s, size, seed));
}

static void unsup_path(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                       uint64_t seed, char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  snprintf(path, len, "%s/unsup/%s-%s-s%llu-%016llx.h5", p->cache, t->name, size->name,
           (unsigned long long)seed, (unsigned long long)unsup_hash(p, size, t, seed));
}

void w2_pipe_weak_path(const W2Pipeline *p, const char *weak, const W2TaskSpec *t,
                       uint64_t seed, char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  snprintf(path, len, "%s/weak/%s-%s-s%llu-%016llx.h5", p->cache, t->name, weak,
           (unsigned long long)seed, (unsigned long long)w2_pipe_weak_hash(p, weak, t, seed));
}

void w2_pipe_ceiling_path(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                          uint64_t seed, int unsup, char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  snprintf(path, len, "%s/ceiling/%s-%s-s%llu%s-%016llx.h5", p->cache, t->name, size->name,
           (unsigned long long)seed, unsup ? "-unsup" : "",
           (unsigned long long)w2_pipe_ceiling_hash(p, size, t, seed, unsup));
}

/* ----------------------------------------------------------------------------------- */
/* lifecycle */

W2Err w2_pipeline_create(const W2Sweep *s, const W2Grid *grid, const char *cache_dir,
                         W2Pipeline **out) {
  W2Pipeline *p;
  W2_CALLOC(p, 1);
  p->s = s;
  p->grid = grid;
  if (cache_dir && cache_dir[0]) {
    snprintf(p->cache, sizeof p->cache, "%s", cache_dir);
    const char *sub[] = {"pretrained", "unsup", "weak", "ceiling"};
    char d[W2_PATH_MAX + 16];
    for (int i = 0; i < 4; i++) {
      snprintf(d, sizeof d, "%s/%s", p->cache, sub[i]);
      W2_CALL(w2_mkdirs(d));
    }
  }
  W2_CALL(w2_world_create(&s->world, &p->world));
  *out = p;
  return W2_OK;
}

void w2_pipeline_destroy(W2Pipeline **pp) {
  W2Pipeline *p = *pp;
  if (!p) return;
  w2_world_destroy(&p->world);
  free(p);
  *pp = NULL;
}

const W2World *w2_pipeline_world(const W2Pipeline *p) { return p->world; }
void w2_pipeline_set_log(W2Pipeline *p, FILE *log) { p->log = log; }

/* ----------------------------------------------------------------------------------- */
/* loss targets of the methods: BCE against a (detached) target per row */

typedef struct Targets {
  const W2MethodSpec *m;  /* NULL: plain soft-label CE */
  const float *labels;    /* (n) soft labels of the training rows */
  double prior;           /* conf: fraction of positives the hardening keeps */
  double radius;          /* window */
  float *scratch;         /* (batch) */
} Targets;

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static W2Err method_targets(void *ctx, int nrows, const int *rows, const float *prob,
                            double progress, float *target, float *weight) {
  Targets *tg = ctx;
  W2MethodKind k = tg->m ? tg->m->kind : W2_M_NAIVE;
  for (int i = 0; i < nrows; i++) {
    target[i] = tg->labels[rows[i]];
    weight[i] = 1.f;
  }
  if (k == W2_M_CONF) {
    /* L = CE(f, (1-α) f_w + α hard_t(f)); α warms up linearly over alpha_warmup of the
     * steps; t is the batch quantile above which a `prior` fraction of the batch lies */
    double a = tg->m->alpha_max;
    if (tg->m->alpha_warmup > 0 && progress < tg->m->alpha_warmup)
      a *= progress / tg->m->alpha_warmup;
    memcpy(tg->scratch, prob, sizeof(float) * (size_t)nrows);
    qsort(tg->scratch, (size_t)nrows, sizeof(float), cmp_float);
    int npos = (int)lround(tg->prior * nrows);
    float t = npos >= nrows ? -1.f : tg->scratch[nrows - npos - 1];
    for (int i = 0; i < nrows; i++) {
      float hard = prob[i] > t ? 1.f : 0.f;
      target[i] = (float)((1.0 - a) * target[i] + a * hard);
    }
  } else if (k == W2_M_POE) {
    /* product of experts: target ∝ p_student * p_weak, normalised over the two classes */
    for (int i = 0; i < nrows; i++) {
      double ps = prob[i], w = target[i];
      double num = ps * w, den = num + (1 - ps) * (1 - w);
      target[i] = den > 0 ? (float)(num / den) : target[i];
    }
  } else if (k == W2_M_WINDOW) {
    /* learn only where the student is still unsure: |p - 1/2| < radius */
    for (int i = 0; i < nrows; i++) weight[i] = fabsf(prob[i] - 0.5f) < tg->radius ? 1.f : 0.f;
  }
  /* W2_M_KL: KL(w || f) = CE(w, f) - H(w); H(w) is constant in the student, so its
   * gradient is that of naive CE: same target. */
  return W2_OK;
}

static int needs_prob(const W2MethodSpec *m) {
  return m && (m->kind == W2_M_CONF || m->kind == W2_M_POE || m->kind == W2_M_WINDOW);
}

/* ----------------------------------------------------------------------------------- */
/* evaluation during training */

typedef struct Eval {
  W2Pipeline *p;
  const W2TaskData *td;
  const float *weak_test;  /* supervisor's test predictions (agreement); NULL = none */
  const float *fit_X;      /* rows whose labels the student is trained to fit (weak_fit) */
  const float *fit_y;
  int n_fit;
  const float *hold_X;     /* es_weak: held-out rows and their weak labels */
  const float *hold_y;
  int n_hold;
  double *hold_agree;      /* (n_eval) */
  W2Curve *curve;
  int k;
  double flops0;           /* model FLOPs when the stage started */
  float *buf;              /* (max(n_test, n_fit, n_hold)) */
} Eval;

static W2Err eval_point(void *ctx, W2Model *m, long step, double train_loss) {
  Eval *ev = ctx;
  const W2TaskData *td = ev->td;
  W2_CALL(w2_model_predict(m, td->Xt, td->n_test, ev->buf));
  W2Metrics mt;
  w2_metrics_compute(ev->buf, td->yt, ev->weak_test, td->n_test, &mt);
  if (ev->n_fit) {
    W2_CALL(w2_model_predict(m, ev->fit_X, ev->n_fit, ev->buf));
    mt.weak_fit = w2_agreement(ev->buf, ev->fit_y, ev->fit_y, ev->n_fit, -1);
  }
  if (ev->n_hold) {
    W2_CALL(w2_model_predict(m, ev->hold_X, ev->n_hold, ev->buf));
    ev->hold_agree[ev->k] = w2_agreement(ev->buf, ev->hold_y, ev->hold_y, ev->n_hold, -1);
  }
  W2Curve *c = ev->curve;
  int k = ev->k++;
  W2_CHECK(k < c->n, W2_ERR_INTERNAL, "more evaluation points than planned");
  double vals[W2_CURVE_NFIELDS] = {(double)step, m->flops - ev->flops0, mt.acc, mt.auroc,
                                   mt.ece, mt.loss, mt.agree, mt.agree_right, mt.agree_wrong,
                                   mt.weak_fit};
  for (int f = 0; f < W2_CURVE_NFIELDS; f++) c->v[f][k] = vals[f];
  return W2_OK;
}

static void metrics_at(const W2Curve *c, int k, W2Metrics *m) {
  m->acc = c->v[W2_C_ACC][k];
  m->auroc = c->v[W2_C_AUROC][k];
  m->ece = c->v[W2_C_ECE][k];
  m->loss = c->v[W2_C_LOSS][k];
  m->agree = c->v[W2_C_AGREE][k];
  m->agree_right = c->v[W2_C_AGREE_RIGHT][k];
  m->agree_wrong = c->v[W2_C_AGREE_WRONG][k];
  m->weak_fit = c->v[W2_C_WEAK_FIT][k];
}

static int argmax_first(const double *v, int n) {
  int b = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

/* ----------------------------------------------------------------------------------- */
/* one supervised finetuning stage */

typedef struct Stage {
  const float *X;          /* (n, d) training inputs */
  const float *labels;     /* (n) soft labels */
  int n;
  const W2StageHyper *hyper;
  const W2MethodSpec *method; /* loss (NULL: plain CE) */
  double prior, radius;
  uint64_t key;            /* data order */
  int probe;               /* 1: frozen body, head only */
} Stage;

static W2Err run_stage(W2Pipeline *p, W2Model *m, const Stage *st, Eval *ev) {
  const W2StageHyper *h = st->hyper;
  W2TrainSpec sp = {0};
  sp.X = st->X;
  sp.n = st->n;
  sp.batch = h->batch;
  sp.steps = w2_train_steps_for_epochs(st->n, h->batch < st->n ? h->batch : st->n, h->epochs);
  sp.opt = (W2AdamW){.lr = h->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                     .weight_decay = h->weight_decay};
  sp.warmup_frac = h->warmup_frac;
  sp.sched = h->sched;
  sp.key = st->key;
  Targets tg = {.m = st->method, .labels = st->labels, .prior = st->prior, .radius = st->radius};
  W2_CALLOC(tg.scratch, h->batch);
  sp.target = method_targets;
  sp.target_ctx = &tg;
  sp.target_needs_prob = needs_prob(st->method);
  if (ev) {
    sp.n_eval = ev->curve->n;
    sp.eval = eval_point;
    sp.eval_ctx = ev;
    ev->k = 0;
    ev->flops0 = m->flops;
  }
  m->freeze_body = st->probe;
  W2TrainStats stats = {0};
  W2Err e = w2_train(m, &sp, &stats);
  m->freeze_body = 0;
  free(tg.scratch);
  W2_CALL(e);
  if (ev) {
    /* a stage shorter than eval_points steps is evaluated after every step: its curve
     * has the points actually made (the rest of the allocation is unused) */
    W2_CHECK(ev->k == stats.n_evals && ev->k >= 1, W2_ERR_INTERNAL,
             "%d evaluation points made of %d planned", ev->k, stats.n_evals);
    ev->curve->n = ev->k;
  }
  return W2_OK;
}

static W2Err eval_new(W2Pipeline *p, const W2TaskData *td, W2Curve *curve, Eval *ev) {
  memset(ev, 0, sizeof *ev);
  ev->p = p;
  ev->td = td;
  ev->curve = curve;
  int nmax = td->n_test > td->n_b ? td->n_test : td->n_b;
  if (td->n_a > nmax) nmax = td->n_a;
  W2_CALLOC(ev->buf, nmax);
  W2_CALLOC(ev->hold_agree, curve->n);
  return W2_OK;
}

static void eval_free(Eval *ev) {
  free(ev->buf);
  free(ev->hold_agree);
}

/* ----------------------------------------------------------------------------------- */
/* artifacts */

static W2Arch pretrain_arch(const W2Pipeline *p, const W2SizeSpec *size) {
  W2Arch a = {.d_in = p->world->spec.input_dim, .width = size->width, .depth = size->depth,
              .d_out = p->s->world.pretrain_targets, .act = p->s->pretrain.act};
  return a;
}

/* A model of arch a from the cached checkpoint path, checked against meta, with the file's
 * training FLOPs. On failure *out is NULL. */
static W2Err load_cached(W2Pipeline *p, const char *path, const W2Arch *a,
                         const W2CheckpointMeta *meta, W2Model **out) {
  W2_CALL(w2_model_create(p->grid, a, out));
  W2CheckpointMeta got;
  W2Err e = w2_checkpoint_load(*out, path, meta);
  if (!e) e = w2_checkpoint_peek(path, NULL, &got);
  if (e) {
    w2_model_destroy(out);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  (*out)->flops = got.flops;
  return W2_OK;
}

W2Err w2_pipe_pretrained(W2Pipeline *p, const W2SizeSpec *size, uint64_t seed, W2Model **out) {
  char path[W2_PATH_MAX + 128];
  w2_pipe_pretrained_path(p, size, seed, path, sizeof path);
  W2CheckpointMeta meta = {0};
  snprintf(meta.size_name, sizeof meta.size_name, "%s", size->name);
  snprintf(meta.kind, sizeof meta.kind, "pretrained");
  meta.seed = seed;
  meta.config_hash = w2_pretrain_hash(p->s, size, seed);
  if (path[0] && w2_file_exists(path)) {
    W2Arch a = pretrain_arch(p, size);
    W2_CALL(load_cached(p, path, &a, &meta, out));
    return W2_OK;
  }
  double t0 = now_s(), flops = 0;
  W2_CALL(w2_pretrain(p->s, p->world, size, seed, p->grid, out, &flops));
  (*out)->flops = flops;
  plog(p, "  pretrained %-8s seed %llu: %.3g FLOPs, %.1f s", size->name,
       (unsigned long long)seed, flops, now_s() - t0);
  if (path[0]) {
    meta.flops = flops;
    W2_CALL(w2_checkpoint_save(*out, path, &meta));
  }
  return W2_OK;
}

/* The strong model a student starts from: pretrained, optionally generatively finetuned
 * on the task's inputs (the pretraining objective on A ∪ B inputs; no task labels). */
static W2Err start_model(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                         const W2TaskData *td, uint64_t seed, int unsup, W2Model **out) {
  if (!unsup) return w2_pipe_pretrained(p, size, seed, out);
  char path[W2_PATH_MAX + 128];
  unsup_path(p, size, t, seed, path, sizeof path);
  W2CheckpointMeta meta = {0};
  snprintf(meta.size_name, sizeof meta.size_name, "%s", size->name);
  snprintf(meta.kind, sizeof meta.kind, "unsup");
  meta.seed = seed;
  meta.config_hash = unsup_hash(p, size, t, seed);
  if (path[0] && w2_file_exists(path)) {
    W2Arch a = pretrain_arch(p, size);
    a.d_out = td->k_u;
    W2_CALL(load_cached(p, path, &a, &meta, out));
    return W2_OK;
  }
  W2_CALL(w2_pipe_pretrained(p, size, seed, out));
  W2Model *m = *out;
  W2_CHECK(td->n_u > 0 && td->k_u == m->arch.d_out, W2_ERR_CONFIG,
           "task '%s' has no inputs with pretraining targets for generative finetuning",
           t->name);
  const W2StageHyper *h = &p->s->unsup;
  W2TrainSpec sp = {.X = td->Xu, .Y = td->Yu, .n = td->n_u, .batch = h->batch,
                    .steps = w2_train_steps_for_epochs(td->n_u, h->batch, h->epochs),
                    .opt = {.lr = h->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                            .weight_decay = h->weight_decay},
                    .warmup_frac = h->warmup_frac, .sched = h->sched,
                    .key = w2_key(seed, "unsup-order", 0, 0)};
  W2_CALL(w2_train(m, &sp, NULL));
  if (path[0]) {
    meta.flops = m->flops;
    W2_CALL(w2_checkpoint_save(m, path, &meta));
  }
  return W2_OK;
}

/* Finetunes `m` (pretrained, any head) on (X, labels) with a fresh 1-output head, and
 * fills r: curve, final metrics, predictions on B and test. */
static W2Err finetune_result(W2Pipeline *p, W2Model *m, const W2TaskData *td, const Stage *st,
                             const float *weak_test, const float *fit_y, uint64_t head_key,
                             W2RunResult *r) {
  W2_CALL(w2_model_reset_head(m, 1, head_key));
  W2_CALL(w2_curve_alloc(&r->curve, p->s->eval_points));
  Eval ev;
  W2_CALL(eval_new(p, td, &r->curve, &ev));
  ev.weak_test = weak_test;
  if (fit_y) {
    ev.fit_X = st->X;
    ev.fit_y = fit_y;
    ev.n_fit = st->n;
  }
  W2Err e = run_stage(p, m, st, &ev);
  eval_free(&ev);
  W2_CALL(e);
  int last = r->curve.n - 1;
  metrics_at(&r->curve, last, &r->final);
  r->best_acc = r->curve.v[W2_C_ACC][argmax_first(r->curve.v[W2_C_ACC], r->curve.n)];
  r->flops = m->flops;
  r->params = w2_arch_params(&m->arch);
  W2_CALL(w2_model_predict(m, td->Xb, td->n_b, r->prob_b));
  W2_CALL(w2_model_predict(m, td->Xt, td->n_test, r->prob_test));
  return W2_OK;
}

W2Err w2_pipe_weak(W2Pipeline *p, const char *weak, const W2TaskSpec *t, const W2TaskData *td,
                   uint64_t seed, W2RunResult **out) {
  char path[W2_PATH_MAX + 128];
  w2_pipe_weak_path(p, weak, t, seed, path, sizeof path);
  uint64_t hash = w2_pipe_weak_hash(p, weak, t, seed);
  W2_CALL(result_new(td->n_b, td->n_test, out));
  W2RunResult *r = *out;
  if (path[0] && w2_file_exists(path)) {
    W2Err e = w2_store_result_load(path, hash, out);
    if (e) w2_run_result_free(out);
    W2_CALL(e);
    return W2_OK;
  }
  double t0 = now_s();
  W2Err e = W2_OK;
  const W2SupervisorSpec *sup = w2_sweep_supervisor(p->s, weak);
  if (sup) {
    /* a synthetic supervisor: ground truth with errors of a chosen structure */
    W2_CALL_GOTO(e, fail, w2_supervisor_labels(sup, td, seed, r->prob_b, r->prob_test));
    W2_CALL_GOTO(e, fail, w2_curve_alloc(&r->curve, 1));
    w2_metrics_compute(r->prob_test, td->yt, NULL, td->n_test, &r->final);
    r->final.weak_fit = w2_accuracy(r->prob_b, td->yb, td->n_b);
    r->best_acc = r->final.acc;
    r->curve.v[W2_C_ACC][0] = r->final.acc;
  } else {
    const W2SizeSpec *size = w2_sweep_size(p->s, weak);
    W2_CHECK(size, W2_ERR_CONFIG, "weak supervisor '%s' is neither a size nor a supervisor", weak);
    W2Model *m = NULL;
    W2_CALL_GOTO(e, fail, w2_pipe_pretrained(p, size, seed, &m));
    Stage st = {.X = td->Xa, .labels = td->ya, .n = td->n_a, .hyper = &p->s->finetune,
                .key = w2_key(seed, "weak-order", 0, 0)};
    e = finetune_result(p, m, td, &st, NULL, td->ya, w2_key(seed, "head", 1, 0), r);
    w2_model_destroy(&m);
    if (e) goto fail;
  }
  plog(p, "  weak     %-8s %-10s seed %llu: test acc %.4f (%.1f s)", weak, t->name,
       (unsigned long long)seed, r->final.acc, now_s() - t0);
  if (path[0]) W2_CALL_GOTO(e, fail, w2_store_result_save(path, r, hash));
  return W2_OK;
fail:
  w2_run_result_free(out);
  return w2_error_push(__FILE__, __LINE__, __func__, e);
}

W2Err w2_pipe_ceiling(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                      const W2TaskData *td, uint64_t seed, int unsup, W2RunResult **out) {
  char path[W2_PATH_MAX + 128];
  w2_pipe_ceiling_path(p, size, t, seed, unsup, path, sizeof path);
  uint64_t hash = w2_pipe_ceiling_hash(p, size, t, seed, unsup);
  W2_CALL(result_new(td->n_b, td->n_test, out));
  if (path[0] && w2_file_exists(path)) {
    W2Err e = w2_store_result_load(path, hash, out);
    if (e) w2_run_result_free(out);
    W2_CALL(e);
    return W2_OK;
  }
  double t0 = now_s();
  W2Model *m = NULL;
  W2Err e = W2_OK;
  W2_CALL_GOTO(e, fail, start_model(p, size, t, td, seed, unsup, &m));
  Stage st = {.X = td->Xb, .labels = td->yb, .n = td->n_b, .hyper = &p->s->finetune,
              .key = w2_key(seed, "ceiling-order", 0, 0)};
  e = finetune_result(p, m, td, &st, NULL, td->yb, w2_key(seed, "head", 2, 0), *out);
  w2_model_destroy(&m);
  if (e) goto fail;
  plog(p, "  ceiling  %-8s %-10s seed %llu%s: test acc %.4f (%.1f s)", size->name, t->name,
       (unsigned long long)seed, unsup ? " unsup" : "", (*out)->final.acc, now_s() - t0);
  if (path[0]) W2_CALL_GOTO(e, fail, w2_store_result_save(path, *out, hash));
  return W2_OK;
fail:
  w2_run_result_free(out);
  return w2_error_push(__FILE__, __LINE__, __func__, e);
}

/* ----------------------------------------------------------------------------------- */
/* students */

/* Fraction of positives among hard labels: the prior the confidence loss keeps. */
static double label_prior(const float *y, int n) {
  long c = 0;
  for (int i = 0; i < n; i++) c += y[i] > 0.5f;
  return n ? (double)c / n : 0.5;
}

/* Median of |w - 1/2|: the window loss's default radius. */
static double median_confidence(const float *w, int n) {
  float *c = malloc(sizeof(float) * (size_t)(n ? n : 1));
  if (!c) return 0.25;
  for (int i = 0; i < n; i++) c[i] = fabsf(w[i] - 0.5f);
  qsort(c, (size_t)n, sizeof(float), cmp_float);
  double r = n ? c[n / 2] : 0.25;
  free(c);
  return r;
}

/* Trains model m (pretrained or unsup) as a student on (X, labels), with eval on test;
 * curve into c->curve, predictions on B into prob_b (may be NULL). */
static W2Err train_student(W2Pipeline *p, W2Model *m, const W2TaskData *td, const Stage *st,
                           const float *weak_test, const float *hold_X, const float *hold_y,
                           int n_hold, uint64_t head_key, int reset_head, W2CellResult *c,
                           double *hold_agree, float *prob_b) {
  if (reset_head) W2_CALL(w2_model_reset_head(m, 1, head_key));
  w2_curve_free(&c->curve);
  W2_CALL(w2_curve_alloc(&c->curve, p->s->eval_points));
  Eval ev;
  W2_CALL(eval_new(p, td, &c->curve, &ev));
  ev.weak_test = weak_test;
  ev.fit_X = st->X;
  ev.fit_y = st->labels;
  ev.n_fit = st->n;
  ev.hold_X = hold_X;
  ev.hold_y = hold_y;
  ev.n_hold = n_hold;
  W2Err e = run_stage(p, m, st, &ev);
  if (!e && hold_agree) memcpy(hold_agree, ev.hold_agree, sizeof(double) * c->curve.n);
  eval_free(&ev);
  W2_CALL(e);
  if (prob_b) W2_CALL(w2_model_predict(m, td->Xb, td->n_b, prob_b));
  return W2_OK;
}

/* Cross-fitted labels: two models, each trained on one half of B's rows (labels `y`),
 * label the other half; `mean_test` gets the mean of their test predictions. */
static W2Err crossfit_labels(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                             const W2TaskData *td, uint64_t seed, int unsup, const float *y,
                             int probe, uint64_t salt, float *out_b, float *mean_test,
                             int count_pretrain, double *flops) {
  int n = td->n_b, d = td->d, h = n / 2;
  int *perm = malloc(sizeof(int) * (size_t)n);
  float *Xf = malloc(sizeof(float) * (size_t)n * d), *yf = malloc(sizeof(float) * (size_t)n);
  float *pt = malloc(sizeof(float) * (size_t)td->n_test), *po = malloc(sizeof(float) * (size_t)n);
  W2Err e = W2_OK;
  W2Model *m = NULL;
  if (!perm || !Xf || !yf || !pt || !po) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (cross-fit)");
    goto done;
  }
  w2_permutation(w2_key(seed, "crossfit", salt, 0), 0, n, perm);
  if (mean_test) memset(mean_test, 0, sizeof(float) * (size_t)td->n_test);
  for (int fold = 0; fold < 2; fold++) {
    int lo = fold ? h : 0, hi = fold ? n : h; /* train rows perm[lo..hi) */
    int nt = hi - lo, no = n - nt;
    for (int i = 0; i < nt; i++) {
      memcpy(Xf + (size_t)i * d, td->Xb + (size_t)perm[lo + i] * d, sizeof(float) * d);
      yf[i] = y[perm[lo + i]];
    }
    W2_CALL_GOTO(e, done, start_model(p, size, t, td, seed, unsup, &m));
    double f0 = m->flops;
    W2_CALL_GOTO(e, done, w2_model_reset_head(m, 1, w2_key(seed, "head", 10 + salt, fold)));
    Stage st = {.X = Xf, .labels = yf, .n = nt, .hyper = probe ? &p->s->probe : &p->s->finetune,
                .key = w2_key(seed, "crossfit-order", salt, fold), .probe = probe};
    W2_CALL_GOTO(e, done, run_stage(p, m, &st, NULL));
    if (flops) *flops += m->flops - (fold || !count_pretrain ? f0 : 0);
    /* label the other half */
    for (int i = 0; i < no; i++)
      memcpy(Xf + (size_t)i * d, td->Xb + (size_t)perm[fold ? i : h + i] * d, sizeof(float) * d);
    W2_CALL_GOTO(e, done, w2_model_predict(m, Xf, no, po));
    for (int i = 0; i < no; i++) out_b[perm[fold ? i : h + i]] = po[i];
    if (mean_test) {
      W2_CALL_GOTO(e, done, w2_model_predict(m, td->Xt, td->n_test, pt));
      for (int i = 0; i < td->n_test; i++) mean_test[i] += 0.5f * pt[i];
    }
    w2_model_destroy(&m);
  }
done:
  w2_model_destroy(&m);
  free(perm);
  free(Xf);
  free(yf);
  free(pt);
  free(po);
  return e;
}

/* kNN consistency: for each row, the mean hard weak label of its k nearest neighbours
 * (Euclidean, in the strong model's frozen last-layer features), excluding itself. */
static W2Err knn_scores(const float *F, int n, int w, const float *y, int k, float *out) {
  double *sq = malloc(sizeof(double) * (size_t)n);
  double *dist = malloc(sizeof(double) * (size_t)n);
  int *idx = malloc(sizeof(int) * (size_t)n);
  W2_CHECK(sq && dist && idx, W2_ERR_MEM, "out of memory (kNN over %d rows)", n);
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < w; j++) s += (double)F[(size_t)i * w + j] * F[(size_t)i * w + j];
    sq[i] = s;
  }
  if (k > n - 1) k = n - 1;
  for (int i = 0; i < n; i++) {
    for (int r = 0; r < n; r++) {
      double dot = 0;
      for (int j = 0; j < w; j++) dot += (double)F[(size_t)i * w + j] * F[(size_t)r * w + j];
      dist[r] = r == i ? INFINITY : sq[i] + sq[r] - 2 * dot;
    }
    /* partial selection of the k smallest */
    for (int r = 0; r < n; r++) idx[r] = r;
    double s = 0;
    for (int q = 0; q < k; q++) {
      int best = q;
      for (int r = q + 1; r < n; r++)
        if (dist[idx[r]] < dist[idx[best]]) best = r;
      int tmp = idx[q];
      idx[q] = idx[best];
      idx[best] = tmp;
      s += y[idx[q]] > 0.5f;
    }
    out[i] = k > 0 ? (float)(s / k) : y[i];
  }
  free(sq);
  free(dist);
  free(idx);
  return W2_OK;
}

typedef struct Rank {
  float v;
  int i;
} Rank;
static int cmp_rank_desc(const void *a, const void *b) {
  float x = ((const Rank *)a)->v, y = ((const Rank *)b)->v;
  if (x != y) return (x < y) - (x > y);
  return ((const Rank *)a)->i - ((const Rank *)b)->i;
}

W2Err w2_pipe_cell(W2Pipeline *p, const W2TaskSpec *t, const W2TaskData *td, uint64_t seed,
                   const char *weak, const W2SizeSpec *strong, const W2MethodSpec *meth,
                   W2CellResult *c) {
  double t0 = now_s();
  memset(c, 0, sizeof *c);
  snprintf(c->task, sizeof c->task, "%s", t->name);
  snprintf(c->weak, sizeof c->weak, "%s", weak);
  snprintf(c->strong, sizeof c->strong, "%s", strong->name);
  snprintf(c->method, sizeof c->method, "%s", meth->name);
  c->seed = seed;
  W2RunResult *wr = NULL, *cr = NULL;
  W2Model *m = NULL;
  W2Err e = W2_OK;
  int n = td->n_b, d = td->d;
  float *labels = NULL, *X = NULL, *hold_X = NULL, *hold_y = NULL, *prob_b = NULL;
  double *hold_agree = NULL;
  W2_CALL_GOTO(e, done, w2_pipe_weak(p, weak, t, td, seed, &wr));
  W2_CALL_GOTO(e, done, w2_pipe_ceiling(p, strong, t, td, seed, meth->unsup, &cr));
  labels = malloc(sizeof(float) * (size_t)n);
  X = malloc(sizeof(float) * (size_t)n * d);
  prob_b = malloc(sizeof(float) * (size_t)n);
  hold_agree = calloc((size_t)p->s->eval_points, sizeof(double));
  if (!labels || !X || !prob_b || !hold_agree) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (cell)");
    goto done;
  }
  memcpy(labels, wr->prob_b, sizeof(float) * (size_t)n);
  memcpy(X, td->Xb, sizeof(float) * (size_t)n * d);
  int ntrain = n, nhold = 0;
  double extra_flops = 0; /* FLOPs of auxiliary models (bootstrap, cleaning) */
  Stage st = {.X = X, .labels = labels, .n = n, .hyper = &p->s->finetune, .method = meth,
              .prior = label_prior(wr->prob_b, n), .key = w2_key(seed, "student-order", 0, 0)};
  st.radius = meth->window_radius >= 0 ? meth->window_radius : median_confidence(wr->prob_b, n);

  switch (meth->kind) {
  case W2_M_LP_GT:
    memcpy(labels, td->yb, sizeof(float) * (size_t)n);
    /* fall through */
  case W2_M_LP_WEAK:
    st.hyper = &p->s->probe;
    st.probe = 1;
    break;
  case W2_M_ES_WEAK: {
    /* hold out a seeded fraction of B; stop where agreement with its weak labels peaks */
    int *perm = malloc(sizeof(int) * (size_t)n);
    W2_CHECK(perm, W2_ERR_MEM, "out of memory");
    w2_permutation(w2_key(seed, "es-holdout", 0, 0), 0, n, perm);
    nhold = (int)lround(meth->es_holdout * n);
    if (nhold < 1) nhold = 1;
    ntrain = n - nhold;
    hold_X = malloc(sizeof(float) * (size_t)nhold * d);
    hold_y = malloc(sizeof(float) * (size_t)nhold);
    if (!hold_X || !hold_y) {
      free(perm);
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
      goto done;
    }
    for (int i = 0; i < n; i++) {
      const float *src = td->Xb + (size_t)perm[i] * d;
      if (i < ntrain) {
        memcpy(X + (size_t)i * d, src, sizeof(float) * d);
        labels[i] = wr->prob_b[perm[i]];
      } else {
        memcpy(hold_X + (size_t)(i - ntrain) * d, src, sizeof(float) * d);
        hold_y[i - ntrain] = wr->prob_b[perm[i]];
      }
    }
    free(perm);
    st.n = ntrain;
    break;
  }
  case W2_M_BOOTSTRAP: {
    /* weak -> chain[0] -> ... -> strong; each intermediate model (cross-fitted, so it
     * labels rows it was not trained on) relabels B for the next */
    c->nchain = 0;
    snprintf(c->chain[c->nchain], W2_NAME_MAX, "%s", weak);
    c->chain_acc[c->nchain++] = wr->final.acc;
    float *mean_test = malloc(sizeof(float) * (size_t)td->n_test);
    float *next = malloc(sizeof(float) * (size_t)n);
    W2_CHECK(mean_test && next, W2_ERR_MEM, "out of memory");
    for (int q = 0; q < meth->nchain && !e; q++) {
      const W2SizeSpec *mid = w2_sweep_size(p->s, meth->chain[q]);
      if (!mid) {
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                           "bootstrap chain size '%s' is not in sizes", meth->chain[q]);
        break;
      }
      e = crossfit_labels(p, mid, t, td, seed, meth->unsup, labels, 0, 100 + q, next, mean_test,
                          1, &extra_flops);
      if (!e) {
        memcpy(labels, next, sizeof(float) * (size_t)n);
        snprintf(c->chain[c->nchain], W2_NAME_MAX, "%s", mid->name);
        c->chain_acc[c->nchain++] = w2_accuracy(mean_test, td->yt, td->n_test);
      }
    }
    free(mean_test);
    free(next);
    if (e) goto done;
    st.prior = label_prior(labels, n);
    break;
  }
  case W2_M_CLEAN_KNN:
  case W2_M_CLEAN_LR: {
    /* score each weak label's consistency with the strong model's frozen features;
     * relabel (or drop) the least consistent fraction, then train naively */
    float *score = malloc(sizeof(float) * (size_t)n);
    W2_CHECK(score, W2_ERR_MEM, "out of memory");
    if (meth->kind == W2_M_CLEAN_KNN) {
      W2_CALL_GOTO(e, done, start_model(p, strong, t, td, seed, meth->unsup, &m));
      W2_CALL_GOTO(e, done, w2_model_set_batch(m, p->s->finetune.batch));
      float *F = malloc(sizeof(float) * (size_t)n * strong->width);
      if (!F) {
        free(score);
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
        goto done;
      }
      e = w2_model_features(m, td->Xb, n, F);
      if (!e) e = knn_scores(F, n, strong->width, wr->prob_b, meth->knn_k, score);
      extra_flops += w2_arch_forward_flops(&m->arch, n);
      free(F);
      w2_model_destroy(&m);
    } else {
      e = crossfit_labels(p, strong, t, td, seed, meth->unsup, wr->prob_b, 1, 200, score, NULL,
                          0, &extra_flops);
    }
    if (e) {
      free(score);
      goto done;
    }
    Rank *rk = malloc(sizeof(Rank) * (size_t)n);
    W2_CHECK(rk, W2_ERR_MEM, "out of memory");
    for (int i = 0; i < n; i++) {
      rk[i].v = fabsf(wr->prob_b[i] - score[i]);
      rk[i].i = i;
    }
    qsort(rk, (size_t)n, sizeof(Rank), cmp_rank_desc);
    int nclean = (int)lround(meth->clean_frac * n);
    char *bad = calloc((size_t)n, 1);
    for (int q = 0; q < nclean && bad; q++) bad[rk[q].i] = 1;
    int w = 0;
    for (int i = 0; i < n && bad; i++) {
      if (bad[i] && meth->clean_drop) continue;
      memcpy(X + (size_t)w * d, td->Xb + (size_t)i * d, sizeof(float) * d);
      labels[w++] = bad[i] ? score[i] : wr->prob_b[i];
    }
    free(bad);
    free(rk);
    free(score);
    st.n = w;
    break;
  }
  default:
    break;
  }

  /* the main student run */
  W2_CALL_GOTO(e, done, start_model(p, strong, t, td, seed, meth->unsup, &m));
  double flops_start = m->flops;
  int ftlp = meth->kind == W2_M_FTWEAK_LPGT;
  W2_CALL_GOTO(e, done,
               train_student(p, m, td, &st, wr->prob_test, hold_X, hold_y, nhold,
                             w2_key(seed, "head", 3, 0), 1, c, hold_agree,
                             meth->kind == W2_M_SELFTRAIN ? prob_b : NULL));
  if (meth->kind == W2_M_SELFTRAIN) {
    /* strong-to-strong: the student's own predictions on B become the next labels */
    for (int it = 0; it < meth->selftrain_iters; it++) {
      extra_flops += m->flops - flops_start;
      memcpy(labels, prob_b, sizeof(float) * (size_t)n);
      w2_model_destroy(&m);
      W2_CALL_GOTO(e, done, start_model(p, strong, t, td, seed, meth->unsup, &m));
      flops_start = m->flops;
      st.key = w2_key(seed, "selftrain-order", (uint64_t)it, 0);
      W2_CALL_GOTO(e, done, train_student(p, m, td, &st, wr->prob_test, NULL, NULL, 0,
                                          w2_key(seed, "head", 4, (uint64_t)it), 1, c, NULL,
                                          prob_b));
    }
  }
  if (ftlp) {
    /* then a linear probe on ground truth over the weak-finetuned body */
    Stage lp = {.X = td->Xb, .labels = td->yb, .n = n, .hyper = &p->s->probe,
                .key = w2_key(seed, "lp-order", 0, 0), .probe = 1};
    W2_CALL_GOTO(e, done, train_student(p, m, td, &lp, wr->prob_test, NULL, NULL, 0,
                                        w2_key(seed, "head", 5, 0), 1, c, NULL, NULL));
  }
  double strong_flops = m->flops + extra_flops;
  /* the flops curve is cumulative over the cell's student finetuning */
  double fine_before = strong_flops - flops_start - c->curve.v[W2_C_FLOPS][c->curve.n - 1];
  for (int k = 0; k < c->curve.n; k++) c->curve.v[W2_C_FLOPS][k] += fine_before;

  c->selected_point = c->curve.n - 1; /* the curve may be shorter than eval_points */
  if (meth->kind == W2_M_ES_WEAK) c->selected_point = argmax_first(hold_agree, c->curve.n);
  if (meth->kind == W2_M_ES_GT_ORACLE)
    c->selected_point = argmax_first(c->curve.v[W2_C_ACC], c->curve.n);
  W2Metrics fm;
  metrics_at(&c->curve, c->selected_point, &fm);
  c->weak_acc = wr->final.acc;
  c->ceiling_acc = cr->final.acc;
  c->student_acc = fm.acc;
  c->student_best_acc = c->curve.v[W2_C_ACC][argmax_first(c->curve.v[W2_C_ACC], c->curve.n)];
  /* PGR only where the gap is above its noise (w2_pgr_guarded), the gap next to it */
  double se = w2_paired_acc_diff_se(cr->prob_test, wr->prob_test, td->yt, td->n_test);
  const char *why = "";
  c->pgr = w2_pgr_guarded(c->weak_acc, c->student_acc, c->ceiling_acc, se, &why);
  c->pgr_best = w2_pgr_guarded(c->weak_acc, c->student_best_acc, c->ceiling_acc, se, &why);
  c->gap = 100 * (c->ceiling_acc - c->weak_acc);
  c->gap_se = 100 * se;
  snprintf(c->pgr_status, sizeof c->pgr_status, "%s", why);
  c->agree = fm.agree;
  c->agree_weak_right = fm.agree_right;
  c->agree_weak_wrong = fm.agree_wrong;
  c->student_auroc = fm.auroc;
  c->student_ece = fm.ece;
  c->weak_flops = wr->flops;
  c->strong_flops = strong_flops;
  c->weak_params = wr->params;
  c->strong_params = w2_arch_params(&m->arch);
  if (meth->kind == W2_M_BOOTSTRAP) {
    snprintf(c->chain[c->nchain], W2_NAME_MAX, "%s", strong->name);
    c->chain_acc[c->nchain++] = c->student_acc;
  }
  c->wall_s = now_s() - t0;
  plog(p, "  cell     %-10s %s -> %s %-12s seed %llu: student %.4f (weak %.4f, ceiling %.4f, "
          "PGR %.3f%s%s) %.1f s",
       t->name, weak, strong->name, meth->name, (unsigned long long)seed, c->student_acc,
       c->weak_acc, c->ceiling_acc, c->pgr, c->pgr_status[0] ? ": " : "", c->pgr_status,
       c->wall_s);
done:
  w2_model_destroy(&m);
  w2_run_result_free(&wr);
  w2_run_result_free(&cr);
  free(labels);
  free(X);
  free(hold_X);
  free(hold_y);
  free(prob_b);
  free(hold_agree);
  if (e) {
    w2_curve_free(&c->curve);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}
