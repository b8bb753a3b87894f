/* train.h — one training run of a W2Model: AdamW, warm-up + decay schedule, minibatches in
 * a seeded order, per-batch loss targets, evaluation at log-spaced points.
 *
 * Data order: step s uses positions s*B .. s*B+B-1 of an endless sequence of epochs, epoch
 * e being the permutation w2_permutation(key, e) of the n training rows, so a run is a pure
 * function of (model init, data, spec) and never of rank count or timing. */
#ifndef W2_TRAIN_H
#define W2_TRAIN_H

#include "model.h"

typedef enum { W2_SCHED_CONSTANT = 0, W2_SCHED_COSINE = 1, W2_SCHED_LINEAR = 2 } W2Sched;

/* Computes the loss targets of one batch. prob is the student's current sigmoid output on
 * the batch (nrows x d_out, row-major; NULL unless W2TrainSpec.target_needs_prob), rows the
 * batch's row indices into the training set, progress = step / steps in [0,1).
 * Writes target (nrows x d_out) and weight (nrows; the loss is normalised by their sum). */
typedef W2Err (*W2TargetFn)(void *ctx, int nrows, const int *rows, const float *prob,
                            double progress, float *target, float *weight);

/* Builds one batch itself (masked reconstruction corrupts its inputs): for the batch rows
 * `rows` (indices into the training set) of optimizer step `step`, writes the inputs x
 * (nrows x d_in), the targets (nrows x d_out) and element weights mask (nrows x d_out,
 * see w2_model_load_target_masked). */
typedef W2Err (*W2BatchFn)(void *ctx, int nrows, const int *rows, long step, float *x,
                           float *target, float *mask);

/* Called at each evaluation point; step counts optimizer steps done (1..steps). */
typedef W2Err (*W2EvalFn)(void *ctx, W2Model *m, long step, double train_loss);

typedef struct W2TrainSpec {
  const float *X;      /* (n, d) row-major training inputs, on every rank */
  int d;               /* columns of X: must be the model's d_in (W2_ERR_INTERNAL if not) */
  const float *Y;      /* (n, d_out) row-major targets, used when target == NULL */
  int n;
  int batch;           /* rows per step */
  long steps;          /* optimizer steps (see w2_train_steps_for_epochs) */
  W2AdamW opt;
  float warmup_frac;   /* fraction of steps with linear warm-up from 0 */
  W2Sched sched;       /* decay after warm-up, to 0 at the last step */
  uint64_t key;        /* data-order key */
  W2TargetFn target;   /* NULL: targets are rows of Y */
  void *target_ctx;
  int target_needs_prob;
  W2BatchFn batch_fn;  /* non-NULL: builds inputs, targets and masks (X, Y, target unused) */
  void *batch_ctx;
  W2Loss loss;         /* the model's loss during this run: W2_LOSS_BCE (0, default),
                          W2_LOSS_RKL against the targets, or W2_LOSS_MSE (masked
                          reconstruction) */
  int n_eval;          /* evaluation points asked for (0: none): min(n_eval, steps) are made,
                          log-spaced (w2_train_eval_step), the last always the final step */
  W2EvalFn eval;
  void *eval_ctx;
} W2TrainSpec;

typedef struct W2TrainStats {
  double final_loss;   /* mean training loss over the last evaluation interval */
  double flops;        /* training FLOPs of this run (evaluation excluded) */
  long steps;
  int n_evals;         /* evaluation points made: w2_train_eval_count(steps, n_eval) */
} W2TrainStats;

/* Steps for a number of epochs over n rows at batch B (at least 1). */
long w2_train_steps_for_epochs(int n, int batch, double epochs);
/* Learning rate at step s (0-based) of spec. */
float w2_train_lr(const W2TrainSpec *spec, long s);
/* Evaluation points a run of `steps` steps makes when n_eval are asked for:
 * min(n_eval, steps) (0 when n_eval <= 0), so a stage shorter than n_eval steps is
 * evaluated after every step and its curve is that much shorter. */
int w2_train_eval_count(long steps, int n_eval);
/* The step (1-based) of evaluation point k (0-based, k < w2_train_eval_count) of a run of
 * `steps` steps: log-spaced from step 1 to `steps` (round(steps^(k/(m-1))) for m points,
 * adjusted to be strictly increasing), so curves start at the first steps and a typical
 * stage (60 epochs, 10 points) has 4-5 points inside its first epoch; the last is `steps`. */
long w2_train_eval_step(long steps, int n_eval, int k);

/* Runs the training. The model's batch workspace is (re)set to spec->batch. Collective over
 * the model's grid. Fails with W2_ERR_NUM when the loss becomes NaN or infinite. */
W2Err w2_train(W2Model *m, const W2TrainSpec *spec, W2TrainStats *stats);

#endif
