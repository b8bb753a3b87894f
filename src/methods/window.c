/* window.c — learn only where the student is still unsure: rows with |p - 1/2| < radius
 * get weight 1, the others 0. radius < 0: the median confidence |w - 1/2| of the weak
 * labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "method.h"

static const W2MethodSetting settings[] = {
    {"radius", W2_SET_NUM, offsetof(W2MethodSpec, window_radius), -INFINITY, 0.5, 0, 0, -1,
     "confidence radius in (0, 0.5]; < 0: the median weak-label confidence"}};

static int check(const W2Sweep *s, const W2MethodSpec *m, const char *where, const char **key,
                 char *msg, size_t len) {
  (void)s;
  if (m->window_radius < 0 || m->window_radius > 0) return 0;
  *key = "radius";
  snprintf(msg, len,
           "%s.radius must be in (0, 0.5], or < 0 for the median weak-label confidence (got 0)",
           where);
  return 1;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static W2Err prepare(W2MethodCell *mc) {
  if (mc->m->window_radius >= 0) {
    mc->radius = mc->m->window_radius;
    return W2_OK;
  }
  /* the median of |w - 1/2| over the weak labels of B */
  int n = mc->td->n_b;
  float *c;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)(n ? n : 1), (void **)&c));
  for (int i = 0; i < n; i++) c[i] = fabsf(mc->wr->prob_b[i] - 0.5f);
  qsort(c, (size_t)n, sizeof(float), cmp_float);
  mc->radius = n ? c[n / 2] : 0.25;
  return W2_OK;
}

static void targets(const W2MethodTargets *tg, int nrows, const float *prob, double progress,
                    float *target, float *weight) {
  (void)progress, (void)target;
  for (int i = 0; i < nrows; i++) weight[i] = fabsf(prob[i] - 0.5f) < tg->radius ? 1.f : 0.f;
}

const W2MethodOps w2_method_window = {
    .kind = "window",
    .doc = "CE only on rows where the student's confidence is below radius",
    .settings = settings,
    .nsettings = 1,
    .check = check,
    .prepare = prepare,
    .targets = targets};
