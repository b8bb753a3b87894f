/* model.h — the MLP family that w2sweep pretrains and finetunes, written against W2Mat.
 *
 * An MLP of `depth` hidden layers of `width` units (ReLU or tanh) and a linear head of
 * d_out logits. Every output is a sigmoid unit trained with (soft-label) binary cross
 * entropy: pretraining predicts many binary functions at once (d_out = K), finetuning a
 * task is d_out = 1. One loss serves all methods because every weak-to-strong loss of the
 * paper is "BCE against a target that may depend on the (detached) student" — see train.h
 * (W2TrainSpec.target) and src/methods/method.h (each method's targets hook).
 * The one exception is masked-input reconstruction (pretraining on a user's data without
 * targets, pretrain.h): its head is linear, d_out = d_in real values, trained with a
 * squared error over the masked entries only (m->loss = W2_LOSS_MSE and an element mask).
 *
 * Shapes (B = batch rows, K_l x N_l = layer l):
 *   act[0]        (B, d_in)      the input batch
 *   W[l]          (K_l, N_l)     K_0 = d_in, K_l = width (l > 0); N_l = width, N_depth = d_out
 *   b[l]          (N_l)          replicated on every rank of the grid
 *   act[l+1]      (B, N_l)       activation(act[l] W[l] + b[l]); act[depth+1] = logits (no act)
 * Backward keeps only two (B, width) gradient buffers and reuses act[] for the derivative
 * (ReLU' and tanh' are functions of the output), so activation memory is (depth+1) blocks.
 *
 * Lifecycle: w2_model_create -> w2_model_init (or load a checkpoint) -> w2_model_set_batch
 * -> [forward / backward / adamw_step]* -> w2_model_destroy. No allocation happens in
 * forward, backward or the optimizer.
 */
#ifndef W2_MODEL_H
#define W2_MODEL_H

#include <stdint.h>

#include "dmat.h"

typedef enum { W2_ACT_RELU = 0, W2_ACT_TANH = 1 } W2Act;

typedef struct W2Arch {
  int d_in;   /* input features */
  int width;  /* hidden units per layer */
  int depth;  /* hidden layers, >= 1 */
  int d_out;  /* head outputs */
  W2Act act;
} W2Arch;

#define W2_MAX_LAYERS 64

/* What w2_model_loss computes from the logits z and the loaded targets t (per output):
 *   W2_LOSS_BCE  BCE(t, sigmoid(z)) = -t log f - (1-t) log(1-f), f = sigmoid(z); d/dz = f - t.
 *                Every method whose loss is "CE against a (detached) target" uses it.
 *   W2_LOSS_RKL  reverse KL(f || t) = f log(f/t) + (1-f) log((1-f)/(1-t)), the student's
 *                distribution against the target's; d/dz = f (1-f) (z - logit t), which is
 *                NOT the gradient of a CE against any fixed target (mode-seeking: the student
 *                is pushed toward the target only as fast as its own confidence allows).
 *                Targets are clamped to [1e-6, 1 - 1e-6] (a hard 0/1 target has infinite KL).
*   W2_LOSS_MSE  half the squared error on the raw logits, over the entries of an element
 *                mask (masked-input reconstruction, pretraining on a data file).
 */
typedef enum { W2_LOSS_BCE = 0, W2_LOSS_MSE = 1, W2_LOSS_RKL = 2 } W2Loss;

typedef struct W2AdamW {
  float lr;           /* peak learning rate */
  float beta1, beta2, eps;
  float weight_decay; /* decoupled, on weight matrices only */
  float anchor_decay; /* decoupled decay toward the anchor (w2_model_set_anchor) of the
                         anchored layers: p -= lr * anchor_decay * (p - anchor), the
                         "L2-SP" regulariser that keeps a finetuned body near its
                         pretrained weights; 0 = off */
  float body_lr_scale; /* learning rate of the hidden layers relative to the head's (a fresh
                          head learns at lr while a pretrained body moves slowly); 0 = 1 */
} W2AdamW;

typedef struct W2Model {
  W2Arch arch;
  const W2Grid *grid;
  int nlayers;                     /* depth + 1 (hidden layers + head) */
  W2Mat W[W2_MAX_LAYERS], dW[W2_MAX_LAYERS], mW[W2_MAX_LAYERS], vW[W2_MAX_LAYERS];
  float *b[W2_MAX_LAYERS], *db[W2_MAX_LAYERS], *mb[W2_MAX_LAYERS], *vb[W2_MAX_LAYERS];
  long adam_t;                     /* AdamW step count (bias correction) */
  int freeze_body;                 /* 1: backward and update touch only the head (probes) */
  W2Loss loss;                     /* what w2_model_loss computes (BCE unless set) */
  /* workspace for batch B (w2_model_set_batch) */
  int B;
  W2Mat act[W2_MAX_LAYERS + 1];    /* act[0] input, act[l+1] output of layer l */
  W2Mat g[2];                      /* (B, width) gradient ping-pong */
  W2Mat dlogits;                   /* (B, d_out) */
  W2Mat target;                    /* (B, d_out) loss targets */
  W2Mat emask;                     /* (B, d_out) element weights of the MSE loss, valid when
                                      has_emask (w2_model_load_target_masked) */
  int has_emask;
  float *row_weight;               /* (B) per-row loss weights, 0 for padding rows */
  float *host_logits;              /* (B * d_out) gathered logits, row-major */
  float *host_tmp;                 /* (B * d_out) gather scratch */
  int *rows;                       /* (B) row indices scratch for predict */
  double flops;                    /* training FLOPs spent on this model so far */
  float *anchorW[W2_MAX_LAYERS];   /* local blocks of W / b at w2_model_set_anchor (body */
  float *anchorb[W2_MAX_LAYERS];   /* layers only; NULL = not anchored) */
  /* Another model family (issue 15; "Families" below): NULL for this file's MLP. */
  const struct W2ModelOps *ops;
  void *impl;                      /* the family's own model (e.g. W2Xf) */
} W2Model;

/* Families. The pipeline, w2_train and the methods drive every model through the entry
 * points of this header, so a W2Model can be another family's model behind an ops table:
 * with m->ops set, every entry point below that has a member of that name forwards to
 * it (w2_model_create / _init / the w2_arch_* helpers are the MLP's own; a family has its
 * own constructor, e.g. xfmodel.h). Such a model keeps in W2Model only what the generic
 * code reads: arch (d_in = input columns of the data rows, width = the feature width of
 * w2_model_features, depth, d_out = 1), grid, B, rows and host_logits (set_batch allocates
 * them; w2_model_predict is generic over load_batch / forward / gather_logits), loss,
 * freeze_body and flops. An MLP (ops NULL) takes exactly the code paths it always took. */
typedef struct W2ModelOps {
  const char *family;                                       /* "transformer" */
  void (*destroy)(W2Model *m);                              /* frees impl, not m */
  W2Err (*create_like)(const W2Model *src, W2Model **out);  /* same family, arch, grid */
  W2Err (*set_batch)(W2Model *m, int B);
  W2Err (*reset_head)(W2Model *m, int d_out, uint64_t key);
  /* head <- (w (width), b): LP-FT's probe head (W2StageHyper.head_init) */
  W2Err (*set_head)(W2Model *m, const float *w, float b);
  void (*reset_optimizer)(W2Model *m);
  void (*copy_params)(const W2Model *src, W2Model *dst);
  void (*load_batch)(W2Model *m, const float *X, const int *rows, int nrows);
  void (*load_target)(W2Model *m, const float *target, const float *weight, int nrows);
  W2Err (*forward)(W2Model *m);
  W2Err (*gather_logits)(W2Model *m);
  W2Err (*loss)(W2Model *m, double *loss);
  W2Err (*backward)(W2Model *m);
  void (*adamw)(W2Model *m, const W2AdamW *opt, float lr);
  W2Err (*features)(W2Model *m, const float *X, int n, int d, float *feat);
  double (*params)(const W2Model *m);
  double (*step_flops)(const W2Model *m, int B);
  double (*forward_flops)(const W2Model *m, double n);
  /* checkpoints (checkpoint.h forwards w2_checkpoint_save / _load here) */
  W2Err (*save)(const W2Model *m, const char *path);
  W2Err (*load)(W2Model *m, const char *path);
} W2ModelOps;

/* A new model of src's family, architecture and grid (parameters: a fresh init; copy them
 * with w2_model_copy_params). */
W2Err w2_model_create_like(const W2Model *src, W2Model **out);
/* Family-independent numbers of a model (the MLP's: w2_arch_params(&m->arch),
 * w2_arch_step_flops(&m->arch, B, m->freeze_body), w2_arch_forward_flops(&m->arch, n)). */
double w2_model_params(const W2Model *m);
double w2_model_step_flops(const W2Model *m, int B);
double w2_model_forward_flops(const W2Model *m, double n);
/* Sets the 1-output head to weights w (width) and bias b (LP-FT). */
W2Err w2_model_set_head(W2Model *m, const float *w, float b);

W2Err w2_model_create(const W2Grid *grid, const W2Arch *arch, W2Model **model);
void w2_model_destroy(W2Model **model);
/* Initialises all parameters (He/Xavier-style normal, biases 0) from key. */
void w2_model_init(W2Model *m, uint64_t key);
/* Replaces the head by a fresh d_out-output head initialised from key (finetuning a
 * pretrained body). Resets the optimizer state of the head. */
W2Err w2_model_reset_head(W2Model *m, int d_out, uint64_t key);
/* Allocates the workspace for batch size B (frees a previous one). */
W2Err w2_model_set_batch(W2Model *m, int B);
/* Zeroes AdamW moments and the step count (a new training run). */
void w2_model_reset_optimizer(W2Model *m);
/* Copies parameters (not optimizer state or workspace) from src to dst (same arch, grid). */
void w2_model_copy_params(const W2Model *src, W2Model *dst);
/* Remembers the current weights of the body (hidden layers; the head is excluded, it is
 * new) as the point W2AdamW.anchor_decay pulls back to. clear frees them. */
W2Err w2_model_set_anchor(W2Model *m);
void w2_model_clear_anchor(W2Model *m);

/* Number of parameters. */
double w2_arch_params(const W2Arch *a);
/* FLOPs of one training step at batch B: forward + backward + AdamW (see flops rules in
 * model.c: 2 per multiply-add, 1 per bias add / activation / its derivative, 5 per loss
 * element, 12 per AdamW parameter update). freeze_body counts only the head's backward. */
double w2_arch_step_flops(const W2Arch *a, int B, int freeze_body);
/* FLOPs of a forward pass over n rows (evaluation / labelling). */
double w2_arch_forward_flops(const W2Arch *a, double n);
/* Analytic memory of training at batch B, bytes per rank if evenly spread over p ranks. */
double w2_arch_train_bytes(const W2Arch *a, int B, int p);

/* Fills act[0] with rows rows[0..nrows) of X (row-major, n x d_in, on every rank);
 * rows nrows..B-1 are zero padding with row weight 0. X must have exactly d_in columns:
 * the entry points that take data (w2_train, w2_model_predict, w2_model_features) check
 * the caller's column count against d_in (W2_ERR_INTERNAL), because a mismatch here reads
 * other rows' values, or past the end of X, without any error. */
void w2_model_load_batch(W2Model *m, const float *X, const int *rows, int nrows);
/* Fills the target matrix from row-major host targets (nrows x d_out) and row weights
 * (NULL = 1 for every real row). */
void w2_model_load_target(W2Model *m, const float *target, const float *weight, int nrows);
/* The same with per-element weights mask (nrows x d_out, row-major; row weights 1): only
 * entries with a non-zero mask count in the MSE loss (masked reconstruction). */
void w2_model_load_target_masked(W2Model *m, const float *target, const float *mask,
                                 int nrows);

/* Forward pass of the loaded batch; logits in act[nlayers]. Collective. */
W2Err w2_model_forward(W2Model *m);
/* Gathers the logits to host_logits (B x d_out row-major) on every rank. Collective. */
W2Err w2_model_gather_logits(W2Model *m);
/* Loss of the loaded targets; writes dlogits. Returns the loss on every rank. Collective.
 *   W2_LOSS_BCE, W2_LOSS_RKL: mean over weighted rows of the summed loss over outputs,
 *                divided by d_out.
 *   W2_LOSS_MSE: sum of w_ij (z_ij - t_ij)^2 / 2 over the weighted entries divided by the
 *                sum of w_ij, w_ij = row weight x element mask (mask 1 when none loaded).
 * All count 5 FLOPs per loss element (model.c's convention). */
W2Err w2_model_loss(W2Model *m, double *loss);
/* Backward from dlogits into dW/db (body skipped when freeze_body). Collective. */
W2Err w2_model_backward(W2Model *m);
/* One AdamW update with learning rate lr. */
void w2_model_adamw(W2Model *m, const W2AdamW *opt, float lr);

/* Sigmoid probabilities of all d_out outputs for n rows of X (n x d, row-major; d must
 * equal d_in, else W2_ERR_INTERNAL): prob (n x d_out row-major), on every rank. Uses the
 * batch workspace in chunks of B. Collective. */
W2Err w2_model_predict(W2Model *m, const float *X, int n, int d, float *prob);
/* Last hidden layer features (n x width row-major) for n rows of X (n x d, d = d_in), on
 * every rank. */
W2Err w2_model_features(W2Model *m, const float *X, int n, int d, float *feat);

#endif
