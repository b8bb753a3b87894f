/* test_metrics.c — metrics against values computed by hand. */
#include <math.h>
#include <unistd.h>

#include "metrics.h"
#include "pipeline.h"
#include "testutil.h"

int main(void) {
  alarm(20); /* a hang (NaN in w2_auroc once looped forever) fails fast, not at ctest's timeout */
  float y[6] = {1, 1, 1, 0, 0, 0};
  float p[6] = {0.9f, 0.8f, 0.3f, 0.6f, 0.2f, 0.1f};
  W2T_CHECK(fabs(w2_accuracy(p, y, 6) - 4.0 / 6) < 1e-12, "accuracy");
  /* pairs (pos, neg): 9 total; pos 0.3 beats 0.2, 0.1 only (loses to 0.6): 8/9 */
  W2T_CHECK(fabs(w2_auroc(p, y, 6) - 8.0 / 9) < 1e-12, "auroc %g", w2_auroc(p, y, 6));
  float tie[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
  W2T_CHECK(fabs(w2_auroc(tie, y, 6) - 0.5) < 1e-12, "auroc of ties is 1/2");
  float w[6] = {1, 0, 1, 1, 0, 0}; /* supervisor: right on rows 0,2? no: rows 0,4,5 and 2 */
  /* supervisor right where w==y: rows 0,2,4,5; wrong: rows 1,3 */
  /* student hard: 1,1,0,1,0,0 -> agree with w on rows 0,3,4,5 (4/6); right rows 0,2,4,5:
   * agree on 0,4,5 (3/4); wrong rows 1,3: agree on 3 (1/2) */
  W2T_CHECK(fabs(w2_agreement(p, w, y, 6, -1) - 4.0 / 6) < 1e-12, "agreement overall");
  W2T_CHECK(fabs(w2_agreement(p, w, y, 6, 1) - 3.0 / 4) < 1e-12, "agreement where right");
  W2T_CHECK(fabs(w2_agreement(p, w, y, 6, 0) - 1.0 / 2) < 1e-12, "agreement where wrong");
  W2T_CHECK(isnan(w2_agreement(p, y, y, 6, 0)), "no supervisor errors: NaN, not 0");
  /* ECE: perfectly calibrated confident predictions -> 0; overconfident -> gap */
  float yc[4] = {1, 0, 1, 0}, pc[4] = {1, 0, 1, 0}, po[4] = {0.99f, 0.99f, 0.01f, 0.01f};
  W2T_CHECK(w2_ece(pc, yc, 4, 15) < 1e-6, "calibrated ECE 0");
  W2T_CHECK(fabs(w2_ece(po, yc, 4, 15) - 0.49) < 1e-3, "overconfident ECE %g", w2_ece(po, yc, 4, 15));
  W2T_CHECK(fabs(w2_bce(tie, y, 6) - log(2.0)) < 1e-6, "BCE at 1/2 is log 2");
  W2T_CHECK(fabs(w2_pgr(0.6, 0.7, 0.8) - 0.5) < 1e-12, "PGR half the gap");
  W2T_CHECK(isnan(w2_pgr(0.7, 0.7, 0.7)), "PGR undefined without a gap");
  /* a diverged model: NaN / inf predictions terminate and give NaN, never a hang */
  float pn[6] = {0.9f, NAN, 0.3f, 0.6f, NAN, 0.1f}, pi[6] = {0.9f, INFINITY, 0.3f, 0.6f, 0.2f, 0.1f};
  W2T_CHECK(isnan(w2_auroc(pn, y, 6)), "auroc with NaN predictions is NaN");
  W2T_CHECK(isnan(w2_auroc(pi, y, 6)), "auroc with infinite predictions is NaN");
  W2T_CHECK(isnan(w2_ece(pn, y, 6, 15)), "ECE with NaN predictions is NaN");
  W2Metrics mn;
  w2_metrics_compute(pn, y, w, 6, &mn);
  W2T_CHECK(isnan(mn.auroc) && isnan(mn.ece), "w2_metrics_compute terminates on NaN");
  W2T_CHECK(w2_count_nonfinite(pn, 6) == 2 && w2_count_nonfinite(pi, 6) == 1 &&
                w2_count_nonfinite(p, 6) == 0,
            "non-finite predictions counted (the pipeline fails the job on them)");
  return w2t_summary();
}
