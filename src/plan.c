/* plan.c — expansion of a sweep into jobs, their costs and priorities (see plan.h). */
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dmat.h"
#include "methods/method.h"
#include "pipeline.h" /* W2Start */
#include "pretrain.h"
#include "texttask.h"

/* ---- costs --------------------------------------------------------------------------- */

/* The finetuned model of size z as the cost model prices it: an MLP on d inputs
 * (world.input_dim, or a data file's columns), or a transformer (its own FLOP and memory
 * accounting, transformer.h; a row is one sequence of ctx bytes). */
typedef struct Shape {
  W2Arch a;
  int xf;      /* 1: a transformer, x */
  W2XfArch x;
} Shape;

static Shape task_arch(const W2Sweep *s, const W2SizeSpec *z, int d) {
  Shape sh = {.a = {.d_in = d, .width = z->width, .depth = z->depth, .d_out = 1,
                    .act = s->pretrain.act}};
  if (z->family == W2_FAMILY_TRANSFORMER) {
    sh.xf = 1;
    w2_text_arch(z, &sh.x);
  }
  return sh;
}

/* activations of one row: an MLP's inputs, hidden layers and outputs; a transformer's
 * activations kept for backward per sequence (w2_xf_train_bytes' count at B = 1) */
static double row_acts(const Shape *sh) {
  const W2Arch *a = &sh->a;
  if (sh->xf) {
    double C = sh->x.width, L = sh->x.depth, T = sh->x.ctx;
    return L * (15 * C * T + (double)sh->x.heads * T * T) + (L + 2) * T * C + 2 * T * W2_XF_VOCAB;
  }
  return (double)a->d_in + (double)a->width * a->depth + a->d_out;
}

static double step_flops(const Shape *sh, int B, int probe) {
  return sh->xf ? w2_xf_step_flops(&sh->x, B, 0) : w2_arch_step_flops(&sh->a, B, probe);
}

static double fwd_flops(const Shape *sh, double n) {
  return sh->xf ? w2_xf_forward_flops(&sh->x, n, 0) : w2_arch_forward_flops(&sh->a, n);
}

static void work_add(W2Work *w, const W2Work *x, double scale) {
  w->flops += scale * x->flops;
  w->steps += scale * x->steps;
  w->act += scale * x->act;
  w->probe += scale * x->probe;
}

/* `steps` optimizer steps of a at batch B */
static void train_work(const Shape *a, int B, double steps, int probe, W2Work *w) {
  w->flops += steps * step_flops(a, B, probe);
  w->steps += steps;
  w->act += steps * B * row_acts(a);
}

/* forward passes over n rows (evaluation, labelling, features) */
static void forward_work(const Shape *a, double n, W2Work *w) {
  w->flops += fwd_flops(a, n);
  w->act += n * row_acts(a);
}

/* a supervised finetuning stage on n rows, with evaluation on test and on the n rows */
static W2Work stage_work(const W2Sweep *s, const W2SizeSpec *z, int d, int n,
                         const W2StageHyper *h, int probe) {
  W2Work w = {0};
  Shape a = task_arch(s, z, d);
  int B = h->batch < n ? h->batch : n;
  train_work(&a, B, (double)w2_train_steps_for_epochs(n, B, h->epochs), probe, &w);
  forward_work(&a, (double)s->eval_points * ((double)s->split.n_test + n), &w);
  return w;
}

static W2Work unsup_work(const W2Sweep *s, const W2SizeSpec *z) {
  W2Work w = {0};
  Shape a = task_arch(s, z, s->world.input_dim);
  a.a.d_out = s->world.pretrain_targets;
  int n = s->split.n_a + s->split.n_b, B = s->unsup.batch < n ? s->unsup.batch : n;
  train_work(&a, B, (double)w2_train_steps_for_epochs(n, B, s->unsup.epochs), 0, &w);
  return w;
}

/* a cross-validated probe (probe.h) on the frozen features of z over B: the features, then
 * folds x lambdas Newton solves (about 4 iterations each, Hessian n w^2 + w^3/3) */
static W2Work probe_work(const W2Sweep *s, const W2SizeSpec *z, int d) {
  W2Work w = {0};
  Shape a = task_arch(s, z, d);
  double n = s->split.n_b, r = z->width < n ? z->width : n;
  double newton = 4.0 * (n * r * r + r * r * r / 3);
  double fits = (double)s->probe.folds * s->probe.nlambda + 1;
  forward_work(&a, n + s->split.n_test, &w);
  w.flops += fits * newton;
  w.probe += fits * newton;
  return w;
}

static W2Work select_work(const W2Sweep *s, const W2SizeSpec *z, int d, int n, int ceiling);

/* One component of a W2Work (W2MethodCost.channel): 0 flops, 1 steps, 2 activations,
 * 3 probe FLOPs; any other channel 0. */
static double work_comp(const W2Work *w, int ch) {
  return ch == 0 ? w->flops : ch == 1 ? w->steps : ch == 2 ? w->act : ch == 3 ? w->probe : 0;
}

/* K-fold cross-fitting of `size` on B (method.h W2MethodCost.crossfit), in c->channel */
static double crossfit_cost(const W2MethodCost *c, const W2SizeSpec *size, int k) {
  int nb = c->s->split.n_b;
  W2Work w = stage_work(c->s, size, c->d, nb - nb / k, &c->s->finetune, 0);
  return k * work_comp(&w, c->channel);
}

/* A cell's work is its method's (method.h ops->cost) over the common pieces: a method
 * prices FLOPs as an affine function of them, so evaluating it once per W2Work component
 * (and once on zeros, for its constant FLOPs) gives the whole W2Work. With recipes.student
 * = "weak" a student's finetuning includes its recipe selection. */
static W2Work cell_work(const W2Sweep *s, const W2SizeSpec *z, int d, const W2MethodSpec *m) {
  int nb = s->split.n_b;
  W2Work ft, probe = probe_work(s, z, d), fwd = {0};
  if (s->recipes.student == W2_STUDENT_RECIPE_WEAK) {
    ft = select_work(s, z, d, nb, 0);
  } else {
    ft = stage_work(s, z, d, nb, &s->finetune, 0);
    if (s->finetune.head_init) work_add(&ft, &probe, 1); /* LP-FT's probe */
  }
  Shape a = task_arch(s, z, d);
  forward_work(&a, nb, &fwd);
  const W2MethodOps *ops = w2_method_ops((int)m->kind);
  double v[5]; /* channel -1 (zeros), 0..3 */
  for (int ch = -1; ch < 4; ch++) {
    W2MethodCost c = {.s = s, .z = z, .d = d, .ft = work_comp(&ft, ch),
                      .probe = work_comp(&probe, ch), .forward_b = work_comp(&fwd, ch),
                      .crossfit = crossfit_cost, .channel = ch};
    v[ch + 1] = ops && ops->cost ? ops->cost(&c, m) : c.ft;
  }
  W2Work w = {.flops = v[1], .steps = v[2] - v[0], .act = v[3] - v[0], .probe = v[4] - v[0]};
  return w;
}

/* ---- building ------------------------------------------------------------------------ */

double w2_plan_size_rank_bytes(const W2Sweep *s, const W2SizeSpec *z, int p) {
  if (z->family == W2_FAMILY_TRANSFORMER) { /* pretraining: the LM head's (BT, 256) logits */
    W2XfArch x;
    w2_text_arch(z, &x);
    int wide = 4 * x.width > W2_XF_VOCAB ? 4 * x.width : W2_XF_VOCAB;
    return w2_xf_train_bytes(&x, s->pretrain.hyper.batch, p) + w2_grid_gemm_workspace_bytes(wide, p);
  }
  W2Arch a = task_arch(s, z, s->world.input_dim).a;
  a.d_out = s->world.pretrain_targets;
  int wide = a.width > a.d_in ? a.width : a.d_in;
  if (a.d_out > wide) wide = a.d_out;
  return w2_arch_train_bytes(&a, s->pretrain.hyper.batch, p) + w2_grid_gemm_workspace_bytes(wide, p);
}

int w2_plan_size_ranks(const W2Sweep *s, const W2SizeSpec *z) {
  if (z->ranks > 0) return z->ranks;
  if (s->rank_memory_gb <= 0) return 1;
  int p = 1;
  while (p < W2_PLAN_MAX_GROUP && w2_plan_size_rank_bytes(s, z, p) > s->rank_memory_gb * 1e9)
    p *= 2;
  return p;
}

static int size_index(const W2Sweep *s, const char *name) {
  for (int i = 0; i < s->nsizes; i++)
    if (!strcmp(s->sizes[i].name, name)) return i;
  return -1;
}

typedef struct Builder {
  const W2Sweep *s;
  W2Plan *p;
  int cap;
  /* per task: its pretraining source, the first task with the same source (-1 for the
   * world: one pretraining job per (size, seed) for every built-in task), and its inputs */
  W2PretrainSource src[W2_MAX_TASKS];
  int src_task[W2_MAX_TASKS];
  int d[W2_MAX_TASKS];
} Builder;

static W2Err add_job(Builder *b, const W2Job *j, int *index) {
  W2Plan *p = b->p;
  int k = w2_plan_find(p, j->id);
  if (k >= 0) {
    *index = k;
    return W2_OK;
  }
  if (p->njobs == b->cap) {
    int cap = b->cap ? 2 * b->cap : 256;
    W2Job *nj = realloc(p->jobs, sizeof(W2Job) * (size_t)cap);
    W2_CHECK(nj, W2_ERR_MEM, "out of memory planning %d jobs", cap);
    p->jobs = nj;
    b->cap = cap;
  }
  p->jobs[p->njobs] = *j;
  *index = p->njobs++;
  p->counts[j->type]++;
  return W2_OK;
}

static W2Job job_new(W2JobType type) {
  W2Job j;
  memset(&j, 0, sizeof j);
  j.type = type;
  j.task = j.seed = j.size = j.weak = j.method = -1;
  j.ranks = 1;
  return j;
}

/* The pretraining of (size, seed) that task `task` uses: on the world
 * ("pretrain/<size>/s<seed>", as for every built-in task), or on a data file
 * ("pretrain/<size>/s<seed>/<task>", named after the first task with that source). */
static W2Err pretrain_job(Builder *b, int task, int size, int seed, int *index) {
  const W2Sweep *s = b->s;
  W2Job j = job_new(W2_JOB_PRETRAIN);
  int st = b->src_task[task];
  j.task = st;
  j.size = size;
  j.seed = seed;
  j.ranks = w2_plan_size_ranks(s, &s->sizes[size]);
  /* the run's steps from its FLOPs (pretrain.h counts them at the pretraining batch) */
  Shape a = task_arch(s, &s->sizes[size], 0);
  w2_pretrain_source_arch(s, &s->sizes[size], &b->src[task], &a.a);
  int B = s->pretrain.hyper.batch;
  double step = a.xf ? w2_xf_step_flops(&a.x, B, 1) : step_flops(&a, B, 0);
  j.work.flops = w2_pretrain_source_flops(s, &s->sizes[size], &b->src[task]);
  j.work.steps = step > 0 ? j.work.flops / step : 0;
  j.work.act = j.work.steps * B * row_acts(&a);
  j.cost = j.work.flops;
  int len = snprintf(j.id, sizeof j.id, "pretrain/%s/s%llu", s->sizes[size].name,
                     (unsigned long long)s->seeds[seed]);
  if (st >= 0) snprintf(j.id + len, sizeof j.id - (size_t)len, "/%s", s->tasks[st].name);
  return add_job(b, &j, index);
}

/* A weak supervisor's or ceiling's finetuning: with recipe selection every recipe of the
 * grid first trains on (1 - val_frac) of the split with its own epochs, without evaluation
 * points (pipeline.c, select_recipe), and predicts the rest; LP-FT adds a cross-validated
 * probe per training run; a probe ceiling one more. Then the chosen recipe trains on the
 * whole split with evaluation (its epochs unknown here: the finetune stage's stand in). */
static W2Work select_work(const W2Sweep *s, const W2SizeSpec *z, int d, int n, int ceiling) {
  W2Work c = stage_work(s, z, d, n, &s->finetune, 0), probe = probe_work(s, z, d);
  int K = s->recipes.enabled ? w2_recipe_count(s) : 0;
  int nval = (int)lround(s->recipes.val_frac * n), ntr = n - (nval < 1 ? 1 : nval);
  Shape a = task_arch(s, z, d);
  for (int i = 0; i < K && ntr > 0; i++) {
    W2StageHyper h = s->finetune;
    if (s->recipes.enabled) w2_recipe_at(s, i, &h);
    int B = h.batch < ntr ? h.batch : ntr;
    train_work(&a, B, (double)w2_train_steps_for_epochs(ntr, B, h.epochs), 0, &c);
    forward_work(&a, n - ntr, &c);
  }
  if (s->finetune.head_init) work_add(&c, &probe, K + 1);
  /* a probe ceiling: the probe, and the chosen recipe's k-fold estimate to compare it with
   * (k models on (k-1)/k of the split, each with LP-FT's probe; the probe refitted on the
   * same folds at its lambda: small, left out) */
  if (ceiling && s->recipes.probe_ceiling) {
    int k = s->probe.folds > 1 ? s->probe.folds : 2;
    W2Work fold = stage_work(s, z, d, n - n / k, &s->finetune, 0);
    work_add(&c, &probe, 1);
    work_add(&c, &fold, k);
    if (s->finetune.head_init) work_add(&c, &probe, k);
  }
  return c;
}

static W2Err weak_job(Builder *b, int task, int seed, int weak, int *index) {
  const W2Sweep *s = b->s;
  W2Job j = job_new(W2_JOB_WEAK);
  j.task = task;
  j.seed = seed;
  j.weak = weak;
  int sz = size_index(s, s->weak[weak]);
  if (sz >= 0) {
    W2_CALL(pretrain_job(b, task, sz, seed, &j.deps[j.ndeps++]));
    j.size = sz;
    j.ranks = w2_plan_size_ranks(s, &s->sizes[sz]);
    j.work = select_work(s, &s->sizes[sz], b->d[task], s->split.n_a, 0);
  } else {
    j.work.flops = (double)s->split.n_b + s->split.n_test; /* a synthetic supervisor: labels only */
  }
  j.cost = j.work.flops;
  snprintf(j.id, sizeof j.id, "weak/%s/s%llu/%s", s->tasks[task].name,
           (unsigned long long)s->seeds[seed], s->weak[weak]);
  return add_job(b, &j, index);
}

static W2Err ceiling_job(Builder *b, int task, int seed, int size, int start, int *index) {
  const W2Sweep *s = b->s;
  W2Job j = job_new(W2_JOB_CEILING);
  j.task = task;
  j.seed = seed;
  j.size = size;
  j.start = start;
  j.ranks = w2_plan_size_ranks(s, &s->sizes[size]);
  if (start != W2_START_INIT) W2_CALL(pretrain_job(b, task, size, seed, &j.deps[j.ndeps++]));
  j.work = select_work(s, &s->sizes[size], b->d[task], s->split.n_b, 1);
  if (start == W2_START_UNSUP) {
    W2Work u = unsup_work(s, &s->sizes[size]);
    work_add(&j.work, &u, 1);
  }
  j.cost = j.work.flops;
  const char *name = w2_start_name(start);
  snprintf(j.id, sizeof j.id, "ceiling/%s/s%llu/%s%s%s", s->tasks[task].name,
           (unsigned long long)s->seeds[seed], s->sizes[size].name, name[0] ? "/" : "", name);
  return add_job(b, &j, index);
}

static double size_params(const W2Sweep *s, int size) {
  Shape a = task_arch(s, &s->sizes[size], s->world.input_dim);
  return a.xf ? w2_xf_params(&a.x) : w2_arch_params(&a.a);
}

W2Err w2_plan_build(const W2Sweep *s, W2Plan **out) {
  W2Plan *p;
  W2_CALLOC(p, 1);
  Builder b;
  memset(&b, 0, sizeof b);
  b.s = s;
  b.p = p;
  W2Err e = W2_OK;
  for (int t = 0; t < s->ntasks && !e; t++) {
    W2_CALL_GOTO(e, fail, w2_pretrain_source(s, &s->tasks[t], &b.src[t]));
    b.d[t] = b.src[t].d_in;
    b.src_task[t] = -1;
    if (b.src[t].kind == W2_PRE_WORLD) continue;
    for (int u = 0; u <= t && b.src_task[t] < 0; u++)
      if (w2_pretrain_source_same(&b.src[u], &b.src[t])) b.src_task[t] = u;
  }
  for (int t = 0; t < s->ntasks && !e; t++)
    for (int sd = 0; sd < s->nseeds && !e; sd++)
      for (int w = 0; w < s->nweak && !e; w++)
        for (int st = 0; st < s->nstrong && !e; st++) {
          int strong = size_index(s, s->strong[st]);
          int wsz = size_index(s, s->weak[w]);
          if (strong < 0) {
            e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                               "strong size '%s' is not in sizes", s->strong[st]);
            break;
          }
          if (wsz >= 0 && size_params(s, wsz) >= size_params(s, strong)) continue;
          for (int m = 0; m < s->nmethods && !e; m++) {
            const W2MethodSpec *ms = &s->methods[m];
            if (!w2_sweep_cell_wanted(s, w, strong, m)) continue;
            W2Job j = job_new(W2_JOB_CELL);
            j.task = t;
            j.seed = sd;
            j.weak = w;
            j.size = strong;
            j.method = m;
            j.ranks = w2_plan_size_ranks(s, &s->sizes[strong]);
            j.work = cell_work(s, &s->sizes[strong], b.d[t], ms);
            j.cost = j.work.flops;
            W2_CALL_GOTO(e, fail, weak_job(&b, t, sd, w, &j.deps[j.ndeps++]));
            W2_CALL_GOTO(e, fail, ceiling_job(&b, t, sd, strong, ms->unsup, &j.deps[j.ndeps++]));
            W2_CALL_GOTO(e, fail, pretrain_job(&b, t, strong, sd, &j.deps[j.ndeps++]));
            for (int q = 0; q < ms->nchain; q++) { /* a chain's sizes (bootstrap) */
              int mid = size_index(s, ms->chain[q]);
              if (mid < 0) {
                e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                                   "bootstrap chain size '%s' is not in sizes", ms->chain[q]);
                goto fail;
              }
              W2_CALL_GOTO(e, fail, pretrain_job(&b, t, mid, sd, &j.deps[j.ndeps++]));
            }
            snprintf(j.id, sizeof j.id, "cell/%s/s%llu/%s/%s/%s", s->tasks[t].name,
                     (unsigned long long)s->seeds[sd], s->weak[w], s->sizes[strong].name,
                     ms->name);
            int idx;
            W2_CALL_GOTO(e, fail, add_job(&b, &j, &idx));
          }
        }
  if (e) goto fail;
  /* check (f)'s control: the largest strong size's ceiling from initialisation, per task
   * and seed (health.h); after the cells, so the ids of every other job are unchanged */
  if (s->checks.enabled && s->checks.pretrain_control) {
    int L = w2_sweep_largest_strong(s);
    for (int t = 0; t < s->ntasks && L >= 0 && !e; t++)
      for (int sd = 0; sd < s->nseeds && !e; sd++) {
        int idx;
        W2_CALL_GOTO(e, fail, ceiling_job(&b, t, sd, L, W2_START_INIT, &idx));
      }
  }
  p->ncells = p->counts[W2_JOB_CELL];
  /* critical paths, in reverse topological order (dependencies always have lower index) */
  for (int i = 0; i < p->njobs; i++) p->jobs[i].crit = p->jobs[i].cost;
  for (int i = p->njobs - 1; i >= 0; i--) {
    W2Job *j = &p->jobs[i];
    for (int d = 0; d < j->ndeps; d++) {
      W2Job *dep = &p->jobs[j->deps[d]];
      if (dep->cost + j->crit > dep->crit) dep->crit = dep->cost + j->crit;
    }
  }
  for (int i = 0; i < p->njobs; i++) {
    p->total_cost += p->jobs[i].cost; /* the work, whatever group does it */
    if (p->jobs[i].crit > p->critical) p->critical = p->jobs[i].crit;
  }
  *out = p;
  return W2_OK;
fail:
  free(p->jobs);
  free(p);
  return w2_error_push(__FILE__, __LINE__, __func__, e);
}

void w2_plan_destroy(W2Plan **pp) {
  if (!*pp) return;
  free((*pp)->jobs);
  free(*pp);
  *pp = NULL;
}

int w2_plan_find(const W2Plan *p, const char *id) {
  /* linear: plans are built once, and lookups are rare outside building */
  for (int i = p->njobs - 1; i >= 0; i--)
    if (!strcmp(p->jobs[i].id, id)) return i;
  return -1;
}

void w2_job_filename(const char *id, char *out, size_t len) {
  /* '/' -> "__" and '_' -> "_-": every '_' of the output starts a two-character escape, so
   * the mapping is injective ("a_/b" and "a/_b" no longer both give "a___b"). Names never
   * contain '/', so the common case reads as before. */
  size_t k = 0;
  for (const char *c = id; *c && k + 2 < len; c++) {
    if (*c == '/' || *c == '_') {
      out[k++] = '_';
      out[k++] = *c == '/' ? '_' : '-';
    } else {
      out[k++] = *c;
    }
  }
  out[k] = '\0';
}

/* ---- simulation ---------------------------------------------------------------------- */

void w2_plan_flop_seconds(const W2Plan *p, double rate, double *seconds) {
  for (int i = 0; i < p->njobs; i++) seconds[i] = p->jobs[i].done ? 0 : p->jobs[i].cost / rate;
}

static int job_ranks(const W2Job *j, int nranks) { return j->ranks > nranks ? nranks : j->ranks; }

double w2_plan_simulate(const W2Plan *p, int nranks, const double *seconds) {
  int n = p->njobs;
  int *left = calloc((size_t)n, sizeof(int));     /* unfinished dependencies */
  double *end = calloc((size_t)n, sizeof(double)); /* finish time of running jobs */
  char *state = calloc((size_t)n, 1);              /* 0 waiting, 1 running, 2 done */
  if (!left || !end || !state) {
    free(left);
    free(end);
    free(state);
    return NAN;
  }
  for (int i = 0; i < n; i++) left[i] = p->jobs[i].ndeps;
  int free_ranks = nranks, done = 0;
  double t = 0;
  while (done < n) {
    /* start ready jobs, longest critical path (in FLOPs, as the runner) first, while
     * ranks are free */
    for (;;) {
      int best = -1;
      for (int i = 0; i < n; i++)
        if (state[i] == 0 && left[i] == 0 && (best < 0 || p->jobs[i].crit > p->jobs[best].crit))
          best = i;
      if (best < 0) break;
      int need = job_ranks(&p->jobs[best], nranks);
      if (need > free_ranks) break;
      free_ranks -= need;
      state[best] = 1;
      end[best] = t + seconds[best] / need;
    }
    /* advance to the next finishing job */
    int next = -1;
    for (int i = 0; i < n; i++)
      if (state[i] == 1 && (next < 0 || end[i] < end[next])) next = i;
    if (next < 0) break; /* nothing runs: cannot happen in a DAG */
    t = end[next];
    state[next] = 2;
    done++;
    free_ranks += job_ranks(&p->jobs[next], nranks);
    for (int i = 0; i < n; i++)
      for (int d = 0; d < p->jobs[i].ndeps; d++)
        if (p->jobs[i].deps[d] == next) left[i]--;
  }
  free(left);
  free(end);
  free(state);
  return t;
}

static void fmt_time(double s, char *buf, size_t len) {
  if (s < 120) snprintf(buf, len, "%.0f s", s);
  else if (s < 7200) snprintf(buf, len, "%.1f min", s / 60);
  else snprintf(buf, len, "%.1f h", s / 3600);
}

void w2_plan_print(const W2Plan *p, const W2Sweep *s, int nranks, const double *seconds,
                   double overhead, const char *model, FILE *out) {
  static const char *names[4] = {"pretraining runs", "weak supervisors", "ceilings", "cells"};
  fprintf(out, "sweep %s: %d jobs\n", s->name, p->njobs);
  double total_s = 0, chain_max = 0;
  int ndone = 0;
  for (int i = 0; i < p->njobs; i++) {
    total_s += seconds[i];
    ndone += p->jobs[i].done;
  }
  for (int k = 0; k < 4; k++) {
    double c = 0, sec = 0;
    for (int i = 0; i < p->njobs; i++)
      if ((int)p->jobs[i].type == k) {
        c += p->jobs[i].cost;
        sec += seconds[i];
      }
    fprintf(out, "  %-18s %6d  %10.3g FLOPs  %8.0f s on one rank\n", names[k], p->counts[k], c, sec);
  }
  fprintf(out, "  %-18s %6s  %10.3g FLOPs  %8.0f s on one rank\n", "total", "", p->total_cost,
          total_s);
  if (ndone) fprintf(out, "  already done       %6d  (cached or finished: no time)\n", ndone);
  /* the critical path itself: follow the most expensive dependency chain */
  int start = 0;
  for (int i = 0; i < p->njobs; i++)
    if (p->jobs[i].crit > p->jobs[start].crit) start = i;
  fprintf(out, "  critical path      %10.3g FLOPs:", p->critical);
  for (int cur = start; cur >= 0;) {
    fprintf(out, " %s", p->jobs[cur].id);
    int next = -1;
    for (int i = 0; i < p->njobs; i++)
      for (int d = 0; d < p->jobs[i].ndeps; d++)
        if (p->jobs[i].deps[d] == cur &&
            fabs(p->jobs[cur].cost + p->jobs[i].crit - p->jobs[cur].crit) <= 1e-9 * p->jobs[cur].crit &&
            next < 0)
          next = i;
    if (next >= 0) fprintf(out, " ->");
    cur = next;
  }
  fputc('\n', out);
  /* the longest chain in seconds (a job on a group: its time there) */
  double *chain = calloc((size_t)p->njobs, sizeof(double));
  for (int i = 0; chain && i < p->njobs; i++) {
    double before = 0;
    for (int d = 0; d < p->jobs[i].ndeps; d++) before = fmax(before, chain[p->jobs[i].deps[d]]);
    chain[i] = before + seconds[i] / job_ranks(&p->jobs[i], nranks);
    chain_max = fmax(chain_max, chain[i]);
  }
  free(chain);
  int maxr = 1;
  for (int i = 0; i < p->njobs; i++)
    if (p->jobs[i].ranks > maxr) maxr = p->jobs[i].ranks;
  if (maxr > 1) fprintf(out, "  largest group      %6d ranks\n", maxr);
  char b1[32], b2[32], b3[32];
  double sim = w2_plan_simulate(p, nranks, seconds);
  if (overhead > 0) {
    fmt_time(overhead, b1, sizeof b1);
    fprintf(out, "  run start and results assembly   %s (rank 0, after the jobs)\n", b1);
  }
  fmt_time(sim + overhead, b1, sizeof b1);
  fmt_time(fmax(total_s / nranks, chain_max) + overhead, b2, sizeof b2);
  fmt_time(total_s + overhead, b3, sizeof b3);
  fprintf(out, "  estimated wall time on %d rank%s: %s (lower bound %s; one rank %s)\n", nranks,
          nranks == 1 ? "" : "s", b1, b2, b3);
  fprintf(out, "  time model: %s\n", model);
}
