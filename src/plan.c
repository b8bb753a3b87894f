/* plan.c — expansion of a sweep into jobs, their costs and priorities (see plan.h). */
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dmat.h"
#include "methods/method.h"
#include "pretrain.h"

/* ---- costs --------------------------------------------------------------------------- */

/* The finetuned model of size z on d inputs (world.input_dim, or a data file's columns). */
static W2Arch task_arch(const W2Sweep *s, const W2SizeSpec *z, int d) {
  W2Arch a = {.d_in = d, .width = z->width, .depth = z->depth, .d_out = 1,
              .act = s->pretrain.act};
  return a;
}

/* a supervised finetuning stage on n rows, with evaluation on test and on the n rows */
static double stage_cost(const W2Sweep *s, const W2SizeSpec *z, int d, int n,
                         const W2StageHyper *h, int probe) {
  W2Arch a = task_arch(s, z, d);
  int B = h->batch < n ? h->batch : n;
  long steps = w2_train_steps_for_epochs(n, B, h->epochs);
  return steps * w2_arch_step_flops(&a, B, probe) +
         s->eval_points * w2_arch_forward_flops(&a, (double)s->split.n_test + n);
}

static double unsup_cost(const W2Sweep *s, const W2SizeSpec *z) {
  W2Arch a = task_arch(s, z, s->world.input_dim);
  a.d_out = s->world.pretrain_targets;
  int n = s->split.n_a + s->split.n_b, B = s->unsup.batch < n ? s->unsup.batch : n;
  return w2_train_steps_for_epochs(n, B, s->unsup.epochs) * w2_arch_step_flops(&a, B, 0);
}

/* a cross-validated probe (probe.h) on the frozen features of z over B: the features, then
 * folds x lambdas Newton solves (about 4 iterations each, Hessian n w^2 + w^3/3) */
static double probe_cost(const W2Sweep *s, const W2SizeSpec *z, int d) {
  W2Arch a = task_arch(s, z, d);
  double n = s->split.n_b, w = z->width, r = w < n ? w : n;
  double newton = 4.0 * (n * r * r + r * r * r / 3);
  return w2_arch_forward_flops(&a, n + s->split.n_test) +
         (s->probe.folds * s->probe.nlambda + 1) * newton;
}

/* K-fold cross-fitting of `size` on B (method.h W2MethodCost.crossfit) */
static double crossfit_cost(const W2MethodCost *c, const W2SizeSpec *size, int k) {
  int nb = c->s->split.n_b;
  return stage_cost(c->s, size, c->d, nb - nb / k, &c->s->finetune, 0) * k;
}

static double select_cost(const W2Sweep *s, const W2SizeSpec *z, int d, int n, int ceiling);

/* A cell's cost is its method's (method.h ops->cost) over these common pieces; with
 * recipes.student = "weak" a student's finetuning includes its recipe selection. */
static double cell_cost(const W2Sweep *s, const W2SizeSpec *z, int d, const W2MethodSpec *m) {
  int nb = s->split.n_b;
  W2Arch a = task_arch(s, z, d);
  W2MethodCost c = {.s = s, .z = z, .d = d,
                    .ft = s->recipes.student == W2_STUDENT_RECIPE_WEAK
                              ? select_cost(s, z, d, nb, 0)
                              : stage_cost(s, z, d, nb, &s->finetune, 0) +
                                    (s->finetune.head_init ? probe_cost(s, z, d) : 0),
                    .probe = probe_cost(s, z, d),
                    .forward_b = w2_arch_forward_flops(&a, nb),
                    .crossfit = crossfit_cost};
  const W2MethodOps *ops = w2_method_ops((int)m->kind);
  return ops && ops->cost ? ops->cost(&c, m) : c.ft;
}

/* ---- building ------------------------------------------------------------------------ */

double w2_plan_size_rank_bytes(const W2Sweep *s, const W2SizeSpec *z, int p) {
  W2Arch a = task_arch(s, z, s->world.input_dim);
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
  j.cost = w2_pretrain_source_flops(s, &s->sizes[size], &b->src[task]);
  int len = snprintf(j.id, sizeof j.id, "pretrain/%s/s%llu", s->sizes[size].name,
                     (unsigned long long)s->seeds[seed]);
  if (st >= 0) snprintf(j.id + len, sizeof j.id - (size_t)len, "/%s", s->tasks[st].name);
  return add_job(b, &j, index);
}

/* A weak supervisor's or ceiling's finetuning: with recipe selection every recipe of the
 * grid first trains on (1 - val_frac) of the split (the grid's mean epochs stand in for
 * each); LP-FT adds a cross-validated probe per training run; a probe ceiling one more. */
static double select_cost(const W2Sweep *s, const W2SizeSpec *z, int d, int n, int ceiling) {
  double one = stage_cost(s, z, d, n, &s->finetune, 0);
  int K = s->recipes.enabled ? w2_recipe_count(s) : 0;
  double c = one;
  if (K) {
    double ep = 0;
    for (int i = 0; i < K; i++) {
      W2StageHyper h;
      w2_recipe_at(s, i, &h);
      ep += h.epochs;
    }
    c += K * (1 - s->recipes.val_frac) * one * (ep / K) / (s->finetune.epochs > 0 ? s->finetune.epochs : 1);
  }
  if (s->finetune.head_init) c += (K + 1) * probe_cost(s, z, d);
  /* a probe ceiling: the probe, and the chosen recipe's k-fold estimate to compare with */
  if (ceiling && s->recipes.probe_ceiling) {
    int k = s->probe.folds > 1 ? s->probe.folds : 2;
    c += probe_cost(s, z, d) + (k - 1) * one; /* k fold models on (k-1)/k of the split */
    if (s->finetune.head_init) c += k * probe_cost(s, z, d);
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
    j.cost = select_cost(s, &s->sizes[sz], b->d[task], s->split.n_a, 0);
  } else {
    j.cost = (double)s->split.n_b + s->split.n_test; /* a synthetic supervisor: labels only */
  }
  snprintf(j.id, sizeof j.id, "weak/%s/s%llu/%s", s->tasks[task].name,
           (unsigned long long)s->seeds[seed], s->weak[weak]);
  return add_job(b, &j, index);
}

static W2Err ceiling_job(Builder *b, int task, int seed, int size, int unsup, int *index) {
  const W2Sweep *s = b->s;
  W2Job j = job_new(W2_JOB_CEILING);
  j.task = task;
  j.seed = seed;
  j.size = size;
  j.unsup = unsup;
  j.ranks = w2_plan_size_ranks(s, &s->sizes[size]);
  W2_CALL(pretrain_job(b, task, size, seed, &j.deps[j.ndeps++]));
  j.cost = select_cost(s, &s->sizes[size], b->d[task], s->split.n_b, 1) +
           (unsup ? unsup_cost(s, &s->sizes[size]) : 0);
  snprintf(j.id, sizeof j.id, "ceiling/%s/s%llu/%s%s", s->tasks[task].name,
           (unsigned long long)s->seeds[seed], s->sizes[size].name, unsup ? "/unsup" : "");
  return add_job(b, &j, index);
}

static double size_params(const W2Sweep *s, int size) {
  W2Arch a = task_arch(s, &s->sizes[size], s->world.input_dim);
  return w2_arch_params(&a);
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
            j.cost = cell_cost(s, &s->sizes[strong], b.d[t], ms);
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
    p->total_cost += p->jobs[i].cost * p->jobs[i].ranks;
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

double w2_plan_simulate(const W2Plan *p, int nranks, double rate) {
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
    /* start ready jobs, longest critical path first, while ranks are free */
    for (;;) {
      int best = -1;
      for (int i = 0; i < n; i++)
        if (state[i] == 0 && left[i] == 0 && (best < 0 || p->jobs[i].crit > p->jobs[best].crit))
          best = i;
      if (best < 0) break;
      int need = p->jobs[best].ranks > nranks ? nranks : p->jobs[best].ranks;
      if (need > free_ranks) break;
      free_ranks -= need;
      state[best] = 1;
      end[best] = t + p->jobs[best].cost / (rate * need);
    }
    /* advance to the next finishing job */
    int next = -1;
    for (int i = 0; i < n; i++)
      if (state[i] == 1 && (next < 0 || end[i] < end[next])) next = i;
    if (next < 0) break; /* nothing runs: cannot happen in a DAG */
    t = end[next];
    state[next] = 2;
    done++;
    free_ranks += p->jobs[next].ranks > nranks ? nranks : p->jobs[next].ranks;
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

void w2_plan_print(const W2Plan *p, const W2Sweep *s, int nranks, double rate, FILE *out) {
  static const char *names[4] = {"pretraining runs", "weak supervisors", "ceilings", "cells"};
  fprintf(out, "sweep %s: %d jobs\n", s->name, p->njobs);
  for (int k = 0; k < 4; k++) {
    double c = 0;
    for (int i = 0; i < p->njobs; i++)
      if ((int)p->jobs[i].type == k) c += p->jobs[i].cost * p->jobs[i].ranks;
    fprintf(out, "  %-18s %6d  %10.3g FLOPs\n", names[k], p->counts[k], c);
  }
  fprintf(out, "  %-18s %6s  %10.3g FLOPs\n", "total", "", p->total_cost);
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
  int maxr = 1;
  for (int i = 0; i < p->njobs; i++)
    if (p->jobs[i].ranks > maxr) maxr = p->jobs[i].ranks;
  if (maxr > 1) fprintf(out, "  largest group      %6d ranks\n", maxr);
  char b1[32], b2[32], b3[32];
  double sim = w2_plan_simulate(p, nranks, rate);
  double lb = fmax(p->total_cost / (rate * nranks), p->critical / rate);
  fmt_time(sim, b1, sizeof b1);
  fmt_time(lb, b2, sizeof b2);
  fmt_time(p->total_cost / rate, b3, sizeof b3);
  fprintf(out, "  estimated wall time on %d rank%s: %s (lower bound %s; one rank %s) at %.3g "
               "FLOP/s per rank\n",
          nranks, nranks == 1 ? "" : "s", b1, b2, b3, rate);
}
