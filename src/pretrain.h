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

/* ----------------------------------------------------------------------------------- */
/* Pretraining sources: where the models of a task are pretrained (data/FORMAT.md).
 *
 *   W2_PRE_WORLD    the synthetic world above (every built-in task): w2_pretrain*.
 *   W2_PRE_TARGETS  a data file with /pretrain/Y: d inputs -> K sigmoid outputs trained
 *                   with BCE to predict /pretrain/Y from /pretrain/X.
 *   W2_PRE_MASKED   masked-input reconstruction (denoising): each input of a row is masked
 *                   (set to 0) with probability W2_PRETRAIN_MASK_FRAC, freshly at every
 *                   presentation, and a linear head of d outputs predicts the original
 *                   values of the masked inputs (squared error over the masked entries
 *                   only, model.h W2_LOSS_MSE). The rows are /pretrain/X when the file
 *                   has it, otherwise the file's rows outside its test pool (dataset.h
 *                   w2_dataset_test_pool): test rows never enter pretraining.
 * A file's pool is presented exactly as many times as the world's stream would be: the
 * run is ceil(epochs * n / batch) steps, n = clamp(params * examples_per_param, min, max)
 * of the pretraining arch, over the pool in seeded epochs (a pool smaller than n is
 * repeated, with fresh masks), with the world's init key and data-order key. So the
 * compute axis counts a file's pretraining FLOPs by the same rule as the world's.
 *
 * The cache hash of a file source covers the recipe, the size, the seed, the source kind,
 * its shape, the mask fraction and the content hash of the data it reads (dataset.h
 * W2DataInfo: /pretrain for TARGETS and for MASKED on /pretrain/X; all of /X and the test
 * pool rule for MASKED on /X). World sources keep w2_pretrain_hash. */
#define W2_PRETRAIN_MASK_FRAC 0.25

/*   W2_PRE_TEXT     next-byte prediction on the WordNet corpus, transformer sizes (every
 *                   text task; texttask.h "Pretraining"): d_in = W2_TEXT_ROW, d_out = 256,
 *                   data_hash = w2_text_pretrain_hash; the run is w2_text_pretrain. */
typedef enum { W2_PRE_WORLD = 0, W2_PRE_TARGETS, W2_PRE_MASKED, W2_PRE_TEXT } W2PretrainKind;

typedef struct W2PretrainSource {
  W2PretrainKind kind;
  int d_in, d_out;      /* model inputs and pretraining outputs */
  long n_pool;          /* rows of the pool (0 for the world: an endless stream) */
  uint64_t data_hash;   /* content of what the pool is made of (0 for the world) */
} W2PretrainSource;

/* The source of task t under s (opens t's data file through the w2_dataset_info cache). */
W2Err w2_pretrain_source(const W2Sweep *s, const W2TaskSpec *t, W2PretrainSource *src);
/* 1 when a and b pretrain the same models (one cache entry, one job per size and seed). */
int w2_pretrain_source_same(const W2PretrainSource *a, const W2PretrainSource *b);
void w2_pretrain_source_arch(const W2Sweep *s, const W2SizeSpec *size,
                             const W2PretrainSource *src, W2Arch *arch);
double w2_pretrain_source_flops(const W2Sweep *s, const W2SizeSpec *size,
                                const W2PretrainSource *src);
uint64_t w2_pretrain_source_hash(const W2Sweep *s, const W2SizeSpec *size,
                                 const W2PretrainSource *src, uint64_t seed);
/* Pretrains on src: the world w for W2_PRE_WORLD (X, Y unused), else the pool X
 * (n_pool x d_in) and, for W2_PRE_TARGETS, Y (n_pool x d_out). */
W2Err w2_pretrain_source_run(const W2Sweep *s, const W2World *w, const W2SizeSpec *size,
                             const W2PretrainSource *src, const float *X, const float *Y,
                             uint64_t seed, const W2Grid *grid, W2Model **out, double *flops);
/* The model w2_pretrain_source_run starts from, untrained: the same shape and the same
 * initialisation (seed), no step taken, flops 0. Check (f)'s control (health.h): a
 * ceiling trained from here says how much of the pretrained ceiling pretraining gave. */
W2Err w2_pretrain_source_init(const W2Sweep *s, const W2SizeSpec *size,
                              const W2PretrainSource *src, uint64_t seed, const W2Grid *grid,
                              W2Model **out);

#endif
