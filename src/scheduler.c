/* scheduler.c — coordinator thread and workers (see scheduler.h). */
#include "scheduler.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runlock.h"
#include "store.h"

#define TAG_REQ 7101
#define TAG_ASSIGN 7102
#define MAX_ERR 400

/* worker -> coordinator: "I finished `job` (or nothing: -1) with ok; give me work" */
typedef struct Req {
  int rank;
  int job;
  int ok;
  int leader;  /* 1: this rank reports the job's outcome (a group's first member) */
  double seconds;
  char err[MAX_ERR];
} Req;

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of the calling thread: a job's own work, whatever else loads the machine
 * (rank 0's coordinator thread is not counted; BLAS helper threads are not either, so
 * calibration runs with OPENBLAS_NUM_THREADS=1, bench/calibrate.sh) */
static double thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- resume: what is already there ---------------------------------------------------- */

int w2_job_is_done(const W2Sweep *s, const W2Plan *plan, W2Pipeline *p, const char *workdir,
                   int i) {
  const W2Job *j = &plan->jobs[i];
  char path[W2_PATH_MAX + 512];
  uint64_t seed = s->seeds[j->seed];
  switch (j->type) {
  case W2_JOB_PRETRAIN:
    w2_pipe_pretrained_path(p, &s->sizes[j->size], j->task >= 0 ? &s->tasks[j->task] : NULL,
                            seed, path, sizeof path);
    break;
  case W2_JOB_WEAK: w2_pipe_weak_path(p, s->weak[j->weak], &s->tasks[j->task], seed, path, sizeof path); break;
  case W2_JOB_CEILING:
    w2_pipe_ceiling_path(p, &s->sizes[j->size], &s->tasks[j->task], seed, j->start, path, sizeof path);
    break;
  default: {
    /* a cell file is read whole (assembly will read it anyway): one that is not a cell is
     * removed and its cell recomputed, instead of failing every assembly */
    w2_results_cell_path(workdir, j->id, path, sizeof path);
    if (!w2_artifact_ok(path)) return 0;
    W2CellResult c;
    memset(&c, 0, sizeof c);
    W2Err e = w2_cellfile_read(path, &c);
    uint64_t h = c.config_hash;
    w2_cell_result_clear(&c);
    if (e) {
      w2_error_clear();
      if (e == W2_ERR_DATA) unlink(path);
      return 0;
    }
    /* sweeps that extend: a finished cell is reused only when its settings hash is this
     * cell's (w2_pipe_cell_hash); one computed with other settings is removed, so neither
     * this run nor an assembly can take it for this sweep's */
    if (h != w2_pipe_cell_hash(p, &s->tasks[j->task], seed, s->weak[j->weak], &s->sizes[j->size],
                               &s->methods[j->method])) {
      unlink(path);
      return 0;
    }
    return 1;
  }
  }
  return path[0] && w2_artifact_ok(path); /* a truncated file is redone */
}

int w2_job_matches(const char *id, const char *pattern) {
  size_t n = strlen(pattern);
  while (n > 0 && pattern[n - 1] == '/') n--;
  return strncmp(id, pattern, n) == 0 && (id[n] == '\0' || id[n] == '/');
}

void w2_plan_shard(const W2Plan *plan, int shard, int nshards, char *need) {
  int n = plan->njobs;
  memset(need, 0, (size_t)n);
  double *load = calloc((size_t)(nshards > 0 ? nshards : 1), sizeof(double));
  char *waited = calloc((size_t)(n ? n : 1), 1);
  if (!load || !waited) {
    free(load);
    free(waited);
    return;
  }
  for (int i = 0; i < n; i++)
    for (int d = 0; d < plan->jobs[i].ndeps; d++) waited[plan->jobs[i].deps[d]] = 1;
  /* greedy: each cell, and each other job no job waits for (check (f)'s control ceilings),
   * in plan order, so every shard computes the same assignment, goes to the currently
   * lightest slice */
  for (int i = 0; i < n; i++) {
    if (plan->jobs[i].type != W2_JOB_CELL && waited[i]) continue;
    int best = 0;
    for (int k = 1; k < nshards; k++)
      if (load[k] < load[best]) best = k;
    load[best] += plan->jobs[i].cost * plan->jobs[i].ranks;
    if (best == shard) need[i] = 1;
  }
  free(load);
  free(waited);
  for (int i = n - 1; i >= 0; i--)
    if (need[i])
      for (int d = 0; d < plan->jobs[i].ndeps; d++) need[plan->jobs[i].deps[d]] = 1;
}

/* ---- coordinator ----------------------------------------------------------------------- */

/* J_SKIP: done before this run; J_NOTNEEDED: outside this run's --only / --shard */
enum { J_WAIT = 0, J_READY, J_RUN, J_DONE, J_FAILED, J_SKIP, J_NOTNEEDED };

typedef struct Coord {
  const W2Sweep *s;
  const W2Plan *plan;
  const W2RunOpts *o;
  MPI_Comm comm;
  int nranks;
  char *state;      /* per job */
  int *left;        /* unfinished dependencies per job */
  int *attempts;    /* per job, this run and earlier ones */
  int *idle;        /* idle ranks (stack) */
  int nidle;
  int stopped;      /* ranks told to stop */
  int running;      /* jobs running */
  int *dependents;  /* CSR list of who waits for each job */
  int *dep_start;
  W2RunSummary sum;
  double t0, last_print;
  double flops_total;
  int cells_finished, cells_total; /* for the stop message (runlock.h) */
} Coord;

static void send_assign(Coord *c, int rank, int job, int attempt, const int *members, int ng) {
  int msg[3 + 4096];
  msg[0] = job;
  msg[1] = attempt;
  msg[2] = ng;
  for (int i = 0; i < ng; i++) msg[3 + i] = members[i];
  MPI_Send(msg, 3 + ng, MPI_INT, rank, TAG_ASSIGN, c->comm);
}

static void fail_dependents(Coord *c, int job, const char *why) {
  for (int k = c->dep_start[job]; k < c->dep_start[job + 1]; k++) {
    int d = c->dependents[k];
    if (c->state[d] == J_FAILED || c->state[d] == J_DONE || c->state[d] == J_SKIP ||
        c->state[d] == J_NOTNEEDED)
      continue;
    c->state[d] = J_FAILED;
    c->sum.jobs_failed++;
    if (c->plan->jobs[d].type == W2_JOB_CELL) c->sum.cells_failed++;
    W2Status st = {.state = W2_ST_FAILED, .attempts = c->attempts[d]};
    snprintf(st.error, sizeof st.error, "prerequisite %s failed: %s", c->plan->jobs[job].id, why);
    w2_status_write(c->o->workdir, c->plan->jobs[d].id, &st);
    fail_dependents(c, d, why);
  }
}

static void job_finished(Coord *c, const Req *r) {
  int j = r->job;
  c->running--;
  const W2Job *job = &c->plan->jobs[j];
  if (r->ok) {
    c->state[j] = J_DONE;
    c->sum.jobs_done++;
    c->sum.flops_done += job->cost * job->ranks;
    if (job->type == W2_JOB_CELL) {
      c->sum.cells_done++;
      c->cells_finished++;
      w2_runlock_progress(c->cells_finished, c->cells_total);
    }
    for (int k = c->dep_start[j]; k < c->dep_start[j + 1]; k++) {
      int d = c->dependents[k];
      if (--c->left[d] == 0 && c->state[d] == J_WAIT) c->state[d] = J_READY;
    }
    return;
  }
  if (c->o->progress)
    fprintf(c->o->progress, "w2sweep: %s failed (attempt %d of %d): %s\n", job->id,
            c->attempts[j], c->o->max_attempts, r->err);
  if (c->attempts[j] < c->o->max_attempts) {
    c->state[j] = J_READY;
  } else {
    c->state[j] = J_FAILED;
    c->sum.jobs_failed++;
    if (job->type == W2_JOB_CELL) c->sum.cells_failed++;
    fail_dependents(c, j, r->err);
  }
}

static int pick_ready(const Coord *c) {
  int best = -1;
  for (int i = 0; i < c->plan->njobs; i++)
    if (c->state[i] == J_READY && (best < 0 || c->plan->jobs[i].crit > c->plan->jobs[best].crit))
      best = i;
  return best;
}

static void dispatch(Coord *c) {
  while (c->nidle > 0) {
    int j = pick_ready(c);
    if (j < 0) break;
    int need = c->plan->jobs[j].ranks;
    if (need > c->nranks) need = c->nranks; /* a group never exceeds the job's ranks */
    if (need > c->nidle) break;             /* wait until enough ranks are idle */
    int members[4096];
    for (int k = 0; k < need; k++) members[k] = c->idle[c->nidle - need + k];
    /* deterministic member order: ascending rank */
    for (int a = 0; a < need; a++)
      for (int b = a + 1; b < need; b++)
        if (members[b] < members[a]) {
          int t = members[a];
          members[a] = members[b];
          members[b] = t;
        }
    c->nidle -= need;
    c->state[j] = J_RUN;
    c->running++;
    c->attempts[j]++;
    for (int k = 0; k < need; k++) send_assign(c, members[k], j, c->attempts[j], members, need);
  }
  if (c->running == 0 && pick_ready(c) < 0) {
    /* nothing runs and nothing can start: stop every idle rank */
    while (c->nidle > 0) {
      send_assign(c, c->idle[--c->nidle], -1, 0, NULL, 0);
      c->stopped++;
    }
  }
}

static void progress_line(Coord *c, int final) {
  if (!c->o->progress) return;
  double now = wall();
  if (!final && now - c->last_print < c->o->progress_interval) return;
  c->last_print = now;
  int cells = 0, cells_total = 0;
  for (int i = 0; i < c->plan->njobs; i++)
    if (c->plan->jobs[i].type == W2_JOB_CELL && c->state[i] != J_NOTNEEDED) {
      cells_total++;
      cells += c->state[i] == J_DONE || c->state[i] == J_SKIP;
    }
  double el = now - c->t0, rate = el > 0 ? c->sum.flops_done / el : 0;
  double left = c->flops_total - c->sum.flops_done;
  char eta[32] = "?";
  if (rate > 0) {
    double t = left / rate;
    if (t < 120) snprintf(eta, sizeof eta, "%.0fs", t);
    else snprintf(eta, sizeof eta, "%.1fmin", t / 60);
  }
  fprintf(c->o->progress,
          "[w2sweep] cells %d/%d done (%d failed) | FLOPs %.3g/%.3g (%.0f%%) | %.3g FLOP/s | "
          "%.0fs elapsed | ETA %s\n",
          cells, cells_total, c->sum.cells_failed, c->sum.flops_done, c->flops_total,
          c->flops_total > 0 ? 100 * c->sum.flops_done / c->flops_total : 100.0, rate, el,
          final ? "0s" : eta);
  fflush(c->o->progress);
}

static void *coordinator(void *arg) {
  Coord *c = arg;
  Req r;
  struct timespec nap = {0, 2000000}; /* 2 ms */
  while (c->stopped < c->nranks) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, c->comm, &flag, &st);
    if (!flag) {
      progress_line(c, 0);
      w2_runlock_touch();
      nanosleep(&nap, NULL);
      continue;
    }
    MPI_Recv(&r, sizeof r, MPI_BYTE, st.MPI_SOURCE, TAG_REQ, c->comm, MPI_STATUS_IGNORE);
    if (r.job >= 0 && r.leader) job_finished(c, &r);
    c->idle[c->nidle++] = r.rank;
    dispatch(c);
  }
  progress_line(c, 1);
  return NULL;
}

/* ---- workers --------------------------------------------------------------------------- */

typedef struct Worker {
  const W2Sweep *s;
  const W2Plan *plan;
  const W2RunOpts *o;
  MPI_Comm comm;
  int rank;
  W2Grid *grid1;        /* 1x1 on MPI_COMM_SELF */
  W2Pipeline *pipe1;
  W2TaskData *td;       /* last task data, reused across jobs of the same (task, seed) */
  int td_task, td_seed;
  char host[64];
} Worker;

static W2Err task_data(Worker *w, W2Pipeline *p, int task, int seed, W2TaskData **out) {
  if (!w->td || w->td_task != task || w->td_seed != seed) {
    w2_task_data_destroy(&w->td);
    W2_CALL(w2_task_data_create(w->s, w2_pipeline_world(p), &w->s->tasks[task],
                                w->s->seeds[seed], &w->td));
    w->td_task = task;
    w->td_seed = seed;
  }
  *out = w->td;
  return W2_OK;
}

static W2Err run_job(Worker *w, W2Pipeline *p, int leader, int ji, int attempt) {
  const W2Sweep *s = w->s;
  const W2Job *j = &w->plan->jobs[ji];
  uint64_t seed = s->seeds[j->seed];
  W2TaskData *td = NULL;
  switch (j->type) {
  case W2_JOB_PRETRAIN: {
    /* on the world (task -1), or on the data file of task j->task (its pool is read with
     * the task's data) */
    W2Model *m = NULL;
    const W2TaskSpec *t = j->task >= 0 ? &s->tasks[j->task] : NULL;
    if (t) W2_CALL(task_data(w, p, j->task, j->seed, &td));
    W2_CALL(w2_pipe_pretrained(p, &s->sizes[j->size], t, td, seed, &m));
    w2_model_destroy(&m);
    return W2_OK;
  }
  case W2_JOB_WEAK: {
    W2RunResult *r = NULL;
    W2_CALL(task_data(w, p, j->task, j->seed, &td));
    W2_CALL(w2_pipe_weak(p, s->weak[j->weak], &s->tasks[j->task], td, seed, &r));
    w2_run_result_free(&r);
    return W2_OK;
  }
  case W2_JOB_CEILING: {
    W2RunResult *r = NULL;
    W2_CALL(task_data(w, p, j->task, j->seed, &td));
    W2_CALL(w2_pipe_ceiling(p, &s->sizes[j->size], &s->tasks[j->task], td, seed, j->start, &r));
    w2_run_result_free(&r);
    return W2_OK;
  }
  case W2_JOB_CELL: {
    W2CellResult c;
    W2_CALL(task_data(w, p, j->task, j->seed, &td));
    W2_CALL(w2_pipe_cell(p, &s->tasks[j->task], td, seed, s->weak[j->weak], &s->sizes[j->size],
                         &s->methods[j->method], &c));
    W2Err e = W2_OK;
    if (leader) {
      char path[W2_PATH_MAX + 512];
      w2_results_cell_path(w->o->workdir, j->id, path, sizeof path);
      e = w2_cellfile_write(path, &c, w->rank, attempt);
    }
    w2_cell_result_clear(&c);
    W2_CALL(e);
    return W2_OK;
  }
  }
  return W2_OK;
}

static void worker_loop(Worker *w) {
  Req r = {.rank = w->rank, .job = -1, .ok = 1, .leader = 0};
  for (;;) {
    MPI_Send(&r, sizeof r, MPI_BYTE, 0, TAG_REQ, w->comm);
    MPI_Status st;
    MPI_Probe(0, TAG_ASSIGN, w->comm, &st);
    int cnt;
    MPI_Get_count(&st, MPI_INT, &cnt);
    int *msg = malloc(sizeof(int) * (size_t)cnt);
    MPI_Recv(msg, cnt, MPI_INT, 0, TAG_ASSIGN, w->comm, MPI_STATUS_IGNORE);
    int job = msg[0], attempt = msg[1], ng = msg[2];
    if (job < 0) {
      free(msg);
      return;
    }
    const W2Job *j = &w->plan->jobs[job];
    int leader = ng <= 1 || msg[3] == w->rank;
    double t0 = wall(), c0 = thread_cpu();
    W2Status status = {.state = W2_ST_RUNNING, .attempts = attempt, .rank = w->rank, .started = t0};
    snprintf(status.host, sizeof status.host, "%s", w->host);
    if (leader) w2_status_write(w->o->workdir, j->id, &status);
    W2Err e = W2_OK;
    if (ng <= 1) {
      e = run_job(w, w->pipe1, leader, job, attempt);
    } else {
      /* a group: only its members call MPI_Comm_create_group (tag = job) */
      MPI_Group world, grp;
      MPI_Comm gcomm = MPI_COMM_NULL;
      MPI_Comm_group(w->comm, &world);
      MPI_Group_incl(world, ng, msg + 3, &grp);
      MPI_Comm_create_group(w->comm, grp, job, &gcomm);
      MPI_Group_free(&grp);
      MPI_Group_free(&world);
      int pr, pc;
      w2_grid_shape(ng, &pr, &pc);
      W2Grid *g = NULL;
      W2Pipeline *p = NULL;
      int width = j->size >= 0 ? w->s->sizes[j->size].width : 0;
      e = w2_grid_create(gcomm, pr, pc, w2_grid_block(width, pr, pc), &g);
      if (!e) e = w2_pipeline_create(w->s, g, w->o->cache_dir, &p);
      if (!e) {
        w2_pipeline_set_log(p, w->o->log);
        w2_task_data_destroy(&w->td); /* task data is rebuilt against this pipeline's world */
        e = run_job(w, p, leader, job, attempt);
        w2_task_data_destroy(&w->td);
      }
      /* agree on the outcome so that every member reports the same */
      int bad = e != W2_OK, anybad = 0;
      MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, gcomm);
      if (anybad && !e) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MPI, "another rank of the group failed");
      w2_pipeline_destroy(&p);
      w2_grid_destroy(&g);
      MPI_Comm_free(&gcomm);
    }
    free(msg);
    status.seconds = wall() - t0;
    status.cpu = thread_cpu() - c0;
    r.job = job;
    r.ok = e == W2_OK;
    r.leader = leader;
    r.seconds = status.seconds;
    r.err[0] = '\0';
    if (e) {
      snprintf(r.err, sizeof r.err, "%s", w2_error_message());
      status.state = W2_ST_FAILED;
      snprintf(status.error, sizeof status.error, "%s", r.err);
      w2_error_clear();
    } else {
      status.state = W2_ST_DONE;
    }
    if (leader) w2_status_write(w->o->workdir, j->id, &status);
  }
}

/* ---- the run ----------------------------------------------------------------------------- */

W2Err w2_mpi_threads_check(void) {
  int provided = MPI_THREAD_SINGLE;
  W2_CALL_MPI(MPI_Query_thread(&provided));
  const char *name = provided == MPI_THREAD_SINGLE       ? "MPI_THREAD_SINGLE"
                     : provided == MPI_THREAD_FUNNELED   ? "MPI_THREAD_FUNNELED"
                     : provided == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
                                                         : "MPI_THREAD_MULTIPLE";
  W2_CHECK(provided >= MPI_THREAD_MULTIPLE, W2_ERR_MPI,
           "the MPI library provides only %s; `run` needs MPI_THREAD_MULTIPLE (rank 0's "
           "coordinator thread and its worker both call MPI): use an MPI built with thread "
           "support (Open MPI and MPICH are by default)", name);
  return W2_OK;
}

W2Err w2_schedule_run(const W2Sweep *s, const W2Plan *plan, MPI_Comm comm0,
                      const W2RunOpts *o, W2RunSummary *sum) {
  W2_CALL(w2_mpi_threads_check()); /* the same on every rank: all return before any MPI call */
  MPI_Comm comm;
  W2_CALL_MPI(MPI_Comm_dup(comm0, &comm));
  int rank, nranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &nranks);
  Worker w = {.s = s, .plan = plan, .o = o, .comm = comm, .rank = rank, .td_task = -1};
  gethostname(w.host, sizeof w.host - 1);
  W2Err e = w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &w.grid1);
  if (!e) e = w2_pipeline_create(s, w.grid1, o->cache_dir, &w.pipe1);
  if (!e) w2_pipeline_set_log(w.pipe1, o->log);
  /* every rank must have its pipeline, or nobody starts */
  int bad = e != W2_OK, anybad;
  MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, comm);
  if (anybad) {
    w2_pipeline_destroy(&w.pipe1);
    w2_grid_destroy(&w.grid1);
    MPI_Comm_free(&comm);
    if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
    W2_RAISE(W2_ERR_MPI, "another rank could not set up the sweep");
  }
  Coord c = {0};
  pthread_t th;
  int started = 0;
  if (rank == 0) {
    int n = plan->njobs;
    c.s = s;
    c.plan = plan;
    c.o = o;
    c.comm = comm;
    c.nranks = nranks;
    c.state = calloc((size_t)n, 1);
    c.left = calloc((size_t)n, sizeof(int));
    c.attempts = calloc((size_t)n, sizeof(int));
    c.idle = calloc((size_t)nranks, sizeof(int));
    c.dep_start = calloc((size_t)n + 1, sizeof(int));
    int ndep = 0;
    for (int i = 0; i < n; i++) ndep += plan->jobs[i].ndeps;
    c.dependents = calloc((size_t)(ndep ? ndep : 1), sizeof(int));
    char *need = calloc((size_t)n, 1);
    if (!c.state || !c.left || !c.attempts || !c.idle || !c.dep_start || !c.dependents || !need) {
      fprintf(stderr, "w2sweep: error: out of memory scheduling %d jobs\n", n);
      MPI_Abort(comm, 1);
    }
    /* dependents in CSR form */
    for (int i = 0; i < n; i++)
      for (int d = 0; d < plan->jobs[i].ndeps; d++) c.dep_start[plan->jobs[i].deps[d] + 1]++;
    for (int i = 0; i < n; i++) c.dep_start[i + 1] += c.dep_start[i];
    int *fill = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
      for (int d = 0; d < plan->jobs[i].ndeps; d++) {
        int dep = plan->jobs[i].deps[d];
        c.dependents[c.dep_start[dep] + fill[dep]++] = i;
      }
    free(fill);
    /* which jobs this run needs, and which are already done */
    if (o->nshards > 1) w2_plan_shard(plan, o->shard, o->nshards, need);
    else memset(need, 1, (size_t)n);
    if (o->nonly > 0) {
      char *want = calloc((size_t)n, 1);
      for (int i = n - 1; i >= 0; i--) {
        for (int q = 0; q < o->nonly; q++)
          if (w2_job_matches(plan->jobs[i].id, o->only[q])) want[i] = 1;
        if (want[i])
          for (int d = 0; d < plan->jobs[i].ndeps; d++) want[plan->jobs[i].deps[d]] = 1;
      }
      for (int i = 0; i < n; i++) need[i] &= want[i];
      free(want);
    }
    for (int i = 0; i < n; i++) {
      W2Status st;
      w2_status_read(o->workdir, plan->jobs[i].id, &st);
      c.attempts[i] = 0; /* a rerun gets max_attempts fresh tries; totals are in the status */
      if (!need[i]) {
        c.state[i] = J_NOTNEEDED;
      } else if (w2_job_is_done(s, plan, w.pipe1, o->workdir, i)) {
        c.state[i] = J_SKIP;
        c.sum.jobs_skipped++;
        if (plan->jobs[i].type == W2_JOB_CELL) c.sum.cells_reused++;
      }
    }
    for (int i = 0; i < n; i++) {
      if (c.state[i] == J_SKIP || c.state[i] == J_NOTNEEDED) continue;
      for (int d = 0; d < plan->jobs[i].ndeps; d++)
        if (c.state[plan->jobs[i].deps[d]] != J_SKIP) c.left[i]++;
      if (c.left[i] == 0) c.state[i] = J_READY;
      c.flops_total += plan->jobs[i].cost * plan->jobs[i].ranks;
    }
    free(need);
    for (int i = 0; i < n; i++)
      if (plan->jobs[i].type == W2_JOB_CELL && c.state[i] != J_NOTNEEDED) {
        c.cells_total++;
        c.cells_finished += c.state[i] == J_SKIP;
      }
    w2_runlock_progress(c.cells_finished, c.cells_total);
    c.t0 = c.last_print = wall();
    if (pthread_create(&th, NULL, coordinator, &c) != 0) {
      fprintf(stderr, "w2sweep: error: cannot start the coordinator thread\n");
      MPI_Abort(comm, 1);
    }
    started = 1;
  }
  double t0 = wall();
  worker_loop(&w);
  if (started) pthread_join(th, NULL);
  if (rank == 0) c.sum.seconds = wall() - t0;
  MPI_Bcast(&c.sum, sizeof c.sum, MPI_BYTE, 0, comm);
  *sum = c.sum;
  free(c.state);
  free(c.left);
  free(c.attempts);
  free(c.idle);
  free(c.dep_start);
  free(c.dependents);
  w2_task_data_destroy(&w.td);
  w2_pipeline_destroy(&w.pipe1);
  w2_grid_destroy(&w.grid1);
  MPI_Comm_free(&comm);
  return W2_OK;
}
