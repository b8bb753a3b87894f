/* supervisor.c — synthetic supervisors with structured errors (see supervisor.h). */
#include "supervisor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

const char *w2_supervisor_kind_name(W2SupervisorKind k) {
  switch (k) {
  case W2_SUP_UNIFORM: return "uniform";
  case W2_SUP_LATENT: return "latent";
  case W2_SUP_UNLEARNABLE: return "unlearnable";
  }
  return "?";
}

int w2_supervisor_errors(double rate, int n) {
  long e = (long)floor(rate * n + 0.5);
  if (e < 0) e = 0;
  if (e > n) e = n;
  return (int)e;
}

/* Rows ranked by score, largest first; ties by row index. */
typedef struct Ranked {
  double score;
  int row;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->score != y->score) return x->score < y->score ? 1 : -1;
  return (x->row > y->row) - (x->row < y->row);
}

W2Err w2_supervisor_flips(const W2SupervisorSpec *sup, uint64_t seed, int split, int n,
                          int d, int dz, const float *X, const float *Z, const long *id,
                          unsigned char *flip) {
  W2_CHECK(sup->error_rate >= 0 && sup->error_rate < 0.5, W2_ERR_CONFIG,
           "supervisor '%s': error_rate = %g must be in [0, 0.5)", sup->name, sup->error_rate);
  memset(flip, 0, (size_t)n);
  int e = w2_supervisor_errors(sup->error_rate, n);
  if (e == 0) return W2_OK;
  uint64_t name = w2_fnv1a(W2_FNV_OFFSET, sup->name, strlen(sup->name));
  if (sup->kind == W2_SUP_UNIFORM) {
    int *perm = malloc(sizeof(int) * (size_t)n);
    W2_CHECK(perm != NULL, W2_ERR_MEM, "out of memory choosing supervisor errors");
    w2_permutation(w2_key(seed, "sup-uniform", name, (uint64_t)split), 0, n, perm);
    for (int i = 0; i < e; i++) flip[perm[i]] = 1;
    free(perm);
    return W2_OK;
  }
  W2_CHECK(sup->kind == W2_SUP_LATENT || sup->kind == W2_SUP_UNLEARNABLE, W2_ERR_CONFIG,
           "supervisor '%s' has unknown kind %d", sup->name, (int)sup->kind);
  Ranked *r = malloc(sizeof(Ranked) * (size_t)n);
  W2_CHECK(r != NULL, W2_ERR_MEM, "out of memory choosing supervisor errors");
  if (sup->kind == W2_SUP_LATENT && Z && dz >= 1) {
    for (int i = 0; i < n; i++) r[i].score = Z[(size_t)i * dz];
  } else if (sup->kind == W2_SUP_LATENT) {
    /* no latents (file task): a fixed random direction of the inputs plays z_0 */
    uint64_t k = w2_key(0, "sup-latent-dir", name, 0);
    double *a = malloc(sizeof(double) * (size_t)(d > 0 ? d : 1));
    if (!a) {
      free(r);
      W2_RAISE(W2_ERR_MEM, "out of memory choosing supervisor errors");
    }
    for (int j = 0; j < d; j++) a[j] = w2_normal(k, 0, (uint64_t)j);
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int j = 0; j < d; j++) s += a[j] * X[(size_t)i * d + j];
      r[i].score = s;
    }
    free(a);
  } else {
    /* hash of the row identity only: no input feature predicts it */
    uint64_t k = w2_key(0, "sup-unlearnable", name, 0);
    for (int i = 0; i < n; i++)
      r[i].score = (double)(w2_mix64(k ^ (uint64_t)id[i]) >> 11);
  }
  for (int i = 0; i < n; i++) r[i].row = i;
  qsort(r, (size_t)n, sizeof *r, cmp_ranked);
  for (int i = 0; i < e; i++) flip[r[i].row] = 1;
  free(r);
  return W2_OK;
}

static W2Err split_labels(const W2SupervisorSpec *sup, uint64_t seed, int split, int n, int d,
                          int dz, const float *X, const float *Z, const float *y,
                          const long *id, float *soft) {
  unsigned char *flip = malloc((size_t)(n > 0 ? n : 1));
  W2_CHECK(flip != NULL, W2_ERR_MEM, "out of memory for supervisor labels");
  W2Err err = w2_supervisor_flips(sup, seed, split, n, d, dz, X, Z, id, flip);
  if (!err) {
    float c = (float)sup->confidence;
    for (int i = 0; i < n; i++) {
      int stated = (y[i] > 0.5f) ^ flip[i];
      soft[i] = stated ? c : 1.f - c;
    }
  }
  free(flip);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

W2Err w2_supervisor_labels(const W2SupervisorSpec *sup, const W2TaskData *td, uint64_t seed,
                           float *soft_b, float *soft_test) {
  W2_CHECK(sup->error_rate >= 0 && sup->error_rate < 0.5, W2_ERR_CONFIG,
           "supervisor '%s': error_rate = %g must be in [0, 0.5)", sup->name, sup->error_rate);
  W2_CHECK(sup->confidence >= 0.5 && sup->confidence <= 1.0, W2_ERR_CONFIG,
           "supervisor '%s': confidence = %g must be in [0.5, 1]", sup->name, sup->confidence);
  if (soft_b)
    W2_CALL(split_labels(sup, seed, 0, td->n_b, td->d, td->dz, td->Xb, td->Zb, td->yb,
                         td->idb, soft_b));
  if (soft_test)
    W2_CALL(split_labels(sup, seed, 1, td->n_test, td->d, td->dz, td->Xt, td->Zt, td->yt,
                         td->idt, soft_test));
  return W2_OK;
}
