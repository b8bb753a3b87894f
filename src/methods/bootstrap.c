/* bootstrap.c — bootstrapping through intermediate sizes (Burns et al. 2023 §4.3.1):
 * weak -> chain[0] -> ... -> strong. Each intermediate size is cross-fitted on the current
 * labels of B (K folds: no row is labelled by a model that trained on it) and its labels
 * train the next; the strong student trains on the last. The chain and each link's test
 * accuracy (mean prediction of its fold models) are stored with the cell. */
#include <stdio.h>
#include <string.h>

#include "../metrics.h"
#include "method.h"

static const W2MethodSetting settings[] = {
    {"folds", W2_SET_INT, offsetof(W2MethodSpec, folds), 2, 20, 0, 0, 5,
     "K of the K-fold cross-fitted relabelling by each intermediate size"},
    {"chain", W2_SET_NAMES, offsetof(W2MethodSpec, chain), 0, 0, 0, 0, 1 /* required */,
     "intermediate size names, weak to strong (required, non-empty)"}};

/* every fold labels at least 5 rows and trains on at least 10 */
int w2_method_check_folds(const W2Sweep *s, const W2MethodSpec *m, const char *where,
                          const char **key, char *msg, size_t len) {
  if (s->split.n_b / m->folds >= 5 && s->split.n_b - s->split.n_b / m->folds >= 10) return 0;
  *key = "folds";
  snprintf(msg, len, "%s.folds = %d is too many for data.n_b = %d rows", where, m->folds,
           s->split.n_b);
  return 1;
}

static int check(const W2Sweep *s, const W2MethodSpec *m, const char *where, const char **key,
                 char *msg, size_t len) {
  if (m->nchain == 0) {
    /* with no intermediate size, bootstrap would silently be naive finetuning */
    *key = "chain";
    snprintf(msg, len, "%s.chain is empty: a bootstrap method needs at least one intermediate size",
             where);
    return 1;
  }
  return w2_method_check_folds(s, m, where, key, msg, len);
}

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  double x = c->ft;
  for (int q = 0; q < m->nchain; q++) {
    const W2SizeSpec *mid = w2_sweep_size(c->s, m->chain[q]);
    if (mid) x += c->crossfit(c, mid, m->folds > 1 ? m->folds : 2);
  }
  return x;
}

static W2Err prepare(W2MethodCell *mc) {
  const W2TaskData *td = mc->td;
  const W2MethodSpec *m = mc->m;
  W2CellResult *c = mc->c;
  int n = td->n_b;
  c->nchain = 0;
  snprintf(c->chain[c->nchain], W2_NAME_MAX, "%s", mc->weak);
  c->chain_acc[c->nchain++] = mc->wr->final.acc;
  float *mean_test, *next;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)td->n_test, (void **)&mean_test));
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)n, (void **)&next));
  for (int q = 0; q < m->nchain; q++) {
    const W2SizeSpec *mid = w2_sweep_size(mc->s, m->chain[q]);
    W2_CHECK(mid, W2_ERR_CONFIG, "bootstrap chain size '%s' is not in sizes", m->chain[q]);
    W2_CALL(w2_pipe_crossfit_labels(mc->p, mid, mc->t, td, mc->seed, m->unsup, mc->labels,
                                    m->folds, 100 + (uint64_t)q, next, mean_test, 1,
                                    &mc->extra_flops));
    memcpy(mc->labels, next, sizeof(float) * (size_t)n);
    snprintf(c->chain[c->nchain], W2_NAME_MAX, "%s", mid->name);
    c->chain_acc[c->nchain++] = w2_accuracy(mean_test, td->yt, td->n_test);
  }
  mc->prior = w2_label_prior(mc->labels, n);
  return W2_OK;
}

const W2MethodOps w2_method_bootstrap = {
    .kind = "bootstrap",
    .doc = "weak -> chain -> strong, each cross-fitted size relabelling B for the next",
    .settings = settings,
    .nsettings = 2,
    .check = check,
    .cost = cost,
    .prepare = prepare};
