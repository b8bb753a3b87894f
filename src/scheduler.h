/* scheduler.h — runs a plan's jobs on the ranks of a communicator.
 *
 * Dynamic, cost-aware scheduling: a coordinator thread on rank 0 hands each idle rank the
 * ready job (all dependencies done) with the longest critical path (plan.h). Every rank,
 * rank 0 included, is a worker. A job whose size asks for p > 1 ranks waits until p ranks
 * are idle; they are then given the job together, form a communicator with
 * MPI_Comm_create_group (no other rank takes part), build a BLACS grid on it and run it
 * distributed; afterwards they return to the pool.
 *
 * Jobs already finished by an earlier run (their artifact or cell file exists) are done
 * from the start, so rerunning the same command after a kill finishes only what is
 * missing. A job that fails is retried up to max_attempts times; after that it and every
 * job that needs it are failed (with the error, in its status record), and the rest of the
 * sweep goes on. The coordinator polls with short sleeps rather than a blocking receive,
 * so that on a machine with one core per rank it does not take a core from rank 0's
 * worker.
 *
 * Threads: the coordinator thread and rank 0's worker both call MPI at any time, which the
 * standard allows only under MPI_THREAD_MULTIPLE. main.c requests it; w2_schedule_run
 * refuses to start under anything less (w2_mpi_threads_check). */
#ifndef W2_SCHEDULER_H
#define W2_SCHEDULER_H

#include <stdio.h>

#include "plan.h"
#include "results.h"

typedef struct W2RunOpts {
  const char *cache_dir;
  const char *workdir;
  int max_attempts;
  double progress_interval;  /* seconds between progress lines (<= 0: none) */
  FILE *progress;            /* where rank 0 prints them (NULL: none) */
  FILE *log;                 /* stage lines of the pipeline (NULL: none) */
  const char *const *only;   /* run only jobs matching one of these ids (and what they
                                need); an id matches itself and the ids below it:
                                "cell/linear" matches "cell/linear/s0/..." but never
                                "cell/linear2/..." */
  int nonly;                 /* 0: all jobs */
  int shard, nshards;        /* run only cells of this cost-balanced slice (nshards > 1) */
} W2RunOpts;

typedef struct W2RunSummary {
  int jobs_done, jobs_failed, jobs_skipped; /* skipped: already done before this run */
  int cells_done, cells_failed;
  int cells_reused;   /* finished before this run with this cell's settings hash */
  double seconds;
  double flops_done;  /* planned FLOPs of the jobs finished in this run */
} W2RunSummary;

/* W2_OK when MPI was initialized with MPI_THREAD_MULTIPLE (MPI_Query_thread); otherwise
 * W2_ERR_MPI with a one-line message naming the level the MPI library provided. */
W2Err w2_mpi_threads_check(void);

/* Runs the plan on all ranks of comm (collective). Returns W2_OK even when jobs failed:
 * the summary counts them. Every rank gets the same summary. */
W2Err w2_schedule_run(const W2Sweep *s, const W2Plan *plan, MPI_Comm comm,
                      const W2RunOpts *opts, W2RunSummary *sum);

/* Which jobs a shard needs: marks need[i] = 1 for the cells and the jobs no job waits for
 * (check (f)'s control ceilings) in slice `shard` of `nshards` (greedy balance of their
 * costs in plan order), and everything they depend on. */
void w2_plan_shard(const W2Plan *plan, int shard, int nshards, char *need);

/* 1 when job id `id` is `pattern` or lies below it (pattern + "/..."). */
int w2_job_matches(const char *id, const char *pattern);

/* 1 when job i's output (artifact or cell file) already exists. */
int w2_job_is_done(const W2Sweep *s, const W2Plan *plan, W2Pipeline *p, const char *workdir,
                   int i);

#endif
