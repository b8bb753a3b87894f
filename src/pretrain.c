/* pretrain.c — pretraining on the synthetic world (see pretrain.h). */
#include "pretrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
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
  W2Arch a;
  w2_pretrain_arch(s, size, &a);
  return examples_for(s, &a);
}

static int pretrain_batch(const W2Sweep *s, long n) {
  int B = s->pretrain.hyper.batch;
  return (long)B < n ? B : (int)n;
}

long w2_pretrain_steps(const W2Sweep *s, const W2SizeSpec *size) {
  long n = w2_pretrain_examples(s, size);
  return w2_train_steps_for_epochs((int)n, s->pretrain.hyper.batch, s->pretrain.hyper.epochs);
}

double w2_pretrain_flops(const W2Sweep *s, const W2SizeSpec *size) {
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

/* The training run shared by world and pool pretraining: rows X (n, d_in), targets either
 * rows of Y (n, d_out) or computed per batch by target(ctx). */
static W2Err run_pretrain(const W2Sweep *s, const W2Arch *arch, const W2SizeSpec *size,
                          uint64_t seed, const W2Grid *grid, const float *X, const float *Y,
                          long n, W2TargetFn target, void *ctx, W2Model **out, double *flops) {
  const W2PretrainSpec *ps = &s->pretrain;
  W2Model *m = NULL;
  W2_CALL(w2_model_create(grid, arch, &m));
  w2_model_init(m, w2_key(seed, "init", (uint64_t)size->width, (uint64_t)size->depth));
  W2TrainSpec ts;
  memset(&ts, 0, sizeof ts);
  ts.X = X;
  ts.Y = Y;
  ts.n = (int)n;
  ts.batch = pretrain_batch(s, n);
  ts.steps = w2_train_steps_for_epochs((int)n, ps->hyper.batch, ps->hyper.epochs);
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
  W2Err err = run_pretrain(s, &arch, size, seed, grid, X, NULL, n, pretrain_target, &ctx, out,
                           flops);
  free(X);
  free(Z);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* pretraining on a given pool (a data file's /pretrain block) */

static void pool_arch(const W2Sweep *s, const W2SizeSpec *size, int d, int k, W2Arch *a) {
  w2_pretrain_arch(s, size, a);
  a->d_in = d;
  a->d_out = k;
}

long w2_pretrain_pool_examples(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                               long n_pool) {
  W2Arch a;
  pool_arch(s, size, d, k, &a);
  long n = examples_for(s, &a);
  return n < n_pool ? n : n_pool;
}

double w2_pretrain_pool_flops(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                              long n_pool) {
  W2Arch a;
  pool_arch(s, size, d, k, &a);
  long n = w2_pretrain_pool_examples(s, size, d, k, n_pool);
  if (n < 1) return 0;
  long steps = w2_train_steps_for_epochs((int)n, s->pretrain.hyper.batch, s->pretrain.hyper.epochs);
  return w2_arch_step_flops(&a, pretrain_batch(s, n), 0) * (double)steps;
}

uint64_t w2_pretrain_pool_hash(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                               long n_pool, uint64_t data_hash, uint64_t seed) {
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-pretrain-pool", 16);
  h = hash_recipe(h, s, size);
  HASH_FIELD(h, d);
  HASH_FIELD(h, k);
  HASH_FIELD(h, n_pool);
  HASH_FIELD(h, data_hash);
  HASH_FIELD(h, seed);
  return w2_mix64(h);
}

W2Err w2_pretrain_pool(const W2Sweep *s, const W2SizeSpec *size, int d, int k, const float *X,
                       const float *Y, long n_pool, uint64_t seed, const W2Grid *grid,
                       W2Model **out, double *flops) {
  *out = NULL;
  W2_CALL(check_pretrain_spec(s, size));
  W2_CHECK(n_pool >= 1 && k >= 1 && d >= 1 && X && Y, W2_ERR_CONFIG,
           "pretraining pool is empty (%ld rows, %d inputs, %d targets): the data file needs "
           "/pretrain/X and /pretrain/Y", n_pool, d, k);
  W2_CHECK(n_pool <= 100000000L, W2_ERR_CONFIG, "pretraining pool of %ld rows exceeds 1e8",
           n_pool);
  W2Arch arch;
  pool_arch(s, size, d, k, &arch);
  long n = w2_pretrain_pool_examples(s, size, d, k, n_pool);
  W2_CALL(run_pretrain(s, &arch, size, seed, grid, X, Y, n, NULL, NULL, out, flops));
  return W2_OK;
}
