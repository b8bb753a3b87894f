/* selftrain.c — strong-to-strong self-training by cross-fitting: each of `iterations`
 * rounds relabels B with K-fold strong models that never trained on the row they label,
 * starting from the weak labels; the student trains on the last labels. */
#include <string.h>

#include "method.h"

int w2_method_check_folds(const W2Sweep *s, const W2MethodSpec *m, const char *where,
                          const char **key, char *msg, size_t len);

static const W2MethodSetting settings[] = {
    {"iterations", W2_SET_INT, offsetof(W2MethodSpec, selftrain_iters), 1, 100, 0, 0, 2,
     "relabelling rounds"},
    {"folds", W2_SET_INT, offsetof(W2MethodSpec, folds), 2, 20, 0, 0, 5,
     "K of the K-fold cross-fitted relabelling"}};

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  return c->ft + m->selftrain_iters * c->crossfit(c, c->z, m->folds > 1 ? m->folds : 2);
}

static W2Err prepare(W2MethodCell *mc) {
  const W2MethodSpec *m = mc->m;
  int n = mc->td->n_b;
  float *next;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)n, (void **)&next));
  for (int it = 0; it < m->selftrain_iters; it++) {
    W2_CALL(w2_pipe_crossfit_labels(mc->p, mc->strong, mc->t, mc->td, mc->seed, m->unsup,
                                    mc->labels, m->folds, 300 + (uint64_t)it, next, NULL, 0,
                                    &mc->extra_flops));
    memcpy(mc->labels, next, sizeof(float) * (size_t)n);
  }
  mc->prior = w2_label_prior(mc->labels, n);
  return W2_OK;
}

const W2MethodOps w2_method_selftrain = {
    .kind = "selftrain",
    .doc = "strong-to-strong self-training with cross-fitted relabelling",
    .settings = settings,
    .nsettings = 2,
    .check = w2_method_check_folds,
    .cost = cost,
    .prepare = prepare};
