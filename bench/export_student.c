/* export_student.c — one (task, seed, weak -> strong) student run exported for the PyTorch
 * reference (bench/torch_student.py; issue 3's acceptance: "the same student from the same
 * data, initial weights and hyperparameters with both losses").
 *
 *   export_student SWEEP.cfg --task T --weak W --strong S --out DIR [--seed N]
 *                  [--cache DIR] [--methods naive,conf]
 *
 * Builds the world and the task data of (task, seed), gets the weak supervisor's labels
 * (w2_pipe_weak) and the pretrained strong model (w2_pipe_pretrained), both through the
 * artifact cache, resets the head exactly as w2_pipe_cell does, and then, for each method
 * (default: the sweep's methods of kind naive and conf), trains the student with w2_train
 * set up exactly as pipeline.c's run_stage does, through a target function that computes
 * the pipeline's targets and records what every step used: the row indices, the student's
 * probabilities and the loss targets. The training loss at each evaluation point (the mean
 * since the previous one, as w2_train reports it) and the test accuracy are recorded.
 *
 * That the run is the sweep's computation is checked, not assumed: the same cell is then
 * run through w2_pipe_cell and its test-accuracy and test-loss curves must equal ours
 * bitwise (attribute pipeline_match; a mismatch is reported on stderr and the exit status
 * is 3).
 *
 * Output (DIR must exist):
 *   DIR/<task>-init.h5          the initial student (checkpoint.h: layerNN/W (K, N), b)
 *   DIR/<task>-<method>-final.h5  the trained student
 *   DIR/<task>.h5               attrs: task weak strong seed sweep d n_b n_test batch steps
 *                                 lr weight_decay warmup_frac sched beta1 beta2 eps
 *                                 eval_points prior width depth act weak_acc
 *                               X_b (n_b, d), weak_b (n_b), y_b (n_b), X_test (n_test, d),
 *                               y_test (n_test), init_prob_test (n_test)
 *                               methods/<name>/  attrs kind alpha_max alpha_warmup
 *                                 final_acc pipeline_match
 *                                 rows (steps, B) int32, prob (steps, B), target (steps, B)
 *                                 lr (steps), eval_step, eval_loss, eval_acc,
 *                                 eval_test_bce (eval_points), final_prob_test (n_test)
 * Every file is written under a temporary name and renamed.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "metrics.h"
#include "pipeline.h"
#include "rng.h"
#include "store.h"
#include "sweepcfg.h"
#include "train.h"

/* ----------------------------------------------------------------------------------- */
/* the pipeline's loss targets (a copy of pipeline.c's method_targets for naive and conf;
 * the pipeline_match check below catches any drift between the two) */

typedef struct Recorder {
  const W2MethodSpec *m;
  const float *labels;  /* (n) weak soft labels */
  double prior;         /* fraction of weak labels > 0.5 */
  float *scratch;       /* (B) */
  long steps, s;        /* planned steps, steps seen */
  int B;
  int *rows;            /* (steps, B) */
  float *prob;          /* (steps, B) */
  float *target;        /* (steps, B) */
} Recorder;

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static W2Err record_targets(void *ctx, int nrows, const int *rows, const float *prob,
                            double progress, float *target, float *weight) {
  Recorder *r = ctx;
  W2_CHECK(r->s < r->steps && nrows == r->B, W2_ERR_INTERNAL,
           "target function called for step %ld of %ld with %d rows", r->s, r->steps, nrows);
  for (int i = 0; i < nrows; i++) {
    target[i] = r->labels[rows[i]];
    weight[i] = 1.f;
  }
  if (r->m->kind == W2_M_CONF) {
    double a = r->m->alpha_max;
    if (r->m->alpha_warmup > 0 && progress < r->m->alpha_warmup)
      a *= progress / r->m->alpha_warmup;
    memcpy(r->scratch, prob, sizeof(float) * (size_t)nrows);
    qsort(r->scratch, (size_t)nrows, sizeof(float), cmp_float);
    int npos = (int)lround(r->prior * nrows);
    float t = npos >= nrows ? -1.f : r->scratch[nrows - npos - 1];
    for (int i = 0; i < nrows; i++) {
      float hard = prob[i] > t ? 1.f : 0.f;
      target[i] = (float)((1.0 - a) * target[i] + a * hard);
    }
  }
  size_t off = (size_t)r->s * (size_t)r->B;
  memcpy(r->rows + off, rows, sizeof(int) * (size_t)nrows);
  memcpy(r->prob + off, prob, sizeof(float) * (size_t)nrows);
  memcpy(r->target + off, target, sizeof(float) * (size_t)nrows);
  r->s++;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* evaluation points: what pipeline.c's eval_point computes on the test split, plus the
 * training loss w2_train passes (which the pipeline's curve does not keep) */

typedef struct Evals {
  const W2TaskData *td;
  int n, k;
  double *step, *loss, *acc, *test_bce; /* (n) each */
  float *buf;                           /* (n_test) */
} Evals;

static W2Err record_eval(void *ctx, W2Model *m, long step, double train_loss) {
  Evals *ev = ctx;
  W2_CHECK(ev->k < ev->n, W2_ERR_INTERNAL, "more evaluation points than planned");
  W2_CALL(w2_model_predict(m, ev->td->Xt, ev->td->n_test, ev->td->d, ev->buf));
  W2Metrics mt;
  w2_metrics_compute(ev->buf, ev->td->yt, NULL, ev->td->n_test, &mt);
  ev->step[ev->k] = (double)step;
  ev->loss[ev->k] = train_loss;
  ev->acc[ev->k] = mt.acc;
  ev->test_bce[ev->k] = mt.loss;
  ev->k++;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */

typedef struct Student {
  const W2MethodSpec *meth;
  W2TrainSpec sp;
  Recorder rec;
  Evals ev;
  float *final_prob;   /* (n_test) */
  double *lr;          /* (steps) */
  int pipeline_match;
} Student;

static void student_free(Student *st) {
  free(st->rec.scratch);
  free(st->rec.rows);
  free(st->rec.prob);
  free(st->rec.target);
  free(st->ev.step);
  free(st->ev.loss);
  free(st->ev.acc);
  free(st->ev.test_bce);
  free(st->ev.buf);
  free(st->final_prob);
  free(st->lr);
  memset(st, 0, sizeof *st);
}

/* The head the pipeline's student starts from (w2_pipe_cell -> train_student). */
static W2Err initial_student(W2Pipeline *p, const W2SizeSpec *strong, uint64_t seed,
                             W2Model **m) {
  W2_CALL(w2_pipe_pretrained(p, strong, NULL, NULL, seed, m));
  W2_CALL(w2_model_reset_head(*m, 1, w2_key(seed, "head", 3, 0)));
  return W2_OK;
}

/* Trains the student of method st->meth exactly as run_stage does for the main student
 * run of w2_pipe_cell, recording every step. */
static W2Err train_recorded(W2Pipeline *p, const W2Sweep *s, const W2SizeSpec *strong,
                            const W2TaskData *td, uint64_t seed, const float *labels,
                            double prior, const char *final_path, Student *st) {
  const W2StageHyper *h = &s->finetune;
  int n = td->n_b, B = h->batch < n ? h->batch : n;
  W2TrainSpec *sp = &st->sp;
  memset(sp, 0, sizeof *sp);
  sp->X = td->Xb;
  sp->d = td->d;
  sp->n = n;
  sp->batch = h->batch;
  sp->steps = w2_train_steps_for_epochs(n, B, h->epochs);
  sp->opt = (W2AdamW){.lr = h->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                      .weight_decay = h->weight_decay};
  sp->warmup_frac = h->warmup_frac;
  sp->sched = h->sched;
  sp->key = w2_key(seed, "student-order", 0, 0);
  sp->target = record_targets;
  sp->target_ctx = &st->rec;
  /* the probabilities are gathered for every method so that they can be recorded; the
   * gather only reads the logits (run_stage asks for them only where the loss needs them) */
  sp->target_needs_prob = 1;
  sp->n_eval = s->eval_points;
  sp->eval = record_eval;
  sp->eval_ctx = &st->ev;

  long steps = sp->steps;
  Recorder *r = &st->rec;
  r->m = st->meth;
  r->labels = labels;
  r->prior = prior;
  r->steps = steps;
  r->B = B;
  W2_CALLOC(r->scratch, B);
  W2_CALLOC(r->rows, (size_t)steps * B);
  W2_CALLOC(r->prob, (size_t)steps * B);
  W2_CALLOC(r->target, (size_t)steps * B);
  Evals *ev = &st->ev;
  ev->td = td;
  ev->n = s->eval_points;
  W2_CALLOC(ev->step, ev->n);
  W2_CALLOC(ev->loss, ev->n);
  W2_CALLOC(ev->acc, ev->n);
  W2_CALLOC(ev->test_bce, ev->n);
  W2_CALLOC(ev->buf, td->n_test);
  W2_CALLOC(st->final_prob, td->n_test);
  W2_CALLOC(st->lr, steps);
  for (long k = 0; k < steps; k++) st->lr[k] = w2_train_lr(sp, k);

  W2Model *m = NULL;
  W2_CALL(initial_student(p, strong, seed, &m));
  m->freeze_body = 0;
  W2Err e = w2_train(m, sp, NULL);
  if (!e && (r->s != steps || ev->k != ev->n))
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_INTERNAL,
                       "recorded %ld steps and %d evaluation points, expected %ld and %d",
                       r->s, ev->k, steps, ev->n);
  if (!e) e = w2_model_predict(m, td->Xt, td->n_test, td->d, st->final_prob);
  if (!e) {
    W2CheckpointMeta meta = {0};
    snprintf(meta.size_name, sizeof meta.size_name, "%s", strong->name);
    snprintf(meta.kind, sizeof meta.kind, "student-%s", st->meth->name);
    meta.seed = seed;
    meta.flops = m->flops;
    e = w2_checkpoint_save(m, final_path, &meta);
  }
  w2_model_destroy(&m);
  return e;
}

/* ----------------------------------------------------------------------------------- */
/* HDF5 output */

static W2Err write_i32_2d(hid_t loc, const char *path, const char *name, hsize_t n0,
                          hsize_t n1, const int *v) {
  hsize_t dims[2] = {n0, n1};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t d = sp >= 0 ? H5Dcreate2(loc, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT)
                    : H5I_INVALID_HID;
  herr_t st = d >= 0 ? H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : -1;
  if (d >= 0 && H5Dclose(d) < 0) st = -1;
  if (sp >= 0 && H5Sclose(sp) < 0) st = -1;
  W2_CHECK(st >= 0, W2_ERR_IO, "%s: cannot write dataset %s", path, name);
  return W2_OK;
}

static W2Err write_f32(hid_t loc, const char *path, const char *name, hsize_t n0, hsize_t n1,
                       const float *v) {
  hsize_t dims[2] = {n0, n1};
  return w2_h5_write_f32(loc, path, name, n1 ? 2 : 1, dims, v);
}

static W2Err write_method(hid_t file, const char *path, const Student *st) {
  char gname[64];
  snprintf(gname, sizeof gname, "%s", st->meth->name);
  hid_t g = H5Gcreate2(file, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "%s: cannot create group /methods/%s", path, gname);
  const Recorder *r = &st->rec;
  const Evals *ev = &st->ev;
  int ne = ev->n;
  W2Err e = W2_OK;
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(g, path, "kind", w2_method_kind_name(st->meth->kind)));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(g, path, "alpha_max", st->meth->alpha_max));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(g, path, "alpha_warmup", st->meth->alpha_warmup));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(g, path, "final_acc", ev->acc[ne - 1]));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(g, path, "pipeline_match", st->pipeline_match));
  W2_CALL_GOTO(e, done, write_i32_2d(g, path, "rows", (hsize_t)r->steps, (hsize_t)r->B, r->rows));
  W2_CALL_GOTO(e, done, write_f32(g, path, "prob", (hsize_t)r->steps, (hsize_t)r->B, r->prob));
  W2_CALL_GOTO(e, done, write_f32(g, path, "target", (hsize_t)r->steps, (hsize_t)r->B, r->target));
  W2_CALL_GOTO(e, done, w2_h5_write_f64_1d(g, path, "lr", (int)r->steps, st->lr, 0));
  W2_CALL_GOTO(e, done, w2_h5_write_f64_1d(g, path, "eval_step", ne, ev->step, 0));
  W2_CALL_GOTO(e, done, w2_h5_write_f64_1d(g, path, "eval_loss", ne, ev->loss, 0));
  W2_CALL_GOTO(e, done, w2_h5_write_f64_1d(g, path, "eval_acc", ne, ev->acc, 0));
  W2_CALL_GOTO(e, done, w2_h5_write_f64_1d(g, path, "eval_test_bce", ne, ev->test_bce, 0));
  W2_CALL_GOTO(e, done, write_f32(g, path, "final_prob_test", (hsize_t)ev->td->n_test, 0,
                                  st->final_prob));
done:
  if (H5Gclose(g) < 0 && !e)
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close a group", path);
  return e;
}

typedef struct Export {
  const W2Sweep *s;
  const char *task, *weak;
  const W2SizeSpec *strong;
  uint64_t seed;
  const W2TaskData *td;
  const float *weak_b;
  double prior, weak_acc;
  const float *init_prob;
  Student *st;
  int nst;
} Export;

static W2Err write_export(const char *path, const Export *x) {
  const W2TaskData *td = x->td;
  const W2Sweep *s = x->s;
  const W2StageHyper *h = &s->finetune;
  char tmp[W2_PATH_MAX + 64];
  hid_t f = H5I_INVALID_HID, g = H5I_INVALID_HID;
  W2_CALL(w2_h5_create_tmp(path, -1, tmp, sizeof tmp, &f));
  W2Err e = W2_OK;
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "task", x->task));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "weak", x->weak));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "strong", x->strong->name));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_u64(f, path, "seed", x->seed));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "sweep", s->source_path));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "d", td->d));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "n_b", td->n_b));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "n_test", td->n_test));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "batch", x->st[0].rec.B));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "steps", (int)x->st[0].sp.steps));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "lr", h->lr));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "weight_decay", h->weight_decay));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "warmup_frac", h->warmup_frac));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "sched", w2_spec_sched_name(h->sched)));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "beta1", 0.9f));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "beta2", 0.999f));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "eps", 1e-8f));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "eval_points", s->eval_points));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "prior", x->prior));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_double(f, path, "weak_acc", x->weak_acc));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "width", x->strong->width));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(f, path, "depth", x->strong->depth));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_str(f, path, "act", w2_spec_act_name(s->pretrain.act)));
  W2_CALL_GOTO(e, done, write_f32(f, path, "X_b", (hsize_t)td->n_b, (hsize_t)td->d, td->Xb));
  W2_CALL_GOTO(e, done, write_f32(f, path, "weak_b", (hsize_t)td->n_b, 0, x->weak_b));
  W2_CALL_GOTO(e, done, write_f32(f, path, "y_b", (hsize_t)td->n_b, 0, td->yb));
  W2_CALL_GOTO(e, done, write_f32(f, path, "X_test", (hsize_t)td->n_test, (hsize_t)td->d, td->Xt));
  W2_CALL_GOTO(e, done, write_f32(f, path, "y_test", (hsize_t)td->n_test, 0, td->yt));
  W2_CALL_GOTO(e, done, write_f32(f, path, "init_prob_test", (hsize_t)td->n_test, 0, x->init_prob));
  g = H5Gcreate2(f, "methods", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot create /methods", path);
    goto done;
  }
  for (int i = 0; i < x->nst; i++) W2_CALL_GOTO(e, done, write_method(g, path, &x->st[i]));
done:
  if (g >= 0 && H5Gclose(g) < 0 && !e)
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close /methods", path);
  return w2_h5_commit(&f, tmp, path, e);
}

/* ----------------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: export_student SWEEP.cfg --task T --weak W --strong S --out DIR [--seed N]\n"
          "                      [--cache DIR] [--methods naive,conf]\n"
          "Trains the (task, seed, weak -> strong) student of each method as w2_pipe_cell\n"
          "does, records every step, checks the run against w2_pipe_cell and writes\n"
          "DIR/<task>.h5, DIR/<task>-init.h5 and DIR/<task>-<method>-final.h5 for\n"
          "bench/torch_student.py. Default methods: the sweep's naive and conf entries.\n");
}

#define MAX_ST 8

static W2Err run(int argc, char **argv, int *mismatch) {
  const char *file = NULL, *task = NULL, *weak = NULL, *strong = NULL, *out = NULL;
  const char *cache = NULL, *methods = NULL;
  long long seed = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = !strcmp(a, "--task")      ? &task
                        : !strcmp(a, "--weak")    ? &weak
                        : !strcmp(a, "--strong")  ? &strong
                        : !strcmp(a, "--out")     ? &out
                        : !strcmp(a, "--cache")   ? &cache
                        : !strcmp(a, "--methods") ? &methods
                                                  : NULL;
    if (slot) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "export_student: %s needs a value", a);
      *slot = argv[++i];
    } else if (!strcmp(a, "--seed")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "export_student: --seed needs a value");
      char *end;
      seed = strtoll(argv[++i], &end, 10);
      W2_CHECK(*end == '\0' && seed >= 0, W2_ERR_ARG,
               "export_student: --seed '%s' is not a non-negative integer", argv[i]);
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return W2_OK;
    } else if (a[0] == '-') {
      W2_RAISE(W2_ERR_ARG, "export_student: unknown option '%s' (see --help)", a);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "export_student: more than one sweep file");
      file = a;
    }
  }
  W2_CHECK(file && task && weak && strong && out, W2_ERR_ARG,
           "export_student: needs SWEEP.cfg, --task, --weak, --strong and --out (see --help)");
  static W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  W2Err e = W2_OK;
  W2Grid *grid = NULL;
  W2Pipeline *p = NULL;
  W2TaskData *td = NULL;
  W2RunResult *wr = NULL;
  W2Model *m0 = NULL, *mp = NULL;
  float *init_prob = NULL;
  Student st[MAX_ST];
  int nst = 0;
  memset(st, 0, sizeof st);
  *mismatch = 0;

  const W2TaskSpec *t = NULL;
  for (int i = 0; i < s.ntasks; i++)
    if (!strcmp(s.tasks[i].name, task)) t = &s.tasks[i];
  const W2SizeSpec *ss = w2_sweep_size(&s, strong);
  if (!t) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no task named '%s'", file, task);
  else if (!ss) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no size named '%s'", file, strong);
  else if (!w2_sweep_size(&s, weak) && !w2_sweep_supervisor(&s, weak))
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no size or supervisor named '%s'", file, weak);
  if (e) goto done;
  /* the methods: a comma list of method names of the sweep, or its naive and conf ones */
  for (int i = 0; i < s.nmethods; i++) {
    const W2MethodSpec *ms = &s.methods[i];
    int take;
    if (methods) {
      size_t L = strlen(ms->name);
      const char *q = methods;
      take = 0;
      while (q && *q) {
        const char *c = strchr(q, ',');
        size_t len = c ? (size_t)(c - q) : strlen(q);
        if (len == L && !strncmp(q, ms->name, L)) take = 1;
        q = c ? c + 1 : NULL;
      }
    } else {
      take = ms->kind == W2_M_NAIVE || ms->kind == W2_M_CONF;
    }
    if (!take) continue;
    if (ms->kind != W2_M_NAIVE && ms->kind != W2_M_CONF) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                         "export_student: method '%s' is not naive or conf", ms->name);
      goto done;
    }
    if (ms->unsup) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                         "export_student: method '%s' uses generative finetuning (unsupported)",
                         ms->name);
      goto done;
    }
    if (nst < MAX_ST) st[nst++].meth = ms;
  }
  if (nst == 0) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                       "%s: no naive or conf method selected", file);
    goto done;
  }
  uint64_t sd = seed >= 0 ? (uint64_t)seed : s.seeds[0];
  if (t->kind == W2_TASK_FILE) { /* initial_student pretrains on the world */
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                       "export_student: task '%s' reads a file; built-in tasks only", t->name);
    goto done;
  }
  W2_CALL_GOTO(e, done, w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &grid));
  W2_CALL_GOTO(e, done, w2_pipeline_create(&s, grid, cache ? cache : s.cache_dir, &p));
  w2_pipeline_set_log(p, stderr);
  W2_CALL_GOTO(e, done, w2_task_data_create(&s, w2_pipeline_world(p), t, sd, &td));
  W2_CALL_GOTO(e, done, w2_pipe_weak(p, weak, t, td, sd, &wr));
  long pos = 0;
  for (int i = 0; i < td->n_b; i++) pos += wr->prob_b[i] > 0.5f;
  double prior = td->n_b ? (double)pos / td->n_b : 0.5; /* pipeline.c's label_prior */

  /* the initial student: checkpoint and its test predictions */
  char path[W2_PATH_MAX + 128];
  W2_CALL_GOTO(e, done, initial_student(p, ss, sd, &m0));
  snprintf(path, sizeof path, "%s/%s-init.h5", out, t->name);
  W2CheckpointMeta meta = {0};
  snprintf(meta.size_name, sizeof meta.size_name, "%s", ss->name);
  snprintf(meta.kind, sizeof meta.kind, "student-init");
  meta.seed = sd;
  W2_CALL_GOTO(e, done, w2_checkpoint_save(m0, path, &meta));
  W2_CALL_GOTO(e, done, w2_model_create(grid, &m0->arch, &mp));
  w2_model_copy_params(m0, mp);
  W2_CALL_GOTO(e, done, w2_model_set_batch(mp, s.finetune.batch));
  init_prob = malloc(sizeof(float) * (size_t)td->n_test);
  if (!init_prob) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  W2_CALL_GOTO(e, done, w2_model_predict(mp, td->Xt, td->n_test, td->d, init_prob));

  for (int i = 0; i < nst; i++) {
    snprintf(path, sizeof path, "%s/%s-%s-final.h5", out, t->name, st[i].meth->name);
    W2_CALL_GOTO(e, done, train_recorded(p, &s, ss, td, sd, wr->prob_b, prior, path, &st[i]));
    /* the same cell through the pipeline: its curve must be ours, bit for bit */
    W2CellResult c = {0};
    W2_CALL_GOTO(e, done, w2_pipe_cell(p, t, td, sd, weak, ss, st[i].meth, &c));
    int ok = c.curve.n == st[i].ev.n;
    for (int k = 0; ok && k < c.curve.n; k++)
      ok = c.curve.v[W2_C_STEP][k] == st[i].ev.step[k] &&
           c.curve.v[W2_C_ACC][k] == st[i].ev.acc[k] &&
           c.curve.v[W2_C_LOSS][k] == st[i].ev.test_bce[k];
    st[i].pipeline_match = ok;
    if (!ok) {
      *mismatch = 1;
      fprintf(stderr, "export_student: %s %s: the recorded run differs from w2_pipe_cell's "
              "(final acc %.6f vs %.6f)\n", t->name, st[i].meth->name,
              st[i].ev.acc[st[i].ev.n - 1], c.student_acc);
    }
    fprintf(stderr, "  export   %-10s %s: final test acc %.4f, train loss %.5f, pipeline %s\n",
            t->name, st[i].meth->name, st[i].ev.acc[st[i].ev.n - 1],
            st[i].ev.loss[st[i].ev.n - 1], ok ? "match" : "MISMATCH");
    w2_cell_result_clear(&c);
  }

  Export x = {.s = &s, .task = t->name, .weak = weak, .strong = ss, .seed = sd, .td = td,
              .weak_b = wr->prob_b, .prior = prior, .weak_acc = wr->final.acc,
              .init_prob = init_prob, .st = st, .nst = nst};
  snprintf(path, sizeof path, "%s/%s.h5", out, t->name);
  W2_CALL_GOTO(e, done, write_export(path, &x));
done:
  for (int i = 0; i < nst; i++) student_free(&st[i]);
  free(init_prob);
  w2_model_destroy(&m0);
  w2_model_destroy(&mp);
  w2_run_result_free(&wr);
  w2_task_data_destroy(&td);
  w2_pipeline_destroy(&p);
  w2_grid_destroy(&grid);
  w2_sweep_free(&s);
  return e;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int mismatch = 0;
  W2Err e = run(argc, argv, &mismatch);
  if (e) w2_error_report();
  MPI_Finalize();
  return e ? 1 : mismatch ? 3 : 0;
}
