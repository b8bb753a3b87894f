/* plan.h — a sweep expanded into jobs: shared artifacts and cells, with dependencies, FLOP
 * costs and priorities.
 *
 * Jobs (each computed exactly once per sweep; see pipeline.h for what they produce):
 *   pretrain/<size>/s<seed>                           needs nothing (the world: every
 *                                                     built-in task)
 *   pretrain/<size>/s<seed>/<task>                    needs nothing (a data file's source,
 *                                                     pretrain.h; one job per distinct
 *                                                     source, named after its first task)
 *   weak/<task>/s<seed>/<weak>                        needs pretrain of the weak size
 *   ceiling/<task>/s<seed>/<size>[/unsup]             needs pretrain of the size
 *   ceiling/<task>/s<seed>/<size>/init                needs nothing (check (f)'s control,
 *                                                     health.h: the largest strong size's
 *                                                     ceiling trained from initialisation;
 *                                                     with checks.pretrain_control; no cell
 *                                                     waits for it)
 *   cell/<task>/s<seed>/<weak>/<strong>/<method>      needs its weak and ceiling jobs and
 *                                                     the pretraining of every size it uses
 * Pairs whose weak model has at least as many parameters as the strong one are not cells.
 * Costs are FLOPs (training + evaluation forwards) from the exact accounting of model.h;
 * a job's priority is its critical path: its own cost plus the longest chain of costs of
 * the jobs that wait for it. The scheduler runs the ready job of longest critical path
 * first, because cell costs differ by orders of magnitude and a static split would leave
 * ranks idle behind the largest pretraining runs. */
#ifndef W2_PLAN_H
#define W2_PLAN_H

#include <stdio.h>

#include "spec.h"

typedef enum { W2_JOB_PRETRAIN = 0, W2_JOB_WEAK, W2_JOB_CEILING, W2_JOB_CELL } W2JobType;

#define W2_JOB_MAXDEPS (W2_MAX_CHAIN + 4)
#define W2_JOB_ID_MAX 160

/* What a job computes, in the units the throughput model prices (throughput.h): its FLOPs
 * (the job's cost), the part of them in probe solves (each cross-validated probe solves
 * folds x lambdas + 1 logistic regressions by Newton's method: small dense LAPACK work at a
 * rate of its own), optimizer steps (the per-step work that does not scale with FLOPs:
 * batch gathers, AdamW's launch, the loss) and activations touched (elementwise work: rows
 * x (inputs + hidden units + outputs), over training steps and evaluation forwards). */
typedef struct W2Work {
  double flops, probe, steps, act;
} W2Work;

typedef struct W2Job {
  W2JobType type;
  int task, seed, size, weak, method; /* indices into the sweep (-1 where not used; a
                                         pretraining job's task is the data file's first
                                         task, -1 for the world) */
  int start;                          /* ceiling: where its model starts (W2Start,
                                         pipeline.h: pretrained, unsup, init) */
  int ranks;                          /* ranks of the group that runs it */
  double cost;                        /* FLOPs (= work.flops) */
  W2Work work;
  int done;                           /* already there (plan: a cached artifact or a
                                         finished cell), so it takes no time */
  double crit;                        /* critical path from this job on, FLOPs */
  int ndeps;
  int deps[W2_JOB_MAXDEPS];           /* job indices */
  char id[W2_JOB_ID_MAX];
} W2Job;

typedef struct W2Plan {
  int njobs;
  W2Job *jobs;        /* topologically ordered: dependencies come first */
  int ncells;
  int counts[4];      /* jobs per type */
  double total_cost;  /* FLOPs */
  double critical;    /* longest dependency chain, FLOPs */
} W2Plan;

W2Err w2_plan_build(const W2Sweep *s, W2Plan **plan);
void w2_plan_destroy(W2Plan **plan);
/* Index of the job with this id, or -1. */
int w2_plan_find(const W2Plan *plan, const char *id);
/* Rank count for a size: its `ranks` setting, or (ranks = 0) the smallest power of two
 * whose share of the training memory (pretraining, w2_arch_train_bytes / p) plus PSGEMM's
 * panel buffers (w2_grid_gemm_workspace_bytes) fits rank_memory_gb (1 when no limit). */
int w2_plan_size_ranks(const W2Sweep *s, const W2SizeSpec *size);
#define W2_PLAN_MAX_GROUP 4096
/* Memory one rank needs to train a model of this size on a group of p ranks (pretraining,
 * the largest stage: w2_arch_train_bytes / p plus PSGEMM's panel buffers), bytes. */
double w2_plan_size_rank_bytes(const W2Sweep *s, const W2SizeSpec *size, int p);
/* Makespan, seconds, of a list-scheduling simulation on nranks ranks with the runner's
 * policy (the ready job of longest critical path first, a group job once its ranks are
 * free); seconds[i] is job i's time on one rank (throughput.h; on p ranks it takes
 * seconds[i] / p; 0 for a job already done). */
double w2_plan_simulate(const W2Plan *plan, int nranks, const double *seconds);
/* The FLOP-rate model (`plan --rate`): seconds[i] = cost / flops_per_s, 0 when done. */
void w2_plan_flop_seconds(const W2Plan *plan, double flops_per_s, double *seconds);
/* Human summary: counts, FLOPs and seconds by job type, critical path, and the wall time
 * on nranks (simulated makespan, lower bound, one rank), each plus `overhead` seconds of
 * the run's own (start, results assembly); `model` names the time model. */
void w2_plan_print(const W2Plan *plan, const W2Sweep *s, int nranks, const double *seconds,
                   double overhead, const char *model, FILE *out);
/* A filesystem-safe name for a job id, one to one: '/' -> "__", '_' -> "_-" (out must hold
 * 2 * strlen(id) + 1 bytes). */
void w2_job_filename(const char *id, char *out, size_t len);

#endif
