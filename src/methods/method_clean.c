/* method_clean.c — the step clean_knn and clean_lr share: rank B's rows by |weak label -
 * consistency score| (largest first, then row index), and relabel to the score (or drop)
 * the first round(fraction * n); the others keep their weak label. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"

typedef struct Rank {
  float v;
  int i;
} Rank;

static int cmp_rank_desc(const void *a, const void *b) {
  float x = ((const Rank *)a)->v, y = ((const Rank *)b)->v;
  if (x != y) return (x < y) - (x > y);
  return ((const Rank *)a)->i - ((const Rank *)b)->i;
}

W2Err w2_mcell_clean(W2MethodCell *mc, const float *score) {
  const W2TaskData *td = mc->td;
  const float *wl = mc->wr->prob_b;
  int n = td->n_b, d = td->d;
  Rank *rk;
  char *bad;
  W2_CALL(w2_mcell_alloc(mc, sizeof(Rank) * (size_t)n, (void **)&rk));
  W2_CALL(w2_mcell_alloc(mc, (size_t)n, (void **)&bad));
  for (int i = 0; i < n; i++) {
    rk[i].v = fabsf(wl[i] - score[i]);
    rk[i].i = i;
  }
  qsort(rk, (size_t)n, sizeof(Rank), cmp_rank_desc);
  int nclean = (int)lround(mc->m->clean_frac * n);
  for (int q = 0; q < nclean; q++) bad[rk[q].i] = 1;
  int w = 0;
  for (int i = 0; i < n; i++) {
    if (bad[i] && mc->m->clean_drop) continue;
    memcpy(mc->X + (size_t)w * d, td->Xb + (size_t)i * d, sizeof(float) * d);
    mc->labels[w++] = bad[i] ? score[i] : wl[i];
  }
  mc->n = w;
  return W2_OK;
}
