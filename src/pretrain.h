/* pretrain.h — pretraining one size of the ladder on the synthetic world (world.h).
 *
 * A size (width, depth) becomes an MLP with d_in = world.input_dim, d_out =
 * world.pretrain_targets, activation s->pretrain.act, initialised from
 * w2_key(seed, "init", width, depth), trained with BCE to predict the K pretraining
 * halfspaces of the latent z on
 *   n = clamp(round(params * examples_per_param), min_examples, max_examples)
 * examples: rows [0, n) of the stream w2_pretrain_data_key(world, seed). Bigger models get
 * more data (a Chinchilla-like rule), so they really know more, and the pools are nested:
 * a smaller size sees a prefix of a bigger size's pool. Targets are computed per batch
 * from the stored latents (16 floats a row instead of K), so the pool costs
 * (input_dim + latent_dim) floats a row.
 *
 * The pretrained model is a pure function of what w2_pretrain_hash covers: world spec and
 * generator version, pretraining spec, width, depth and seed (not the rank count: w2_train
 * and the model are layout-independent). Checkpoint caching is layered on top by the
 * caller using that hash.
 */
#ifndef W2_PRETRAIN_H
#define W2_PRETRAIN_H

#include <stdint.h>

#include "dmat.h"
#include "model.h"
#include "spec.h"
#include "world.h"

/* The architecture of `size` under sweep s. */
void w2_pretrain_arch(const W2Sweep *s, const W2SizeSpec *size, W2Arch *arch);
/* Pretraining set size of `size`: clamp(round(params * examples_per_param), min, max). */
long w2_pretrain_examples(const W2Sweep *s, const W2SizeSpec *size);
/* Optimizer steps of the pretraining run of `size`. */
long w2_pretrain_steps(const W2Sweep *s, const W2SizeSpec *size);
/* Exact training FLOPs of the pretraining run (w2_arch_step_flops x steps, the number
 * w2_train reports), for the planner. */
double w2_pretrain_flops(const W2Sweep *s, const W2SizeSpec *size);
/* Hash of exactly the settings that determine the pretrained model (fields hashed one by
 * one, never struct padding). */
uint64_t w2_pretrain_hash(const W2Sweep *s, const W2SizeSpec *size, uint64_t seed);

/* Creates and pretrains the model of `size` for `seed` on grid (collective over it).
 * *out is the trained model (batch workspace set to the pretraining batch); *flops (may be
 * NULL) the training FLOPs spent. w must have been created from s->world. On failure
 * *out is NULL. */
W2Err w2_pretrain(const W2Sweep *s, const W2World *w, const W2SizeSpec *size, uint64_t seed,
                  const W2Grid *grid, W2Model **out, double *flops);

/* Pretraining on a given pool instead of the world: a data file's /pretrain block
 * (W2TaskData.Xp, Yp of a file task). The model is d inputs -> k sigmoid outputs; it
 * trains on the first min(n_pool, clamp(params * examples_per_param, min, max)) rows with
 * the same schedule, init key and data-order key as w2_pretrain. The cache hash of such a
 * model must cover the pool's contents: pass a hash of the file (data_hash). */
long w2_pretrain_pool_examples(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                               long n_pool);
double w2_pretrain_pool_flops(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                              long n_pool);
uint64_t w2_pretrain_pool_hash(const W2Sweep *s, const W2SizeSpec *size, int d, int k,
                               long n_pool, uint64_t data_hash, uint64_t seed);
W2Err w2_pretrain_pool(const W2Sweep *s, const W2SizeSpec *size, int d, int k, const float *X,
                       const float *Y, long n_pool, uint64_t seed, const W2Grid *grid,
                       W2Model **out, double *flops);

#endif
