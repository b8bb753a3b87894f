/* pipeline.h — the weak-to-strong experiment of Burns et al. (2023) on w2sweep's models.
 *
 * For a task, a seed, a weak size w and a strong size s:
 *   weak supervisor  pretrained(w), new 1-output head, finetuned on split A with ground
 *                    truth; its soft predictions on B are the weak labels, on test they
 *                    are what the student's agreement is measured against.
 *   strong ceiling   pretrained(s) finetuned on B with ground truth.
 *   strong student   pretrained(s) trained on B with the weak labels by a method.
 *   PGR            = (student - weak) / (ceiling - weak), accuracies on the test split.
 *
 * Shared work is an artifact, computed once and stored in the cache directory under a
 * name that carries a hash of exactly the settings that determine it (w2_pipe_*_hash), so
 * a second sweep reuses it and a changed setting never reuses a stale one:
 *   pretrained/<size>-s<seed>-<hash>.h5          checkpoint (checkpoint.h)
 *   unsup/<task>-<size>-s<seed>-<hash>.h5        checkpoint after generative finetuning
 *   weak/<task>-<weak>-s<seed>-<hash>.h5         weak labels on B and test + curve
 *   ceiling/<task>-<size>-s<seed>[-unsup|-init]-<hash>.h5   ceiling result + curve
 *
 * Recipes: with `recipes` in the sweep (spec.h W2RecipeGrid), a weak supervisor's and a
 * ceiling's finetuning recipe is chosen for its own (task, size, seed): every recipe of
 * the grid is trained on a seeded (1 - val_frac) part of its split (A for the weak
 * supervisor, B for the ceiling) and scored by ground-truth accuracy on the held-out rest;
 * the best (first on ties; the grid's order is lr, then epochs, then anchor_decay, then
 * body_lr_scale) is retrained on the whole split. The test split is never read for it.
 * Students train with the recipe chosen for the ceiling of their size (the paper's
 * practice), or, with recipes.student = "weak", with their own: every recipe of the grid
 * trains with the student's loss on a seeded (1 - val_frac) part of its training rows and
 * is scored by agreement with the held-out rows' (weak) labels, ground truth of B unread;
 * the best is retrained on all of them. The selection is part of the weak and ceiling
 * artifacts (their hashes cover the grid) and the chosen recipe is stored with them and
 * in every cell row (recipe_*: the recipe the student trained with).
 *
 * Each w2_pipe_* function loads its artifact when present, else computes it (computing
 * its own prerequisites the same way) and stores it atomically (temp file + rename). The
 * sweep runner schedules artifacts as tasks so that no two ranks compute the same one.
 */
#ifndef W2_PIPELINE_H
#define W2_PIPELINE_H

#include <stdio.h>

#include "metrics.h"
#include "spec.h"
#include "world.h"

/* Curves over training: one entry per evaluation point. */
#define W2_CURVE_NFIELDS 10
typedef struct W2Curve {
  int n;
  double *v[W2_CURVE_NFIELDS]; /* indexed by W2CurveField; one allocation */
} W2Curve;

typedef enum {
  W2_C_STEP = 0,   /* optimizer steps done */
  W2_C_FLOPS,      /* finetuning FLOPs of this stage so far */
  W2_C_ACC, W2_C_AUROC, W2_C_ECE, W2_C_LOSS,
  W2_C_AGREE, W2_C_AGREE_RIGHT, W2_C_AGREE_WRONG,
  W2_C_WEAK_FIT    /* agreement with the training labels on B */
} W2CurveField;

/* Dataset names of the curve fields in results and artifact files. */
extern const char *const w2_curve_names[W2_CURVE_NFIELDS];

/* One finetuned model's outcome (weak supervisor, ceiling, or an intermediate model). */
typedef struct W2RunResult {
  W2Metrics final;   /* at the last evaluation point */
  double best_acc;   /* best test accuracy over the curve */
  double flops;      /* pretraining (+ generative finetuning) + finetuning FLOPs */
  double params;
  W2Curve curve;
  int n_b, n_test;
  float *prob_b;     /* (n_b) predictions on split B (the weak labels, for a supervisor) */
  float *prob_test;  /* (n_test) predictions on the test split */
  /* Recipes (see "Recipes" above): the finetuning recipe this model was trained with
   * (chosen, or the finetune stage when selection is off), its ground-truth accuracy on
   * the held-out validation rows of its split (NaN without selection), its index in the
   * recipe grid and the grid's size. */
  W2StageHyper recipe;
  double recipe_val_acc;
  int recipe_index, recipe_count;
  /* Ceilings: test accuracy of the finetuned model and of the ground-truth linear probe
   * (NaN when not computed), their validation accuracies, and which one is the ceiling
   * (1 = the probe). */
  double ft_acc, lp_acc, ft_val_acc, lp_val_acc;
  int chose_probe;
} W2RunResult;

void w2_run_result_free(W2RunResult **r);

#define W2_CHAIN_MAX (W2_MAX_CHAIN + 2)
/* One cell: (task, seed, weak, strong, method). Field names follow results/SCHEMA.md. */
typedef struct W2CellResult {
  char task[W2_NAME_MAX], weak[W2_NAME_MAX], strong[W2_NAME_MAX], method[W2_NAME_MAX];
  uint64_t seed;
  double weak_acc, ceiling_acc, student_acc, student_best_acc, pgr, pgr_best;
  double gap, gap_se;  /* ceiling - weak accuracy and its paired standard error, in points */
  char pgr_status[24]; /* why pgr/pgr_best are NaN (w2_pgr_guarded), "" when defined */
  double agree, agree_weak_right, agree_weak_wrong, student_auroc, student_ece;
  double weak_flops, strong_flops, weak_params, strong_params, wall_s;
  /* the ceiling (pipeline.h "Recipes"): finetuned and ground-truth-probe test accuracies
   * (NaN when the probe was not fitted) and whether ceiling_acc is the probe's (1) */
  double ceiling_ft_acc, ceiling_lp_acc, ceiling_is_probe;
  /* the student's finetuning recipe (the one chosen for its ceiling) and the weak
   * supervisor's (NaN for synthetic supervisors); head_init 1 = LP-FT */
  double recipe_lr, recipe_epochs, recipe_anchor_decay, recipe_body_lr_scale, recipe_head_init;
  double weak_recipe_lr, weak_recipe_epochs;
  int selected_point; /* evaluation point reported as final (early stopping), 0-based */
  W2Curve curve;
  /* what produced it (issue 13): the method's kind, its settings as canonical JSON
   * (method.h w2_method_json), the supervisor's kind ("trained" for a size, else the
   * synthetic kind), generative finetuning, the oracle flag, and the cell's settings hash
   * (w2_pipe_cell_hash: resume reuses the cell only when it matches) */
  char method_kind[W2_NAME_MAX], supervisor_kind[W2_NAME_MAX];
  char method_settings[256];
  double unsup, oracle;
  uint64_t config_hash;
  int nchain;         /* bootstrap: weak, intermediates..., strong */
  char chain[W2_CHAIN_MAX][W2_NAME_MAX];
  double chain_acc[W2_CHAIN_MAX];
} W2CellResult;

void w2_cell_result_clear(W2CellResult *c);

typedef struct W2Pipeline W2Pipeline;

/* cache_dir NULL or "" disables the cache (everything computed in memory). */
W2Err w2_pipeline_create(const W2Sweep *s, const W2Grid *grid, const char *cache_dir,
                         W2Pipeline **p);
void w2_pipeline_destroy(W2Pipeline **p);
const W2World *w2_pipeline_world(const W2Pipeline *p);
/* Progress lines of the stages (NULL = silent). */
void w2_pipeline_set_log(W2Pipeline *p, FILE *log);

/* The artifacts. Each returns a new object the caller frees. */
/* The pretrained model of (size, seed) for task t: on the world when t is NULL or a
 * built-in task, on t's data file otherwise (pretrain.h, pretraining sources), whose pool
 * comes from td (w2_task_data_create of t, any seed). */
W2Err w2_pipe_pretrained(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                         const W2TaskData *td, uint64_t seed, W2Model **out);
W2Err w2_pipe_weak(W2Pipeline *p, const char *weak, const W2TaskSpec *t, const W2TaskData *td,
                   uint64_t seed, W2RunResult **out);
/* Where a ceiling's model starts (`start` below; a method's unsup is W2_START_UNSUP):
 * pretrained; pretrained and generatively finetuned; or at its initialisation, untrained
 * (check (f)'s control, health.h: how much of the ceiling pretraining gives). */
typedef enum { W2_START_PRETRAINED = 0, W2_START_UNSUP = 1, W2_START_INIT = 2 } W2Start;
/* A start's name, the one spelling of it in a ceiling's cache file (<size>-s<seed>-<name>),
 * job id (<size>/<name>, plan.h) and /models role (ceiling_<name>): "" for pretrained,
 * "unsup", "init". */
static inline const char *w2_start_name(int start) {
  return start == W2_START_UNSUP ? "unsup" : start == W2_START_INIT ? "init" : "";
}
W2Err w2_pipe_ceiling(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                      const W2TaskData *td, uint64_t seed, int start, W2RunResult **out);
/* One cell; computes or loads every prerequisite. */
W2Err w2_pipe_cell(W2Pipeline *p, const W2TaskSpec *t, const W2TaskData *td, uint64_t seed,
                   const char *weak, const W2SizeSpec *strong, const W2MethodSpec *method,
                   W2CellResult *out);

/* K-fold cross-fitted labels of split B by models of `size` finetuned on labels y (one row
 * per element of B): each fold is labelled by a model trained on the other folds, never
 * on the rows it labels. mean_test (may be NULL): mean test prediction of the K models.
 * Used by bootstrap (each intermediate) and selftrain (each iteration), the models starting
 * from `start` (W2Start: a method's unsup); see pipeline.c. */
W2Err w2_pipe_crossfit_labels(W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                              const W2TaskData *td, uint64_t seed, int start, const float *y,
                              int folds, uint64_t salt, float *out_b, float *mean_test,
                              int count_pretrain, double *flops);

/* The settings hash of a cell: everything its result depends on — the method's kind and
 * settings (not its name), the weak supervisor's artifact hash (task and data content,
 * split, world, its size's pretraining or the synthetic spec, recipes, seed), the ceiling's
 * (strong size, unsup), every chain size's pretraining, the probe settings, the world, and
 * the cell code's version. Resume reuses a finished cell only when its stored hash is this
 * (sweeps that extend: comments, new tasks, sizes, methods or seeds leave it unchanged). */
uint64_t w2_pipe_cell_hash(const W2Pipeline *p, const W2TaskSpec *t, uint64_t seed,
                           const char *weak, const W2SizeSpec *strong, const W2MethodSpec *m);
/* Cache hashes: exactly the settings that determine each artifact. */
uint64_t w2_pipe_weak_hash(const W2Pipeline *p, const char *weak, const W2TaskSpec *t,
                           uint64_t seed);
uint64_t w2_pipe_ceiling_hash(const W2Pipeline *p, const W2SizeSpec *size,
                              const W2TaskSpec *t, uint64_t seed, int start);
/* Artifact paths (empty when the cache is disabled). */
void w2_pipe_pretrained_path(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                             uint64_t seed, char *path, size_t len);
void w2_pipe_weak_path(const W2Pipeline *p, const char *weak, const W2TaskSpec *t,
                       uint64_t seed, char *path, size_t len);
void w2_pipe_ceiling_path(const W2Pipeline *p, const W2SizeSpec *size, const W2TaskSpec *t,
                          uint64_t seed, int start, char *path, size_t len);

/* PGR; NaN when ceiling == weak. */
double w2_pgr(double weak, double student, double ceiling);

/* PGR only where it means something (issue 11): a gap ceiling - weak below the noise of
 * its own measurement flips or inflates PGR, so such a PGR is undefined.
 *
 * Standard error of the accuracy difference acc(a) - acc(b) of two models on the same n
 * rows, from their paired per-row correctness: sd(d) / sqrt(n), d_i = [a right on row i] -
 * [b right on row i] (sample sd, n - 1; "right" as in w2_accuracy). NaN when n < 2. */
double w2_paired_acc_diff_se(const float *pa, const float *pb, const float *y, int n);

#define W2_PGR_MIN_GAP 0.01 /* the smallest gap that defines PGR: 1 accuracy point */
/* PGR (student - weak) / (ceiling - weak) when the gap ceiling - weak (fractions) is at
 * least max(W2_PGR_MIN_GAP, 2 * gap_se), else NaN (a NaN gap_se counts as 0). *status is
 * set to "" when PGR is defined, "negative_gap" when the gap is < 0, "gap_below_noise"
 * otherwise. */
double w2_pgr_guarded(double weak, double student, double ceiling, double gap_se,
                      const char **status);

#endif
