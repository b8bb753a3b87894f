/* test_train.c — the training loop: bitwise determinism from a seed, learning happens,
 * schedule and evaluation points are where the header says (log-spaced, several in the
 * first epoch, every step when a run is shorter than the points asked for). */
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

/* mean training loss over the steps up to evaluation point 5 */
static double early_loss(const Log *lg) {
  double s = 0;
  for (int k = 0; k <= 5; k++) s += lg->losses[k] * (double)(lg->steps[k] - (k ? lg->steps[k - 1] : 0));
  return s / (double)lg->steps[5];
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
  /* log-spaced: round(300^(k/9)) = 1 2 4 7 13 24 45 84 159 300 */
  static const long want[10] = {1, 2, 4, 7, 13, 24, 45, 84, 159, 300};
  int same = 1;
  for (int k = 0; k < 10; k++) same = same && a.steps[k] == want[k];
  W2T_CHECK(same, "log-spaced evaluation steps %ld %ld %ld ... %ld", a.steps[0], a.steps[1],
            a.steps[2], a.steps[9]);
  W2T_CHECK(memcmp(a.losses, b.losses, sizeof a.losses) == 0, "same seed: bitwise-equal losses");
  W2T_CHECK(memcmp(a.losses, c.losses, sizeof a.losses) != 0, "other seed: other losses");
  /* each point's loss is the mean since the previous point: compare the mean over the
   * first 24 steps (points 0-5) with the last interval's */
  double early = early_loss(&a);
  W2T_CHECK(a.losses[9] < 0.5 * early, "loss falls (%g -> %g)", early, a.losses[9]);
  run(g, X, Y, 1, &c, W2_ACT_TANH);
  early = early_loss(&c);
  W2T_CHECK(c.losses[9] < 0.85 * early, "tanh loss falls (%g -> %g)", early, c.losses[9]);

  /* schedule: warm-up ramps to lr, cosine ends near 0 */
  W2TrainSpec sp = {.steps = 100, .opt = {.lr = 1.f}, .warmup_frac = 0.1f, .sched = W2_SCHED_COSINE};
  W2T_CHECK(fabsf(w2_train_lr(&sp, 0) - 0.1f) < 1e-6f, "warm-up starts at lr/warm");
  W2T_CHECK(fabsf(w2_train_lr(&sp, 9) - 1.f) < 1e-6f, "warm-up reaches lr");
  W2T_CHECK(w2_train_lr(&sp, 99) < 0.01f, "cosine decays to ~0");
  sp.sched = W2_SCHED_LINEAR;
  W2T_CHECK(fabsf(w2_train_lr(&sp, 55) - 0.5f) < 0.02f, "linear half way");
  W2T_CHECK(w2_train_steps_for_epochs(1000, 32, 2.0) == 63, "steps for epochs");

  /* evaluation points: strictly increasing, last = steps, min(n_eval, steps) of them */
  int mono = 1;
  for (long steps = 1; steps <= 400; steps += (steps < 40 ? 1 : 37))
    for (int ne = 1; ne <= 60; ne += (ne < 12 ? 1 : 7)) {
      int m = w2_train_eval_count(steps, ne);
      mono = mono && m == (steps < ne ? steps : ne);
      long prev = 0;
      for (int k = 0; k < m; k++) {
        long st = w2_train_eval_step(steps, ne, k);
        mono = mono && st > prev && st <= steps;
        prev = st;
      }
      mono = mono && prev == steps;
    }
  W2T_CHECK(mono, "evaluation steps strictly increasing, last = steps, count = min(n, steps)");
  W2T_CHECK(w2_train_eval_count(5, 0) == 0, "n_eval 0: no evaluation");
  /* a typical stage (quickstart finetune: 1000 rows, batch 32, 60 epochs, 10 points) is
   * evaluated several times inside its first epoch, and each point is within rounding of
   * the log-spaced ideal steps^(k/9) */
  long ft = w2_train_steps_for_epochs(1000, 32, 60.0), epoch1 = w2_train_steps_for_epochs(1000, 32, 1.0);
  int in_first = 0, logok = 1;
  for (int k = 0; k < 10; k++) {
    long st = w2_train_eval_step(ft, 10, k);
    in_first += st <= epoch1;
    logok = logok && fabs(st - pow((double)ft, k / 9.0)) <= 0.5 + 1e-9;
  }
  W2T_CHECK(in_first >= 3, "%d evaluation points inside the first epoch (%ld steps) of %ld",
            in_first, epoch1, ft);
  W2T_CHECK(logok, "evaluation points are log-spaced over %ld steps", ft);

  /* regression (issue 14 item 1): a run shorter than n_eval is evaluated after every step
   * (before: one evaluation and the rest of the curve left at 0) */
  Log sh;
  memset(&sh, 0, sizeof sh);
  {
    W2Arch arch = {.d_in = D, .width = 8, .depth = 1, .d_out = 1, .act = W2_ACT_TANH};
    W2Model *m;
    W2T_OK(w2_model_create(g, &arch, &m));
    w2_model_init(m, 4);
    W2TrainSpec spv = {.X = X, .d = D, .Y = Y, .n = N, .batch = 32, .steps = 3, .opt = {.lr = 1e-3f},
                       .n_eval = 10, .eval = log_eval, .eval_ctx = &sh};
    W2TrainStats st;
    W2T_OK(w2_train(m, &spv, &st));
    W2T_CHECK(sh.n == 3 && st.n_evals == 3 && sh.steps[0] == 1 && sh.steps[1] == 2 &&
                  sh.steps[2] == 3,
              "3 steps, 10 points asked: evaluated at every step (%d evaluations)", sh.n);
    w2_model_destroy(&m);
  }

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
