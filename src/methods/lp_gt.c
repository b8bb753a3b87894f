/* lp_gt.c — a linear probe on ground truth over the strong model's frozen features: a
 * reference (what the features know), not weak-to-strong. The shared ground-truth probe of
 * the ceiling is reused; agreement with the supervisor is measured here. */
#include "../metrics.h"
#include "../store.h"
#include "method.h"

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  (void)m;
  return c->probe;
}

static W2Err student(W2MethodCell *mc, W2Model *model) {
  W2RunResult *gp = NULL;
  W2_CALL(w2_mcell_gt_probe(mc, &gp));
  W2CellResult *c = mc->c;
  const W2TaskData *td = mc->td;
  W2Err e = W2_OK;
  mc->extra_flops += gp->flops - model->flops; /* gp->flops already counts the pretraining */
  w2_curve_free(&c->curve);
  W2_CALL_GOTO(e, done, w2_curve_alloc(&c->curve, 1));
  for (int f = 0; f < W2_CURVE_NFIELDS; f++) c->curve.v[f][0] = gp->curve.v[f][0];
  /* agreement with the supervisor was not measured by the shared ground-truth probe */
  W2Metrics mt;
  w2_metrics_compute(gp->prob_test, td->yt, mc->wr->prob_test, td->n_test, &mt);
  c->curve.v[W2_C_AGREE][0] = mt.agree;
  c->curve.v[W2_C_AGREE_RIGHT][0] = mt.agree_right;
  c->curve.v[W2_C_AGREE_WRONG][0] = mt.agree_wrong;
done:
  w2_run_result_free(&gp);
  return e ? w2_error_push(__FILE__, __LINE__, __func__, e) : W2_OK;
}

const W2MethodOps w2_method_lp_gt = {
    .kind = "lp_gt",
    .doc = "linear probe on ground truth (a reference, not weak-to-strong)",
    .cost = cost,
    .student = student};
