/* conf.c — the auxiliary confidence loss (Burns et al. 2023 §4.3.2):
 *   L = CE(f, (1 - α) f_w + α hard_t(f)),
 * α rising linearly to alpha_max over the first alpha_warmup of the steps; hard_t(f)
 * thresholds the student's own predictions at the batch quantile above which a `prior`
 * fraction of the batch lies (prior: positives among the weak labels). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"

static const W2MethodSetting settings[] = {
    {"alpha_max", W2_SET_NUM, offsetof(W2MethodSpec, alpha_max), 0, 1, 0, 0, 0.75,
     "final weight α of the student's own hardened predictions (paper: 0.75 largest students)"},
    {"alpha_warmup", W2_SET_NUM, offsetof(W2MethodSpec, alpha_warmup), 0, 1, 0, 0, 0.2,
     "fraction of the steps over which α rises linearly from 0"}};

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void targets(const W2MethodTargets *tg, int nrows, const float *prob, double progress,
                    float *target, float *weight) {
  (void)weight;
  double a = tg->m->alpha_max;
  if (tg->m->alpha_warmup > 0 && progress < tg->m->alpha_warmup) a *= progress / tg->m->alpha_warmup;
  memcpy(tg->scratch, prob, sizeof(float) * (size_t)nrows);
  qsort(tg->scratch, (size_t)nrows, sizeof(float), cmp_float);
  int npos = (int)lround(tg->prior * nrows);
  float t = npos >= nrows ? -1.f : tg->scratch[nrows - npos - 1];
  for (int i = 0; i < nrows; i++) {
    float hard = prob[i] > t ? 1.f : 0.f;
    target[i] = (float)((1.0 - a) * target[i] + a * hard);
  }
}

const W2MethodOps w2_method_conf = {
    .kind = "conf",
    .doc = "auxiliary confidence loss: CE against (1-α) weak + α hardened own predictions",
    .settings = settings,
    .nsettings = 2,
    .targets = targets};
