/* es_gt_oracle.c — early stopping on TEST accuracy: an oracle (it reads the test split to
 * choose what it reports), an upper bound on what any stopping rule could do; marked as
 * such in every table and the `oracle` column. */
#include "method.h"

static int select_point(const W2MethodCell *mc, const W2Curve *curve) {
  (void)mc;
  return w2_argmax_first(curve->v[W2_C_ACC], curve->n);
}

const W2MethodOps w2_method_es_gt_oracle = {
    .kind = "es_gt_oracle",
    .doc = "early stopping on test accuracy (an oracle, always marked)",
    .oracle = 1,
    .select = select_point};
