/* test_dmat.c — distributed vs local: PSGEMM on grids 1x1, 1x2, 2x1, 2x2 (block size 3,
 * odd shapes) equals the 1x1 SGEMM result, and a model trained for 200 steps on each grid
 * has the same loss at every step within 1e-4 relative and the same final predictions.
 * PBLAS asks dmat.c's pilaenv_ (not the library's) for its panel width, gets the grid's,
 * and a panel narrower than k (2 < 9: several local updates per product) gives the same
 * products. w2_mat_lcol inverts w2_mat_gcol on each grid. Run with 4 ranks. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"
#include "train.h"

int pilaenv_(int *ictxt, char *prec); /* dmat.c's answer to PBLAS */

#define STEPS 200
#define N 128
#define D 6

static double rel_diff(const float *a, const float *b, int n) {
  double d = 0, s = 0;
  for (int i = 0; i < n; i++) {
    d = fmax(d, fabs((double)a[i] - b[i]));
    s = fmax(s, fabs((double)b[i]));
  }
  return d / (s > 0 ? s : 1);
}

static void gemm_case(const W2Grid *g, char ta, char tb, float *out) {
  int m = 7, n = 5, k = 9;
  W2Mat A, Bm, C;
  w2_mat_create(g, ta == 'N' ? m : k, ta == 'N' ? k : m, &A);
  w2_mat_create(g, tb == 'N' ? k : n, tb == 'N' ? n : k, &Bm);
  w2_mat_create(g, m, n, &C);
  w2_mat_fill_normal(&A, 1.f, 1, 0);
  w2_mat_fill_normal(&Bm, 1.f, 1, 1);
  w2_mat_fill_normal(&C, 1.f, 1, 2);
  W2T_OK(w2_mat_gemm(ta, tb, 0.5f, &A, &Bm, 2.f, &C));
  W2T_OK(w2_mat_allgather(&C, out));
  w2_mat_destroy(&A);
  w2_mat_destroy(&Bm);
  w2_mat_destroy(&C);
}

static double losses[STEPS];
static int nloss;
static W2Err log_eval(void *ctx, W2Model *m, long step, double loss) {
  losses[nloss++] = loss;
  return W2_OK;
}

static void train_case(const W2Grid *g, const float *X, const float *Y, double *out_losses,
                       float *prob) {
  W2Arch arch = {.d_in = D, .width = 20, .depth = 2, .d_out = 2, .act = W2_ACT_TANH};
  W2Model *m;
  W2T_OK(w2_model_create(g, &arch, &m));
  w2_model_init(m, w2_key(3, "init", 0, 0));
  W2TrainSpec sp = {.X = X, .d = arch.d_in, .Y = Y, .n = N, .batch = 16, .steps = STEPS,
                    .opt = {.lr = 3e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                            .weight_decay = 0.01f},
                    .warmup_frac = 0.05f, .sched = W2_SCHED_COSINE, .key = 77,
                    .n_eval = STEPS, .eval = log_eval};
  nloss = 0;
  W2T_OK(w2_train(m, &sp, NULL));
  memcpy(out_losses, losses, sizeof losses);
  W2T_OK(w2_model_predict(m, X, N, arch.d_in, prob));
  w2_model_destroy(&m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 4) {
    if (!rank) fprintf(stderr, "test_dmat needs 4 ranks\n");
    MPI_Finalize();
    return 1;
  }
  static float X[N * D], Y[N * 2];
  for (int i = 0; i < N * D; i++) X[i] = (float)w2_normal(4, 0, (uint64_t)i);
  for (int i = 0; i < N; i++) {
    Y[2 * i] = X[i * D] * X[i * D + 1] > 0;
    Y[2 * i + 1] = X[i * D + 2] > 0.3f;
  }
  /* reference on a 1x1 grid (every rank computes it on MPI_COMM_SELF) */
  W2Grid *g1;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g1));
  const char *ops[4] = {"NN", "NT", "TN", "TT"};
  float ref[4][35], got[35];
  for (int o = 0; o < 4; o++) gemm_case(g1, ops[o][0], ops[o][1], ref[o]);
  static double ref_loss[STEPS], loss[STEPS];
  static float ref_prob[N * 2], prob[N * 2];
  train_case(g1, X, Y, ref_loss, ref_prob);
  w2_grid_destroy(&g1);

  /* 1x2 and 2x1 on pairs of ranks, 2x2 on all four */
  int shapes[3][2] = {{1, 2}, {2, 1}, {2, 2}};
  for (int s = 0; s < 3; s++) {
    int p = shapes[s][0] * shapes[s][1];
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, rank / p, rank, &sub);
    W2Grid *g;
    W2T_OK(w2_grid_create(sub, shapes[s][0], shapes[s][1], 3, &g));
    for (int o = 0; o < 4; o++) {
      gemm_case(g, ops[o][0], ops[o][1], got);
      double r = rel_diff(got, ref[o], 35);
      W2T_CHECK(r < 1e-5, "gemm %s on %dx%d: rel diff %g", ops[o], shapes[s][0], shapes[s][1], r);
    }
    /* w2_mat_lcol inverts w2_mat_gcol: each global column is local to exactly one
     * process column, at the local index that maps back to it */
    W2Mat M;
    W2T_OK(w2_mat_create(g, 5, 11, &M));
    int owned = 0, bad = 0;
    for (int j = 0; j < M.n; j++) {
      int jl = w2_mat_lcol(&M, j);
      if (jl >= 0) owned++, bad += jl >= M.nl || w2_mat_gcol(&M, jl) != j;
    }
    int total = owned;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT, MPI_SUM, sub);
    W2T_CHECK(owned == M.nl && !bad && total == M.n * shapes[s][0],
              "lcol on %dx%d: %d local columns of %d (%d bad), %d over the grid", shapes[s][0],
              shapes[s][1], owned, M.nl, bad, total);
    w2_mat_destroy(&M);
    train_case(g, X, Y, loss, prob);
    double worst = 0;
    for (int i = 0; i < STEPS; i++) worst = fmax(worst, fabs(loss[i] - ref_loss[i]) / ref_loss[i]);
    W2T_CHECK(worst < 1e-4, "200-step losses on %dx%d within 1e-4 relative (worst %g)",
              shapes[s][0], shapes[s][1], worst);
    int agree = 0;
    for (int i = 0; i < N * 2; i++) agree += (prob[i] > 0.5f) == (ref_prob[i] > 0.5f);
    W2T_CHECK(agree >= N * 2 - 1, "predictions on %dx%d agree (%d of %d)", shapes[s][0],
              shapes[s][1], agree, N * 2);
    int ctxt = g->ctxt;
    W2T_CHECK(pilaenv_(&ctxt, "S") == g->panel && g->panel == 256,
              "pilaenv_ answers the grid's panel (%d, want 256 = max(block 3, 256))",
              pilaenv_(&ctxt, "S"));
    w2_grid_destroy(&g);

    /* a 2-wide panel: PSGEMM runs each product as k/2 local updates */
    setenv("W2SWEEP_PBLAS_NB", "2", 1);
    W2T_OK(w2_grid_create(sub, shapes[s][0], shapes[s][1], 3, &g));
    unsetenv("W2SWEEP_PBLAS_NB");
    ctxt = g->ctxt;
    W2T_CHECK(g->panel == 2 && pilaenv_(&ctxt, "S") == 2, "W2SWEEP_PBLAS_NB=2 gives panel %d",
              g->panel);
    for (int o = 0; o < 4; o++) {
      gemm_case(g, ops[o][0], ops[o][1], got);
      double r = rel_diff(got, ref[o], 35);
      W2T_CHECK(r < 1e-5, "gemm %s on %dx%d with panel 2: rel diff %g", ops[o], shapes[s][0],
                shapes[s][1], r);
    }
    w2_grid_destroy(&g);
    MPI_Comm_free(&sub);
  }
  /* the symbol the dynamic linker gives libscalapack's calls is the executable's */
  W2T_CHECK(dlsym(RTLD_DEFAULT, "pilaenv_") == (void *)pilaenv_,
            "pilaenv_ resolves to dmat.c's definition (PBLAS would use its own 32 otherwise)");
  unsetenv("W2SWEEP_BLOCK"); /* the rule, not a user's override */
  W2T_CHECK(w2_grid_block(8192, 1, 2) == 1024 && w2_grid_block(8192, 4, 4) == 1024 &&
                w2_grid_block(2048, 4, 4) == 512 && w2_grid_block(1000, 2, 2) == 448 &&
                w2_grid_block(100, 2, 2) == 64 && w2_grid_block(0, 2, 2) == 64,
            "w2_grid_block's rule");
  W2T_CHECK(w2_grid_gemm_workspace_bytes(8192, 1) == 0 &&
                w2_grid_gemm_workspace_bytes(8192, 4) == 2.0 * 4 * 1024 * 4096 &&
                w2_grid_gemm_workspace_bytes(24, 4) == 2.0 * 4 * 24 * 12,
            "panel workspace bound: none on one rank, two panels of min(panel, width) columns");
  int rc = w2t_summary_mpi();
  MPI_Finalize();
  return rc;
}
