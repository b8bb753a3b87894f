/* spec.h — the settings of a sweep, as parsed from a sweep file (sweepcfg.c).
 *
 * This is w2sweep's one options database: every stage reads its settings from these
 * structs and nothing else, so a setting that matters is always in the sweep file, its
 * hash (artifact cache keys) and the results file's provenance. Defaults live in
 * w2_sweep_defaults(); the sweep file overrides them. */
#ifndef W2_SPEC_H
#define W2_SPEC_H

#include <stdint.h>

#include "model.h"
#include "train.h"

#define W2_NAME_MAX 32
#define W2_MAX_SIZES 32
#define W2_MAX_TASKS 16
#define W2_MAX_METHODS 32
#define W2_MAX_SEEDS 64
#define W2_MAX_SUPERVISORS 16
#define W2_MAX_CHAIN 8
#define W2_PATH_MAX 1024

/* One entry of the model-size ladder. */
/* Model families (issue 15): every size of a sweep is of one family. */
typedef enum { W2_FAMILY_MLP = 0, W2_FAMILY_TRANSFORMER = 1, W2_NFAMILIES } W2Family;
/* Their names in sweep files, results (/sizes) and throughput models, by W2Family. */
extern const char *const w2_family_names[W2_NFAMILIES];

typedef struct W2SizeSpec {
  char name[W2_NAME_MAX];
  int width, depth;
  int family;            /* W2Family */
  int heads, ctx;        /* transformer only: attention heads, context in bytes */
  int ranks;             /* ranks of its group (1 = a single rank; 0 = let the planner pick) */
  int line;              /* its line in the sweep file (check's memory errors name it) */
} W2SizeSpec;

/* The synthetic world that generates pretraining data and built-in tasks (world.h). */
typedef struct W2WorldSpec {
  uint64_t seed;         /* fixes the rendering network, pretraining functions, tasks */
  int latent_dim;        /* hidden causes z ~ N(0, I) */
  int input_dim;         /* rendered inputs x = render(z) */
  int render_depth;      /* tanh layers of the rendering */
  double render_gain;    /* weight scale of the rendering (larger = more nonlinear) */
  int pretrain_targets;  /* K binary functions of z predicted in pretraining */
  double input_noise;    /* std of Gaussian noise added to x */
  /* Saliency (world.h "Saliency"): the built-in tasks are functions of the first task_dim
   * latent coordinates (0 = all of them), and a `saliency` fraction of the pretraining
   * targets are halfspaces inside that task subspace, so pretraining makes the causes the
   * tasks use explicit in few directions of the representation. 0 = today's isotropic
   * pretraining. */
  int task_dim;
  double saliency;
  /* Distribution shift: the last shift_regimes rendering regimes never appear in
   * pretraining; task rows use all of them (what generative finetuning, `unsup`, adapts
   * to). 0 = none. */
  int shift_regimes;
} W2WorldSpec;

typedef enum {
  W2_TASK_LINEAR = 0,    /* halfspace of z */
  W2_TASK_NONLINEAR,     /* AND of two new halfspaces of z: min(u.z, v.z) > median */
  W2_TASK_SPARSE,        /* function of a few coordinates of z */
  W2_TASK_FILE,          /* user data from an HDF5 file (dataset.h) */
  W2_TASK_TEXT           /* a WordNet word-class task (texttask.h; transformer sizes) */
} W2TaskKind;

typedef enum { W2_TEXT_INPUT_WORD = 0, W2_TEXT_INPUT_GLOSS } W2TextInput; /* "word", "gloss" */

typedef struct W2TaskSpec {
  char name[W2_NAME_MAX];
  W2TaskKind kind;
  char file[W2_PATH_MAX]; /* W2_TASK_FILE only */
  char text_class[W2_NAME_MAX]; /* W2_TASK_TEXT only: "animal", "artifact", ... */
  W2TextInput text_input;       /* W2_TASK_TEXT only: what the model reads (texttask.h) */
  int line;               /* its line in the sweep file (data errors are reported there) */
} W2TaskSpec;

/* Split sizes (rows); all disjoint, drawn by seed. */
typedef struct W2SplitSpec {
  int n_a, n_b, n_test;
} W2SplitSpec;

/* Hyperparameters of one training stage. */
typedef struct W2StageHyper {
  double epochs;
  int batch;
  float lr, weight_decay, warmup_frac;
  W2Sched sched;
  float anchor_decay;    /* finetuning: decay of the body toward its pretrained weights
                            (W2AdamW.anchor_decay; 0 = plain AdamW) */
  float body_lr_scale;   /* hidden layers' lr relative to the head's (W2AdamW; 0 or 1 = same) */
  int head_init;         /* 0: the fresh head as initialised; 1 ("probe"): the head starts
                            as the cross-validated linear probe of the stage's own training
                            labels on the body's frozen features (LP-FT, Kumar et al. 2022),
                            so finetuning starts from a good readout instead of tearing the
                            pretrained features apart to fit a random one */
} W2StageHyper;

/* Linear probes (probe.h): L2 logistic regression on standardised frozen features, solved
 * to convergence; the penalty is chosen by k-fold cross-validation over a log grid on the
 * labels the probe is trained on. No SGD settings: there are no epochs to choose. */
typedef struct W2ProbeSpec {
  int folds;             /* k of the cross-validation (5) */
  int nlambda;           /* grid points from lambda_max down to lambda_min (13) */
  double lambda_min, lambda_max; /* penalty on the mean loss (1e-4, 1e2) */
  int criterion;         /* W2ProbeCriterion: 0 held-out CE, 1 held-out accuracy */
} W2ProbeSpec;

/* Pretraining: examples grow with parameters so that bigger models really learn more. */
typedef struct W2PretrainSpec {
  W2StageHyper hyper;    /* hyper.epochs is passes over the pretraining set */
  double examples_per_param; /* pretraining set size = clamp(params * this, min, max) */
  int min_examples, max_examples;
  W2Act act;
} W2PretrainSpec;

/* Synthetic supervisors with controlled errors (paper Appendix E), usable as weak sizes. */
typedef enum {
  W2_SUP_UNIFORM = 0,    /* flip a random subset of labels */
  W2_SUP_LATENT,         /* flip where one latent cause is largest: easy to imitate */
  W2_SUP_UNLEARNABLE     /* flip a hash-chosen subset: no feature predicts it */
} W2SupervisorKind;

typedef struct W2SupervisorSpec {
  char name[W2_NAME_MAX];
  W2SupervisorKind kind;
  double error_rate;     /* in [0, 0.5) */
  double confidence;     /* soft label given: p = confidence for the label it states */
  int check;             /* 1: added by `checks` (known-answer cells only; see W2CheckSpec) */
} W2SupervisorSpec;

typedef enum {
  W2_M_NAIVE = 0,        /* CE on soft weak labels */
  W2_M_CONF,             /* auxiliary confidence loss */
  W2_M_LP_WEAK,          /* linear probe on frozen pretrained features, weak labels */
  W2_M_LP_GT,            /* linear probe, ground truth (a reference, not w2s) */
  W2_M_FTWEAK_LPGT,      /* finetune on weak labels, then linear probe on GT */
  W2_M_ES_WEAK,          /* early stopping on weak-label agreement (held-out part of B) */
  W2_M_ES_GT_ORACLE,     /* early stopping on test accuracy: an oracle, always marked */
  W2_M_BOOTSTRAP,        /* weak -> chain[0] -> ... -> strong, each labelling the next */
  W2_M_POE,              /* product of experts: target ∝ p_student * p_weak */
  W2_M_KL,               /* reverse KL(student || weak), a loss of its own (train.h) */
  W2_M_WINDOW,           /* CE only where student confidence < radius */
  W2_M_SELFTRAIN,        /* strong-to-strong self-training, cross-fitted relabelling */
  W2_M_CLEAN_KNN,        /* relabel/drop the weak labels least consistent with kNN on features */
  W2_M_CLEAN_LR,         /* ... with logistic regression on features */
  W2_M_COUNT             /* built-in kinds; the registry may hold more (test builds) */
} W2MethodKind;

typedef struct W2MethodSpec {
  char name[W2_NAME_MAX]; /* unique display name (a kind may appear with several settings) */
  W2MethodKind kind;
  int unsup;             /* 1: generative (unsupervised) finetuning before, ceiling too */
  double alpha_max;      /* conf: final α (paper: 0.75 largest students, 0.5 otherwise) */
  double alpha_warmup;   /* conf: fraction of steps over which α rises linearly (0.2) */
  double window_radius;  /* window: confidence radius; < 0 = median weak confidence */
  int selftrain_iters;   /* selftrain */
  int folds;             /* bootstrap, selftrain: K of the K-fold cross-fitted relabelling */
  double clean_frac;     /* clean_*: fraction of weak labels relabelled or dropped */
  int clean_drop;        /* clean_*: 1 drop, 0 relabel */
  int knn_k;             /* clean_knn */
  double es_holdout;     /* es_weak: fraction of B held out for the stopping signal */
  char chain[W2_MAX_CHAIN][W2_NAME_MAX]; /* bootstrap: intermediate size names */
  int nchain;
  double extra[4];       /* settings of registry-only kinds (src/methods/method.h) */
} W2MethodSpec;

/* Recipe selection (pipeline.h "Recipes"): the finetuning recipe of every weak supervisor
 * and ceiling is chosen per (task, size, seed) among the product of these grids by
 * ground-truth accuracy on a held-out val_frac of its own training split (never the test
 * split); students use the recipe chosen for the ceiling of their size. An empty grid
 * keeps the finetune stage's value. enabled = 0: no selection, the finetune stage as is. */
#define W2_MAX_GRID 8
typedef struct W2RecipeGrid {
  int enabled;
  int nlr, nepochs, nanchor, nbody;
  float lr[W2_MAX_GRID];
  float body_lr_scale[W2_MAX_GRID];
  double epochs[W2_MAX_GRID];
  float anchor[W2_MAX_GRID];
  double val_frac;
  int probe_ceiling;     /* 1: the ceiling is the better, on validation, of the finetuned
                            model and the ground-truth linear probe */
  int student;           /* W2_STUDENT_RECIPE_*: where a student's recipe comes from */
} W2RecipeGrid;
/* recipes.student: "ceiling" = the recipe chosen for the ceiling of the student's size (the
 * paper's practice); "weak" = selected per cell on a held-out val_frac of the student's own
 * (weak) labels of B, with the method's own loss, then retrained on all of them. */
enum { W2_STUDENT_RECIPE_CEILING = 0, W2_STUDENT_RECIPE_WEAK = 1 };

/* Known-answer checks (pipeline.h "Checks"): cells the runner adds to the sweep with
 * synthetic supervisors named check_gt (ground truth) and check_uNN (uniform errors at
 * each rate of `noise`), trained into the largest strong size with the first naive and
 * the first conf method; the health table of the results file is computed from them. */
#define W2_MAX_CHECK_NOISE 8
typedef struct W2CheckSpec {
  int enabled;
  int nnoise;
  double noise[W2_MAX_CHECK_NOISE];
  double pgr_tol;        /* (a): |PGR of the GT supervisor's student - 1| <= pgr_tol */
  double min_ceiling_rise; /* (e): points the ceiling must rise from the smallest strong size
                              to the largest; NaN (the default): (e) is reported only */
  int pretrain_control;    /* (f): train the largest strong size's ceiling from
                              initialisation too (1 when min_pretrain_gain is set) */
  double min_pretrain_gain; /* (f): points the pretrained ceiling must beat that control by;
                               NaN (the default): (f) is reported only */
} W2CheckSpec;

/* Text tasks and transformer pretraining (texttask.h): where WordNet is, and how many
 * words of each class a task keeps. */
typedef enum { W2_TEXT_CORPUS_WORDNET = 0, W2_TEXT_CORPUS_DICTIONARY } W2TextCorpus;

typedef struct W2TextSpec {
  char wordnet[W2_PATH_MAX]; /* the WordNet database directory (/usr/share/wordnet) */
  int max_per_class;         /* words of each label per task (0 = all) */
  W2TextCorpus corpus;       /* pretraining text (texttask.h "Pretraining") */
} W2TextSpec;

typedef struct W2Sweep {
  char name[W2_NAME_MAX * 2];
  char source_path[W2_PATH_MAX];   /* the sweep file */
  char *config_text;               /* its text, for provenance (owned) */
  char output[W2_PATH_MAX];        /* results file */
  char cache_dir[W2_PATH_MAX];     /* artifact cache */
  int file_locking;                /* HDF5 file locking (off on Lustre/GPFS/NFS) */
  int max_attempts;                /* per cell */
  double progress_interval;        /* seconds between progress lines */
  double rank_memory_gb;           /* per-rank memory limit for the planner (0 = none) */

  W2WorldSpec world;
  W2SplitSpec split;
  W2PretrainSpec pretrain;
  W2StageHyper finetune;           /* weak supervisor, ceiling and student finetuning */
  W2ProbeSpec probe;               /* linear probes */
  W2StageHyper unsup;              /* generative finetuning on task inputs */
  W2RecipeGrid recipes;            /* recipe selection for weak, ceiling and students */
  W2CheckSpec checks;              /* known-answer checks */
  W2TextSpec text;                 /* text tasks (transformer sweeps) */
  int eval_points;

  uint64_t seeds[W2_MAX_SEEDS];
  int nseeds;
  W2SizeSpec sizes[W2_MAX_SIZES];
  int nsizes;
  W2TaskSpec tasks[W2_MAX_TASKS];
  int ntasks;
  W2SupervisorSpec supervisors[W2_MAX_SUPERVISORS];
  int nsupervisors;
  char weak[W2_MAX_SIZES + W2_MAX_SUPERVISORS][W2_NAME_MAX]; /* size or supervisor names */
  int nweak;
  char strong[W2_MAX_SIZES][W2_NAME_MAX];
  int nstrong;
  W2MethodSpec methods[W2_MAX_METHODS];
  int nmethods;
} W2Sweep;

/* Fills every field with its default (see sweepcfg.c for the values and their reasons). */
void w2_sweep_defaults(W2Sweep *s);
/* Parses and validates a sweep file; on failure raises W2_ERR_CONFIG with
 * "FILE:LINE: message" and leaves *s freed. */
W2Err w2_sweep_load(const char *path, W2Sweep *s);
void w2_sweep_free(W2Sweep *s);
/* Lookups by name; NULL / -1 when absent. */
const W2SizeSpec *w2_sweep_size(const W2Sweep *s, const char *name);
const W2SupervisorSpec *w2_sweep_supervisor(const W2Sweep *s, const char *name);
/* Recipe grid (W2RecipeGrid): its size (1 without selection) and recipe i, the finetune
 * stage with the grid's values of combination i filled in. */
int w2_recipe_count(const W2Sweep *s);
void w2_recipe_at(const W2Sweep *s, int i, W2StageHyper *h);
/* Known-answer checks: 1 when cell (weak w, strong size index z, method m) is one the
 * sweep runs. Every cell of an ordinary weak name runs; a check supervisor's cells run only
 * into the largest strong size with the first naive and the first conf method. */
int w2_sweep_cell_wanted(const W2Sweep *s, int w, int z, int m);
/* Index into s->sizes of the largest strong size (by parameters); -1 when none. */
int w2_sweep_largest_strong(const W2Sweep *s);
/* The strong size with the fewest parameters (index into s->sizes), -1 without one. */
int w2_sweep_smallest_strong(const W2Sweep *s);

/* Method kind from its name ("naive", "conf", ...); -1 if unknown. Kinds are the method
 * registry's (src/methods/method.h): W2MethodKind names the built-in ones. */
int w2_method_kind_from_name(const char *name);
const char *w2_method_kind_name(W2MethodKind k);

#endif
