/* test_grad.c — finite-difference gradient checks of every layer, activation and the loss.
 *
 * fp32 model, central differences with step h = 1e-2 (tanh) / 1e-3 (ReLU) on the weighted
 * soft-target BCE loss (accumulated in double). Documented tolerance: the relative error
 * ||g_analytic - g_numeric|| / ||g_analytic + g_numeric|| per parameter tensor must be
 * below 1e-2; a wrong gradient (transposed product, missing activation derivative, wrong
 * scaling) gives errors of order 1. Checked with 3 outputs and with 1 (the one-output head
 * takes other code paths in w2_mat_gemm). The batch gather and the target load are compared
 * with the rows they were given. The squared-error loss of masked reconstruction
 * (W2_LOSS_MSE with an element mask) is checked the same way, and entries outside the mask
 * must not matter. The reverse-KL loss (W2_LOSS_RKL, method kl) is checked the same way,
 * and against hand-computed values where it differs from naive CE. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>

#include "model.h"
#include "rng.h"
#include "testutil.h"

#define B 11 /* one full 8-row tile of the batch gather, and a partial one */

static double loss_of(W2Model *m) {
  double l;
  w2_model_forward(m);
  w2_model_loss(m, &l);
  return l;
}

/* checks one parameter array p (n entries) whose analytic gradient is g */
static void check_tensor(W2Model *m, float *p, const float *g, int n, float h, const char *what,
                         int frozen) {
  double num2 = 0, diff2 = 0, sum2 = 0, max_g = 0;
  for (int i = 0; i < n; i++) {
    float save = p[i];
    p[i] = save + h;
    double lp = loss_of(m);
    p[i] = save - h;
    double lm = loss_of(m);
    p[i] = save;
    double num = (lp - lm) / (2.0 * h);
    double an = frozen ? 0.0 : g[i];
    diff2 += (an - num) * (an - num);
    sum2 += (an + num) * (an + num);
    num2 += num * num;
    if (fabs(an) > max_g) max_g = fabs(an);
  }
  double rel = sum2 > 0 ? sqrt(diff2 / sum2) : 0;
  W2T_CHECK(rel < 1e-2, "%s: relative gradient error %.3g", what, rel);
  W2T_CHECK(num2 > 1e-12, "%s: gradient is not identically zero (%g)", what, num2);
}

static void run_check(W2Act act, float h, int freeze, int d_out, W2Loss loss_kind) {
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2Arch arch = {.d_in = 5, .width = 7, .depth = 3, .d_out = d_out, .act = act};
  W2Model *m;
  W2T_OK(w2_model_create(g, &arch, &m));
  w2_model_init(m, w2_key(7, "grad", act, freeze));
  /* non-zero biases so the bias paths matter */
  for (int l = 0; l < m->nlayers; l++)
    for (int j = 0; j < m->W[l].n; j++) m->b[l][j] = 0.1f * (float)w2_normal(9, (uint64_t)l, (uint64_t)j);
  W2T_OK(w2_model_set_batch(m, B));
  m->freeze_body = freeze;
  m->loss = loss_kind;
  int mse = loss_kind == W2_LOSS_MSE;
  float X[B * 5], T[B * 3], wt[B], mask[B * 3];
  int rows[B];
  for (int i = 0; i < B * 5; i++) X[i] = (float)w2_normal(11, 0, (uint64_t)i);
  for (int i = 0; i < B * 3; i++) T[i] = (float)w2_uniform(11, 1, (uint64_t)i); /* soft targets */
  for (int i = 0; i < B; i++) {
    rows[i] = (3 * i + 1) % B; /* a permutation: the gather must follow it */
    wt[i] = 0.5f + (float)i / B; /* unequal row weights, as the window / cleaning losses use */
  }
  for (int i = 0; i < B * 3; i++) mask[i] = (i % 3 == 1) ? 0.f : 1.f; /* some entries out */
  int nrows = B - 1; /* one padding row must not contribute */
  if (mse) m->loss = W2_LOSS_MSE;
  w2_model_load_batch(m, X, rows, nrows);
  if (mse) w2_model_load_target_masked(m, T, mask, nrows);
  else w2_model_load_target(m, T, wt, nrows);
  int bad = 0;
  for (int i = 0; i < B; i++)
    for (int j = 0; j < 5; j++)
      bad += m->act[0].a[i + (size_t)j * m->act[0].lld] != (i < nrows ? X[rows[i] * 5 + j] : 0.f);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < d_out; j++)
      bad += m->target.a[i + (size_t)j * m->target.lld] != (i < nrows ? T[i * d_out + j] : 0.f);
  W2T_CHECK(bad == 0, "batch gather and target load put %d of %d entries elsewhere", bad,
            B * (5 + d_out));
  double loss;
  W2T_OK(w2_model_forward(m));
  W2T_OK(w2_model_loss(m, &loss));
  W2T_OK(w2_model_backward(m));
  /* copy gradients: the finite-difference forwards overwrite dlogits but not dW/db */
  char what[64];
  for (int l = 0; l < m->nlayers; l++) {
    int frozen = freeze && l < arch.depth;
    if (frozen) continue; /* frozen layers are checked below: their dW must be untouched */
    snprintf(what, sizeof what, "%s%s%s d_out %d W[%d]", act == W2_ACT_RELU ? "relu" : "tanh",
             freeze ? " (probe)" : "", loss_kind == W2_LOSS_RKL ? " reverse-KL" : mse ? " mse" : "", d_out, l);
    check_tensor(m, m->W[l].a, m->dW[l].a, m->W[l].m * m->W[l].n, h, what, 0);
    snprintf(what, sizeof what, "%s%s%s d_out %d b[%d]", act == W2_ACT_RELU ? "relu" : "tanh",
             freeze ? " (probe)" : "", loss_kind == W2_LOSS_RKL ? " reverse-KL" : mse ? " mse" : "", d_out, l);
    check_tensor(m, m->b[l], m->db[l], m->W[l].n, h, what, 0);
  }
  if (freeze) {
    /* AdamW must not move the body */
    float w0 = m->W[0].a[3], b0 = m->b[1][2], wh = m->W[arch.depth].a[1];
    W2AdamW opt = {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.1f};
    w2_model_adamw(m, &opt, 0.1f);
    W2T_CHECK(m->W[0].a[3] == w0 && m->b[1][2] == b0, "probe update leaves the body unchanged");
    W2T_CHECK(m->W[arch.depth].a[1] != wh, "probe update moves the head");
  }
  /* the padding row must not matter: change its input, loss unchanged */
  loss = loss_of(m);
  X[rows[B - 1] * 5] += 100.f;
  w2_model_load_batch(m, X, rows, nrows);
  if (mse) w2_model_load_target_masked(m, T, mask, nrows);
  else w2_model_load_target(m, T, wt, nrows);
  W2T_CHECK(fabs(loss_of(m) - loss) < 1e-6 * fabs(loss) + 1e-9, "padding row ignored");
  if (mse && d_out == 3) {
    /* targets outside the mask must not matter; inside, they must */
    for (int i = 0; i < nrows; i++) T[i * 3 + 1] += 50.f;
    w2_model_load_target_masked(m, T, mask, nrows);
    W2T_CHECK(fabs(loss_of(m) - loss) < 1e-6 * fabs(loss) + 1e-9, "masked-out targets ignored");
    T[0] += 1.f;
    w2_model_load_target_masked(m, T, mask, nrows);
    W2T_CHECK(fabs(loss_of(m) - loss) > 1e-4 * fabs(loss), "masked-in targets count");
    /* the loss value: half the mean squared error over the masked-in entries */
    double want = 0, nw = 0;
    W2T_OK(w2_model_forward(m));
    W2T_OK(w2_model_gather_logits(m));
    for (int i = 0; i < nrows; i++)
      for (int j = 0; j < 3; j++) {
        double r = m->host_logits[i * 3 + j] - T[i * 3 + j];
        want += mask[i * 3 + j] * 0.5 * r * r;
        nw += mask[i * 3 + j];
      }
    double got;
    W2T_OK(w2_model_loss(m, &got));
    W2T_CHECK(fabs(got - want / nw) <= 1e-5 * fabs(want / nw), "MSE value %g, want %g", got,
              want / nw);
  }
  w2_model_destroy(&m);
  w2_grid_destroy(&g);
}

/* Reverse KL at known points, and that its gradient is not naive CE's: one logit z, target t.
 * KL(f||t) = f log(f/t) + (1-f) log((1-f)/(1-t)); at z = logit t it is 0 with gradient 0;
 * at z = 0, t = 0.8: KL = log(0.5/0.8)/2 + log(0.5/0.2)/2 = 0.5 log(0.625 * 2.5) = 0.22314,
 * dKL/dz = 0.25 * (0 - logit 0.8) = -0.34657 (BCE would give 0.5 - 0.8 = -0.3). */
static void check_rkl_values(void) {
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2Arch arch = {.d_in = 1, .width = 1, .depth = 1, .d_out = 1, .act = W2_ACT_RELU};
  W2Model *m;
  W2T_OK(w2_model_create(g, &arch, &m));
  W2T_OK(w2_model_set_batch(m, 1));
  m->loss = W2_LOSS_RKL;
  float zs[2] = {0.f, (float)log(0.3 / 0.7)}, ts[2] = {0.8f, 0.3f};
  double want_l[2] = {0.5 * log(0.625 * 2.5), 0}, want_d[2] = {-0.25 * log(4.0), 0};
  for (int k = 0; k < 2; k++) {
    m->act[m->nlayers].a[0] = zs[k];
    w2_model_load_target(m, &ts[k], NULL, 1);
    double l;
    W2T_OK(w2_model_loss(m, &l));
    W2T_CHECK(fabs(l - want_l[k]) < 1e-6 && fabs(m->dlogits.a[0] - want_d[k]) < 1e-6,
              "reverse KL at z = %g, t = %g: loss %.7f (want %.7f), d/dz %.7f (want %.7f)",
              (double)zs[k], (double)ts[k], l, want_l[k], (double)m->dlogits.a[0], want_d[k]);
  }
  w2_model_destroy(&m);
  w2_grid_destroy(&g);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  /* d_out 3: every product through SGEMM; d_out 1: the head's products through SGEMV and
   * the outer-product loop of w2_mat_gemm */
  for (int d_out = 3; d_out >= 1; d_out -= 2) {
    run_check(W2_ACT_TANH, 1e-2f, 0, d_out, W2_LOSS_BCE);
    run_check(W2_ACT_RELU, 1e-3f, 0, d_out, W2_LOSS_BCE);
    run_check(W2_ACT_TANH, 1e-2f, 1, d_out, W2_LOSS_BCE);
    run_check(W2_ACT_TANH, 1e-2f, 0, d_out, W2_LOSS_RKL);
    run_check(W2_ACT_TANH, 1e-2f, 0, d_out, W2_LOSS_MSE); /* masked reconstruction's loss */
    run_check(W2_ACT_RELU, 1e-3f, 0, d_out, W2_LOSS_MSE);
  }
  check_rkl_values();
  /* the loss itself: BCE at z=0 with t=0.5 is log 2 */
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
