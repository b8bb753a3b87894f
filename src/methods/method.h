/* method.h — the method registry: everything w2sweep knows about a weak-to-strong method
 * lives in ONE file under src/methods/, NAME.c, that fills `const W2MethodOps
 * w2_method_NAME`; the registry's list is generated from the directory at configure time
 * (method_registry.c). The sweep parser (sweepcfg.c), the planner
 * (plan.c), the cell driver (w2_pipe_cell, pipeline.c), the results (method_kind,
 * method_settings, m_<key> columns) and the figures read a method only through it.
 *
 * A cell runs in this order (pipeline.c w2_pipe_cell):
 *   1. the weak supervisor and the ceiling of the strong size are loaded or computed;
 *   2. the student's training set starts as all of split B with the weak labels
 *      (W2MethodCell X / labels / n); ops->prepare may change it (hold rows out, relabel,
 *      drop rows) and count FLOPs of auxiliary models in extra_flops;
 *   3. the student: ops->student when set (probes), else the strong model finetuned on the
 *      training set with the recipe chosen for its ceiling (or, with recipes.student =
 *      "weak", its own, chosen on held-out weak labels), its per-batch loss targets
 *      changed by ops->targets (NULL: the labels as they are) under loss ops->loss;
 *   4. the reported point of the curve: ops->select (NULL: the last one).
 * Every buffer a hook needs comes from w2_mcell_alloc (freed by the driver on every path,
 * so a hook never leaks on an error path); the helpers below are the pipeline's stages a
 * method may call.
 *
 * Settings: each W2MethodSetting is a key of the method's group in the sweep file, a field
 * of W2MethodSpec (by offset; registry-only kinds use W2MethodSpec.extra[]), its range and
 * default. Parsing, `check`'s summary, the results' m_<key> columns, the canonical JSON and
 * the cell's settings hash are all driven by this table. */
#ifndef W2_METHOD_H
#define W2_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline.h"
#include "../probe.h"
#include "../train.h"

typedef enum {
  W2_SET_NUM = 0,  /* double */
  W2_SET_INT,      /* int */
  W2_SET_BOOL,     /* int 0/1 */
  W2_SET_NAMES     /* the chain: W2MethodSpec.chain / nchain (size names) */
} W2SettingType;

typedef struct W2MethodSetting {
  const char *key;     /* in the sweep file's method group; results column m_<key> */
  W2SettingType type;
  size_t offset;       /* offsetof(W2MethodSpec, field) */
  double lo, hi;       /* accepted range (NUM, INT) */
  int lo_open, hi_open;/* 1: the bound itself is excluded */
  double def;          /* default (NUM, INT, BOOL) */
  const char *doc;     /* one line, for docs and the schema */
} W2MethodSetting;

/* The training set and state of one cell while its method runs (see the order above). */
typedef struct W2MethodCell {
  W2Pipeline *p;
  const W2Sweep *s;
  const W2TaskSpec *t;
  const W2TaskData *td;
  uint64_t seed;
  const char *weak;
  const W2SizeSpec *strong;
  const W2MethodSpec *m;
  const W2RunResult *wr;   /* the weak supervisor: prob_b are the weak labels */
  const W2RunResult *cr;   /* the ceiling of the strong size (cr->recipe: the student's) */
  W2CellResult *c;         /* the row being filled (chain, chain_acc) */
  float *X, *labels;       /* (n_b x d), (n_b): the student's training rows, first n used */
  int n;
  float *hold_X, *hold_y;  /* rows held out of training (es_weak), n_hold of them */
  int n_hold;
  double *hold_agree;      /* (eval_points) agreement with hold_y at each curve point */
  double prior;            /* fraction of positives among the training labels (conf) */
  double radius;           /* window: |p - 1/2| below which a row is trained on */
  double extra_flops;      /* FLOPs of auxiliary models (chains, cleaning, GT probes) */
  W2StageHyper recipe;     /* the recipe the student finetuned with (w2_mcell_finetune) */
  int recipe_set;          /* 1 once it has (probes: 0, the ceiling's recipe is reported) */
#define W2_MCELL_MAX_ALLOC 16
  void *mem[W2_MCELL_MAX_ALLOC];
  int nmem;
} W2MethodCell;

/* Per-batch loss targets (W2TargetFn): target[] holds the training labels of the batch's
 * rows on entry; prob[] the student's current predictions. */
typedef struct W2MethodTargets {
  const W2MethodSpec *m;
  double prior, radius;
  float *scratch;          /* (batch) */
} W2MethodTargets;

/* What plan.c's cost model gives a method to price one cell (FLOPs) with. */
typedef struct W2MethodCost {
  const W2Sweep *s;
  const W2SizeSpec *z;     /* the strong size */
  int d;                   /* input dimension */
  double ft;               /* one finetuning of z on B (with LP-FT's probe) */
  double probe;            /* one cross-validated probe on z's frozen features of B */
  double forward_b;        /* one forward pass of z over B */
  /* K-fold cross-fitting of `size` on B: K finetunings on (K-1)/K of B */
  double (*crossfit)(const struct W2MethodCost *c, const W2SizeSpec *size, int k);
  /* which part of the work the numbers above are (plan.c: FLOPs, optimizer steps,
   * activations, probe FLOPs): a cost function is affine in ft/probe/forward_b/crossfit,
   * with any constant term in FLOPs */
  int channel;
} W2MethodCost;

typedef struct W2MethodOps {
  const char *kind;        /* its name in sweep files and the method_kind column */
  const char *doc;         /* one line */
  int oracle;              /* 1: reads the test split to choose what it reports (marked) */
  W2Loss loss;             /* the student's loss (W2_LOSS_BCE unless said otherwise) */
  const W2MethodSetting *settings;
  int nsettings;
  /* Cross-setting checks after parsing (NULL: none). Returns 1 and fills msg (starting
   * with `where`, e.g. "methods[2].folds = ...") and *key (the setting to point the line
   * at; NULL = the method's item) when m cannot run in sweep s. */
  int (*check)(const W2Sweep *s, const W2MethodSpec *m, const char *where, const char **key,
               char *msg, size_t len);
  double (*cost)(const W2MethodCost *c, const W2MethodSpec *m); /* NULL: c->ft */
  W2Err (*prepare)(W2MethodCell *mc);                            /* NULL: B, weak labels */
  void (*targets)(const W2MethodTargets *tg, int nrows, const float *prob, double progress,
                  float *target, float *weight);                 /* NULL: labels as they are */
  /* NULL: finetune `model` on the training set. Else the hook makes the student from
   * `model` (the strong start model) and fills the cell's curve (c->curve). */
  W2Err (*student)(W2MethodCell *mc, W2Model *model);
  int (*select)(const W2MethodCell *mc, const W2Curve *curve);   /* NULL: the last point */
} W2MethodOps;

/* ---- the registry (method_registry.c) ------------------------------------------------ */

/* Number of registered kinds; kinds are 0 .. count-1 (W2MethodKind for the built-in ones,
 * in that order; a test build appends its test-only kinds). */
int w2_method_count(void);
/* The ops of kind k; NULL when k is not registered. */
const W2MethodOps *w2_method_ops(int k);
/* Setting of kind k by key; NULL when k has no such setting. */
const W2MethodSetting *w2_method_setting(int k, const char *key);
/* Value of a NUM/INT/BOOL setting of m as a double. */
double w2_method_setting_value(const W2MethodSpec *m, const W2MethodSetting *st);
void w2_method_setting_set(W2MethodSpec *m, const W2MethodSetting *st, double v);
/* Canonical JSON of m's kind and settings: {"kind":"conf","unsup":0,"alpha_max":0.75,...}
 * keys in the registry's order, numbers printed with %.17g (round-trip exact), so equal
 * settings give equal strings whatever the method is named. Returns strlen (truncated to
 * len - 1 like snprintf). */
int w2_method_json(const W2MethodSpec *m, char *buf, size_t len);
/* FNV-1a of w2_method_json: the method's part of a cell's settings hash. */
uint64_t w2_method_hash(uint64_t h, const W2MethodSpec *m);

/* ---- what the pipeline gives a method (pipeline.c) ------------------------------------ */

/* n bytes, zeroed, owned by the cell (freed by the driver). W2_ERR_MEM when out of memory,
 * or when the allocation fault hook (W2SWEEP_FAIL_ALLOC=N: the N-th cell allocation of the
 * process fails; tests only) says so. */
W2Err w2_mcell_alloc(W2MethodCell *mc, size_t n, void **out);
/* Tests: the n-th cell allocation from now on fails (0 = none), as W2SWEEP_FAIL_ALLOC=n. */
void w2_mcell_fail_alloc_at(long n);
/* The strong (or any) start model: pretrained, or generatively finetuned when m->unsup. */
W2Err w2_mcell_start_model(W2MethodCell *mc, const W2SizeSpec *size, W2Model **out);
/* Frozen last-layer features of model on B and test, owned by the cell; adds the forward
 * FLOPs to model->flops. */
W2Err w2_mcell_features(W2MethodCell *mc, W2Model *model, float **fb, float **ft);
/* A cross-validated probe on (fb, y of B's rows), evaluated on test into the cell's curve
 * (one point) with agreement against the weak supervisor; its FLOPs go to *flops. */
W2Err w2_mcell_probe(W2MethodCell *mc, const float *fb, const float *ft, int width,
                     const float *y, uint64_t salt, double *flops);
/* The ground-truth probe of the strong size (the lp_gt reference), as a run result. */
W2Err w2_mcell_gt_probe(W2MethodCell *mc, W2RunResult **out);
/* Finetunes model as the student on the training set (recipe of the ceiling, the method's
 * targets and loss), the cell's curve filled, hold_agree too when rows are held out. */
W2Err w2_mcell_finetune(W2MethodCell *mc, W2Model *model);
/* Probe options of the sweep (probe.h), CV order keyed on key. */
void w2_mcell_probe_opts(const W2MethodCell *mc, uint64_t key, W2ProbeOpts *o);
/* Fraction of hard positives among y (conf's prior). */
double w2_label_prior(const float *y, int n);
/* Clean_*: relabel (to score) or drop the clean_frac of B's rows whose weak label is
 * farthest from score, into the training set (method_clean.c). */
W2Err w2_mcell_clean(W2MethodCell *mc, const float *score);
/* Index of the first maximum of v[0..n). */
int w2_argmax_first(const double *v, int n);

/* The registered ops of the built-in kinds (one file each under src/methods/). */
extern const W2MethodOps w2_method_naive, w2_method_conf, w2_method_lp_weak, w2_method_lp_gt,
    w2_method_ftweak_lpgt, w2_method_es_weak, w2_method_es_gt_oracle, w2_method_bootstrap,
    w2_method_poe, w2_method_kl, w2_method_window, w2_method_selftrain, w2_method_clean_knn,
    w2_method_clean_lr;

#endif
