/* bench_xfmr.c — training-step time of the byte-level transformer (transformer.h), to set
 * against bench/torch_xfmr.py (the same model in PyTorch, same threads and BLAS).
 *
 * For each size: B sequences of T random bytes, LM loss, forward + backward + AdamW; after
 * 3 warm-up steps, the minimum over --repeats of the mean CPU time (CLOCK_PROCESS_CPUTIME_ID,
 * robust to other jobs on a shared machine as long as threads = 1) and wall time of
 * --steps steps. Prints "size params step_ms_cpu step_ms_wall GFLOP/s(cpu)".
 *
 *   OPENBLAS_NUM_THREADS=1 ./bench_xfmr [--sizes W:D:H,...] [--batch B] [--ctx T]
 *        [--steps N] [--repeats R]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"
#include "transformer.h"

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void die(W2Err e) {
  if (e) {
    w2_error_report();
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *sizes = "64:2:4,128:4:4,256:4:8";
  int B = 16, T = 64, steps = 10, repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sizes")) sizes = argv[i + 1];
    else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--ctx")) T = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "bench_xfmr: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  W2Grid *g;
  die(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  uint8_t *tok = malloc((size_t)B * T);
  int *len = malloc(sizeof(int) * B);
  for (int i = 0; i < B * T; i++) tok[i] = (uint8_t)w2_below(1, 0, (uint64_t)i, 256);
  for (int b = 0; b < B; b++) len[b] = T;
  printf("# bench_xfmr: batch %d x ctx %d, LM loss, AdamW; min over %d repeats of %d steps\n",
         B, T, repeats, steps);
  printf("%-12s %10s %12s %13s %12s\n", "size", "params", "step_ms_cpu", "step_ms_wall",
         "GFLOP/s_cpu");
  for (const char *s = sizes; s && *s;) {
    W2XfArch a = {.ctx = T};
    if (sscanf(s, "%d:%d:%d", &a.width, &a.depth, &a.heads) != 3) {
      fprintf(stderr, "bench_xfmr: --sizes wants W:D:H,...\n");
      return 2;
    }
    s = strchr(s, ',');
    if (s) s++;
    W2Xf *m;
    die(w2_xf_create(g, &a, &m));
    w2_xf_init(m, 1);
    die(w2_xf_set_batch(m, B));
    die(w2_xf_load_tokens(m, tok, len, B));
    W2AdamW opt = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f};
    double best_cpu = 1e30, best_wall = 1e30, loss;
    for (int r = -1; r < repeats; r++) {
      int n = r < 0 ? 3 : steps; /* r = -1: warm-up */
      double c0 = clk(CLOCK_PROCESS_CPUTIME_ID), w0 = clk(CLOCK_MONOTONIC);
      for (int k = 0; k < n; k++) {
        die(w2_xf_forward(m));
        die(w2_xf_lm_loss(m, &loss));
        die(w2_xf_backward(m));
        w2_xf_adamw(m, &opt, opt.lr);
      }
      double c = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / n, w = (clk(CLOCK_MONOTONIC) - w0) / n;
      if (r >= 0 && c < best_cpu) best_cpu = c;
      if (r >= 0 && w < best_wall) best_wall = w;
    }
    char name[32];
    snprintf(name, sizeof name, "w%dd%dh%d", a.width, a.depth, a.heads);
    printf("%-12s %10.0f %12.2f %13.2f %12.2f\n", name, w2_xf_params(&a), 1e3 * best_cpu,
           1e3 * best_wall, w2_xf_step_flops(&a, B, 1) / best_cpu * 1e-9);
    fflush(stdout);
    w2_xf_destroy(&m);
  }
  free(tok);
  free(len);
  w2_grid_destroy(&g);
  MPI_Finalize();
  return 0;
}
