/* poe.c — product of experts: the target is p_student * p_weak normalised over the two
 * classes, so the student learns only where it and the supervisor agree to be confident. */
#include "method.h"

static void targets(const W2MethodTargets *tg, int nrows, const float *prob, double progress,
                    float *target, float *weight) {
  (void)tg, (void)progress, (void)weight;
  for (int i = 0; i < nrows; i++) {
    double ps = prob[i], w = target[i];
    double num = ps * w, den = num + (1 - ps) * (1 - w);
    target[i] = den > 0 ? (float)(num / den) : target[i];
  }
}

const W2MethodOps w2_method_poe = {
    .kind = "poe", .doc = "product of experts: target ∝ p_student * p_weak", .targets = targets};
