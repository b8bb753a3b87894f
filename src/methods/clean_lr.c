/* clean_lr.c — label cleaning by logistic-regression consistency: each row's weak label is
 * scored by a probe (its own CV) fitted on the other folds' weak labels over the strong
 * model's frozen features (cross-fitted: no row scores itself); the `fraction` farthest
 * from their score are relabelled (or dropped), then the student trains naively. */
#include "../rng.h"
#include "method.h"

static const W2MethodSetting settings[] = {
    {"fraction", W2_SET_NUM, offsetof(W2MethodSpec, clean_frac), 0, 1, 0, 1, 0.1,
     "fraction of weak labels relabelled or dropped, in [0, 1)"},
    {"drop", W2_SET_BOOL, offsetof(W2MethodSpec, clean_drop), 0, 1, 0, 0, 0,
     "true: drop the inconsistent rows; false: relabel them"}};

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  (void)m;
  return c->ft + 5 * c->probe;
}

static W2Err prepare(W2MethodCell *mc) {
  int n = mc->td->n_b;
  float *score, *fb, *ft;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)n, (void **)&score));
  W2Model *m = NULL;
  W2_CALL(w2_mcell_start_model(mc, mc->strong, &m));
  double f0 = m->flops, pf = 0;
  W2Err e = w2_mcell_features(mc, m, &fb, &ft);
  if (!e) {
    W2ProbeOpts o;
    w2_mcell_probe_opts(mc, 0, &o);
    e = w2_probe_crossfit(fb, mc->wr->prob_b, n, mc->strong->width, mc->s->probe.folds,
                          w2_key(mc->seed, "clean-lr", 0, 0), &o, score, &pf);
    mc->extra_flops += m->flops - f0 + pf; /* the features and the fold probes */
  }
  w2_model_destroy(&m);
  W2_CALL(e);
  W2_CALL(w2_mcell_clean(mc, score));
  return W2_OK;
}

const W2MethodOps w2_method_clean_lr = {
    .kind = "clean_lr",
    .doc = "relabel/drop the weak labels least consistent with a cross-fitted probe",
    .settings = settings,
    .nsettings = 2,
    .cost = cost,
    .prepare = prepare};
