/* es_weak.c — early stopping on weak-label agreement: a seeded `holdout` fraction of B is
 * held out of training; the reported point of the curve is where the student's agreement
 * with the held-out weak labels peaks (first on ties). Reads no ground truth. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../rng.h"
#include "method.h"

static const W2MethodSetting settings[] = {
    {"holdout", W2_SET_NUM, offsetof(W2MethodSpec, es_holdout), 0, 1, 1, 1, 0.2,
     "fraction of B held out for the stopping signal, in (0, 1)"}};

static int check(const W2Sweep *s, const W2MethodSpec *m, const char *where, const char **key,
                 char *msg, size_t len) {
  /* both parts of split B must be large enough to train on / measure agreement on */
  int held = (int)(m->es_holdout * s->split.n_b);
  if (held >= 10 && s->split.n_b - held >= 10) return 0;
  *key = "holdout";
  snprintf(msg, len,
           "%s.holdout = %g splits data.n_b = %d into %d held-out and %d training rows; "
           "each needs at least 10",
           where, m->es_holdout, s->split.n_b, held, s->split.n_b - held);
  return 1;
}

static W2Err prepare(W2MethodCell *mc) {
  const W2TaskData *td = mc->td;
  int n = td->n_b, d = td->d;
  int *perm;
  W2_CALL(w2_mcell_alloc(mc, sizeof(int) * (size_t)n, (void **)&perm));
  w2_permutation(w2_key(mc->seed, "es-holdout", 0, 0), 0, n, perm);
  int nhold = (int)lround(mc->m->es_holdout * n);
  if (nhold < 1) nhold = 1;
  int ntrain = n - nhold;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)nhold * d, (void **)&mc->hold_X));
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)nhold, (void **)&mc->hold_y));
  for (int i = 0; i < n; i++) {
    const float *src = td->Xb + (size_t)perm[i] * d;
    if (i < ntrain) {
      memcpy(mc->X + (size_t)i * d, src, sizeof(float) * d);
      mc->labels[i] = mc->wr->prob_b[perm[i]];
    } else {
      memcpy(mc->hold_X + (size_t)(i - ntrain) * d, src, sizeof(float) * d);
      mc->hold_y[i - ntrain] = mc->wr->prob_b[perm[i]];
    }
  }
  mc->n = ntrain;
  mc->n_hold = nhold;
  return W2_OK;
}

static int select_point(const W2MethodCell *mc, const W2Curve *curve) {
  return w2_argmax_first(mc->hold_agree, curve->n);
}

const W2MethodOps w2_method_es_weak = {
    .kind = "es_weak",
    .doc = "early stopping where agreement with held-out weak labels peaks",
    .settings = settings,
    .nsettings = 1,
    .check = check,
    .prepare = prepare,
    .select = select_point};
