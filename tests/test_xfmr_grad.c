/* test_xfmr_grad.c — the byte-level transformer (transformer.h): finite-difference
 * gradient checks of every parameter tensor under both heads, causality, the CLS head
 * reading the last real byte, padding, bitwise determinism, checkpoints, and the
 * parameter / FLOP accounting.
 *
 * fp32 model (width 8, 2 blocks, 2 heads, ctx 5, batch 3 with one padding sequence and one
 * short sequence), central differences with step h = 1e-2 on the loss accumulated in
 * double. Parameters are drawn at std 0.3 (not GPT-2's 0.02), LayerNorm gains and biases
 * perturbed, so every path carries gradient of order 1e-2..1 and fp32 rounding of the loss
 * (~1e-7) stays far below the differences. Tolerance, as tests/test_grad.c: the relative
 * error ||g_analytic - g_numeric|| / ||g_analytic + g_numeric|| per tensor below 1e-2; a
 * wrong gradient (transposed product, missing term, wrong scale) gives errors of order 1. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "testutil.h"
#include "transformer.h"

#define BATCH 3
#define NROWS 2

static const W2XfArch ARCH = {.width = 8, .depth = 2, .heads = 2, .ctx = 5};
static uint8_t tok[BATCH * 5];
static int len[BATCH] = {5, 3, 1};
static float tgt[BATCH] = {0.8f, 0.1f, 0.f};

static int nfail_calls;
static double loss_of(W2Xf *m, int lm) {
  double l = 0;
  /* counted once at the end (thousands of calls would swamp the pass count) */
  nfail_calls += w2_xf_forward(m) != 0;
  nfail_calls += (lm ? w2_xf_lm_loss(m, &l) : w2_xf_cls_loss(m, &l)) != 0;
  return l;
}

static void randomize(W2Xf *m, uint64_t key) {
  for (int i = 0; i < m->ntensors; i++) {
    W2XfTensor *t = &m->t[i];
    if (t->dist) {
      w2_mat_fill_normal(&t->W, 0.3f, key, (uint64_t)i);
      continue;
    }
    for (int j = 0; j < t->rows * t->cols; j++) t->p[j] += 0.3f * (float)w2_normal(key, 100 + i, j);
  }
}

static W2Xf *make(W2Grid *g, uint64_t key) {
  W2Xf *m = NULL;
  W2T_OK(w2_xf_create(g, &ARCH, &m));
  w2_xf_init(m, key);
  randomize(m, key);
  W2T_OK(w2_xf_set_batch(m, BATCH));
  W2T_OK(w2_xf_load_tokens(m, tok, len, NROWS));
  w2_xf_load_target(m, tgt, NULL, NROWS);
  return m;
}

/* checks one tensor: parameters p (n), analytic gradient g */
static void check_tensor(W2Xf *m, int lm, float *p, const float *g, int n, const char *what) {
  const float h = 1e-2f;
  double diff2 = 0, sum2 = 0, num2 = 0;
  for (int i = 0; i < n; i++) {
    float save = p[i];
    p[i] = save + h;
    double lp = loss_of(m, lm);
    p[i] = save - h;
    double lm_ = loss_of(m, lm);
    p[i] = save;
    double num = (lp - lm_) / (2.0 * h), an = g[i];
    diff2 += (an - num) * (an - num);
    sum2 += (an + num) * (an + num);
    num2 += num * num;
  }
  double rel = sum2 > 0 ? sqrt(diff2 / sum2) : 0;
  W2T_CHECK(rel < 1e-2, "%s %s: relative gradient error %.3g", lm ? "lm" : "cls", what, rel);
  W2T_CHECK(num2 > 1e-12, "%s %s: gradient is not identically zero (%g)", lm ? "lm" : "cls",
            what, num2);
}

static void grad_check(W2Grid *g, int lm) {
  W2Xf *m = make(g, 11);
  loss_of(m, lm);
  W2T_OK(w2_xf_backward(m));
  for (int i = 0; i < m->ntensors; i++) {
    W2XfTensor *t = &m->t[i];
    if (lm && (i == XF_CLSW || i == XF_CLSB)) {
      /* the LM loss does not read the CLS head: zero gradient, and it must say so */
      float s = 0;
      for (int j = 0; j < t->cols; j++) s += fabsf(t->g[j]);
      W2T_CHECK(s == 0.f, "lm: %s gradient is zero (%g)", t->name, (double)s);
      continue;
    }
    int n = t->rows * t->cols;
    /* on a 1x1 grid the local block is the column-major matrix itself (lld == rows) */
    float *p = t->dist ? t->W.a : t->p, *gr = t->dist ? t->dW.a : t->g;
    float *gcopy = malloc(sizeof(float) * n); /* finite differences do not touch grads, */
    memcpy(gcopy, gr, sizeof(float) * n);     /* but keep the check independent of that */
    check_tensor(m, lm, p, gcopy, n, t->name);
    free(gcopy);
  }
  w2_xf_destroy(&m);
}

/* the hidden state at row r must depend on bytes <= t only; the CLS logit on the bytes of
 * its sequence up to its last real byte; padding bytes on nothing */
static void check_masks(W2Grid *g) {
  W2Xf *m = make(g, 12);
  int T = ARCH.ctx, C = ARCH.width, BT = BATCH * T;
  float *h0 = malloc(sizeof(float) * BT * C), *h1 = malloc(sizeof(float) * BT * C);
  double cls0 = loss_of(m, 0), lm0 = loss_of(m, 1);
  memcpy(h0, m->lnf.a, sizeof(float) * BT * C);
  float z0 = m->cls_logit[1];
  /* change byte t = 2 of sequence 0 */
  uint8_t save = tok[2];
  tok[2] ^= 0x55;
  W2T_OK(w2_xf_load_tokens(m, tok, len, NROWS));
  loss_of(m, 1);
  memcpy(h1, m->lnf.a, sizeof(float) * BT * C);
  int before = 0, after = 0;
  for (int r = 0; r < T; r++)
    for (int c = 0; c < C; c++) {
      int same = h0[r + c * BT] == h1[r + c * BT];
      if (r < 2) before += !same;
      else after += same;
    }
  W2T_CHECK(before == 0, "causal: %d hidden values before the changed byte moved", before);
  W2T_CHECK(after == 0, "%d hidden values at or after the changed byte did not move", after);
  tok[2] = save;
  /* sequence 1 has length 3: bytes 3, 4 are padding and must not matter */
  tok[T + 3] ^= 0x7f;
  tok[T + 4] ^= 0x31;
  W2T_OK(w2_xf_load_tokens(m, tok, len, NROWS));
  double cls1 = loss_of(m, 0), lm1 = loss_of(m, 1);
  W2T_CHECK(cls1 == cls0 && lm1 == lm0, "padding bytes change the losses (cls %.9g vs %.9g, "
            "lm %.9g vs %.9g)", cls1, cls0, lm1, lm0);
  /* the CLS logit reads the last real byte (t = 2), not a fixed position */
  tok[T + 2] ^= 0x21;
  W2T_OK(w2_xf_load_tokens(m, tok, len, NROWS));
  loss_of(m, 0);
  W2T_CHECK(m->cls_logit[1] != z0, "the CLS logit ignores the last real byte");
  tok[T + 2] ^= 0x21;
  tok[T + 3] ^= 0x7f;
  tok[T + 4] ^= 0x31;
  free(h0);
  free(h1);
  w2_xf_destroy(&m);
}

/* a few LM + CLS AdamW steps; the losses of every step in out[] */
static void train_steps(W2Xf *m, int steps, double *out) {
  W2AdamW opt = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.1f};
  for (int s = 0; s < steps; s++) {
    out[s] = loss_of(m, s % 2);
    W2T_OK(w2_xf_backward(m));
    w2_xf_adamw(m, &opt, opt.lr);
  }
}

static int same_params(const W2Xf *a, const W2Xf *b) {
  for (int i = 0; i < a->ntensors; i++) {
    const W2XfTensor *x = &a->t[i], *y = &b->t[i];
    size_t n = (size_t)x->rows * x->cols;
    if (memcmp(x->dist ? x->W.a : x->p, y->dist ? y->W.a : y->p, n * sizeof(float))) return 0;
  }
  return 1;
}

/* two runs from the same key: bitwise the same losses and parameters; the steps move the
 * parameters; a checkpoint restores them exactly, and refuses another shape */
static void check_determinism_and_checkpoint(W2Grid *g) {
  enum { STEPS = 6 };
  double l1[STEPS], l2[STEPS];
  W2Xf *a = make(g, 13), *b = make(g, 13), *c = make(g, 14);
  W2T_CHECK(same_params(a, b) && !same_params(a, c), "init is a function of the key");
  train_steps(a, STEPS, l1);
  W2T_CHECK(!same_params(a, b), "training moves the parameters");
  train_steps(b, STEPS, l2);
  W2T_CHECK(memcmp(l1, l2, sizeof l1) == 0 && same_params(a, b),
            "two runs are bitwise identical (losses and parameters)");
  W2T_CHECK(l1[STEPS - 2] < l1[0] && l1[STEPS - 1] < l1[1], "training lowers both losses "
            "(lm %.4f -> %.4f, cls %.4f -> %.4f)", l1[0], l1[STEPS - 2], l1[1], l1[STEPS - 1]);
  char path[64];
  snprintf(path, sizeof path, "xfmr_ckpt_%d.h5", (int)getpid());
  W2T_OK(w2_xf_save(a, path));
  W2T_OK(w2_xf_load(c, path));
  W2T_CHECK(same_params(a, c), "a loaded checkpoint holds exactly the saved parameters");
  W2T_CHECK(loss_of(a, 1) == loss_of(c, 1), "and gives the same loss");
  W2XfArch other = ARCH;
  other.width = 12;
  W2Xf *d = NULL;
  W2T_OK(w2_xf_create(g, &other, &d));
  w2_xf_init(d, 1);
  float w0 = d->t[XF_WTE].W.a[0];
  W2T_CHECK(w2_xf_load(d, path) == W2_ERR_DATA && strstr(w2_error_message(), "width"),
            "a checkpoint of another width is refused naming the field: %s", w2_error_message());
  W2T_CHECK(d->t[XF_WTE].W.a[0] == w0, "a refused load leaves the parameters alone");
  W2T_CHECK(w2_xf_load(d, "no/such/file.h5") == W2_ERR_IO, "a missing file is W2_ERR_IO");
  w2_error_clear();
  remove(path);
  w2_xf_destroy(&d);
  w2_xf_destroy(&a);
  w2_xf_destroy(&b);
  w2_xf_destroy(&c);
}

/* parameter count = the tensors' sizes; step FLOPs = 6 N tokens + attention */
static void check_accounting(W2Grid *g) {
  W2XfArch a = {.width = 64, .depth = 3, .heads = 4, .ctx = 32};
  W2Xf *m = NULL;
  W2T_OK(w2_xf_create(g, &a, &m));
  double n = 0;
  for (int i = 0; i < m->ntensors; i++) n += (double)m->t[i].rows * m->t[i].cols;
  W2T_CHECK(n == w2_xf_params(&a), "w2_xf_params %g, tensors %g", w2_xf_params(&a), n);
  double C = 64, L = 3, T = 32, B = 8, tokens = B * T;
  double n_mm = 12 * L * C * C + C * W2_XF_VOCAB; /* parameters in products (LM head tied) */
  double want = 6 * n_mm * tokens + 3 * 4 * L * T * C * tokens;
  W2T_CHECK(fabs(w2_xf_step_flops(&a, 8, 1) - want) < 1e-9 * want, "step flops %g, want %g",
            w2_xf_step_flops(&a, 8, 1), want);
  W2T_CHECK(w2_xf_step_flops(&a, 8, 0) < w2_xf_step_flops(&a, 8, 1), "CLS steps skip the LM head");
  W2T_CHECK(w2_xf_train_bytes(&a, 8, 1) > 16 * n, "memory estimate covers weights and state");
  w2_xf_destroy(&m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  for (int i = 0; i < BATCH * 5; i++) tok[i] = (uint8_t)w2_below(5, 0, (uint64_t)i, 256);
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  grad_check(g, 1);
  grad_check(g, 0);
  check_masks(g);
  check_determinism_and_checkpoint(g);
  check_accounting(g);
  W2T_CHECK(nfail_calls == 0, "%d forward / loss calls failed: %s", nfail_calls,
            w2_error_message());
  w2_grid_destroy(&g);
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
