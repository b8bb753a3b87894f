/* bench_dist.c — strong scaling and per-rank memory of one training step of a distributed
 * student (issue 5). A benchmark, not a test: built with the project, never run by ctest.
 *
 * Run under mpirun -np P. The model (an MLP of `depth` ReLU layers of `width` units, d_in
 * inputs, one BCE output) lives on a PR x PC BLACS grid with block size NB (dmat.h); every
 * rank holds the same fixed random data set (x ~ N(0,1), y = 1[x.u > 0]).
 *
 * Time mode (default):
 *   - `warmup` steps of w2_train, then `steps` steps of w2_train timed between barriers;
 *     step time = max over ranks / steps (it includes w2_train's one optimizer reset);
 *   - step FLOP/s from w2_arch_step_flops, parallel efficiency T1 / (P * TP) when --t1 gives
 *     the 1-rank step time;
 *   - a breakdown: the step's phases (batch+target load, forward, loss, backward, AdamW)
 *     called directly, barrier-separated, max over ranks, minimum over `steps` repeats;
 *   - every GEMM of the step timed alone through w2_mat_gemm (PSGEMM on P > 1) and
 *     w2_mat_colsum (the bias gradient: local sums + MPI_Allreduce), same statistics;
 *   - MPI time: this program interposes the MPI calls that BLACS and w2core make (PMPI
 *     wrappers below), so each timing also reports the seconds spent inside MPI and the
 *     bytes sent (max over ranks);
 *   - CPU: each timing also reports the least CPU share (CPU / wall) over ranks and the
 *     CPU seconds spent outside MPI ("work": the rank's local computation; max and mean
 *     over ranks). On a shared machine wall time grows with other jobs' load and MPI time
 *     absorbs the waits for a descheduled partner; work does not, so W1 / (P * WP) bounds
 *     the parallel efficiency from above whatever the load (it leaves out communication).
 * Memory mode (--mem): the same model trained for `warmup` + `steps` steps; no timing.
 * Both modes report peak RSS per rank: VmHWM from /proc/self/status after training minus
 * VmHWM just before w2_model_create (after MPI, the grid and the data set exist), max over
 * ranks, next to w2_arch_train_bytes(arch, B, P) and an exact account of the model's own
 * buffers on the largest rank (distributed matrices, replicated arrays, w2_train scratch).
 *
 * The 1-rank run takes the 1x1 path of dmat.c (plain SGEMM, no BLACS).
 *
 * --block NB sets the distribution block (default: w2_grid_block, what the sweep runner
 * uses); --pb-nb KB sets PBLAS's logical block size (the k-width of every local GEMM PSGEMM
 * issues; dmat.c answers PBLAS's pilaenv_ with the grid's panel) through W2SWEEP_PBLAS_NB
 * (default: dmat.c's rule, max(block, 256)).
 *
 * Usage: mpirun -np P bench_dist [--width 8192] [--depth 2] [--batch 256] [--d-in 64]
 *          [--rows 1024] [--steps 3] [--warmup 2] [--block NB] [--grid PRxPC] [--mem]
 *          [--pb-nb KB] [--t1 SECONDS] [--no-breakdown] [--seed S]
 * Output (rank 0): '#' comment lines, then "key=value" records: one line starting with
 * "RESULT", and in time mode lines starting with "PHASE" and "GEMM"; bench/run_dist.sh
 * parses them. Set OPENBLAS_NUM_THREADS=1 (one core per rank).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchdata.h"
#include "model.h"
#include "procmem.h"
#include "rng.h"
#include "train.h"

extern int openblas_get_num_threads(void) __attribute__((weak));

typedef struct Opts {
  int width, depth, batch, d_in, rows, steps, warmup, block, pr, pc, mem, pbnb, breakdown;
  double t1;
  uint64_t seed;
} Opts;

static const W2AdamW kOpt = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                             .weight_decay = 0.01f};

static int g_rank;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of this process: cpu / wall over a timed region is the share of a core the
 * rank got (MPI busy-polls while it waits, so < 1 means the OS ran something else). */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ----------------------------------------------------------------------------------- */
/* MPI accounting: PMPI wrappers of the calls BLACS (libscalapack) and w2core make. The
 * executable's definitions interpose libmpi's for both. Only the seconds inside the call
 * and the bytes handed to sends are counted; when g_mpi_on is 0 they just forward. */

static int g_mpi_on;
static double g_mpi_s, g_mpi_cpu, g_mpi_bytes;

static double type_bytes(MPI_Datatype t, int count) {
  int sz = 0;
  PMPI_Type_size(t, &sz);
  return (double)sz * count;
}

#define MPI_ACCOUNT(bytes, call)                                                     \
  do {                                                                               \
    if (!g_mpi_on) return call;                                                      \
    double t0_ = now(), c0_ = cpu_now();                                             \
    int rc_ = call;                                                                  \
    g_mpi_cpu += cpu_now() - c0_;                                                    \
    g_mpi_s += now() - t0_;                                                          \
    g_mpi_bytes += (bytes);                                                          \
    return rc_;                                                                      \
  } while (0)

int MPI_Send(const void *b, int c, MPI_Datatype t, int d, int tag, MPI_Comm comm) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Send(b, c, t, d, tag, comm));
}
int MPI_Rsend(const void *b, int c, MPI_Datatype t, int d, int tag, MPI_Comm comm) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Rsend(b, c, t, d, tag, comm));
}
int MPI_Isend(const void *b, int c, MPI_Datatype t, int d, int tag, MPI_Comm comm,
              MPI_Request *r) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Isend(b, c, t, d, tag, comm, r));
}
int MPI_Irecv(void *b, int c, MPI_Datatype t, int s, int tag, MPI_Comm comm, MPI_Request *r) {
  MPI_ACCOUNT(0, PMPI_Irecv(b, c, t, s, tag, comm, r));
}
int MPI_Recv(void *b, int c, MPI_Datatype t, int s, int tag, MPI_Comm comm, MPI_Status *st) {
  MPI_ACCOUNT(0, PMPI_Recv(b, c, t, s, tag, comm, st));
}
int MPI_Sendrecv(const void *sb, int sc, MPI_Datatype st, int d, int stag, void *rb, int rc,
                 MPI_Datatype rt, int s, int rtag, MPI_Comm comm, MPI_Status *status) {
  MPI_ACCOUNT(type_bytes(st, sc),
              PMPI_Sendrecv(sb, sc, st, d, stag, rb, rc, rt, s, rtag, comm, status));
}
int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[]) {
  MPI_ACCOUNT(0, PMPI_Waitall(n, reqs, sts));
}
int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status sts[]) {
  MPI_ACCOUNT(0, PMPI_Testall(n, reqs, flag, sts));
}
int MPI_Bcast(void *b, int c, MPI_Datatype t, int root, MPI_Comm comm) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Bcast(b, c, t, root, comm));
}
int MPI_Allreduce(const void *sb, void *rb, int c, MPI_Datatype t, MPI_Op op, MPI_Comm comm) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Allreduce(sb, rb, c, t, op, comm));
}
int MPI_Reduce(const void *sb, void *rb, int c, MPI_Datatype t, MPI_Op op, int root,
               MPI_Comm comm) {
  MPI_ACCOUNT(type_bytes(t, c), PMPI_Reduce(sb, rb, c, t, op, root, comm));
}

/* ----------------------------------------------------------------------------------- */
/* options, data, memory */

static void die(const char *fmt, const char *arg) {
  if (g_rank == 0) {
    fprintf(stderr, "bench_dist: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
  }
  MPI_Finalize();
  exit(1);
}

static int parse_int(const char *s, const char *flag) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > 1 << 24) die("%s expects a positive integer", flag);
  return (int)v;
}

static void parse_opts(int argc, char **argv, Opts *o) {
  memset(o, 0, sizeof *o);
  o->width = 8192;
  o->depth = 2;
  o->batch = 256;
  o->d_in = 64;
  o->rows = 1024;
  o->steps = 3;
  o->warmup = 2;
  o->block = 0;
  o->breakdown = 1;
  o->seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      if (g_rank == 0)
        printf("usage: mpirun -np P bench_dist [--width 8192] [--depth 2] [--batch 256]\n"
               "         [--d-in 64] [--rows 1024] [--steps 3] [--warmup 2] [--block NB]\n"
               "         [--grid PRxPC] [--mem] [--pb-nb KB] [--t1 SECONDS] [--no-breakdown]\n"
               "         [--seed S]\n");
      MPI_Finalize();
      exit(0);
    }
    if (strcmp(a, "--mem") == 0) {
      o->mem = 1;
      continue;
    }
    if (strcmp(a, "--no-breakdown") == 0) {
      o->breakdown = 0;
      continue;
    }
    if (!v) die("unknown option or missing value: %s", a);
    i++;
    if (strcmp(a, "--width") == 0) o->width = parse_int(v, a);
    else if (strcmp(a, "--depth") == 0) o->depth = parse_int(v, a);
    else if (strcmp(a, "--batch") == 0) o->batch = parse_int(v, a);
    else if (strcmp(a, "--d-in") == 0) o->d_in = parse_int(v, a);
    else if (strcmp(a, "--rows") == 0) o->rows = parse_int(v, a);
    else if (strcmp(a, "--steps") == 0) o->steps = parse_int(v, a);
    else if (strcmp(a, "--warmup") == 0) o->warmup = parse_int(v, a);
    else if (strcmp(a, "--block") == 0) o->block = parse_int(v, a);
    else if (strcmp(a, "--pb-nb") == 0) o->pbnb = parse_int(v, a);
    else if (strcmp(a, "--seed") == 0) o->seed = (uint64_t)parse_int(v, a);
    else if (strcmp(a, "--t1") == 0) {
      o->t1 = atof(v);
      if (!(o->t1 > 0)) die("--t1 expects seconds > 0, got '%s'", v);
    } else if (strcmp(a, "--grid") == 0) {
      char x;
      if (sscanf(v, "%d%c%d", &o->pr, &x, &o->pc) != 3 || x != 'x' || o->pr < 1 || o->pc < 1)
        die("--grid expects PRxPC, got '%s'", v);
    } else {
      die("unknown option %s", a);
    }
  }
  if (o->depth >= W2_MAX_LAYERS) die("--depth too large%s", "");
  if (o->rows < o->batch) die("--rows must be >= --batch%s", "");
}

/* Local bytes of the model's buffers on this rank: distributed matrices (parameters,
 * gradients, moments, activations, gradient buffers, logits gradient, targets), replicated
 * host arrays (biases x4, row weights, gathered logits and scratch, row indices; sizes as
 * documented in model.h) and w2_train's per-run scratch (train.c). */
static void model_bytes(const W2Model *m, int rows, double *dist, double *repl, double *scratch) {
  const W2Arch *a = &m->arch;
  double d = 0, r = 0;
  for (int l = 0; l < m->nlayers; l++) {
    d += (double)w2_mat_local_bytes(&m->W[l]) + w2_mat_local_bytes(&m->dW[l]) +
         w2_mat_local_bytes(&m->mW[l]) + w2_mat_local_bytes(&m->vW[l]);
    r += 4.0 * sizeof(float) * m->W[l].n;
  }
  for (int l = 0; l <= m->nlayers; l++) d += (double)w2_mat_local_bytes(&m->act[l]);
  d += (double)w2_mat_local_bytes(&m->g[0]) + w2_mat_local_bytes(&m->g[1]) +
       w2_mat_local_bytes(&m->dlogits) + w2_mat_local_bytes(&m->target);
  r += (double)m->B * (sizeof(float) + sizeof(int)) + 2.0 * sizeof(float) * m->B * a->d_out;
  *dist = d;
  *repl = r;
  *scratch = (double)sizeof(int) * rows + (double)m->B * (sizeof(int) + sizeof(float)) +
             2.0 * sizeof(float) * m->B * a->d_out;
}

static double max_over_ranks(double x) {
  MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return x;
}

/* ----------------------------------------------------------------------------------- */
/* timed pieces: every record is (seconds, MPI seconds, MPI bytes sent), max over ranks,
 * the minimum over repeats of the per-repeat maxima */

typedef struct Rec {
  double s, mpi_s, mpi_bytes;
  double cpu_share; /* CPU / wall, the least over ranks */
  double work_cpu;  /* CPU seconds outside MPI calls (local work), the most over ranks:
                       unlike wall time, it does not grow when other jobs share the cores */
  double work_mean; /* the same, mean over ranks (max / mean = load imbalance) */
} Rec;

static double g_cpu0;

static void rec_begin(double *t0) {
  MPI_Barrier(MPI_COMM_WORLD);
  g_mpi_s = g_mpi_cpu = g_mpi_bytes = 0;
  g_mpi_on = 1;
  g_cpu0 = cpu_now();
  *t0 = now();
}

static void rec_end(double t0, Rec *best) {
  double wall = now() - t0, cpu = cpu_now() - g_cpu0;
  double v[5] = {wall, g_mpi_s, g_mpi_bytes, -cpu / wall, cpu - g_mpi_cpu};
  g_mpi_on = 0;
  double mean = cpu - g_mpi_cpu;
  MPI_Allreduce(MPI_IN_PLACE, v, 5, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &mean, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  int p;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  if (v[0] < best->s) *best = (Rec){v[0], v[1], v[2], -v[3], v[4], mean / p};
}

static void print_rec(const char *kind, const char *name, const Rec *r, double div) {
  if (g_rank == 0)
    printf("%s name=%s ms=%.3f mpi_ms=%.3f mpi_mib=%.3f cpu=%.2f work_ms=%.3f "
           "work_mean_ms=%.3f\n",
           kind, name, 1e3 * r->s / div, 1e3 * r->mpi_s / div, r->mpi_bytes / div / 1048576.0,
           r->cpu_share, 1e3 * r->work_cpu / div, 1e3 * r->work_mean / div);
}

/* The step's phases called directly, as w2_train runs them (targets from Y). */
static W2Err time_phases(W2Model *m, const Opts *o, const float *X, const float *Y, int *rows,
                         float *tgt) {
  enum { LOAD, FWD, LOSS, BWD, ADAM, NPH };
  static const char *names[NPH] = {"load", "forward", "loss", "backward", "adamw"};
  Rec best[NPH];
  for (int p = 0; p < NPH; p++) best[p] = (Rec){1e30, 0, 0, 0, 0, 0};
  int B = m->B;
  for (int r = 0; r < o->steps; r++) {
    double t0, loss;
    for (int i = 0; i < B; i++) rows[i] = (int)(((long)r * B + i) % o->rows);
    rec_begin(&t0);
    w2_model_load_batch(m, X, rows, B);
    for (int i = 0; i < B; i++) tgt[i] = Y[rows[i]];
    w2_model_load_target(m, tgt, NULL, B);
    rec_end(t0, &best[LOAD]);
    rec_begin(&t0);
    W2_CALL(w2_model_forward(m));
    rec_end(t0, &best[FWD]);
    rec_begin(&t0);
    W2_CALL(w2_model_loss(m, &loss));
    rec_end(t0, &best[LOSS]);
    rec_begin(&t0);
    W2_CALL(w2_model_backward(m));
    rec_end(t0, &best[BWD]);
    rec_begin(&t0);
    w2_model_adamw(m, &kOpt, kOpt.lr);
    rec_end(t0, &best[ADAM]);
  }
  for (int p = 0; p < NPH; p++) print_rec("PHASE", names[p], &best[p], 1);
  return W2_OK;
}

/* Every GEMM of one step, alone, on the model's own buffers (values do not matter; the
 * outputs are overwritten with beta = 0), and the bias-gradient column sums. */
static W2Err time_gemms(W2Model *m, const Opts *o, float *sums) {
  const int reps = o->steps < 2 ? 2 : o->steps;
  for (int l = 0; l < m->nlayers; l++) {
    W2Mat *dy = &m->act[l + 1]; /* (B, N_l) stand-in for the layer's output gradient */
    struct {
      const char *tag;
      char ta, tb;
      const W2Mat *A, *Bm;
      W2Mat *C;
    } g[3] = {{"fwd", 'N', 'N', &m->act[l], &m->W[l], &m->act[l + 1]},
              {"dW", 'T', 'N', &m->act[l], dy, &m->dW[l]},
              {"dX", 'N', 'T', dy, &m->W[l], &m->g[0]}};
    int ng = l > 0 ? 3 : 2;
    for (int i = 0; i < ng; i++) {
      Rec best = {1e30, 0, 0, 0, 0, 0};
      for (int r = 0; r < reps; r++) {
        double t0;
        rec_begin(&t0);
        W2_CALL(w2_mat_gemm(g[i].ta, g[i].tb, 1.f, g[i].A, g[i].Bm, 0.f, g[i].C));
        rec_end(t0, &best);
      }
      int k = g[i].ta == 'N' ? g[i].A->n : g[i].A->m;
      char name[64];
      snprintf(name, sizeof name, "%s%d_%c%c_%dx%dx%d", g[i].tag, l, g[i].ta, g[i].tb,
               g[i].C->m, g[i].C->n, k);
      print_rec("GEMM", name, &best, 1);
    }
    Rec best = {1e30, 0, 0, 0, 0, 0};
    for (int r = 0; r < reps; r++) {
      double t0;
      rec_begin(&t0);
      W2_CALL(w2_mat_colsum(dy, sums));
      rec_end(t0, &best);
    }
    char name[64];
    snprintf(name, sizeof name, "colsum%d_%dx%d", l, dy->m, dy->n);
    print_rec("GEMM", name, &best, 1);
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */

static W2Err run(const Opts *o, int size) {
  int pr = o->pr, pc = o->pc;
  if (pr == 0) w2_grid_shape(size, &pr, &pc);
  W2_CHECK(pr * pc == size, W2_ERR_ARG, "--grid %dx%d needs %d ranks, mpirun gave %d", pr, pc,
           pr * pc, size);
  if (o->pbnb > 0) {
    char v[32];
    snprintf(v, sizeof v, "%d", o->pbnb);
    setenv("W2SWEEP_PBLAS_NB", v, 1);
  }
  W2Grid *grid = NULL;
  W2_CALL(w2_grid_create(MPI_COMM_WORLD, pr, pc,
                         o->block > 0 ? o->block : w2_grid_block(o->width, pr, pc), &grid));
  /* what the grid uses (on 1x1 neither applies: one local block, plain SGEMM) */
  int block = size > 1 ? grid->block : 0, panel = size > 1 ? grid->panel : 0;
  W2Arch arch = {.d_in = o->d_in, .width = o->width, .depth = o->depth, .d_out = 1,
                 .act = W2_ACT_RELU};
  float *X = malloc(sizeof(float) * (size_t)o->rows * o->d_in);
  float *Y = malloc(sizeof(float) * (size_t)o->rows);
  W2_CHECK(X && Y, W2_ERR_MEM, "out of memory for the data set");
  bench_make_data(o->seed, o->rows, o->d_in, X, Y);

  MPI_Barrier(MPI_COMM_WORLD);
  double hwm0 = vm_status("VmHWM:");
  W2Model *m = NULL;
  double t_init = now();
  W2_CALL(w2_model_create(grid, &arch, &m));
  w2_model_init(m, w2_key(o->seed, "bench-model", 0, 0));
  W2_CALL(w2_model_set_batch(m, o->batch));
  t_init = max_over_ranks(now() - t_init);

  W2TrainSpec sp = {.X = X, .d = arch.d_in, .Y = Y, .n = o->rows, .batch = o->batch, .steps = o->warmup,
                    .opt = kOpt, .warmup_frac = 0.f, .sched = W2_SCHED_CONSTANT,
                    .key = w2_key(o->seed, "bench-order", 0, 0)};
  W2TrainStats st;
  W2_CALL(w2_train(m, &sp, &st));
  Rec step = {1e30, 0, 0, 0, 0, 0};
  double t0;
  sp.steps = o->steps;
  if (!o->mem) rec_begin(&t0);
  W2_CALL(w2_train(m, &sp, &st));
  if (!o->mem) rec_end(t0, &step);
  double hwm1 = vm_status("VmHWM:");

  double dist, repl, scratch;
  model_bytes(m, o->rows, &dist, &repl, &scratch);
  double v[6] = {hwm1 - hwm0, hwm1, dist, repl, scratch, hwm0};
  MPI_Allreduce(MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  double analytic = w2_arch_train_bytes(&arch, o->batch, size);
  double flops = w2_arch_step_flops(&arch, o->batch, 0);
  const double mib = 1048576.0;

  if (g_rank == 0) {
    const char *ob = getenv("OPENBLAS_NUM_THREADS");
    printf("# bench_dist: P=%d grid %dx%d block %d, width %d depth %d d_in %d batch %d rows %d, "
           "%.1fM params, %.2f GFLOP/step\n",
           size, pr, pc, block, o->width, o->depth, o->d_in, o->batch, o->rows,
           w2_arch_params(&arch) / 1e6, flops / 1e9);
    printf("# OPENBLAS_NUM_THREADS=%s (BLAS threads %d); PBLAS block (pilaenv) %d%s\n",
           ob ? ob : "(unset)", openblas_get_num_threads ? openblas_get_num_threads() : -1,
           panel, o->pbnb > 0 ? " (--pb-nb)" : "");
    printf("RESULT mode=%s p=%d grid=%dx%d block=%d pbnb=%d width=%d depth=%d batch=%d "
           "params=%.0f init_s=%.3f",
           o->mem ? "mem" : "time", size, pr, pc, block, panel,
           o->width, o->depth, o->batch, w2_arch_params(&arch), t_init);
    if (!o->mem) {
      double ts = step.s / o->steps;
      printf(" step_s=%.4f gflops=%.2f mpi_s=%.4f mpi_mib=%.2f cpu=%.2f work_s=%.4f "
             "work_mean_s=%.4f",
             ts, flops / ts / 1e9, step.mpi_s / o->steps, step.mpi_bytes / o->steps / mib,
             step.cpu_share, step.work_cpu / o->steps, step.work_mean / o->steps);
      if (o->t1 > 0) printf(" eff=%.3f", o->t1 / (size * ts));
    }
    printf(" rss_mib=%.1f hwm_mib=%.1f base_mib=%.1f analytic_mib=%.1f dist_mib=%.1f "
           "repl_mib=%.3f scratch_mib=%.3f loss=%.5f\n",
           v[0] / mib, v[1] / mib, v[5] / mib, analytic / mib, v[2] / mib, v[3] / mib,
           v[4] / mib, st.final_loss);
    fflush(stdout);
  }

  if (!o->mem && o->breakdown) {
    int *rows = malloc(sizeof(int) * (size_t)o->batch);
    float *tgt = malloc(sizeof(float) * (size_t)o->batch);
    float *sums = malloc(sizeof(float) * (size_t)(o->width > o->d_in ? o->width : o->d_in));
    W2Err e = W2_OK;
    if (!rows || !tgt || !sums)
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory for the timing scratch");
    if (!e) e = time_phases(m, o, X, Y, rows, tgt);
    if (!e) e = time_gemms(m, o, sums);
    free(rows);
    free(tgt);
    free(sums);
    if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  if (g_rank == 0) fflush(stdout);
  w2_model_destroy(&m);
  free(X);
  free(Y);
  W2_CALL(w2_grid_destroy(&grid));
  return W2_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Opts o;
  parse_opts(argc, argv, &o);
  W2Err e = run(&o, size);
  if (e) {
    if (g_rank == 0) w2_error_report();
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return 0;
}
