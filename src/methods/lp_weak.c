/* lp_weak.c — a linear probe on the strong model's frozen pretrained features, trained on
 * the weak labels (lambda by its own cross-validation on them); a one-point curve. */
#include "../rng.h"
#include "method.h"

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  (void)m;
  return c->probe;
}

static W2Err student(W2MethodCell *mc, W2Model *model) {
  float *fb, *ft;
  W2_CALL(w2_mcell_features(mc, model, &fb, &ft));
  W2_CALL(w2_mcell_probe(mc, fb, ft, mc->strong->width, mc->labels,
                         w2_key(mc->seed, "probe-cv", 0, 0), &model->flops));
  return W2_OK;
}

const W2MethodOps w2_method_lp_weak = {
    .kind = "lp_weak",
    .doc = "linear probe on frozen pretrained features, weak labels",
    .cost = cost,
    .student = student};
