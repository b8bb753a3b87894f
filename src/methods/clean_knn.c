/* clean_knn.c — label cleaning by kNN consistency: each weak label is scored by the mean
 * hard weak label of its k nearest neighbours in the strong model's frozen last-layer
 * features (Euclidean, itself excluded); the `fraction` of rows whose weak label is
 * farthest from that score is relabelled to it (or dropped), then the student trains
 * naively (method_clean.c). */
#include <math.h>

#include "method.h"

static const W2MethodSetting settings[] = {
    {"fraction", W2_SET_NUM, offsetof(W2MethodSpec, clean_frac), 0, 1, 0, 1, 0.1,
     "fraction of weak labels relabelled or dropped, in [0, 1)"},
    {"drop", W2_SET_BOOL, offsetof(W2MethodSpec, clean_drop), 0, 1, 0, 0, 0,
     "true: drop the inconsistent rows; false: relabel them"},
    {"k", W2_SET_INT, offsetof(W2MethodSpec, knn_k), 1, 1000, 0, 0, 10, "neighbours"}};

static double cost(const W2MethodCost *c, const W2MethodSpec *m) {
  (void)m;
  double nb = c->s->split.n_b;
  return c->ft + c->forward_b + 2.0 * nb * nb * c->z->width;
}

/* out[i]: the mean hard label y of row i's k nearest neighbours among F's rows. */
static void knn_scores(const float *F, int n, int w, const float *y, int k, double *sq,
                       double *dist, int *idx, float *out) {
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < w; j++) s += (double)F[(size_t)i * w + j] * F[(size_t)i * w + j];
    sq[i] = s;
  }
  if (k > n - 1) k = n - 1;
  for (int i = 0; i < n; i++) {
    for (int r = 0; r < n; r++) {
      double dot = 0;
      for (int j = 0; j < w; j++) dot += (double)F[(size_t)i * w + j] * F[(size_t)r * w + j];
      dist[r] = r == i ? INFINITY : sq[i] + sq[r] - 2 * dot;
    }
    /* partial selection of the k smallest */
    for (int r = 0; r < n; r++) idx[r] = r;
    double s = 0;
    for (int q = 0; q < k; q++) {
      int best = q;
      for (int r = q + 1; r < n; r++)
        if (dist[idx[r]] < dist[idx[best]]) best = r;
      int tmp = idx[q];
      idx[q] = idx[best];
      idx[best] = tmp;
      s += y[idx[q]] > 0.5f;
    }
    out[i] = k > 0 ? (float)(s / k) : y[i];
  }
}

static W2Err prepare(W2MethodCell *mc) {
  const W2TaskData *td = mc->td;
  int n = td->n_b, w = mc->strong->width;
  float *score, *F;
  double *sq, *dist;
  int *idx;
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)n, (void **)&score));
  W2_CALL(w2_mcell_alloc(mc, sizeof(float) * (size_t)n * w, (void **)&F));
  W2_CALL(w2_mcell_alloc(mc, sizeof(double) * (size_t)n, (void **)&sq));
  W2_CALL(w2_mcell_alloc(mc, sizeof(double) * (size_t)n, (void **)&dist));
  W2_CALL(w2_mcell_alloc(mc, sizeof(int) * (size_t)n, (void **)&idx));
  W2Model *m = NULL;
  W2_CALL(w2_mcell_start_model(mc, mc->strong, &m));
  W2Err e = w2_model_set_batch(m, mc->s->finetune.batch);
  if (!e) e = w2_model_features(m, td->Xb, n, td->d, F);
  if (!e) mc->extra_flops += w2_model_forward_flops(m, n);
  w2_model_destroy(&m);
  W2_CALL(e);
  knn_scores(F, n, w, mc->wr->prob_b, mc->m->knn_k, sq, dist, idx, score);
  W2_CALL(w2_mcell_clean(mc, score));
  return W2_OK;
}

const W2MethodOps w2_method_clean_knn = {
    .kind = "clean_knn",
    .doc = "relabel/drop the weak labels least consistent with kNN on strong features",
    .settings = settings,
    .nsettings = 3,
    .cost = cost,
    .prepare = prepare};
