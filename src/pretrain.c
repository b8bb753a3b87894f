/* pretrain.c — pretraining on the synthetic world (see pretrain.h). */
#include "pretrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "rng.h"
#include "texttask.h"
#include "train.h"

void w2_pretrain_arch(const W2Sweep *s, const W2SizeSpec *size, W2Arch *a) {
  memset(a, 0, sizeof *a);
  a->d_in = s->world.input_dim;
  a->width = size->width;
  a->depth = size->depth;
  a->d_out = s->world.pretrain_targets;
  a->act = s->pretrain.act;
}

static long examples_for(const W2Sweep *s, const W2Arch *a) {
  double n = floor(w2_arch_params(a) * s->pretrain.examples_per_param + 0.5);
  if (n < s->pretrain.min_examples) n = s->pretrain.min_examples;
  if (n > s->pretrain.max_examples) n = s->pretrain.max_examples;
  if (n < 1) n = 1;
  return (long)n;
}

long w2_pretrain_examples(const W2Sweep *s, const W2SizeSpec *size) {
  if (size->family == W2_FAMILY_TRANSFORMER) return w2_text_pretrain_examples(s, size);
  W2Arch a;
  w2_pretrain_arch(s, size, &a);
  return examples_for(s, &a);
}

static int pretrain_batch(const W2Sweep *s, long n) {
  int B = s->pretrain.hyper.batch;
  return (long)B < n ? B : (int)n;
}

long w2_pretrain_steps(const W2Sweep *s, const W2SizeSpec *size) {
  if (size->family == W2_FAMILY_TRANSFORMER) return w2_text_pretrain_steps(s, size);
  long n = w2_pretrain_examples(s, size);
  return w2_train_steps_for_epochs((int)n, s->pretrain.hyper.batch, s->pretrain.hyper.epochs);
}

double w2_pretrain_flops(const W2Sweep *s, const W2SizeSpec *size) {
  if (size->family == W2_FAMILY_TRANSFORMER) return w2_text_pretrain_flops(s, size);
  W2Arch a;
  w2_pretrain_arch(s, size, &a);
  long n = w2_pretrain_examples(s, size);
  return w2_arch_step_flops(&a, pretrain_batch(s, n), 0) * (double)w2_pretrain_steps(s, size);
}

#define HASH_FIELD(h, x) ((h) = w2_fnv1a((h), &(x), sizeof(x)))

/* The pretraining recipe and the size, field by field (both pretraining hashes). */
static uint64_t hash_recipe(uint64_t h, const W2Sweep *s, const W2SizeSpec *size) {
  const W2PretrainSpec *ps = &s->pretrain;
  HASH_FIELD(h, ps->hyper.epochs);
  HASH_FIELD(h, ps->hyper.batch);
  HASH_FIELD(h, ps->hyper.lr);
  HASH_FIELD(h, ps->hyper.weight_decay);
  HASH_FIELD(h, ps->hyper.warmup_frac);
  int sched = (int)ps->hyper.sched, act = (int)ps->act;
  HASH_FIELD(h, sched);
  HASH_FIELD(h, ps->examples_per_param);
  HASH_FIELD(h, ps->min_examples);
  HASH_FIELD(h, ps->max_examples);
  HASH_FIELD(h, act);
  HASH_FIELD(h, size->width);
  HASH_FIELD(h, size->depth);
  return h;
}

uint64_t w2_pretrain_hash(const W2Sweep *s, const W2SizeSpec *size, uint64_t seed) {
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-pretrain", 11);
  int version = W2_WORLD_VERSION, regimes = W2_WORLD_REGIMES;
  HASH_FIELD(h, version);
  HASH_FIELD(h, regimes);
  h = w2_world_spec_hash(h, &s->world);
  h = hash_recipe(h, s, size);
  HASH_FIELD(h, seed);
  return w2_mix64(h);
}

/* Per-batch targets: the K halfspaces of the stored latents of the batch rows. */
typedef struct PretrainCtx {
  const W2World *w;
  const float *Z; /* (n, latent_dim) */
} PretrainCtx;

static W2Err pretrain_target(void *ctx, int nrows, const int *rows, const float *prob,
                             double progress, float *target, float *weight) {
  const PretrainCtx *c = ctx;
  int dz = c->w->spec.latent_dim, K = c->w->spec.pretrain_targets;
  for (int i = 0; i < nrows; i++) {
    w2_world_pretrain_targets_row(c->w, c->Z + (size_t)rows[i] * dz, target + (size_t)i * K);
    weight[i] = 1.f;
  }
  return W2_OK;
}

/* The training run shared by world and pool pretraining: rows X (n, d), d = the model's
 * d_in, targets either rows of Y (n, d_out), computed per batch by target(ctx) (world), or
 * built with the inputs by masked_batch(mask) (masked reconstruction, MSE). */
static W2Err masked_batch(void *ctx, int nrows, const int *rows, long step, float *x,
                          float *target, float *mask);

/* The model pretraining starts from: its initialisation, a function of (seed, shape). */
static W2Err init_model(const W2Arch *arch, const W2SizeSpec *size, uint64_t seed,
                        const W2Grid *grid, W2Model **out) {
  W2_CALL(w2_model_create(grid, arch, out));
  w2_model_init(*out, w2_key(seed, "init", (uint64_t)size->width, (uint64_t)size->depth));
  return W2_OK;
}

static W2Err run_pretrain_ex(const W2Sweep *s, const W2Arch *arch, const W2SizeSpec *size,
                             uint64_t seed, const W2Grid *grid, const float *X, int d,
                             const float *Y, long n, int batch, long steps, W2TargetFn target,
                             void *ctx, void *mask, W2Model **out, double *flops) {
  const W2PretrainSpec *ps = &s->pretrain;
  W2Model *m = NULL;
  W2_CALL(init_model(arch, size, seed, grid, &m));
  W2TrainSpec ts;
  memset(&ts, 0, sizeof ts);
  ts.X = X;
  ts.d = d;
  ts.Y = Y;
  ts.n = (int)n;
  ts.batch = batch;
  ts.steps = steps;
  ts.opt.lr = ps->hyper.lr;
  ts.opt.beta1 = 0.9f;
  ts.opt.beta2 = 0.999f;
  ts.opt.eps = 1e-8f;
  ts.opt.weight_decay = ps->hyper.weight_decay;
  ts.warmup_frac = ps->hyper.warmup_frac;
  ts.sched = ps->hyper.sched;
  ts.key = w2_key(seed, "pretrain-order", (uint64_t)size->width, (uint64_t)size->depth);
  ts.target = target;
  ts.target_ctx = ctx;
  if (mask) {
    ts.batch_fn = masked_batch;
    ts.batch_ctx = mask;
    ts.loss = W2_LOSS_MSE;
  }
  W2TrainStats st;
  memset(&st, 0, sizeof st);
  W2Err err = w2_train(m, &ts, &st);
  if (err) {
    w2_model_destroy(&m);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  if (flops) *flops = st.flops;
  *out = m;
  return W2_OK;
}

static W2Err check_pretrain_spec(const W2Sweep *s, const W2SizeSpec *size) {
  const W2PretrainSpec *ps = &s->pretrain;
  W2_CHECK(size->width >= 1 && size->depth >= 1, W2_ERR_CONFIG,
           "size '%s': width = %d and depth = %d must be >= 1", size->name, size->width,
           size->depth);
  W2_CHECK(ps->hyper.batch >= 1, W2_ERR_CONFIG, "pretrain.batch = %d must be >= 1",
           ps->hyper.batch);
  W2_CHECK(ps->hyper.epochs > 0 && isfinite(ps->hyper.epochs), W2_ERR_CONFIG,
           "pretrain.epochs = %g must be > 0", ps->hyper.epochs);
  W2_CHECK(ps->examples_per_param >= 0 && ps->min_examples >= 1 &&
           ps->max_examples >= ps->min_examples, W2_ERR_CONFIG,
           "pretrain: need examples_per_param >= 0 and 1 <= min_examples (%d) <= "
           "max_examples (%d)", ps->min_examples, ps->max_examples);
  return W2_OK;
}

W2Err w2_pretrain(const W2Sweep *s, const W2World *w, const W2SizeSpec *size, uint64_t seed,
                  const W2Grid *grid, W2Model **out, double *flops) {
  *out = NULL;
  W2_CALL(check_pretrain_spec(s, size));
  W2_CHECK(w->spec.input_dim == s->world.input_dim &&
           w->spec.pretrain_targets == s->world.pretrain_targets &&
           w->spec.latent_dim == s->world.latent_dim, W2_ERR_INTERNAL,
           "world does not match the sweep's world spec");
  W2Arch arch;
  w2_pretrain_arch(s, size, &arch);
  long n = w2_pretrain_examples(s, size);
  W2_CHECK(n <= 100000000L, W2_ERR_CONFIG,
           "size '%s': %ld pretraining examples exceed the limit of 1e8 (pretrain.max_examples)",
           size->name, n);
  int d = w->spec.input_dim, dz = w->spec.latent_dim;
  float *X = malloc(sizeof(float) * (size_t)n * d);
  float *Z = malloc(sizeof(float) * (size_t)n * dz);
  if (!X || !Z) {
    free(X);
    free(Z);
    W2_RAISE(W2_ERR_MEM, "out of memory for %ld pretraining examples of size '%s' (%.1f MB)",
             n, size->name, 4.0 * n * (d + dz) / 1e6);
  }
  w2_world_sample_pretrain(w, w2_pretrain_data_key(&s->world, seed), 0, (int)n, X, Z);
  PretrainCtx ctx = {w, Z};
  W2Err err = run_pretrain_ex(s, &arch, size, seed, grid, X, d, NULL, n, pretrain_batch(s, n),
                              w2_train_steps_for_epochs((int)n, s->pretrain.hyper.batch,
                                                        s->pretrain.hyper.epochs),
                              pretrain_target, &ctx, NULL, out, flops);
  free(X);
  free(Z);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* pretraining sources: a data file's pool (see pretrain.h) */

W2Err w2_pretrain_source(const W2Sweep *s, const W2TaskSpec *t, W2PretrainSource *src) {
  memset(src, 0, sizeof *src);
  if (t && t->kind == W2_TASK_TEXT) {
    src->kind = W2_PRE_TEXT;
    src->d_in = W2_TEXT_ROW;
    src->d_out = W2_XF_VOCAB;
    W2_CALL(w2_text_pretrain_hash(s, &src->data_hash));
    return W2_OK;
  }
  if (t == NULL || t->kind != W2_TASK_FILE) {
    src->kind = W2_PRE_WORLD;
    src->d_in = s->world.input_dim;
    src->d_out = s->world.pretrain_targets;
    return W2_OK;
  }
  W2DataInfo info;
  W2_CALL(w2_dataset_info(t->file, &info));
  src->d_in = info.d;
  if (info.m > 0 && info.k > 0) {
    src->kind = W2_PRE_TARGETS;
    src->d_out = info.k;
    src->n_pool = info.m;
    src->data_hash = info.hash_pre;
  } else if (info.m > 0) {
    src->kind = W2_PRE_MASKED;
    src->d_out = info.d;
    src->n_pool = info.m;
    src->data_hash = info.hash_pre;
  } else {
    W2_CHECK(info.n >= (long)s->split.n_a + s->split.n_b + s->split.n_test, W2_ERR_CONFIG,
             "task '%s': %s has %d labelled rows but the splits need n_a + n_b + n_test = "
             "%ld", t->name, t->file, info.n,
             (long)s->split.n_a + s->split.n_b + s->split.n_test);
    int pool = w2_dataset_test_pool(info.n, &s->split);
    src->kind = W2_PRE_MASKED;
    src->d_out = info.d;
    src->n_pool = info.n - pool;
    /* the rows outside the pool: all of /X and the rule that picks them */
    uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-pool-x", 9);
    HASH_FIELD(h, info.hash_x);
    HASH_FIELD(h, info.n);
    HASH_FIELD(h, pool);
    src->data_hash = w2_mix64(h);
  }
  return W2_OK;
}

int w2_pretrain_source_same(const W2PretrainSource *a, const W2PretrainSource *b) {
  return a->kind == b->kind && a->d_in == b->d_in && a->d_out == b->d_out &&
         a->n_pool == b->n_pool && a->data_hash == b->data_hash;
}

void w2_pretrain_source_arch(const W2Sweep *s, const W2SizeSpec *size,
                             const W2PretrainSource *src, W2Arch *a) {
  w2_pretrain_arch(s, size, a);
  a->d_in = src->d_in;
  a->d_out = src->d_out;
}

/* batch and steps of a pool run: the world's rule on the arch, rows cycled over the pool */
static void pool_schedule(const W2Sweep *s, const W2Arch *a, long n_pool, int *B, long *steps) {
  long n = examples_for(s, a);
  *B = pretrain_batch(s, n < n_pool ? n : n_pool);
  *steps = w2_train_steps_for_epochs((int)n, s->pretrain.hyper.batch, s->pretrain.hyper.epochs);
}

double w2_pretrain_source_flops(const W2Sweep *s, const W2SizeSpec *size,
                                const W2PretrainSource *src) {
  if (src->kind == W2_PRE_WORLD || src->kind == W2_PRE_TEXT) return w2_pretrain_flops(s, size);
  W2Arch a;
  w2_pretrain_source_arch(s, size, src, &a);
  if (src->n_pool < 1) return 0;
  int B;
  long steps;
  pool_schedule(s, &a, src->n_pool, &B, &steps);
  return w2_arch_step_flops(&a, B, 0) * (double)steps;
}

uint64_t w2_pretrain_source_hash(const W2Sweep *s, const W2SizeSpec *size,
                                 const W2PretrainSource *src, uint64_t seed) {
  if (src->kind == W2_PRE_WORLD) return w2_pretrain_hash(s, size, seed);
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-pretrain-data-v1", 19);
  h = hash_recipe(h, s, size);
  if (src->kind == W2_PRE_TEXT) { /* the transformer's shape beyond width and depth */
    h = w2_fnv1a(h, "xf-v1", 5);
    HASH_FIELD(h, size->heads);
    HASH_FIELD(h, size->ctx);
  }
  int kind = (int)src->kind;
  double frac = W2_PRETRAIN_MASK_FRAC;
  HASH_FIELD(h, kind);
  HASH_FIELD(h, src->d_in);
  HASH_FIELD(h, src->d_out);
  HASH_FIELD(h, src->n_pool);
  HASH_FIELD(h, src->data_hash);
  if (src->kind == W2_PRE_MASKED) HASH_FIELD(h, frac);
  HASH_FIELD(h, seed);
  return w2_mix64(h);
}

/* Masked reconstruction: row rows[i] of the pool at step `step` has each input masked with
 * probability W2_PRETRAIN_MASK_FRAC, a pure function of (key, position in the run, column)
 * so that every presentation of a row gets new masks and a run never depends on ranks. */
typedef struct MaskCtx {
  const float *X;
  int d;
  uint64_t key;
} MaskCtx;

static W2Err masked_batch(void *ctx, int nrows, const int *rows, long step, float *x,
                          float *target, float *mask) {
  const MaskCtx *c = ctx;
  int d = c->d;
  for (int i = 0; i < nrows; i++) {
    const float *src = c->X + (size_t)rows[i] * d;
    uint64_t pos = (uint64_t)step * (uint64_t)nrows + (uint64_t)i;
    float *xi = x + (size_t)i * d, *ti = target + (size_t)i * d, *mi = mask + (size_t)i * d;
    for (int j = 0; j < d; j++) {
      int masked = w2_uniform(c->key, pos, (uint64_t)j) < W2_PRETRAIN_MASK_FRAC;
      xi[j] = masked ? 0.f : src[j];
      ti[j] = src[j];
      mi[j] = masked ? 1.f : 0.f;
    }
  }
  return W2_OK;
}

W2Err w2_pretrain_source_run(const W2Sweep *s, const W2World *w, const W2SizeSpec *size,
                             const W2PretrainSource *src, const float *X, const float *Y,
                             uint64_t seed, const W2Grid *grid, W2Model **out, double *flops) {
  *out = NULL;
  if (src->kind == W2_PRE_WORLD) return w2_pretrain(s, w, size, seed, grid, out, flops);
  if (src->kind == W2_PRE_TEXT)
    return w2_text_pretrain(s, size, seed, grid, s->cache_dir, out, flops);
  W2_CALL(check_pretrain_spec(s, size));
  W2_CHECK(src->n_pool >= 1 && src->d_in >= 1 && src->d_out >= 1 && X &&
               (src->kind != W2_PRE_TARGETS || Y),
           W2_ERR_INTERNAL, "pretraining pool is empty (%ld rows, %d inputs, %d outputs)",
           src->n_pool, src->d_in, src->d_out);
  W2_CHECK(src->n_pool <= 100000000L, W2_ERR_CONFIG, "pretraining pool of %ld rows exceeds 1e8",
           src->n_pool);
  W2Arch arch;
  w2_pretrain_source_arch(s, size, src, &arch);
  W2_CHECK(src->kind != W2_PRE_MASKED || arch.d_out == arch.d_in, W2_ERR_INTERNAL,
           "masked reconstruction needs d_out = d_in (%d, %d)", arch.d_out, arch.d_in);
  int B;
  long steps;
  pool_schedule(s, &arch, src->n_pool, &B, &steps);
  MaskCtx mc = {X, src->d_in, w2_key(seed, "pretrain-mask", (uint64_t)size->width,
                                     (uint64_t)size->depth)};
  W2Err err = run_pretrain_ex(s, &arch, size, seed, grid, X, src->d_in,
                              src->kind == W2_PRE_TARGETS ? Y : NULL, src->n_pool, B, steps,
                              NULL, NULL, src->kind == W2_PRE_MASKED ? &mc : NULL, out, flops);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

W2Err w2_pretrain_source_init(const W2Sweep *s, const W2SizeSpec *size,
                              const W2PretrainSource *src, uint64_t seed, const W2Grid *grid,
                              W2Model **out) {
  *out = NULL;
  if (src->kind == W2_PRE_TEXT) {
    W2_CALL(w2_text_model_create(size, seed, grid, out));
  } else {
    W2Arch arch;
    w2_pretrain_source_arch(s, size, src, &arch); /* the world's too: its src has its dims */
    W2_CALL(init_model(&arch, size, seed, grid, out));
  }
  (*out)->flops = 0;
  return W2_OK;
}
