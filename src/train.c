/* train.c — the training loop (see train.h). */
#include "train.h"

#include <math.h>
#include <stdlib.h>

#include "rng.h"

long w2_train_steps_for_epochs(int n, int batch, double epochs) {
  long s = (long)ceil(epochs * n / (double)batch);
  return s > 0 ? s : 1;
}

float w2_train_lr(const W2TrainSpec *sp, long s) {
  long warm = (long)(sp->warmup_frac * sp->steps);
  double lr = sp->opt.lr;
  if (warm > 0 && s < warm) return (float)(lr * (s + 1) / warm);
  double span = (double)(sp->steps - warm);
  double t = span > 0 ? (double)(s - warm) / span : 0.0; /* 0 .. <1 */
  switch (sp->sched) {
  case W2_SCHED_COSINE: return (float)(lr * 0.5 * (1.0 + cos(3.14159265358979323846 * t)));
  case W2_SCHED_LINEAR: return (float)(lr * (1.0 - t));
  default: return (float)lr;
  }
}

int w2_train_eval_count(long steps, int n_eval) {
  if (n_eval <= 0 || steps <= 0) return 0;
  return steps < n_eval ? (int)steps : n_eval;
}

long w2_train_eval_step(long steps, int n_eval, int k) {
  /* m points log-spaced between step 1 and step `steps`: round(steps^(j/(m-1))), pushed up
   * to one past the previous point where rounding collides (small j) and capped so the
   * points left still fit (m <= steps), so the steps are strictly increasing and the last
   * is `steps`. O(k); w2_train asks once per point. */
  int m = w2_train_eval_count(steps, n_eval);
  if (m <= 1 || k >= m - 1) return steps;
  long prev = 0;
  double ls = log((double)steps);
  for (int j = 0; j <= k; j++) {
    long s = lround(exp(ls * j / (m - 1)));
    if (s < prev + 1) s = prev + 1;
    if (s > steps - (m - 1 - j)) s = steps - (m - 1 - j);
    prev = s;
  }
  return prev;
}

typedef struct Order {
  int n;
  uint64_t key;
  long epoch;  /* epoch whose permutation is in perm */
  int *perm;
} Order;

static int order_row(Order *o, long pos) {
  long e = pos / o->n;
  if (e != o->epoch) {
    w2_permutation(o->key, (uint64_t)e, o->n, o->perm);
    o->epoch = e;
  }
  return o->perm[pos % o->n];
}

W2Err w2_train(W2Model *m, const W2TrainSpec *sp, W2TrainStats *stats) {
  W2_CHECK(sp->n >= 1, W2_ERR_ARG, "training set is empty");
  W2_CHECK(sp->steps >= 1, W2_ERR_ARG, "training needs at least one step");
  W2_CHECK(sp->target || sp->Y || sp->batch_fn, W2_ERR_INTERNAL, "training without targets");
  W2_CHECK(sp->d == m->arch.d_in, W2_ERR_INTERNAL,
           "training data has %d columns but the model takes %d inputs", sp->d, m->arch.d_in);
  int B = sp->batch < sp->n ? sp->batch : sp->n;
  if (m->B != B) W2_CALL(w2_model_set_batch(m, B));
  int k = m->arch.d_out;
  W2Err err = W2_OK;
  Order ord = {sp->n, sp->key, -1, NULL};
  int *rows = NULL, *ident = NULL;
  float *tgt = NULL, *wt = NULL, *prob = NULL, *xb = NULL;
  W2Loss loss0 = m->loss;
  m->loss = sp->loss;
  ord.perm = malloc(sizeof(int) * (size_t)sp->n);
  rows = malloc(sizeof(int) * (size_t)B);
  tgt = malloc(sizeof(float) * (size_t)B * k);
  wt = malloc(sizeof(float) * (size_t)B * k); /* row weights, or element masks (batch_fn) */
  prob = malloc(sizeof(float) * (size_t)B * k);
  if (sp->batch_fn) {
    ident = malloc(sizeof(int) * (size_t)B);
    xb = malloc(sizeof(float) * (size_t)B * sp->d);
  }
  if (!ord.perm || !rows || !tgt || !wt || !prob || (sp->batch_fn && (!ident || !xb))) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory for a training run of %d rows", sp->n);
    goto done;
  }
  w2_model_reset_optimizer(m);
  m->loss = sp->loss;
  double step_flops = w2_model_step_flops(m, B);
  double loss_acc = 0;
  long loss_n = 0;
  int n_points = w2_train_eval_count(sp->steps, sp->n_eval), next_eval = 0;
  long next_step = n_points ? w2_train_eval_step(sp->steps, sp->n_eval, 0) : -1;
  for (long s = 0; s < sp->steps; s++) {
    for (int i = 0; i < B; i++) rows[i] = order_row(&ord, s * (long)B + i);
    if (sp->batch_fn) {
      W2_CALL_GOTO(err, done, sp->batch_fn(sp->batch_ctx, B, rows, s, xb, tgt, wt));
      for (int i = 0; i < B; i++) ident[i] = i;
      w2_model_load_batch(m, xb, ident, B);
    } else {
      w2_model_load_batch(m, sp->X, rows, B);
    }
    W2_CALL_GOTO(err, done, w2_model_forward(m));
    if (sp->batch_fn) {
      w2_model_load_target_masked(m, tgt, wt, B);
    } else if (sp->target) {
      float *p = NULL;
      if (sp->target_needs_prob) {
        W2_CALL_GOTO(err, done, w2_model_gather_logits(m));
        for (int i = 0; i < B * k; i++) {
          float z = m->host_logits[i];
          prob[i] = z >= 0 ? 1.f / (1.f + expf(-z)) : expf(z) / (1.f + expf(z));
        }
        p = prob;
      }
      W2_CALL_GOTO(err, done,
                   sp->target(sp->target_ctx, B, rows, p, (double)s / sp->steps, tgt, wt));
      w2_model_load_target(m, tgt, wt, B);
    } else {
      for (int i = 0; i < B; i++)
        for (int j = 0; j < k; j++) tgt[(size_t)i * k + j] = sp->Y[(size_t)rows[i] * k + j];
      w2_model_load_target(m, tgt, NULL, B);
    }
    double loss;
    W2_CALL_GOTO(err, done, w2_model_loss(m, &loss));
    if (!isfinite(loss)) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_NUM,
                           "training diverged: loss is %g at step %ld of %ld (lower lr?)",
                           loss, s + 1, sp->steps);
      goto done;
    }
    W2_CALL_GOTO(err, done, w2_model_backward(m));
    w2_model_adamw(m, &sp->opt, w2_train_lr(sp, s));
    m->flops += step_flops;
    loss_acc += loss;
    loss_n++;
    if (s + 1 == next_step) {
      double mean = loss_acc / loss_n;
      if (sp->eval) W2_CALL_GOTO(err, done, sp->eval(sp->eval_ctx, m, s + 1, mean));
      /* evaluation may have used the workspace at another batch size */
      if (m->B != B) W2_CALL_GOTO(err, done, w2_model_set_batch(m, B));
      if (stats) stats->final_loss = mean;
      loss_acc = 0;
      loss_n = 0;
      next_eval++;
      next_step = next_eval < n_points ? w2_train_eval_step(sp->steps, sp->n_eval, next_eval) : -1;
    }
  }
  if (stats) {
    if (loss_n) stats->final_loss = loss_acc / loss_n;
    stats->flops = step_flops * sp->steps;
    stats->steps = sp->steps;
    stats->n_evals = next_eval;
  }
done:
  m->loss = loss0;
  free(ord.perm);
  free(ident);
  free(xb);
  free(rows);
  free(tgt);
  free(wt);
  free(prob);
  return err;
}
