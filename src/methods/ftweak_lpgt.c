/* ftweak_lpgt.c — finetune on the weak labels, then a ground-truth linear probe on the
 * weak-finetuned body's features: how much of the task the weak finetuning left linearly
 * readable. The curve is the probe's one point. */
#include "../rng.h"
#include "method.h"

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  (void)m;
  return c->ft + c->probe;
}

static W2Err student(W2MethodCell *mc, W2Model *model) {
  W2_CALL(w2_mcell_finetune(mc, model));
  float *fb, *ft;
  W2_CALL(w2_mcell_features(mc, model, &fb, &ft));
  W2_CALL(w2_mcell_probe(mc, fb, ft, mc->strong->width, mc->td->yb,
                         w2_key(mc->seed, "probe-cv", 2, 0), &model->flops));
  return W2_OK;
}

const W2MethodOps w2_method_ftweak_lpgt = {
    .kind = "ftweak_lpgt",
    .doc = "finetune on weak labels, then a linear probe on ground truth",
    .cost = cost,
    .student = student};
