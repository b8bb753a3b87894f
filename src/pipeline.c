/* pipeline.c — weak supervisors, ceilings and students; every method of the paper (see
 * pipeline.h for the experiment and the artifact cache, spec.h for the methods). */
#include "pipeline.h"

#include "methods/method.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "dataset.h"
#include "pretrain.h"
#include "probe.h"
#include "rng.h"
#include "store.h"
#include "supervisor.h"
#include "sweepcfg.h" /* w2_spec_supervisor_kind_name */
#include "texttask.h"

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
  r->recipe_val_acc = r->ft_acc = r->lp_acc = r->ft_val_acc = r->lp_val_acc = NAN;
  r->recipe_count = 1;
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
  if (x->anchor_decay != 0) H(h, x->anchor_decay); /* absent when 0: keys unchanged */
  if (x->body_lr_scale > 0 && x->body_lr_scale != 1) H(h, x->body_lr_scale);
  if (x->head_init) H(h, x->head_init);
  return h;
}

static uint64_t hash_task(uint64_t h, const W2Sweep *s, const W2TaskSpec *t) {
  h = hstr(h, t->name);
  int k = t->kind;
  H(h, k);
  if (t->kind == W2_TASK_FILE) {
    /* the file's content (everything a task reads), not its name or mtime: an edited file
     * never reuses an artifact, a touched or copied one always does. An unreadable file
     * hashes as itself; computing from it fails with the loader's error. */
    W2DataInfo info;
    if (w2_dataset_info(t->file, &info) == W2_OK) {
      H(h, info.hash);
    } else {
      w2_error_clear();
      h = hstr(h, t->file);
    }
  }
  if (t->kind == W2_TASK_TEXT) {
    /* the class, the words kept, and WordNet's content (texttask.h "Tasks"); an unreadable
     * WordNet hashes as its path (computing from it fails with the reader's error) */
    h = hstr(h, t->text_class);
    h = hstr(h, "balanced splits"); /* the split rule: artifacts of unbalanced ones are stale */
    H(h, s->text.max_per_class);
    if (t->text_input != W2_TEXT_INPUT_WORD) { /* "word" keeps its old keys */
      int input = (int)t->text_input;
      H(h, input);
    }
    uint64_t wn;
    if (w2_text_source_hash(s, &wn) == W2_OK) {
      H(h, wn);
    } else {
      w2_error_clear();
      h = hstr(h, s->text.wordnet);
    }
  }
  H(h, s->split.n_a);
  H(h, s->split.n_b);
  H(h, s->split.n_test);
  H(h, s->eval_points);
  return h;
}

/* The pretraining source of task t (NULL: the world). A data file that cannot be read
 * gives a source no artifact has (computing from it fails with the loader's error). */
static void task_source(const W2Pipeline *p, const W2TaskSpec *t, W2PretrainSource *src) {
  if (w2_pretrain_source(p->s, t, src) != W2_OK) {
    w2_error_clear();
    memset(src, 0, sizeof *src);
    src->kind = W2_PRE_MASKED;
  }
}

/* Hash of the pretrained model of (size, seed) for task t: the world's (keys unchanged for
 * built-in tasks) or the data file's source. */
static uint64_t pretrained_hash(const W2Pipeline *p, const W2SizeSpec *size,
                                const W2TaskSpec *t, uint64_t seed) {
  W2PretrainSource src;
  task_source(p, t, &src);
  return w2_pretrain_source_hash(p->s, size, &src, seed);
}

/* The finetuning recipes a weak supervisor or ceiling is trained with: the stage alone, or
 * the stage and the grid it is selected from. */
static uint64_t hash_recipes(uint64_t h, const W2Sweep *s) {
  h = hash_hyper(h, &s->finetune);
  /* the probe's settings, where a weak supervisor or ceiling depends on a probe: LP-FT's
   * head and the probe ceiling (keys unchanged for sweeps with neither) */
  if (s->finetune.head_init || s->recipes.probe_ceiling) {
    h = hstr(h, "probe-opts");
    H(h, s->probe.folds);
    H(h, s->probe.nlambda);
    H(h, s->probe.lambda_min);
    H(h, s->probe.lambda_max);
    H(h, s->probe.criterion);
  }
  const W2RecipeGrid *g = &s->recipes;
  if (!g->enabled) return h; /* keys unchanged for sweeps without selection */
  h = hstr(h, "recipes-v1");
  H(h, g->nlr);
  for (int i = 0; i < g->nlr; i++) H(h, g->lr[i]);
  H(h, g->nepochs);
  for (int i = 0; i < g->nepochs; i++) H(h, g->epochs[i]);
  H(h, g->nanchor);
  for (int i = 0; i < g->nanchor; i++) H(h, g->anchor[i]);
  H(h, g->nbody);
  for (int i = 0; i < g->nbody; i++) H(h, g->body_lr_scale[i]);
  H(h, g->val_frac);
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
    uint64_t ph = pretrained_hash(p, sz, t, seed);
    H(h, ph);
    h = hash_recipes(h, s);
  }
  return h;
}

static uint64_t unsup_hash(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                           uint64_t seed) {
  uint64_t h = hstr(W2_FNV_OFFSET, "unsup-v1");
  uint64_t ph = pretrained_hash(p, size, t, seed);
  H(h, ph);
  h = hash_task(h, p->s, t);
  return hash_hyper(h, &p->s->unsup);
}

uint64_t w2_pipe_ceiling_hash(const W2Pipeline *p, const W2SizeSpec *size,
                              const W2TaskSpec *t, uint64_t seed, int start) {
  uint64_t h = hstr(W2_FNV_OFFSET, "ceiling-v2");
  uint64_t ph = start == W2_START_UNSUP ? unsup_hash(p, size, t, seed)
                                        : pretrained_hash(p, size, t, seed);
  H(h, ph);
  /* from initialisation: the pretrained model's hash says which initialisation (its seed
   * and shape) and, conservatively, more; keys of the other starts are unchanged */
  if (start == W2_START_INIT) h = hstr(h, "from-init-v1");
  h = hash_task(h, p->s, t);
  H(h, seed);
  h = hash_recipes(h, p->s);
  if (p->s->recipes.probe_ceiling) h = hstr(h, "probe-ceiling-v4"); /* v4: paired k-fold, one-SE rule */
  return h;
}

static uint64_t hash_size(uint64_t h, const W2Pipeline *p, const W2SizeSpec *z,
                          const W2TaskSpec *t, uint64_t seed) {
  h = hstr(h, z->name);
  H(h, z->width);
  H(h, z->depth);
  H(h, z->ranks);
  uint64_t ph = pretrained_hash(p, z, t, seed);
  H(h, ph);
  return h;
}

#define W2_CELL_HASH_VERSION "cell-v1" /* bump when a cell's computation changes */
uint64_t w2_pipe_cell_hash(const W2Pipeline *p, const W2TaskSpec *t, uint64_t seed,
                           const char *weak, const W2SizeSpec *strong, const W2MethodSpec *m) {
  const W2Sweep *s = p->s;
  uint64_t h = hstr(W2_FNV_OFFSET, W2_CELL_HASH_VERSION);
  h = w2_method_hash(h, m);
  h = hstr(h, weak);
  uint64_t wh = w2_pipe_weak_hash(p, weak, t, seed), ch = w2_pipe_ceiling_hash(p, strong, t, seed, m->unsup);
  H(h, wh);
  H(h, ch);
  h = hash_task(h, s, t);
  H(h, seed);
  h = hash_size(h, p, strong, t, seed);
  for (int q = 0; q < m->nchain; q++) {
    const W2SizeSpec *mid = w2_sweep_size(s, m->chain[q]);
    if (mid) h = hash_size(h, p, mid, t, seed);
    else h = hstr(h, m->chain[q]);
  }
  /* stages a method may run besides the artifacts', said again (conservative) */
  h = hash_recipes(h, s);
  if (s->recipes.student == W2_STUDENT_RECIPE_WEAK) h = hstr(h, "student-recipe-weak");
  h = hash_hyper(h, &s->unsup);
  H(h, s->probe.folds);
  H(h, s->probe.nlambda);
  H(h, s->probe.lambda_min);
  H(h, s->probe.lambda_max);
  H(h, s->probe.criterion);
  int ver = W2_WORLD_VERSION;
  H(h, ver);
  h = w2_world_spec_hash(h, &s->world);
  return h;
}

void w2_pipe_pretrained_path(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                             uint64_t seed, char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  snprintf(path, len, "%s/pretrained/%s-s%llu-%016llx.h5", p->cache, size->name,
           (unsigned long long)seed, (unsigned long long)pretrained_hash(p, size, t, seed));
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
                          uint64_t seed, int start, char *path, size_t len) {
  if (!p->cache[0]) {
    path[0] = '\0';
    return;
  }
  const char *name = w2_start_name(start);
  snprintf(path, len, "%s/ceiling/%s-%s-s%llu%s%s-%016llx.h5", p->cache, t->name, size->name,
           (unsigned long long)seed, name[0] ? "-" : "", name,
           (unsigned long long)w2_pipe_ceiling_hash(p, size, t, seed, start));
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
  const W2MethodOps *ops;    /* NULL: plain soft-label CE */
  const float *labels;       /* (n) soft labels of the training rows */
  W2MethodTargets mt;        /* what the method's targets hook reads */
} Targets;

static W2Err method_targets(void *ctx, int nrows, const int *rows, const float *prob,
                            double progress, float *target, float *weight) {
  Targets *tg = ctx;
  for (int i = 0; i < nrows; i++) {
    target[i] = tg->labels[rows[i]];
    weight[i] = 1.f;
  }
  if (tg->ops && tg->ops->targets) tg->ops->targets(&tg->mt, nrows, prob, progress, target, weight);
  return W2_OK;
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
  W2_CALL(w2_model_predict(m, td->Xt, td->n_test, td->d, ev->buf));
  int bad = w2_count_nonfinite(ev->buf, td->n_test);
  W2_CHECK(!bad, W2_ERR_NUM, "model diverged: %d of %d test predictions are not finite at step %ld",
           bad, td->n_test, step);
  W2Metrics mt;
  w2_metrics_compute(ev->buf, td->yt, ev->weak_test, td->n_test, &mt);
  if (ev->n_fit) {
    W2_CALL(w2_model_predict(m, ev->fit_X, ev->n_fit, td->d, ev->buf));
    mt.weak_fit = w2_agreement(ev->buf, ev->fit_y, ev->fit_y, ev->n_fit, -1);
  }
  if (ev->n_hold) {
    W2_CALL(w2_model_predict(m, ev->hold_X, ev->n_hold, td->d, ev->buf));
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

int w2_argmax_first(const double *v, int n) {
  int b = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

/* ----------------------------------------------------------------------------------- */
/* one supervised finetuning stage */

typedef struct Stage {
  const float *X;          /* (n, d) training inputs */
  int d;
  const float *labels;     /* (n) soft labels */
  int n;
  const W2StageHyper *hyper;
  const W2MethodSpec *method; /* loss (NULL: plain CE) */
  double prior, radius;
  uint64_t key;            /* data order */
} Stage;

static W2Err head_from_probe(W2Pipeline *p, W2Model *m, const Stage *st);

static W2Err run_stage(W2Pipeline *p, W2Model *m, const Stage *st, Eval *ev) {
  const W2StageHyper *h = st->hyper;
  W2TrainSpec sp = {0};
  sp.X = st->X;
  sp.d = st->d;
  sp.n = st->n;
  sp.batch = h->batch;
  sp.steps = w2_train_steps_for_epochs(st->n, h->batch < st->n ? h->batch : st->n, h->epochs);
  sp.opt = (W2AdamW){.lr = h->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                     .weight_decay = h->weight_decay, .anchor_decay = h->anchor_decay,
                     .body_lr_scale = h->body_lr_scale};
  sp.warmup_frac = h->warmup_frac;
  sp.sched = h->sched;
  sp.key = st->key;
  const W2MethodOps *ops = st->method ? w2_method_ops((int)st->method->kind) : NULL;
  Targets tg = {.ops = ops, .labels = st->labels,
                .mt = {.m = st->method, .prior = st->prior, .radius = st->radius}};
  W2_CALLOC(tg.mt.scratch, h->batch);
  sp.target = method_targets;
  sp.target_ctx = &tg;
  sp.target_needs_prob = ops && ops->targets;
  sp.loss = ops ? ops->loss : W2_LOSS_BCE;
  if (ev) {
    sp.n_eval = ev->curve->n;
    sp.eval = eval_point;
    sp.eval_ctx = ev;
    ev->k = 0;
    ev->flops0 = m->flops;
  }
  W2TrainStats stats = {0};
  W2Err e = W2_OK;
  if (h->head_init) e = head_from_probe(p, m, st);
  if (!e && h->anchor_decay > 0) e = w2_model_set_anchor(m);
  if (!e) e = w2_train(m, &sp, &stats);
  w2_model_clear_anchor(m);
  free(tg.mt.scratch);
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

static W2Arch pretrain_arch(const W2Pipeline *p, const W2SizeSpec *size,
                            const W2PretrainSource *src) {
  W2Arch a;
  w2_pretrain_source_arch(p->s, size, src, &a);
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

W2Err w2_pipe_pretrained(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                         const W2TaskData *td, uint64_t seed, W2Model **out) {
  *out = NULL;
  W2PretrainSource src;
  W2_CALL(w2_pretrain_source(p->s, t, &src));
  char path[W2_PATH_MAX + 128];
  w2_pipe_pretrained_path(p, size, t, seed, path, sizeof path);
  W2CheckpointMeta meta = {0};
  snprintf(meta.size_name, sizeof meta.size_name, "%s", size->name);
  snprintf(meta.kind, sizeof meta.kind, "pretrained");
  meta.seed = seed;
  meta.config_hash = w2_pretrain_source_hash(p->s, size, &src, seed);
  if (path[0] && w2_artifact_ok(path) && src.kind == W2_PRE_TEXT) {
    /* a transformer: its own checkpoint format (texttask.h), FLOPs as pretraining counts */
    W2_CALL(w2_text_model_create(size, seed, p->grid, out));
    W2Err e = w2_checkpoint_load(*out, path, &meta);
    if (e) w2_model_destroy(out);
    W2_CALL(e);
    (*out)->flops = w2_pretrain_source_flops(p->s, size, &src);
    return W2_OK;
  }
  if (path[0] && w2_artifact_ok(path)) {
    W2Arch a = pretrain_arch(p, size, &src);
    W2_CALL(load_cached(p, path, &a, &meta, out));
    return W2_OK;
  }
  const float *X = NULL, *Y = NULL;
  if (src.kind != W2_PRE_WORLD && src.kind != W2_PRE_TEXT) {
    /* the pool was read with the task's data: it must be the one the source describes */
    W2_CHECK(td && td->d == src.d_in && td->n_p == src.n_pool &&
                 (src.kind == W2_PRE_TARGETS ? td->k_p == src.d_out && td->Yp : td->k_p == 0),
             W2_ERR_DATA, "task '%s': %s changed while the sweep was running (its pretraining "
             "rows are not what was planned); rerun", t->name, t->file);
    X = td->Xp;
    Y = td->Yp;
  }
  double t0 = now_s(), flops = 0;
  W2_CALL(w2_pretrain_source_run(p->s, p->world, size, &src, X, Y, seed, p->grid, out, &flops));
  (*out)->flops = flops;
  const char *text = p->s->text.corpus == W2_TEXT_CORPUS_DICTIONARY ? "WordNet's task dictionary"
                                                                      : "WordNet";
  plog(p, "  pretrained %-8s seed %llu%s%s: %.3g FLOPs, %.1f s", size->name,
       (unsigned long long)seed, src.kind == W2_PRE_WORLD ? "" : " on ",
       src.kind == W2_PRE_WORLD ? "" : src.kind == W2_PRE_TEXT ? text : t->file, flops,
       now_s() - t0);
  if (path[0]) {
    meta.flops = flops;
    W2_CALL(w2_checkpoint_save(*out, path, &meta));
  }
  return W2_OK;
}

/* The strong model a student starts from (W2Start): pretrained, or pretrained and then
 * generatively finetuned on the task's inputs (the pretraining objective on A ∪ B inputs;
 * no task labels), or untrained (check (f)'s control: the initialisation pretraining starts
 * from, nothing cached). */
static W2Err start_model(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                         const W2TaskData *td, uint64_t seed, int start, W2Model **out) {
  if (start == W2_START_PRETRAINED) return w2_pipe_pretrained(p, size, t, td, seed, out);
  if (start == W2_START_INIT) {
    W2PretrainSource src;
    W2_CALL(w2_pretrain_source(p->s, t, &src));
    W2_CALL(w2_pretrain_source_init(p->s, size, &src, seed, p->grid, out));
    return W2_OK;
  }
  char path[W2_PATH_MAX + 128];
  unsup_path(p, size, t, seed, path, sizeof path);
  W2CheckpointMeta meta = {0};
  snprintf(meta.size_name, sizeof meta.size_name, "%s", size->name);
  snprintf(meta.kind, sizeof meta.kind, "unsup");
  meta.seed = seed;
  meta.config_hash = unsup_hash(p, size, t, seed);
  if (path[0] && w2_artifact_ok(path)) {
    W2PretrainSource src;
    task_source(p, t, &src);
    W2Arch a = pretrain_arch(p, size, &src);
    a.d_out = td->k_u;
    W2_CALL(load_cached(p, path, &a, &meta, out));
    return W2_OK;
  }
  W2_CALL(w2_pipe_pretrained(p, size, t, td, seed, out));
  W2Model *m = *out;
  W2_CHECK(td->n_u > 0 && td->k_u == m->arch.d_out, W2_ERR_CONFIG,
           "task '%s' has no inputs with pretraining targets for generative finetuning",
           t->name);
  const W2StageHyper *h = &p->s->unsup;
  W2TrainSpec sp = {.X = td->Xu, .d = td->d, .Y = td->Yu, .n = td->n_u, .batch = h->batch,
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
  r->best_acc = r->curve.v[W2_C_ACC][w2_argmax_first(r->curve.v[W2_C_ACC], r->curve.n)];
  r->flops = m->flops;
  r->params = w2_model_params(m);
  W2_CALL(w2_model_predict(m, td->Xb, td->n_b, td->d, r->prob_b));
  W2_CALL(w2_model_predict(m, td->Xt, td->n_test, td->d, r->prob_test));
  return W2_OK;
}

/* Recipe selection (pipeline.h "Recipes"): trains every recipe of the grid on a seeded
 * (1 - val_frac) part of (X, y) and keeps the one with the best accuracy against y on
 * the rest (ground truth for weak supervisors and ceilings, the student's own weak labels
 * for students). Fills r->recipe, recipe_index, recipe_count, recipe_val_acc and
 * ft_val_acc. `what` names the stage ("weak", "ceiling", "student") so the splits get
 * different holdouts. `loss` (NULL: plain cross-entropy) gives a student's method, prior
 * and radius, so each candidate trains with the loss the student will train with. */
static W2Err select_recipe(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                           const W2TaskData *td, uint64_t seed, int start, const float *X,
                           const float *y, int n, const char *what, const Stage *loss,
                           W2RunResult *r) {
  const W2Sweep *s = p->s;
  int K = w2_recipe_count(s);
  r->recipe_count = K;
  r->recipe_index = 0;
  r->recipe = s->finetune;
  r->recipe_val_acc = r->ft_val_acc = NAN;
  if (!s->recipes.enabled) return W2_OK;
  int d = td->d;
  int nval = (int)lround(s->recipes.val_frac * n);
  if (nval < 1) nval = 1;
  int ntr = n - nval;
  W2_CHECK(ntr >= 1, W2_ERR_CONFIG,
           "recipe selection: %s split of %d rows leaves no training rows (recipes.val_frac)",
           what, n);
  uint64_t salt = w2_fnv1a(W2_FNV_OFFSET, what, strlen(what));
  int *perm = malloc(sizeof(int) * (size_t)n);
  float *Xtr = malloc(sizeof(float) * (size_t)n * d);
  float *ytr = malloc(sizeof(float) * (size_t)n);
  float *pv = malloc(sizeof(float) * (size_t)nval);
  W2Err e = W2_OK;
  W2Model *m = NULL, *base = NULL;
  if (!perm || !Xtr || !ytr || !pv) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (recipes)");
    goto done;
  }
  /* rows perm[0..ntr) train, perm[ntr..n) validate: both packed into Xtr / ytr */
  w2_permutation(w2_key(seed, "recipe-holdout", salt, 0), 0, n, perm);
  for (int i = 0; i < n; i++) {
    memcpy(Xtr + (size_t)i * d, X + (size_t)perm[i] * d, sizeof(float) * (size_t)d);
    ytr[i] = y[perm[i]];
  }
  const float *Xv = Xtr + (size_t)ntr * d, *yv = ytr + ntr;
  /* the starting model is read (or computed) once; each candidate starts from a copy */
  W2_CALL_GOTO(e, done, start_model(p, size, t, td, seed, start, &base));
  double best = -1;
  for (int i = 0; i < K; i++) {
    W2StageHyper h;
    w2_recipe_at(s, i, &h);
    W2_CALL_GOTO(e, done, w2_model_create_like(base, &m));
    w2_model_copy_params(base, m);
    W2_CALL_GOTO(e, done, w2_model_reset_head(m, 1, w2_key(seed, "head", 20, salt)));
    Stage st = {.X = Xtr, .d = d, .labels = ytr, .n = ntr, .hyper = &h,
                .key = w2_key(seed, "recipe-order", salt, (uint64_t)i)};
    if (loss) {
      st.method = loss->method;
      st.prior = loss->prior;
      st.radius = loss->radius;
    }
    W2_CALL_GOTO(e, done, run_stage(p, m, &st, NULL));
    W2_CALL_GOTO(e, done, w2_model_predict(m, Xv, nval, d, pv));
    double acc = w2_accuracy(pv, yv, nval);
    if (acc > best) {
      best = acc;
      r->recipe_index = i;
      r->recipe = h;
    }
    w2_model_destroy(&m);
  }
  r->recipe_val_acc = r->ft_val_acc = best;
done:
  w2_model_destroy(&m);
  w2_model_destroy(&base);
  free(perm);
  free(Xtr);
  free(ytr);
  free(pv);
  return e ? w2_error_push(__FILE__, __LINE__, __func__, e) : W2_OK;
}

static W2Err gt_probe_result(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                             const W2TaskData *td, uint64_t seed, int start, W2RunResult **out,
                             double *val_acc, const int *fold_of, int folds, float *oof);
static W2Err crossfit(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                      const W2TaskData *td, uint64_t seed, int start, const float *y, int folds,
                      uint64_t salt, const W2StageHyper *hyper, float *out_b, float *mean_test,
                      int count_pretrain, double *flops);

W2Err w2_pipe_weak(W2Pipeline *p, const char *weak, const W2TaskSpec *t, const W2TaskData *td,
                   uint64_t seed, W2RunResult **out) {
  char path[W2_PATH_MAX + 128];
  w2_pipe_weak_path(p, weak, t, seed, path, sizeof path);
  uint64_t hash = w2_pipe_weak_hash(p, weak, t, seed);
  W2_CALL(result_new(td->n_b, td->n_test, out));
  W2RunResult *r = *out;
  if (path[0] && w2_artifact_ok(path)) {
    (*out)->recipe = p->s->finetune;
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
    W2_CALL_GOTO(e, fail,
                 select_recipe(p, size, t, td, seed, 0, td->Xa, td->ya, td->n_a, "weak", NULL, r));
    W2_CALL_GOTO(e, fail, w2_pipe_pretrained(p, size, t, td, seed, &m));
    Stage st = {.X = td->Xa, .d = td->d, .labels = td->ya, .n = td->n_a, .hyper = &r->recipe,
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
                      const W2TaskData *td, uint64_t seed, int start, W2RunResult **out) {
  char path[W2_PATH_MAX + 128];
  w2_pipe_ceiling_path(p, size, t, seed, start, path, sizeof path);
  uint64_t hash = w2_pipe_ceiling_hash(p, size, t, seed, start);
  W2_CALL(result_new(td->n_b, td->n_test, out));
  if (path[0] && w2_artifact_ok(path)) {
    (*out)->recipe = p->s->finetune;
    W2Err e = w2_store_result_load(path, hash, out);
    if (e) w2_run_result_free(out);
    W2_CALL(e);
    return W2_OK;
  }
  double t0 = now_s();
  W2Model *m = NULL;
  W2Err e = W2_OK;
  W2RunResult *r = *out;
  W2_CALL_GOTO(e, fail, select_recipe(p, size, t, td, seed, start, td->Xb, td->yb, td->n_b,
                                      "ceiling", NULL, r));
  W2_CALL_GOTO(e, fail, start_model(p, size, t, td, seed, start, &m));
  Stage st = {.X = td->Xb, .d = td->d, .labels = td->yb, .n = td->n_b, .hyper = &r->recipe,
              .key = w2_key(seed, "ceiling-order", 0, 0)};
  e = finetune_result(p, m, td, &st, NULL, td->yb, w2_key(seed, "head", 2, 0), r);
  w2_model_destroy(&m);
  if (e) goto fail;
  r->ft_acc = r->final.acc;
  if (p->s->recipes.probe_ceiling) {
    /* the ceiling is the strong model's best on validation: finetuned, or the ground-truth
     * probe on its frozen features (pipeline.h "Recipes"); both accuracies are kept */
    /* Which is better, judged alike for both and row by row: k-fold out-of-fold
     * predictions on B of the finetuned model (the chosen recipe retrained on k-1 folds,
     * k times) and of the ground-truth probe (its CV lambda, refitted on the same folds).
     * Not the selection's own held-out score: that is the best of K recipes on val_frac
     * of B, and in the quickstart it overstated finetuning by up to 6 points. Finetuning
     * must win by more than one standard error of the paired difference (the one-SE
     * rule: on a near tie the simpler model, the probe, is kept; with the plain higher
     * estimate the ceiling fell 0.6-0.7 points below the probe on sparse w64/w256). */
    int n = td->n_b, k = p->s->probe.folds;
    W2RunResult *gp = NULL;
    double val = NAN;
    int *perm = malloc(sizeof(int) * (size_t)n), *fold_of = malloc(sizeof(int) * (size_t)n);
    float *oof_ft = malloc(sizeof(float) * (size_t)n), *oof_lp = malloc(sizeof(float) * (size_t)n);
    if (!perm || !fold_of || !oof_ft || !oof_lp) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (ceiling)");
    } else {
      const uint64_t salt = 500; /* crossfit()'s fold assignment for this salt */
      w2_permutation(w2_key(seed, "crossfit", salt, 0), 0, n, perm);
      for (int i = 0; i < n; i++) fold_of[perm[i]] = i % k;
      e = crossfit(p, size, t, td, seed, start, td->yb, k, salt, &r->recipe, oof_ft, NULL, 0,
                   NULL);
      if (!e) e = gt_probe_result(p, size, t, td, seed, start, &gp, &val, fold_of, k, oof_lp);
    }
    double ft = NAN, lp = NAN, se = NAN;
    if (!e) {
      ft = w2_accuracy(oof_ft, td->yb, n);
      lp = w2_accuracy(oof_lp, td->yb, n);
      se = w2_paired_acc_diff_se(oof_ft, oof_lp, td->yb, n);
    }
    free(perm);
    free(fold_of);
    free(oof_ft);
    free(oof_lp);
    if (e) {
      w2_run_result_free(&gp);
      goto fail;
    }
    r->lp_acc = gp->final.acc;
    r->ft_val_acc = ft;
    r->lp_val_acc = lp;
    if (!(ft - lp > se)) {
      r->chose_probe = 1;
      r->final = gp->final;
      r->best_acc = gp->best_acc;
      r->flops = gp->flops;
      memcpy(r->prob_b, gp->prob_b, sizeof(float) * (size_t)td->n_b);
      memcpy(r->prob_test, gp->prob_test, sizeof(float) * (size_t)td->n_test);
      w2_curve_free(&r->curve);
      r->curve = gp->curve;
      memset(&gp->curve, 0, sizeof gp->curve);
    }
    w2_run_result_free(&gp);
  }
  plog(p, "  ceiling  %-8s %-10s seed %llu%s: test acc %.4f (%.1f s)", size->name, t->name,
       (unsigned long long)seed,
       start == W2_START_UNSUP  ? " unsup"
       : start == W2_START_INIT ? " from init"
                                : "",
       (*out)->final.acc, now_s() - t0);
  if (path[0]) W2_CALL_GOTO(e, fail, w2_store_result_save(path, *out, hash));
  return W2_OK;
fail:
  w2_run_result_free(out);
  return w2_error_push(__FILE__, __LINE__, __func__, e);
}

/* ----------------------------------------------------------------------------------- */
/* students */

double w2_label_prior(const float *y, int n) {
  long c = 0;
  for (int i = 0; i < n; i++) c += y[i] > 0.5f;
  return n ? (double)c / n : 0.5;
}

/* The allocation fault hook (method.h w2_mcell_alloc): W2SWEEP_FAIL_ALLOC=N makes the N-th
 * cell allocation of this process fail, so tests can walk every out-of-memory path of the
 * cell driver and the methods (tests/test_registry.c). Read once; unset = never. */
static long fail_alloc_at = -1, alloc_count = 0;
static int fail_alloc_now(void) {
  if (fail_alloc_at < 0) {
    const char *v = getenv("W2SWEEP_FAIL_ALLOC");
    fail_alloc_at = v && *v ? atol(v) : 0;
  }
  return fail_alloc_at > 0 && ++alloc_count == fail_alloc_at;
}

void w2_mcell_fail_alloc_at(long n) {
  fail_alloc_at = n;
  alloc_count = 0;
}

W2Err w2_mcell_alloc(W2MethodCell *mc, size_t n, void **out) {
  *out = NULL;
  W2_CHECK(mc->nmem < W2_MCELL_MAX_ALLOC, W2_ERR_INTERNAL,
           "method '%s' holds more than %d cell buffers", mc->m->name, W2_MCELL_MAX_ALLOC);
  void *q = fail_alloc_now() ? NULL : calloc(n ? n : 1, 1);
  W2_CHECK(q, W2_ERR_MEM, "out of memory (%zu bytes for cell %s %s -> %s %s)", n, mc->t->name,
           mc->weak, mc->strong->name, mc->m->name);
  mc->mem[mc->nmem++] = q;
  *out = q;
  return W2_OK;
}

W2Err w2_mcell_start_model(W2MethodCell *mc, const W2SizeSpec *size, W2Model **out) {
  W2_CALL(start_model(mc->p, size, mc->t, mc->td, mc->seed, mc->m->unsup, out));
  return W2_OK;
}

/* Finetunes model as the cell's student on its training set; curve into c->curve. */
W2Err w2_mcell_finetune(W2MethodCell *mc, W2Model *m) {
  W2Pipeline *p = mc->p;
  W2CellResult *c = mc->c;
  Stage st = {.X = mc->X, .d = mc->td->d, .labels = mc->labels, .n = mc->n,
              .hyper = &mc->cr->recipe, .method = mc->m, .prior = mc->prior,
              .radius = mc->radius, .key = w2_key(mc->seed, "student-order", 0, 0)};
  /* recipes.student = "weak": the student's recipe is chosen on a held-out part of its
   * own training labels, with its own loss (pipeline.h "Recipes"); ground truth of B is
   * never read for it. Otherwise the ceiling's. */
  mc->recipe = mc->cr->recipe;
  if (p->s->recipes.student == W2_STUDENT_RECIPE_WEAK) {
    W2RunResult sel = {0};
    W2_CALL(select_recipe(p, mc->strong, mc->t, mc->td, mc->seed, mc->m->unsup, st.X,
                          st.labels, st.n, "student", &st, &sel));
    mc->recipe = sel.recipe;
  }
  mc->recipe_set = 1;
  st.hyper = &mc->recipe;
  W2_CALL(w2_model_reset_head(m, 1, w2_key(mc->seed, "head", 3, 0)));
  w2_curve_free(&c->curve);
  W2_CALL(w2_curve_alloc(&c->curve, p->s->eval_points));
  Eval ev;
  W2_CALL(eval_new(p, mc->td, &c->curve, &ev));
  ev.weak_test = mc->wr->prob_test;
  ev.fit_X = st.X;
  ev.fit_y = st.labels;
  ev.n_fit = st.n;
  ev.hold_X = mc->hold_X;
  ev.hold_y = mc->hold_y;
  ev.n_hold = mc->n_hold;
  W2Err e = run_stage(p, m, &st, &ev);
  if (!e && mc->hold_agree) memcpy(mc->hold_agree, ev.hold_agree, sizeof(double) * c->curve.n);
  eval_free(&ev);
  W2_CALL(e);
  return W2_OK;
}

/* Cross-fitted labels: B's rows are split into `folds` folds (a permutation keyed on seed
 * and salt); for each fold a model of `size` is finetuned on the other folds' rows with
 * labels `y` and labels the fold, so no row's label comes from a model that trained on it,
 * and each model trains on (folds-1)/folds of B. `mean_test` (may be NULL) gets the mean of
 * the fold models' test predictions. FLOPs of the fold models are added to *flops (the
 * pretraining once when count_pretrain). */
W2Err w2_pipe_crossfit_labels(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                              const W2TaskData *td, uint64_t seed, int start, const float *y,
                              int folds, uint64_t salt, float *out_b, float *mean_test,
                              int count_pretrain, double *flops) {
  W2_CALL(crossfit(p, size, t, td, seed, start, y, folds, salt, &p->s->finetune, out_b,
                   mean_test, count_pretrain, flops));
  return W2_OK;
}

/* w2_pipe_crossfit_labels with the fold models' recipe `hyper`. */
static W2Err crossfit(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                      const W2TaskData *td, uint64_t seed, int start, const float *y, int folds,
                      uint64_t salt, const W2StageHyper *hyper, float *out_b, float *mean_test,
                      int count_pretrain, double *flops) {
  int n = td->n_b, d = td->d;
  W2_CHECK(folds >= 2 && n >= 2 * folds, W2_ERR_CONFIG,
           "cross-fitting %d rows of B in %d folds: too few rows", n, folds);
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
  for (int fold = 0; fold < folds; fold++) {
    /* fold f = positions i of the permutation with i % folds == f */
    int nt = 0;
    for (int i = 0; i < n; i++) {
      if (i % folds == fold) continue;
      memcpy(Xf + (size_t)nt * d, td->Xb + (size_t)perm[i] * d, sizeof(float) * d);
      yf[nt++] = y[perm[i]];
    }
    W2_CALL_GOTO(e, done, start_model(p, size, t, td, seed, start, &m));
    double f0 = m->flops;
    W2_CALL_GOTO(e, done, w2_model_reset_head(m, 1, w2_key(seed, "head", 10 + salt, fold)));
    Stage st = {.X = Xf, .d = d, .labels = yf, .n = nt, .hyper = hyper,
                .key = w2_key(seed, "crossfit-order", salt, fold)};
    W2_CALL_GOTO(e, done, run_stage(p, m, &st, NULL));
    if (flops) *flops += m->flops - (fold || !count_pretrain ? f0 : 0);
    /* label the held-out fold */
    int no = 0;
    for (int i = fold; i < n; i += folds)
      memcpy(Xf + (size_t)no++ * d, td->Xb + (size_t)perm[i] * d, sizeof(float) * d);
    W2_CALL_GOTO(e, done, w2_model_predict(m, Xf, no, d, po));
    no = 0;
    for (int i = fold; i < n; i += folds) out_b[perm[i]] = po[no++];
    if (mean_test) {
      W2_CALL_GOTO(e, done, w2_model_predict(m, td->Xt, td->n_test, td->d, pt));
      for (int i = 0; i < td->n_test; i++) mean_test[i] += pt[i] / folds;
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

/* ----------------------------------------------------------------------------------- */
/* linear probes (probe.h): solved to convergence on frozen features, lambda by CV */

static void probe_opts(const W2Pipeline *p, uint64_t key, W2ProbeOpts *o);

/* LP-FT (W2StageHyper.head_init): the 1-output head becomes the cross-validated probe of
 * the stage's training labels on the body's features, mapped back from standardised
 * features: w_j / sd_j, b - sum_j w_j mean_j / sd_j. The probe's FLOPs count as the
 * model's. */
static W2Err head_from_probe(W2Pipeline *p, W2Model *m, const Stage *st) {
  int w = m->arch.width;
  W2_CHECK(m->arch.d_out == 1, W2_ERR_INTERNAL, "head_init = probe needs a 1-output head");
  if (m->B < 1) W2_CALL(w2_model_set_batch(m, st->hyper->batch));
  float *F = malloc(sizeof(float) * (size_t)st->n * w), *Wh = malloc(sizeof(float) * (size_t)w);
  W2Probe *pr = NULL;
  W2Err e = W2_OK;
  if (!F || !Wh) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (head probe)");
    goto done;
  }
  W2_CALL_GOTO(e, done, w2_model_features(m, st->X, st->n, st->d, F));
  W2ProbeOpts o;
  probe_opts(p, w2_key(st->key, "head-probe", 0, 0), &o);
  W2_CALL_GOTO(e, done, w2_probe_fit(F, st->labels, st->n, w, &o, &pr));
  double b = pr->b;
  for (int j = 0; j < w; j++) {
    Wh[j] = (float)(pr->w[j] * pr->inv_std[j]);
    b -= pr->w[j] * pr->inv_std[j] * pr->mean[j];
  }
  W2_CALL_GOTO(e, done, w2_model_set_head(m, Wh, (float)b));
  m->flops += pr->flops + w2_model_forward_flops(m, st->n);
done:
  w2_probe_destroy(&pr);
  free(F);
  free(Wh);
  return e ? w2_error_push(__FILE__, __LINE__, __func__, e) : W2_OK;
}

static void probe_opts(const W2Pipeline *p, uint64_t key, W2ProbeOpts *o) {
  w2_probe_opts_default(o);
  o->folds = p->s->probe.folds;
  o->nlambda = p->s->probe.nlambda;
  o->lambda_min = p->s->probe.lambda_min;
  o->lambda_max = p->s->probe.lambda_max;
  o->criterion = (W2ProbeCriterion)p->s->probe.criterion;
  o->key = key;
}

/* Frozen last-hidden-layer features of m on B (*fb, n_b x width) and test (*ft); adds the
 * forward FLOPs to m->flops. The caller frees both. */
static W2Err probe_features(W2Pipeline *p, W2Model *m, const W2TaskData *td, float **fb,
                            float **ft) {
  int w = m->arch.width;
  *fb = malloc(sizeof(float) * (size_t)td->n_b * w);
  *ft = malloc(sizeof(float) * (size_t)td->n_test * w);
  W2_CHECK(*fb && *ft, W2_ERR_MEM, "out of memory (features of %d + %d rows)", td->n_b, td->n_test);
  W2_CALL(w2_model_set_batch(m, p->s->finetune.batch));
  W2_CALL(w2_model_features(m, td->Xb, td->n_b, td->d, *fb));
  W2_CALL(w2_model_features(m, td->Xt, td->n_test, td->d, *ft));
  m->flops += w2_model_forward_flops(m, (double)td->n_b + td->n_test);
  return W2_OK;
}

/* A cross-validated probe on (fb, y) (labels y of B's rows: the probe's own CV picks lambda
 * on them, nothing else is read), evaluated on test. A probe has no curve over SGD steps:
 * `curve` gets ONE point (step 0, the probe's FLOPs, test metrics, agreement with y on B).
 * prob_b / prob_test (may be NULL) get its predictions; *out (may be NULL) the probe. Adds
 * the probe's FLOPs to *flops. */
static W2Err probe_run(W2Pipeline *p, const W2TaskData *td, const float *fb, const float *ft,
                       int w, const float *y, uint64_t key, const float *weak_test,
                       float *prob_b, float *prob_test, W2Curve *curve, W2Probe **out,
                       double *flops) {
  W2ProbeOpts o;
  probe_opts(p, key, &o);
  W2Probe *pr = NULL;
  W2_CALL(w2_probe_fit(fb, y, td->n_b, w, &o, &pr));
  float *pb = malloc(sizeof(float) * (size_t)td->n_b), *pt = malloc(sizeof(float) * (size_t)td->n_test);
  W2Err e = W2_OK;
  if (!pb || !pt) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe)");
    goto done;
  }
  w2_probe_predict(pr, fb, td->n_b, pb);
  w2_probe_predict(pr, ft, td->n_test, pt);
  W2Metrics mt;
  w2_metrics_compute(pt, td->yt, weak_test, td->n_test, &mt);
  mt.weak_fit = w2_agreement(pb, y, y, td->n_b, -1);
  w2_curve_free(curve);
  W2_CALL_GOTO(e, done, w2_curve_alloc(curve, 1));
  double vals[W2_CURVE_NFIELDS] = {0, pr->flops, mt.acc, mt.auroc, mt.ece, mt.loss, mt.agree,
                                   mt.agree_right, mt.agree_wrong, mt.weak_fit};
  for (int f = 0; f < W2_CURVE_NFIELDS; f++) curve->v[f][0] = vals[f];
  if (prob_b) memcpy(prob_b, pb, sizeof(float) * (size_t)td->n_b);
  if (prob_test) memcpy(prob_test, pt, sizeof(float) * (size_t)td->n_test);
  if (flops) *flops += pr->flops;
done:
  free(pb);
  free(pt);
  if (!e && out) *out = pr;
  else w2_probe_destroy(&pr);
  return e;
}

/* Out-of-fold predictions of a probe at a fixed lambda: row i is predicted by the probe
 * fitted on the rows of the other folds (fold_of[i] in [0, folds)). With the folds of the
 * finetuned model's cross-fit, the two are compared row by row (the ceiling's choice). */
static W2Err probe_oof(const float *F, const float *y, int n, int w, double lambda,
                       const int *fold_of, int folds, float *oof, double *flops) {
  float *Ff = malloc(sizeof(float) * (size_t)n * w), *yf = malloc(sizeof(float) * (size_t)n);
  float *po = malloc(sizeof(float) * (size_t)n);
  W2Err e = W2_OK;
  W2Probe *pr = NULL;
  if (!Ff || !yf || !po) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe folds)");
    goto done;
  }
  for (int f = 0; f < folds; f++) {
    int nt = 0;
    for (int i = 0; i < n; i++) {
      if (fold_of[i] == f) continue;
      memcpy(Ff + (size_t)nt * w, F + (size_t)i * w, sizeof(float) * (size_t)w);
      yf[nt++] = y[i];
    }
    W2ProbeOpts o;
    w2_probe_opts_default(&o);
    W2_CALL_GOTO(e, done, w2_probe_fit_lambda(Ff, yf, nt, w, lambda, &o, &pr));
    int no = 0;
    for (int i = 0; i < n; i++)
      if (fold_of[i] == f) memcpy(Ff + (size_t)no++ * w, F + (size_t)i * w, sizeof(float) * (size_t)w);
    w2_probe_predict(pr, Ff, no, po);
    no = 0;
    for (int i = 0; i < n; i++)
      if (fold_of[i] == f) oof[i] = po[no++];
    if (flops) *flops += pr->flops;
    w2_probe_destroy(&pr);
  }
done:
  w2_probe_destroy(&pr);
  free(Ff);
  free(yf);
  free(po);
  return e;
}

/* The ground-truth probe of `size` on split B: a probe (lambda by CV on B's ground truth)
 * on the frozen features of the pretrained (or generatively finetuned) model. *out gets a
 * run result like a ceiling's (1-point curve, final metrics, predictions on B and test,
 * FLOPs including pretraining); *val_acc its cross-validated accuracy on B at the chosen
 * lambda, a validation number that never reads the test split. Used by lp_gt; meant for
 * choosing the ceiling on validation. */
static W2Err gt_probe_result(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                             const W2TaskData *td, uint64_t seed, int start, W2RunResult **out,
                             double *val_acc, const int *fold_of, int folds, float *oof) {
  W2Model *m = NULL;
  float *fb = NULL, *ft = NULL;
  W2Probe *pr = NULL;
  W2Err e = W2_OK;
  W2_CALL(result_new(td->n_b, td->n_test, out));
  W2RunResult *r = *out;
  W2_CALL_GOTO(e, done, start_model(p, size, t, td, seed, start, &m));
  W2_CALL_GOTO(e, done, probe_features(p, m, td, &fb, &ft));
  double fl = m->flops;
  W2_CALL_GOTO(e, done, probe_run(p, td, fb, ft, size->width, td->yb, w2_key(seed, "probe-cv", 1, 0),
                                  NULL, r->prob_b, r->prob_test, &r->curve, &pr, &fl));
  metrics_at(&r->curve, 0, &r->final);
  r->best_acc = r->final.acc;
  r->flops = fl;
  r->params = w2_model_params(m);
  if (val_acc) *val_acc = pr->nlambda ? pr->cv_acc[pr->chosen] : NAN;
  if (oof) W2_CALL_GOTO(e, done, probe_oof(fb, td->yb, td->n_b, size->width, pr->lambda, fold_of,
                                           folds, oof, &r->flops));
done:
  w2_probe_destroy(&pr);
  w2_model_destroy(&m);
  free(fb);
  free(ft);
  if (e) {
    w2_run_result_free(out);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* what the methods (src/methods/) call */

void w2_mcell_probe_opts(const W2MethodCell *mc, uint64_t key, W2ProbeOpts *o) {
  probe_opts(mc->p, key, o);
}

W2Err w2_mcell_features(W2MethodCell *mc, W2Model *model, float **fb, float **ft) {
  const W2TaskData *td = mc->td;
  int w = model->arch.width;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)td->n_b * w, (void **)fb));
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)td->n_test * w, (void **)ft));
  W2_CALL(w2_model_set_batch(model, mc->s->finetune.batch));
  W2_CALL(w2_model_features(model, td->Xb, td->n_b, td->d, *fb));
  W2_CALL(w2_model_features(model, td->Xt, td->n_test, td->d, *ft));
  model->flops += w2_model_forward_flops(model, (double)td->n_b + td->n_test);
  return W2_OK;
}

W2Err w2_mcell_probe(W2MethodCell *mc, const float *fb, const float *ft, int width,
                     const float *y, uint64_t key, double *flops) {
  W2_CALL(probe_run(mc->p, mc->td, fb, ft, width, y, key, mc->wr->prob_test, NULL, NULL,
                    &mc->c->curve, NULL, flops));
  return W2_OK;
}

W2Err w2_mcell_gt_probe(W2MethodCell *mc, W2RunResult **out) {
  double val;
  W2_CALL(gt_probe_result(mc->p, mc->strong, mc->t, mc->td, mc->seed, mc->m->unsup, out, &val,
                          NULL, 0, NULL));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* the cell: a driver over the method's hooks (src/methods/method.h "A cell runs") */

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
  const W2MethodOps *ops = w2_method_ops((int)meth->kind);
  W2_CHECK(ops, W2_ERR_INTERNAL, "method '%s' has kind %d, which is not registered", meth->name,
           (int)meth->kind);
  snprintf(c->method_kind, sizeof c->method_kind, "%s", ops->kind);
  w2_method_json(meth, c->method_settings, sizeof c->method_settings);
  const W2SupervisorSpec *sup = w2_sweep_supervisor(p->s, weak);
  snprintf(c->supervisor_kind, sizeof c->supervisor_kind, "%s",
           sup ? w2_spec_supervisor_kind_name(sup->kind) : "trained");
  c->unsup = meth->unsup;
  c->oracle = ops->oracle;
  c->config_hash = w2_pipe_cell_hash(p, t, seed, weak, strong, meth);
  W2RunResult *wr = NULL, *cr = NULL;
  W2Model *m = NULL;
  W2Err e = W2_OK;
  int n = td->n_b, d = td->d;
  W2MethodCell mc = {.p = p, .s = p->s, .t = t, .td = td, .seed = seed, .weak = weak,
                     .strong = strong, .m = meth, .c = c, .n = n, .radius = 0.25};
  /* 1. the supervisor and the ceiling */
  W2_CALL_GOTO(e, done, w2_pipe_weak(p, weak, t, td, seed, &wr));
  W2_CALL_GOTO(e, done, w2_pipe_ceiling(p, strong, t, td, seed, meth->unsup, &cr));
  mc.wr = wr;
  mc.cr = cr;
  /* 2. the training set: B with the weak labels, then the method's preparation */
  W2_CALL_GOTO(e, done, w2_mcell_alloc(&mc, sizeof(float) * (size_t)n, (void **)&mc.labels));
  W2_CALL_GOTO(e, done, w2_mcell_alloc(&mc, sizeof(float) * (size_t)n * d, (void **)&mc.X));
  W2_CALL_GOTO(e, done, w2_mcell_alloc(&mc, sizeof(double) * (size_t)p->s->eval_points,
                                       (void **)&mc.hold_agree));
  memcpy(mc.labels, wr->prob_b, sizeof(float) * (size_t)n);
  memcpy(mc.X, td->Xb, sizeof(float) * (size_t)n * d);
  mc.prior = w2_label_prior(wr->prob_b, n);
  if (ops->prepare) W2_CALL_GOTO(e, done, ops->prepare(&mc));
  /* 3. the student, from the strong start model */
  W2_CALL_GOTO(e, done, start_model(p, strong, t, td, seed, meth->unsup, &m));
  double flops_start = m->flops;
  if (ops->student) W2_CALL_GOTO(e, done, ops->student(&mc, m));
  else W2_CALL_GOTO(e, done, w2_mcell_finetune(&mc, m));
  if (c->curve.n < 1) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_INTERNAL, "method '%s' made no curve",
                       meth->name);
    goto done;
  }
  double strong_flops = m->flops + mc.extra_flops;
  /* the flops curve is cumulative over the cell's student finetuning */
  double fine_before = strong_flops - flops_start - c->curve.v[W2_C_FLOPS][c->curve.n - 1];
  for (int k = 0; k < c->curve.n; k++) c->curve.v[W2_C_FLOPS][k] += fine_before;
  /* 4. the reported point (the curve may be shorter than eval_points) */
  c->selected_point = ops->select ? ops->select(&mc, &c->curve) : c->curve.n - 1;
  W2Metrics fm;
  metrics_at(&c->curve, c->selected_point, &fm);
  c->weak_acc = wr->final.acc;
  c->ceiling_acc = cr->final.acc;
  c->student_acc = fm.acc;
  c->student_best_acc = c->curve.v[W2_C_ACC][w2_argmax_first(c->curve.v[W2_C_ACC], c->curve.n)];
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
  c->ceiling_ft_acc = cr->ft_acc;
  c->ceiling_lp_acc = cr->lp_acc;
  c->ceiling_is_probe = cr->chose_probe;
  const W2StageHyper *rh = mc.recipe_set ? &mc.recipe : &cr->recipe;
  c->recipe_lr = rh->lr;
  c->recipe_epochs = rh->epochs;
  c->recipe_anchor_decay = rh->anchor_decay;
  c->recipe_body_lr_scale = rh->body_lr_scale > 0 ? rh->body_lr_scale : 1;
  c->recipe_head_init = rh->head_init;
  int synthetic = w2_sweep_supervisor(p->s, weak) != NULL;
  c->weak_recipe_lr = synthetic ? NAN : wr->recipe.lr;
  c->weak_recipe_epochs = synthetic ? NAN : wr->recipe.epochs;
  c->weak_flops = wr->flops;
  c->strong_flops = strong_flops;
  c->weak_params = wr->params;
  c->strong_params = w2_model_params(m);
  if (c->nchain > 0 && c->nchain < W2_CHAIN_MAX) { /* a chain ends at the student */
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
  for (int i = 0; i < mc.nmem; i++) free(mc.mem[i]);
  if (e) {
    w2_curve_free(&c->curve);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}
