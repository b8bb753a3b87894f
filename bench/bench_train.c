/* bench_train.c — training-step throughput of w2sweep against SGEMM, and peak memory.
 *
 * A benchmark, not a test: it is built with the project and never run by ctest. For each
 * width of an MLP (depth hidden ReLU layers, d_in inputs, one BCE output) it reports
 *   - steps/s of the real training loop (w2_train: batch gather, forward, loss, backward,
 *     AdamW, schedule, isfinite check), timed after a warm-up, minimum over repeats;
 *   - step FLOP/s, counted with w2_arch_step_flops (model.h);
 *   - SGEMM FLOP/s of exactly the GEMMs one step issues (per layer l of K_l x N_l:
 *     forward (B,K)x(K,N), dW = (K,B)x(B,N) as A^T B, dX = (B,N)x(N,K) as A B^T for l > 0),
 *     each timed alone through the same BLAS on the same threads, minimum over repeats,
 *     and combined as (sum of their FLOPs) / (sum of their times): the step's GEMM mix;
 *   - the ratio of the two (the acceptance target is >= 70 % at width >= 2048);
 *   - a breakdown of one step (min over repeats of each phase, called directly);
 *   - peak resident memory of the training run versus w2_arch_train_bytes.
 *
 * Memory method. Every width runs in a fresh child process (the parent fork/execs itself
 * with --one-width W), so the high-water mark of one width never hides another's. The child
 * initialises MPI, builds the grid and the data set, and then:
 *   1. a first, throwaway training run of the same model (2 steps), which also allocates
 *      what the BLAS library keeps for all later calls (OpenBLAS: a packing buffer per
 *      thread) and grows the heap; first = VmHWM growth over it (VmHWM is reset to the
 *      current RSS before, by writing 5 to /proc/self/clear_refs). The model is destroyed and
 *      malloc_trim(0) hands free heap pages back to the system, so that the measured run
 *      cannot reuse them unseen; kept = what stays resident (BLAS buffers, allocator);
 *   2. VmHWM is reset again and read (the baseline); the model is created and trained
 *      (warm-up and timed repeats, then the phase timing), and VmHWM is read again before
 *      anything else is allocated.
 * peak RSS = the exact resident set (page-table walk, /proc/self/smaps_rollup) in the
 * middle of a further 3-step run (w2_train's evaluation callback, with the model, its
 * workspace and w2_train's scratch live) minus the exact baseline: every page the training
 * run holds (the model's buffers, w2_train's scratch, allocator overhead), excluding the
 * program, MPI, the training data and what the library keeps across runs. A sweep's rank
 * trains many models in one process, so this is what each of them costs. VmHWM(after) -
 * VmHWM(baseline) over the whole run is reported next to it (hwm_ratio): the kernel keeps
 * VmRSS/VmHWM in per-CPU counters that lag by ~0.1-0.3 MiB, as much as a width-64 model.
 * first / analytic is the VmHWM ratio of the first run of a process. The SGEMM timing runs
 * after all readings.
 *
 * Usage: bench_train [--widths 64,128,...] [--depth 2] [--batch 256] [--d-in 64]
 *          [--rows 4096] [--repeats 5] [--min-time 0.25] [--threads T] [--seed S]
 *          [--dump-data FILE] [--one-width W] [--verbose]
 *   --threads T     sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS for the per-width children
 *                   (default: inherit the environment)
 *   --min-time S    seconds each timed repeat should last (steps per repeat are chosen from
 *                   a calibration run, at least 3)
 *   --verbose       prints each SGEMM shape's time to stderr
 *   --dump-data F   writes the training set (int32 n, int32 d_in, float32 X[n*d_in] row-major,
 *                   float32 Y[n]) for bench/torch_ref.py, then measures as usual
 * Hyperparameters (shared with torch_ref.py): AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * weight decay 0.01 on weight matrices only, constant learning rate, no warm-up.
 *
 * Output: '#' comment lines (configuration, BLAS) and one whitespace-separated row per width
 * under a header line starting with "width"; bench/run_bench.sh parses it.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blacs.h"
#include "blasenv.h"
#include "benchdata.h"
#include "model.h"
#include "procmem.h"
#include "rng.h"
#include "train.h"

/* OpenBLAS introspection when the BLAS is OpenBLAS (weak: any BLAS links). */
extern int openblas_get_num_threads(void) __attribute__((weak));

#define MAX_WIDTHS 32

typedef struct Opts {
  int widths[MAX_WIDTHS];
  int nwidths;
  int depth, batch, d_in, rows, repeats, threads, one_width, verbose;
  double min_time;
  uint64_t seed;
  const char *dump;
} Opts;

static const W2AdamW kOpt = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                             .weight_decay = 0.01f};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* w2_train's evaluation callback: the exact resident set in the middle of a run, when the
 * model, its workspace and w2_train's scratch are all allocated and in use */
static W2Err sample_rss(void *ctx, W2Model *m, long step, double loss) {
  (void)m, (void)step, (void)loss;
  *(double *)ctx = rss_exact();
  return W2_OK;
}

static double min2(double a, double b) { return a < b ? a : b; }

static void die(const char *msg) {
  fprintf(stderr, "bench_train: error: %s\n", msg);
  exit(1);
}

static int parse_int(const char *s, const char *flag) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > 1 << 20) {
    fprintf(stderr, "bench_train: error: %s expects a positive integer, got '%s'\n", flag, s);
    exit(1);
  }
  return (int)v;
}

static void parse_opts(int argc, char **argv, Opts *o) {
  static const int def[] = {64, 128, 256, 512, 1024, 2048, 4096};
  memset(o, 0, sizeof *o);
  o->nwidths = (int)(sizeof def / sizeof def[0]);
  memcpy(o->widths, def, sizeof def);
  o->depth = 2;
  o->batch = 256;
  o->d_in = 64;
  o->rows = 4096;
  o->repeats = 5;
  o->min_time = 0.25;
  o->seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf("usage: bench_train [--widths 64,128,...] [--depth 2] [--batch 256] [--d-in 64]\n"
             "         [--rows 4096] [--repeats 5] [--min-time 0.25] [--threads T]\n"
             "         [--seed S] [--dump-data FILE] [--one-width W] [--verbose]\n");
      exit(0);
    }
    if (strcmp(a, "--verbose") == 0) {
      o->verbose = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "bench_train: error: unknown option or missing value: %s\n", a);
      exit(1);
    }
    i++;
    if (strcmp(a, "--widths") == 0) {
      o->nwidths = 0;
      char buf[512];
      snprintf(buf, sizeof buf, "%s", v);
      for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (o->nwidths == MAX_WIDTHS) die("too many widths");
        o->widths[o->nwidths++] = parse_int(t, "--widths");
      }
      if (o->nwidths == 0) die("--widths is empty");
    } else if (strcmp(a, "--depth") == 0) {
      o->depth = parse_int(v, a);
    } else if (strcmp(a, "--batch") == 0) {
      o->batch = parse_int(v, a);
    } else if (strcmp(a, "--d-in") == 0) {
      o->d_in = parse_int(v, a);
    } else if (strcmp(a, "--rows") == 0) {
      o->rows = parse_int(v, a);
    } else if (strcmp(a, "--repeats") == 0) {
      o->repeats = parse_int(v, a);
    } else if (strcmp(a, "--threads") == 0) {
      o->threads = parse_int(v, a);
    } else if (strcmp(a, "--seed") == 0) {
      o->seed = (uint64_t)parse_int(v, a);
    } else if (strcmp(a, "--one-width") == 0) {
      o->one_width = parse_int(v, a);
    } else if (strcmp(a, "--dump-data") == 0) {
      o->dump = v;
    } else if (strcmp(a, "--min-time") == 0) {
      o->min_time = atof(v);
      if (!(o->min_time > 0 && o->min_time < 600)) die("--min-time must be in (0, 600) s");
    } else {
      fprintf(stderr, "bench_train: error: unknown option %s\n", a);
      exit(1);
    }
  }
  if (o->depth >= W2_MAX_LAYERS) die("--depth too large");
  if (o->rows < o->batch) die("--rows must be >= --batch");
}

static void dump_data(const Opts *o, const char *path) {
  float *X = malloc(sizeof(float) * (size_t)o->rows * o->d_in);
  float *Y = malloc(sizeof(float) * (size_t)o->rows);
  if (!X || !Y) die("out of memory for the data set");
  bench_make_data(o->seed, o->rows, o->d_in, X, Y);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) die("cannot open the --dump-data file");
  int32_t hdr[2] = {o->rows, o->d_in};
  int ok = fwrite(hdr, sizeof hdr, 1, f) == 1 &&
           fwrite(X, sizeof(float), (size_t)o->rows * o->d_in, f) == (size_t)o->rows * o->d_in &&
           fwrite(Y, sizeof(float), (size_t)o->rows, f) == (size_t)o->rows;
  if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
    remove(tmp);
    die("writing the --dump-data file failed");
  }
  free(X);
  free(Y);
}

/* ----------------------------------------------------------------------------------- */
/* SGEMM reference: the GEMMs of one step, each timed alone */

typedef struct Gemm {
  char ta, tb;
  int m, n, k;  /* C (m,n) = op(A) (m,k) op(B) (k,n), column-major like w2_mat_gemm */
} Gemm;

/* The GEMMs w2_model_forward + w2_model_backward issue for arch at batch B, in the
 * column-major terms of dmat.c: act (B,K) is an m=B x K matrix, W (K,N) is K x N. */
static int step_gemms(const W2Arch *a, int B, Gemm *g) {
  int n = 0;
  for (int l = 0; l <= a->depth; l++) {
    int K = l == 0 ? a->d_in : a->width, N = l == a->depth ? a->d_out : a->width;
    g[n++] = (Gemm){'N', 'N', B, N, K};           /* act[l+1] = act[l] W[l] */
    g[n++] = (Gemm){'T', 'N', K, N, B};           /* dW[l] = act[l]^T dy */
    if (l > 0) g[n++] = (Gemm){'N', 'T', B, K, N}; /* dx = dy W[l]^T */
  }
  return n;
}

/* Minimum seconds of one call of g over all calls made in `repeats` rounds of >= min_time/10
 * each (per-call minimum: the least disturbed call on a shared machine; optimistic for
 * SGEMM, hence conservative for the step/SGEMM ratio). */
static double time_gemm(const Gemm *g, int repeats, double min_time) {
  int am = g->ta == 'N' ? g->m : g->k, an = g->ta == 'N' ? g->k : g->m;
  int bm = g->tb == 'N' ? g->k : g->n, bn = g->tb == 'N' ? g->n : g->k;
  float *A = malloc(sizeof(float) * (size_t)am * an);
  float *Bm = malloc(sizeof(float) * (size_t)bm * bn);
  float *C = malloc(sizeof(float) * (size_t)g->m * g->n);
  if (!A || !Bm || !C) die("out of memory for the SGEMM reference");
  for (size_t i = 0; i < (size_t)am * an; i++) A[i] = (float)w2_normal(7, 0, i);
  for (size_t i = 0; i < (size_t)bm * bn; i++) Bm[i] = (float)w2_normal(7, 1, i);
  memset(C, 0, sizeof(float) * (size_t)g->m * g->n);
  float one = 1.f, zero = 0.f;
  int lda = am, ldb = bm, ldc = g->m;
  sgemm_(&g->ta, &g->tb, &g->m, &g->n, &g->k, &one, A, &lda, Bm, &ldb, &zero, C, &ldc);
  double best = 1e30;
  for (int r = 0; r < repeats; r++) {
    double start = now(), t0, t1;
    do {
      t0 = now();
      sgemm_(&g->ta, &g->tb, &g->m, &g->n, &g->k, &one, A, &lda, Bm, &ldb, &zero, C, &ldc);
      t1 = now();
      best = min2(best, t1 - t0);
    } while (t1 - start < min_time / 10);
  }
  free(A);
  free(Bm);
  free(C);
  return best;
}

/* ----------------------------------------------------------------------------------- */
/* one width, in this process */

/* A throwaway training run of the same model (2 steps): the first run of a process also
 * allocates what the BLAS library keeps for later calls (OpenBLAS: packing buffers per
 * thread) and grows the heap. */
static W2Err first_run(const W2Arch *arch, const Opts *o, W2Grid *grid, const float *X,
                       const float *Y) {
  W2Model *m;
  W2_CALL(w2_model_create(grid, arch, &m));
  w2_model_init(m, w2_key(o->seed, "bench-first", (uint64_t)arch->width, 0));
  W2TrainSpec sp = {.X = X, .d = arch->d_in, .Y = Y, .n = o->rows, .batch = o->batch, .steps = 2,
                    .opt = kOpt, .warmup_frac = 0.f, .sched = W2_SCHED_CONSTANT,
                    .key = w2_key(o->seed, "bench-order", 0, 0)};
  W2Err e = w2_train(m, &sp, NULL);
  w2_model_destroy(&m);
  return e;
}

typedef struct Phases {
  double load, fwd, loss, bwd, adam;  /* seconds, min over repeats */
} Phases;

/* Each phase of a step called directly, min over iterations (the loss is a function of the
 * current logits; the updates keep the model training as w2_train would). */
static W2Err time_phases(W2Model *m, const float *X, const float *Y, int n, int iters,
                         Phases *ph) {
  int B = m->B;
  int *rows = malloc(sizeof(int) * (size_t)B);
  W2_CHECK(rows != NULL, W2_ERR_MEM, "out of memory");
  ph->load = ph->fwd = ph->loss = ph->bwd = ph->adam = 1e30;
  for (int it = 0; it < iters; it++) {
    double t0 = now();
    for (int i = 0; i < B; i++) rows[i] = (it * B + i) % n;
    w2_model_load_batch(m, X, rows, B);
    float *tgt = m->host_tmp; /* B floats of gather scratch, d_out = 1 */
    for (int i = 0; i < B; i++) tgt[i] = Y[rows[i]];
    w2_model_load_target(m, tgt, NULL, B);
    double t1 = now();
    W2_CALL(w2_model_forward(m));
    double t2 = now(), loss;
    W2_CALL(w2_model_loss(m, &loss));
    double t3 = now();
    W2_CALL(w2_model_backward(m));
    double t4 = now();
    w2_model_adamw(m, &kOpt, kOpt.lr);
    double t5 = now();
    ph->load = min2(ph->load, t1 - t0);
    ph->fwd = min2(ph->fwd, t2 - t1);
    ph->loss = min2(ph->loss, t3 - t2);
    ph->bwd = min2(ph->bwd, t4 - t3);
    ph->adam = min2(ph->adam, t5 - t4);
  }
  free(rows);
  return W2_OK;
}

static W2Err run_width(const Opts *o, int width) {
  W2Grid *grid;
  W2_CALL(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &grid));
  float *X = malloc(sizeof(float) * (size_t)o->rows * o->d_in);
  float *Y = malloc(sizeof(float) * (size_t)o->rows);
  W2_CHECK(X && Y, W2_ERR_MEM, "out of memory for the data set");
  bench_make_data(o->seed, o->rows, o->d_in, X, Y);
  W2Arch arch = {.d_in = o->d_in, .width = width, .depth = o->depth, .d_out = 1,
                 .act = W2_ACT_RELU};

  /* a first training run in this process, measured, then freed (see the header) */
  W2_CHECK(reset_hwm() == 0, W2_ERR_IO, "cannot reset VmHWM through /proc/self/clear_refs");
  double rss_a = vm_status("VmRSS:");
  W2_CALL(first_run(&arch, o, grid, X, Y));
  double first = vm_status("VmHWM:") - rss_a;
  malloc_trim(0); /* free heap pages go back to the system: reusing them shows as growth */
  double kept = vm_status("VmRSS:") - rss_a;
  W2_CHECK(reset_hwm() == 0, W2_ERR_IO, "cannot reset VmHWM through /proc/self/clear_refs");
  double hwm0 = vm_status("VmHWM:"); /* baseline: program, MPI, data, what the first run kept */
  double rss0 = rss_exact();
  W2Model *m;
  W2_CALL(w2_model_create(grid, &arch, &m));
  w2_model_init(m, w2_key(o->seed, "bench-init", (uint64_t)width, 0));
  W2TrainSpec sp = {.X = X, .d = arch.d_in, .Y = Y, .n = o->rows, .batch = o->batch, .steps = 2,
                    .opt = kOpt, .warmup_frac = 0.f, .sched = W2_SCHED_CONSTANT,
                    .key = w2_key(o->seed, "bench-order", 0, 0)};
  W2TrainStats st;
  /* warm-up (also allocates the workspace and the BLAS buffers), then calibrate */
  W2_CALL(w2_train(m, &sp, &st));
  double t0 = now();
  W2_CALL(w2_train(m, &sp, &st));
  double per = (now() - t0) / sp.steps;
  long steps = (long)ceil(o->min_time / (per > 1e-9 ? per : 1e-9));
  sp.steps = steps < 3 ? 3 : steps > 100000 ? 100000 : steps;
  double best = 1e30;
  for (int r = 0; r < o->repeats; r++) {
    t0 = now();
    W2_CALL(w2_train(m, &sp, &st));
    best = min2(best, (now() - t0) / sp.steps);
  }
  W2_CHECK(isfinite(st.final_loss), W2_ERR_NUM, "benchmark training diverged");
  Phases ph = {0, 0, 0, 0, 0};
  W2_CALL(time_phases(m, X, Y, o->rows, o->repeats * 2 + 1, &ph));
  double hwm1 = vm_status("VmHWM:");
  /* an exact reading during a run (n_eval = 1: after its last step, scratch still live) */
  double rss_in = -1;
  W2TrainSpec sp_in = sp;
  sp_in.steps = 3;
  sp_in.n_eval = 1;
  sp_in.eval = sample_rss;
  sp_in.eval_ctx = &rss_in;
  W2_CALL(w2_train(m, &sp_in, NULL));
  double step_flops = w2_arch_step_flops(&arch, m->B, 0);
  double analytic = w2_arch_train_bytes(&arch, m->B, 1);
  w2_model_destroy(&m);

  Gemm g[3 * W2_MAX_LAYERS];
  int ng = step_gemms(&arch, o->batch, g);
  double gemm_t = 0, gemm_f = 0, gemm_fwd = 0;
  for (int i = 0; i < ng; i++) {
    double t = time_gemm(&g[i], o->repeats, o->min_time), f = 2.0 * g[i].m * g[i].n * g[i].k;
    gemm_t += t;
    gemm_f += f;
    if (g[i].ta == 'N' && g[i].tb == 'N') gemm_fwd += t;
    if (o->verbose)
      fprintf(stderr, "# width %d sgemm %c%c m=%d n=%d k=%d: %.3f ms, %.2f GFLOP/s\n", width,
              g[i].ta, g[i].tb, g[i].m, g[i].n, g[i].k, t * 1e3, f / t * 1e-9);
  }
  double w2_fs = step_flops / best, blas_fs = gemm_f / gemm_t;
  double rss = rss_in - rss0, hwm = hwm1 - hwm0, mib = 1024.0 * 1024.0;
  printf("%6d %10.2f %9.3f %9.2f %9.2f %7.1f %9.3f %9.3f %9.3f %8.3f %8.3f %8.3f %8.3f "
         "%8.3f %8.3f %9.2f %9.2f %6.2f %9.2f %8.2f %6.2f %7ld %4d\n",
         width, 1.0 / best, best * 1e3, w2_fs * 1e-9, blas_fs * 1e-9, 100 * w2_fs / blas_fs,
         gemm_t * 1e3, gemm_fwd * 1e3, (gemm_t - gemm_fwd) * 1e3, ph.load * 1e3, ph.fwd * 1e3,
         ph.loss * 1e3, ph.bwd * 1e3, ph.adam * 1e3,
         (ph.load + ph.fwd + ph.loss + ph.bwd + ph.adam) * 1e3, rss / mib, analytic / mib,
         rss_in >= 0 && rss0 >= 0 ? rss / analytic : NAN,
         hwm0 >= 0 && hwm1 >= 0 ? hwm / analytic : NAN, kept / mib, first / analytic, sp.steps,
         openblas_get_num_threads ? openblas_get_num_threads() : 0);
  fflush(stdout);
  free(X);
  free(Y);
  W2_CALL(w2_grid_destroy(&grid));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */

static void print_header(const Opts *o, int argc, char **argv) {
  printf("# bench_train: MLP depth %d, d_in %d, d_out 1, ReLU, BCE; batch %d; %d training "
         "rows; AdamW lr %g betas (%g, %g) eps %g wd %g (weights only), constant lr\n",
         o->depth, o->d_in, o->batch, o->rows, kOpt.lr, kOpt.beta1, kOpt.beta2, kOpt.eps,
         kOpt.weight_decay);
  const char *ot = getenv("OPENBLAS_NUM_THREADS");
  printf("# threads: OPENBLAS_NUM_THREADS=%s", ot ? ot : "(unset)");
  if (openblas_get_num_threads) printf(" (openblas_get_num_threads %d)", openblas_get_num_threads());
  printf("\n");
  char blas[512];
  w2_blas_describe(blas, sizeof blas);
  printf("# BLAS: %s\n", blas);
  printf("# timing: min over %d repeats of >= %g s each; each width in a fresh process\n",
         o->repeats, o->min_time);
  printf("# columns: steps_s = w2_train steps/s; step_ms = ms/step; w2_gflops = "
         "w2_arch_step_flops/step time; sgemm_gflops = FLOPs/time of the step's GEMMs, each "
         "timed alone; pct = w2/sgemm; gemm_ms = sum of those SGEMM times (gfwd_ms: forward "
         "ones, gbwd_ms: dW and dX); load..adam_ms = "
         "phases called directly (min); sum_ms = their sum; rss_mib = exact RSS growth "
         "(smaps_rollup) during a training run after a first one; est_mib = "
         "w2_arch_train_bytes; ratio = rss/est; hwm_ratio = VmHWM growth over the whole run / "
         "est; "
         "kept_mib = resident after the first run was freed (BLAS buffers, allocator); "
         "first_ratio = VmHWM growth of the first run / est; steps = steps per timed repeat; "
         "thr = BLAS threads in the child\n");
  printf("%6s %10s %9s %9s %9s %7s %9s %9s %9s %8s %8s %8s %8s %8s %8s %9s %9s %6s %9s %8s %6s "
         "%7s %4s\n",
         "width", "steps_s", "step_ms", "w2_gflops", "sgemm_gf", "pct", "gemm_ms", "gfwd_ms",
         "gbwd_ms", "load_ms", "fwd_ms", "loss_ms", "bwd_ms", "adam_ms", "sum_ms", "rss_mib",
         "est_mib", "ratio", "hwm_ratio", "kept_mib", "first_ratio", "steps", "thr");
  fflush(stdout);
}

int main(int argc, char **argv) {
  Opts o;
  parse_opts(argc, argv, &o);
  if (o.one_width) {
    MPI_Init(&argc, &argv);
    W2Err err = run_width(&o, o.one_width);
    if (err) w2_error_report();
    MPI_Finalize();
    return err ? 1 : 0;
  }
  if (o.threads) {
    char t[16];
    snprintf(t, sizeof t, "%d", o.threads);
    setenv("OPENBLAS_NUM_THREADS", t, 1);
    setenv("OMP_NUM_THREADS", t, 1);
  }
  if (o.dump) dump_data(&o, o.dump);
  print_header(&o, argc, argv);
  int failed = 0;
  for (int w = 0; w < o.nwidths; w++) {
    /* child argv: ours minus --dump-data/--threads, plus --one-width W */
    char **cargv = calloc((size_t)argc + 3, sizeof *cargv);
    char wbuf[16];
    if (!cargv) die("out of memory");
    int c = 0;
    cargv[c++] = argv[0];
    for (int i = 1; i < argc; i++) {
      if (strcmp(argv[i], "--verbose") == 0) {
        cargv[c++] = argv[i];
        continue;
      }
      if (strcmp(argv[i], "--dump-data") && strcmp(argv[i], "--threads") &&
          strcmp(argv[i], "--one-width")) {
        cargv[c++] = argv[i];
        cargv[c++] = argv[i + 1];
      }
      i++;
    }
    snprintf(wbuf, sizeof wbuf, "%d", o.widths[w]);
    cargv[c++] = "--one-width";
    cargv[c++] = wbuf;
    cargv[c] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      execv("/proc/self/exe", cargv);
      perror("bench_train: exec");
      _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "bench_train: error: width %d failed\n", o.widths[w]);
      failed = 1;
    }
    free(cargv);
  }
  return failed;
}
