/* test_train.c — the training loop: bitwise determinism from a seed, learning happens,
 * schedule and evaluation points are where the header says. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"
#include "train.h"

#define N 256
#define D 8

typedef struct {
  double losses[64];
  long steps[64];
  int n;
} Log;

static W2Err log_eval(void *ctx, W2Model *m, long step, double loss) {
  Log *lg = ctx;
  lg->losses[lg->n] = loss;
  lg->steps[lg->n++] = step;
  return W2_OK;
}

static void run(const W2Grid *g, const float *X, const float *Y, uint64_t seed, Log *lg,
                W2Act act) {
  W2Arch arch = {.d_in = D, .width = 32, .depth = 2, .d_out = 1, .act = act};
  W2Model *m;
  w2_model_create(g, &arch, &m);
  w2_model_init(m, w2_key(seed, "init", 0, 0));
  W2TrainSpec sp = {.X = X, .d = D, .Y = Y, .n = N, .batch = 32, .steps = 300,
                    .opt = {.lr = 3e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                            .weight_decay = 0.01f},
                    .warmup_frac = 0.1f, .sched = W2_SCHED_COSINE,
                    .key = w2_key(seed, "order", 0, 0), .n_eval = 10, .eval = log_eval,
                    .eval_ctx = lg};
  memset(lg, 0, sizeof *lg);
  W2TrainStats st;
  W2T_OK(w2_train(m, &sp, &st));
  W2T_CHECK(st.flops == 300 * w2_arch_step_flops(&arch, 32, 0), "flops accounted per step");
  W2T_CHECK(m->flops == st.flops, "model flops accumulate");
  w2_model_destroy(&m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  static float X[N * D], Y[N];
  for (int i = 0; i < N; i++) {
    double s = 0;
    for (int j = 0; j < D; j++) {
      X[i * D + j] = (float)w2_normal(5, 0, (uint64_t)(i * D + j));
      s += X[i * D + j] * (j % 2 ? 1 : -1);
    }
    Y[i] = s * X[i * D] > 0; /* a nonlinear target */
  }
  Log a, b, c;
  run(g, X, Y, 1, &a, W2_ACT_RELU);
  run(g, X, Y, 1, &b, W2_ACT_RELU);
  run(g, X, Y, 2, &c, W2_ACT_RELU);
  W2T_CHECK(a.n == 10, "10 evaluation points (got %d)", a.n);
  W2T_CHECK(a.steps[9] == 300 && a.steps[0] == 30, "evaluation steps %ld..%ld", a.steps[0],
            a.steps[9]);
  W2T_CHECK(memcmp(a.losses, b.losses, sizeof a.losses) == 0, "same seed: bitwise-equal losses");
  W2T_CHECK(memcmp(a.losses, c.losses, sizeof a.losses) != 0, "other seed: other losses");
  W2T_CHECK(a.losses[9] < 0.5 * a.losses[0], "loss falls (%g -> %g)", a.losses[0], a.losses[9]);
  run(g, X, Y, 1, &c, W2_ACT_TANH);
  W2T_CHECK(c.losses[9] < 0.85 * c.losses[0], "tanh loss falls (%g -> %g)", c.losses[0],
            c.losses[9]);

  /* schedule: warm-up ramps to lr, cosine ends near 0 */
  W2TrainSpec sp = {.steps = 100, .opt = {.lr = 1.f}, .warmup_frac = 0.1f, .sched = W2_SCHED_COSINE};
  W2T_CHECK(fabsf(w2_train_lr(&sp, 0) - 0.1f) < 1e-6f, "warm-up starts at lr/warm");
  W2T_CHECK(fabsf(w2_train_lr(&sp, 9) - 1.f) < 1e-6f, "warm-up reaches lr");
  W2T_CHECK(w2_train_lr(&sp, 99) < 0.01f, "cosine decays to ~0");
  sp.sched = W2_SCHED_LINEAR;
  W2T_CHECK(fabsf(w2_train_lr(&sp, 55) - 0.5f) < 0.02f, "linear half way");
  W2T_CHECK(w2_train_steps_for_epochs(1000, 32, 2.0) == 63, "steps for epochs");

  /* NaN input is reported as divergence, not silently trained on */
  X[0] = NAN;
  W2Arch arch = {.d_in = D, .width = 8, .depth = 1, .d_out = 1, .act = W2_ACT_TANH};
  W2Model *m;
  w2_model_create(g, &arch, &m);
  w2_model_init(m, 3);
  W2TrainSpec bad = {.X = X, .d = D, .Y = Y, .n = N, .batch = N, .steps = 2, .opt = {.lr = 1e-3f}};
  W2T_CHECK(w2_train(m, &bad, NULL) == W2_ERR_NUM, "NaN loss raises W2_ERR_NUM");
  w2_model_destroy(&m);
  w2_grid_destroy(&g);
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
