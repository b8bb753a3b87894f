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

long w2_pretrain_examples(const W2Sweep *s, const W2SizeSpec *size) {
  W2Arch a;
  w2_pretrain_arch(s, size, &a);
  double n = floor(w2_arch_params(&a) * s->pretrain.examples_per_param + 0.5);
  if (n < s->pretrain.min_examples) n = s->pretrain.min_examples;
  if (n > s->pretrain.max_examples) n = s->pretrain.max_examples;
  if (n < 1) n = 1;
  return (long)n;
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

uint64_t w2_pretrain_hash(const W2Sweep *s, const W2SizeSpec *size, uint64_t seed) {
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-pretrain", 11);
  int version = W2_WORLD_VERSION;
  HASH_FIELD(h, version);
  const W2WorldSpec *ws = &s->world;
  HASH_FIELD(h, ws->seed);
  HASH_FIELD(h, ws->latent_dim);
  HASH_FIELD(h, ws->input_dim);
  HASH_FIELD(h, ws->render_depth);
  HASH_FIELD(h, ws->render_gain);
  HASH_FIELD(h, ws->pretrain_targets);
  HASH_FIELD(h, ws->input_noise);
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

W2Err w2_pretrain(const W2Sweep *s, const W2World *w, const W2SizeSpec *size, uint64_t seed,
                  const W2Grid *grid, W2Model **out, double *flops) {
  *out = NULL;
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
  W2Model *m = NULL;
  W2Err err = W2_OK;
  if (!X || !Z) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory for %ld pretraining examples of size '%s' (%.1f MB)",
                         n, size->name, 4.0 * n * (d + dz) / 1e6);
    goto done;
  }
  w2_world_sample(w, w2_pretrain_data_key(&s->world, seed), 0, (int)n, X, Z);
  W2_CALL_GOTO(err, done, w2_model_create(grid, &arch, &m));
  w2_model_init(m, w2_key(seed, "init", (uint64_t)size->width, (uint64_t)size->depth));
  PretrainCtx ctx = {w, Z};
  W2TrainSpec ts;
  memset(&ts, 0, sizeof ts);
  ts.X = X;
  ts.n = (int)n;
  ts.batch = pretrain_batch(s, n);
  ts.steps = w2_pretrain_steps(s, size);
  ts.opt.lr = ps->hyper.lr;
  ts.opt.beta1 = 0.9f;
  ts.opt.beta2 = 0.999f;
  ts.opt.eps = 1e-8f;
  ts.opt.weight_decay = ps->hyper.weight_decay;
  ts.warmup_frac = ps->hyper.warmup_frac;
  ts.sched = ps->hyper.sched;
  ts.key = w2_key(seed, "pretrain-order", (uint64_t)size->width, (uint64_t)size->depth);
  ts.target = pretrain_target;
  ts.target_ctx = &ctx;
  W2TrainStats st;
  memset(&st, 0, sizeof st);
  W2_CALL_GOTO(err, done, w2_train(m, &ts, &st));
  if (flops) *flops = st.flops;
done:
  free(X);
  free(Z);
  if (err) {
    w2_model_destroy(&m);
    return err;
  }
  *out = m;
  return W2_OK;
}
