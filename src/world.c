/* world.c — the synthetic world and the task-data bundle (see world.h). */
#include "world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "rng.h"
#include "texttask.h"

/* ----------------------------------------------------------------------------------- */
/* creation */

static W2Err check_spec(const W2WorldSpec *s) {
  W2_CHECK(s->latent_dim >= 1 && s->latent_dim <= W2_WORLD_MAX_DIM, W2_ERR_CONFIG,
           "world.latent_dim = %d must be in [1, %d]", s->latent_dim, W2_WORLD_MAX_DIM);
  W2_CHECK(s->input_dim >= 1 && s->input_dim <= W2_WORLD_MAX_DIM, W2_ERR_CONFIG,
           "world.input_dim = %d must be in [1, %d]", s->input_dim, W2_WORLD_MAX_DIM);
  W2_CHECK(s->render_depth >= 1 && s->render_depth <= W2_WORLD_MAX_DEPTH, W2_ERR_CONFIG,
           "world.render_depth = %d must be in [1, %d]", s->render_depth,
           W2_WORLD_MAX_DEPTH);
  W2_CHECK(isfinite(s->render_gain) && s->render_gain > 0 && s->render_gain <= 100,
           W2_ERR_CONFIG, "world.render_gain = %g must be in (0, 100]", s->render_gain);
  W2_CHECK(s->pretrain_targets >= 1 && s->pretrain_targets <= 65536, W2_ERR_CONFIG,
           "world.pretrain_targets = %d must be in [1, 65536]", s->pretrain_targets);
  W2_CHECK(isfinite(s->input_noise) && s->input_noise >= 0 && s->input_noise <= 100,
           W2_ERR_CONFIG, "world.input_noise = %g must be in [0, 100]", s->input_noise);
  W2_CHECK(s->task_dim >= 0 && s->task_dim <= s->latent_dim, W2_ERR_CONFIG,
           "world.task_dim = %d must be in [0, latent_dim = %d] (0 = all)", s->task_dim,
           s->latent_dim);
  W2_CHECK(isfinite(s->saliency) && s->saliency >= 0 && s->saliency <= 1, W2_ERR_CONFIG,
           "world.saliency = %g must be in [0, 1]", s->saliency);
  W2_CHECK(s->shift_regimes >= 0 && s->shift_regimes < W2_WORLD_REGIMES, W2_ERR_CONFIG,
           "world.shift_regimes = %d must be in [0, %d]", s->shift_regimes,
           W2_WORLD_REGIMES - 1);
  return W2_OK;
}

/* The rendering without standardization or noise: h (input_dim) from z (latent_dim).
 * tmp holds two buffers of input_dim. Fixed loop order -> same bits for the same z. */
static void render_raw(const W2World *w, const float *z, int c, float *h, float *tmp) {
  const float *in = z;
  for (int l = 0; l < w->nlayers; l++) {
    int K = w->dims[l], N = w->dims[l + 1];
    float *out = (l == w->nlayers - 1) ? h : tmp + (size_t)(l & 1) * N;
    /* the first layer is the regime's own; the rest are shared */
    const float *W = w->Wr[l] + (l == 0 ? (size_t)c * K * N : 0);
    const float *bias = w->cr[l] + (l == 0 ? (size_t)c * N : 0);
    for (int j = 0; j < N; j++) out[j] = bias[j];
    for (int k = 0; k < K; k++) {
      float zk = in[k];
      const float *wk = W + (size_t)k * N;
      for (int j = 0; j < N; j++) out[j] += zk * wk[j];
    }
    for (int j = 0; j < N; j++) out[j] = tanhf(out[j]);
    in = out;
  }
}

/* Latents of row r: z (latent_dim) and the regime (returned), drawn among the first
 * nreg regimes. */
static int latent_row(const W2World *w, uint64_t key, long r, int nreg, float *z) {
  for (int j = 0; j < w->spec.latent_dim; j++)
    z[j] = (float)w2_normal(key, (uint64_t)r, (uint64_t)j);
  if (nreg <= 1) return 0;
  return (int)w2_below(key, (uint64_t)r, (uint64_t)(w->spec.latent_dim + w->spec.input_dim),
                       (uint64_t)nreg);
}

int w2_world_task_dim(const W2WorldSpec *ws) {
  return ws->task_dim > 0 && ws->task_dim < ws->latent_dim ? ws->task_dim : ws->latent_dim;
}

static W2Err world_fill(const W2WorldSpec *spec, W2World *w) {
  w->spec = *spec;
  w->nlayers = spec->render_depth;
  int dz = spec->latent_dim, dx = spec->input_dim, K = spec->pretrain_targets;
  w->dims[0] = dz;
  for (int l = 1; l <= w->nlayers; l++) w->dims[l] = dx;
  w->regimes = W2_WORLD_REGIMES;
  for (int l = 0; l < w->nlayers; l++) {
    int fi = w->dims[l], fo = w->dims[l + 1], nr = l == 0 ? w->regimes : 1;
    W2_CALLOC(w->Wr[l], (size_t)nr * fi * fo);
    W2_CALLOC(w->cr[l], (size_t)nr * fo);
    double std = spec->render_gain / sqrt((double)fi);
    for (int c = 0; c < nr; c++) {
      uint64_t kw = w2_key(spec->seed, "world-render", (uint64_t)l, (uint64_t)c);
      uint64_t kc = w2_key(spec->seed, "world-render-bias", (uint64_t)l, (uint64_t)c);
      float *W = w->Wr[l] + (size_t)c * fi * fo, *bias = w->cr[l] + (size_t)c * fo;
      for (int i = 0; i < fi; i++)
        for (int j = 0; j < fo; j++)
          W[(size_t)i * fo + j] = (float)(std * w2_normal(kw, (uint64_t)i, (uint64_t)j));
      for (int j = 0; j < fo; j++)
        bias[j] = (float)(W2_WORLD_BIAS_STD * w2_normal(kc, 0, (uint64_t)j));
    }
  }
  /* pretraining halfspaces */
  W2_CALLOC(w->A, (size_t)K * dz);
  W2_CALLOC(w->b, K);
  uint64_t ka = w2_key(spec->seed, "world-pretrain-dirs", 0, 0);
  /* the first nsal directions lie in the task subspace z[0..m) (see world.h, Saliency) */
  int m = w2_world_task_dim(spec);
  long nsal = lround(spec->saliency * K);
  for (int k = 0; k < K; k++) {
    double nrm = 0;
    int span = k < nsal ? m : dz;
    for (int j = 0; j < dz; j++) {
      double v = j < span ? w2_normal(ka, (uint64_t)k, (uint64_t)j) : 0.0;
      w->A[(size_t)k * dz + j] = (float)v;
      nrm += v * v;
    }
    nrm = sqrt(nrm) > 0 ? sqrt(nrm) : 1.0;
    for (int j = 0; j < dz; j++) w->A[(size_t)k * dz + j] = (float)(w->A[(size_t)k * dz + j] / nrm);
    w->b[k] = (float)(W2_WORLD_OFFSET_STD * w2_normal(ka, (uint64_t)k, (uint64_t)dz));
  }
  /* standardization from a fixed calibration draw */
  W2_CALLOC(w->mu, dx);
  W2_CALLOC(w->sd, dx);
  double *s1 = NULL, *s2 = NULL;
  float *z = NULL, *h = NULL, *tmp = NULL;
  s1 = calloc((size_t)dx, sizeof *s1);
  s2 = calloc((size_t)dx, sizeof *s2);
  z = calloc((size_t)dz, sizeof *z);
  h = calloc((size_t)dx, sizeof *h);
  tmp = calloc(2 * (size_t)dx, sizeof *tmp);
  W2Err err = W2_OK;
  if (!s1 || !s2 || !z || !h || !tmp) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory creating the world");
  } else {
    uint64_t kcal = w2_key(spec->seed, "world-calibration", 0, 0);
    for (long r = 0; r < W2_WORLD_CALIB_ROWS; r++) {
      int c = latent_row(w, kcal, r, w->regimes, z);
      render_raw(w, z, c, h, tmp);
      for (int j = 0; j < dx; j++) {
        s1[j] += h[j];
        s2[j] += (double)h[j] * h[j];
      }
    }
    for (int j = 0; j < dx; j++) {
      double mean = s1[j] / W2_WORLD_CALIB_ROWS;
      double v = s2[j] / W2_WORLD_CALIB_ROWS - mean * mean;
      w->mu[j] = (float)mean;
      /* a unit stuck at +-1 (v ~ 0) would blow up: floor the scale */
      w->sd[j] = (float)sqrt(v > 1e-4 ? v : 1e-4);
    }
  }
  free(s1);
  free(s2);
  free(z);
  free(h);
  free(tmp);
  return err;
}

W2Err w2_world_create(const W2WorldSpec *spec, W2World **out) {
  *out = NULL;
  W2_CALL(check_spec(spec));
  W2World *w;
  W2_CALLOC(w, 1);
  W2Err err = world_fill(spec, w);
  if (err) {
    w2_world_destroy(&w);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  *out = w;
  return W2_OK;
}

void w2_world_destroy(W2World **pw) {
  W2World *w = *pw;
  if (!w) return;
  for (int l = 0; l < W2_WORLD_MAX_DEPTH; l++) {
    free(w->Wr[l]);
    free(w->cr[l]);
  }
  free(w->mu);
  free(w->sd);
  free(w->A);
  free(w->b);
  free(w);
  *pw = NULL;
}

/* ----------------------------------------------------------------------------------- */
/* sampling and pretraining targets */

static void sample_rows(const W2World *w, uint64_t key, long first, int n, int nreg, float *X,
                        float *Z) {
  int dz = w->spec.latent_dim, dx = w->spec.input_dim;
  /* stack scratch: dims are bounded by W2_WORLD_MAX_DIM */
  float z[W2_WORLD_MAX_DIM], h[W2_WORLD_MAX_DIM], tmp[2 * W2_WORLD_MAX_DIM];
  double noise = w->spec.input_noise;
  for (int i = 0; i < n; i++) {
    long r = first + i;
    int c = latent_row(w, key, r, nreg, z);
    render_raw(w, z, c, h, tmp);
    float *x = X + (size_t)i * dx;
    for (int j = 0; j < dx; j++) {
      float v = (h[j] - w->mu[j]) / w->sd[j];
      if (noise > 0) v += (float)(noise * w2_normal(key, (uint64_t)r, (uint64_t)(dz + j)));
      x[j] = v;
    }
    if (Z) memcpy(Z + (size_t)i * dz, z, sizeof(float) * dz);
  }
}

void w2_world_sample(const W2World *w, uint64_t key, long first, int n, float *X, float *Z) {
  sample_rows(w, key, first, n, w->regimes, X, Z);
}

void w2_world_sample_pretrain(const W2World *w, uint64_t key, long first, int n, float *X,
                              float *Z) {
  sample_rows(w, key, first, n, w->regimes - w->spec.shift_regimes, X, Z);
}

void w2_world_pretrain_targets_row(const W2World *w, const float *z, float *y) {
  int dz = w->spec.latent_dim, K = w->spec.pretrain_targets;
  for (int k = 0; k < K; k++) {
    const float *a = w->A + (size_t)k * dz;
    float s = w->b[k];
    for (int j = 0; j < dz; j++) s += a[j] * z[j];
    y[k] = s > 0.f ? 1.f : 0.f;
  }
}

void w2_world_pretrain_targets(const W2World *w, const float *Z, int n, float *Y) {
  int dz = w->spec.latent_dim, K = w->spec.pretrain_targets;
  for (int i = 0; i < n; i++)
    w2_world_pretrain_targets_row(w, Z + (size_t)i * dz, Y + (size_t)i * K);
}

/* ----------------------------------------------------------------------------------- */
/* built-in tasks */

const char *w2_task_kind_name(W2TaskKind k) {
  switch (k) {
  case W2_TASK_LINEAR: return "linear";
  case W2_TASK_NONLINEAR: return "nonlinear";
  case W2_TASK_SPARSE: return "sparse";
  case W2_TASK_FILE: return "file";
  case W2_TASK_TEXT: return "text";
  }
  return "?";
}

typedef struct TaskFn {
  W2TaskKind kind;
  int dz;
  double u[W2_WORLD_MAX_DIM], v[W2_WORLD_MAX_DIM];
  int i, j, k;
} TaskFn;

static double task_score(const TaskFn *f, const float *z) {
  switch (f->kind) {
  case W2_TASK_LINEAR: {
    double s = 0;
    for (int j = 0; j < f->dz; j++) s += f->u[j] * z[j];
    return s;
  }
  case W2_TASK_NONLINEAR: {
    double s = 0, t = 0;
    for (int j = 0; j < f->dz; j++) {
      s += f->u[j] * z[j];
      t += f->v[j] * z[j];
    }
    return s < t ? s : t; /* above the median: both projections high (an AND) */
  }
  case W2_TASK_SPARSE:
    return (double)z[f->i] + (double)z[f->j] - fabs((double)z[f->k]);
  default: return 0;
  }
}

static void unit_vector(uint64_t key, uint64_t stream, int dz, double *u) {
  double n = 0;
  for (int j = 0; j < dz; j++) {
    u[j] = w2_normal(key, stream, (uint64_t)j);
    n += u[j] * u[j];
  }
  n = sqrt(n) > 0 ? sqrt(n) : 1.0;
  for (int j = 0; j < dz; j++) u[j] /= n;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

W2Err w2_world_task_labels(const W2World *w, const W2TaskSpec *t, const float *Z, int n,
                           float *y) {
  W2_CHECK(t->kind != W2_TASK_FILE, W2_ERR_CONFIG,
           "task '%s' reads a file: it has no latent labelling function", t->name);
  W2_CHECK(t->kind >= W2_TASK_LINEAR && t->kind <= W2_TASK_SPARSE, W2_ERR_CONFIG,
           "task '%s' has unknown kind %d", t->name, (int)t->kind);
  int dz = w->spec.latent_dim, m = w2_world_task_dim(&w->spec);
  W2_CHECK(t->kind != W2_TASK_SPARSE || m >= 3, W2_ERR_CONFIG,
           "task '%s': a sparse task needs >= 3 task dimensions (world.latent_dim, or "
           "world.task_dim when set; it is %d)", t->name, m);
  TaskFn *f;
  W2_CALLOC(f, 1);
  f->kind = t->kind;
  f->dz = dz;
  uint64_t tkey = w2_key(w->spec.seed, "task",
                         w2_fnv1a(W2_FNV_OFFSET, t->name, strlen(t->name)), (uint64_t)t->kind);
  switch (t->kind) {
  /* the task's directions live in the task subspace z[0..m); the rest stay 0 */
  case W2_TASK_LINEAR: unit_vector(tkey, 0, m, f->u); break;
  case W2_TASK_NONLINEAR: {
    unit_vector(tkey, 0, m, f->u);
    unit_vector(tkey, 1, m, f->v);
    if (m >= 2) { /* Gram-Schmidt: the two halfspaces are orthogonal */
      double d = 0, nv = 0;
      for (int j = 0; j < dz; j++) d += f->u[j] * f->v[j];
      for (int j = 0; j < dz; j++) {
        f->v[j] -= d * f->u[j];
        nv += f->v[j] * f->v[j];
      }
      nv = sqrt(nv) > 0 ? sqrt(nv) : 1.0;
      for (int j = 0; j < dz; j++) f->v[j] /= nv;
    }
    break;
  }
  case W2_TASK_SPARSE: {
    uint64_t idx = 0;
    f->i = (int)w2_below(tkey, 2, idx++, (uint64_t)m);
    do f->j = (int)w2_below(tkey, 2, idx++, (uint64_t)m); while (f->j == f->i);
    do f->k = (int)w2_below(tkey, 2, idx++, (uint64_t)m); while (f->k == f->i || f->k == f->j);
    break;
  }
  default: break;
  }
  /* threshold = median score over a fixed calibration draw of z: balanced labels */
  double *cal = malloc(sizeof(double) * W2_WORLD_CALIB_ROWS);
  float *z = malloc(sizeof(float) * (size_t)dz);
  if (!cal || !z) {
    free(cal);
    free(z);
    free(f);
    W2_RAISE(W2_ERR_MEM, "out of memory labelling task '%s'", t->name);
  }
  uint64_t kcal = w2_key(w->spec.seed, "task-calibration", 0, 0);
  for (long r = 0; r < W2_WORLD_CALIB_ROWS; r++) {
    (void)latent_row(w, kcal, r, w->regimes, z);
    cal[r] = task_score(f, z);
  }
  qsort(cal, W2_WORLD_CALIB_ROWS, sizeof(double), cmp_double);
  double thr = 0.5 * (cal[W2_WORLD_CALIB_ROWS / 2 - 1] + cal[W2_WORLD_CALIB_ROWS / 2]);
  for (int i = 0; i < n; i++) y[i] = task_score(f, Z + (size_t)i * dz) > thr ? 1.f : 0.f;
  free(cal);
  free(z);
  free(f);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* task data */

uint64_t w2_world_spec_hash(uint64_t h, const W2WorldSpec *ws) {
#define HASH_FIELD(x) (h = w2_fnv1a(h, &(x), sizeof(x)))
  HASH_FIELD(ws->seed);
  HASH_FIELD(ws->latent_dim);
  HASH_FIELD(ws->input_dim);
  HASH_FIELD(ws->render_depth);
  HASH_FIELD(ws->render_gain);
  HASH_FIELD(ws->pretrain_targets);
  HASH_FIELD(ws->input_noise);
  /* the saliency and shift settings enter only when set, so that every cache key of an
   * isotropic, unshifted world is the one it had before they existed */
  if (w2_world_task_dim(ws) != ws->latent_dim || ws->saliency != 0 || ws->shift_regimes) {
    int m = w2_world_task_dim(ws);
    HASH_FIELD(m);
    HASH_FIELD(ws->saliency);
    HASH_FIELD(ws->shift_regimes);
  }
#undef HASH_FIELD
  return h;
}

uint64_t w2_task_data_key(const W2WorldSpec *ws, const W2TaskSpec *t, uint64_t seed) {
  return w2_key(seed, "task-data", ws->seed, w2_fnv1a(W2_FNV_OFFSET, t->name, strlen(t->name)));
}

uint64_t w2_pretrain_data_key(const W2WorldSpec *ws, uint64_t seed) {
  return w2_key(seed, "pretrain-data", ws->seed, 0);
}

void w2_task_data_destroy(W2TaskData **ptd) {
  W2TaskData *td = *ptd;
  if (!td) return;
  free(td->Xa); free(td->ya); free(td->Xb); free(td->yb); free(td->Xt); free(td->yt);
  free(td->Za); free(td->Zb); free(td->Zt);
  free(td->ida); free(td->idb); free(td->idt);
  free(td->Xu); free(td->Yu);
  free(td->Xp); free(td->Yp);
  free(td);
  *ptd = NULL;
}

static W2Err fill_split(const W2World *w, const W2TaskSpec *t, uint64_t key, long first,
                        int n, float *X, float *Z, float *y, long *id) {
  w2_world_sample(w, key, first, n, X, Z);
  W2_CALL(w2_world_task_labels(w, t, Z, n, y));
  for (int i = 0; i < n; i++) id[i] = first + i;
  return W2_OK;
}

/* One split of a file task: rows perm[first .. first+n) of the file. */
static void file_split(const W2Dataset *ds, const int *perm, int first, int n, float *X,
                       float *y, long *id) {
  for (int i = 0; i < n; i++) {
    int r = perm[first + i];
    memcpy(X + (size_t)i * ds->d, ds->X + (size_t)r * ds->d, sizeof(float) * ds->d);
    y[i] = ds->y[r];
    id[i] = r;
  }
}

/* The three splits' arrays of td: inputs (d columns), latents (dz columns; none when dz is
 * 0), labels and row ids. */
static W2Err splits_alloc(W2TaskData *td, const W2SplitSpec *sp, int d, int dz) {
  td->d = d;
  td->dz = dz;
  td->n_a = sp->n_a;
  td->n_b = sp->n_b;
  td->n_test = sp->n_test;
  W2_CALLOC(td->Xa, (size_t)sp->n_a * d);
  W2_CALLOC(td->Xb, (size_t)sp->n_b * d);
  W2_CALLOC(td->Xt, (size_t)sp->n_test * d);
  if (dz > 0) {
    W2_CALLOC(td->Za, (size_t)sp->n_a * dz);
    W2_CALLOC(td->Zb, (size_t)sp->n_b * dz);
    W2_CALLOC(td->Zt, (size_t)sp->n_test * dz);
  }
  W2_CALLOC(td->ya, sp->n_a);
  W2_CALLOC(td->yb, sp->n_b);
  W2_CALLOC(td->yt, sp->n_test);
  W2_CALLOC(td->ida, sp->n_a);
  W2_CALLOC(td->idb, sp->n_b);
  W2_CALLOC(td->idt, sp->n_test);
  return W2_OK;
}

/* File task: the test split is drawn by seed from the file's fixed test pool, A and B from
 * every other row (dataset.h, w2_dataset_test_pool); the pretraining pool is the file's
 * /pretrain block, or the rows outside the test pool (ds is freed by the caller). */
static W2Err file_task_fill(const W2Sweep *s, const W2TaskSpec *t, uint64_t seed,
                            W2Dataset *ds, W2TaskData *td) {
  const W2SplitSpec *sp = &s->split;
  long need = (long)sp->n_a + sp->n_b + sp->n_test;
  W2_CHECK(ds->n >= need, W2_ERR_CONFIG,
           "task '%s': %s has %d labelled rows but the splits need n_a + n_b + n_test = %ld",
           t->name, t->file, ds->n, need);
  W2_CALL(splits_alloc(td, sp, ds->d, 0));
  int n = ds->n, pool = w2_dataset_test_pool(n, sp);
  W2Err err = W2_OK;
  int *order = malloc(sizeof(int) * (size_t)n), *tperm = malloc(sizeof(int) * (size_t)pool);
  int *rest = malloc(sizeof(int) * (size_t)n), *rperm = malloc(sizeof(int) * (size_t)n);
  if (!order || !tperm || !rest || !rperm) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory splitting task '%s'", t->name);
    goto done;
  }
  w2_dataset_pool_order(n, order);
  uint64_t name = w2_fnv1a(W2_FNV_OFFSET, t->name, strlen(t->name));
  /* test: n_test rows of the pool, drawn by seed */
  w2_permutation(w2_key(seed, "file-test", name, 0), 0, pool, tperm);
  for (int i = 0; i < sp->n_test; i++) rest[i] = order[tperm[i]];
  file_split(ds, rest, 0, sp->n_test, td->Xt, td->yt, td->idt);
  /* A and B: every other row (the pool's unused rows, then the rest), permuted by seed */
  int nr = 0;
  for (int i = sp->n_test; i < pool; i++) rest[nr++] = order[tperm[i]];
  for (int i = pool; i < n; i++) rest[nr++] = order[i];
  w2_permutation(w2_key(seed, "file-split", name, 0), 0, nr, rperm);
  for (int i = 0; i < nr; i++) rperm[i] = rest[rperm[i]];
  file_split(ds, rperm, 0, sp->n_a, td->Xa, td->ya, td->ida);
  file_split(ds, rperm, sp->n_a, sp->n_b, td->Xb, td->yb, td->idb);
  double ones = 0;
  for (int i = 0; i < sp->n_a; i++) ones += td->ya[i];
  for (int i = 0; i < sp->n_b; i++) ones += td->yb[i];
  td->prior = ones / (sp->n_a + sp->n_b);
  if (ds->m > 0) {
    /* hand the /pretrain block over instead of copying it */
    td->n_p = ds->m;
    td->k_p = ds->k;
    td->Xp = ds->PX;
    td->Yp = ds->PY;
    ds->PX = ds->PY = NULL;
  } else {
    /* masked reconstruction on the rows outside the test pool, in the pool order */
    td->n_p = n - pool;
    td->k_p = 0;
    td->Xp = malloc(sizeof(float) * (size_t)td->n_p * ds->d);
    if (!td->Xp) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                           "out of memory for the pretraining rows of task '%s'", t->name);
      goto done;
    }
    for (int i = 0; i < td->n_p; i++)
      memcpy(td->Xp + (size_t)i * ds->d, ds->X + (size_t)order[pool + i] * ds->d,
             sizeof(float) * ds->d);
  }
done:
  free(order);
  free(tperm);
  free(rest);
  free(rperm);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

static W2Err task_data_fill(const W2Sweep *s, const W2World *w, const W2TaskSpec *t,
                            uint64_t seed, W2TaskData *td) {
  const W2SplitSpec *sp = &s->split;
  W2_CHECK(sp->n_a >= 1 && sp->n_b >= 1 && sp->n_test >= 1, W2_ERR_CONFIG,
           "split sizes n_a = %d, n_b = %d, n_test = %d must all be >= 1", sp->n_a, sp->n_b,
           sp->n_test);
  W2_CHECK((long)sp->n_a + sp->n_b + sp->n_test <= 100000000L, W2_ERR_CONFIG,
           "split sizes n_a + n_b + n_test = %ld exceed 1e8 rows",
           (long)sp->n_a + sp->n_b + sp->n_test);
  if (t->kind == W2_TASK_TEXT) {
    W2_CALL(w2_text_task_fill(s, t, seed, td));
    return W2_OK;
  }
  if (t->kind == W2_TASK_FILE) {
    W2Dataset ds;
    W2_CALL(w2_dataset_load(t->file, &ds));
    W2Err err = file_task_fill(s, t, seed, &ds, td);
    w2_dataset_free(&ds);
    if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
    return W2_OK;
  }
  W2_CHECK(w->spec.input_dim == s->world.input_dim &&
           w->spec.latent_dim == s->world.latent_dim, W2_ERR_INTERNAL,
           "world does not match the sweep's world spec");
  int d = w->spec.input_dim, dz = w->spec.latent_dim, K = w->spec.pretrain_targets;
  W2_CALL(splits_alloc(td, sp, d, dz));
  uint64_t key = w2_task_data_key(&s->world, t, seed);
  W2_CALL(fill_split(w, t, key, 0, sp->n_a, td->Xa, td->Za, td->ya, td->ida));
  W2_CALL(fill_split(w, t, key, sp->n_a, sp->n_b, td->Xb, td->Zb, td->yb, td->idb));
  W2_CALL(fill_split(w, t, key, (long)sp->n_a + sp->n_b, sp->n_test, td->Xt, td->Zt, td->yt,
                     td->idt));
  /* generative finetuning data: A then B inputs with pretraining-objective targets */
  td->n_u = sp->n_a + sp->n_b;
  td->k_u = K;
  W2_CALLOC(td->Xu, (size_t)td->n_u * d);
  W2_CALLOC(td->Yu, (size_t)td->n_u * K);
  memcpy(td->Xu, td->Xa, sizeof(float) * (size_t)sp->n_a * d);
  memcpy(td->Xu + (size_t)sp->n_a * d, td->Xb, sizeof(float) * (size_t)sp->n_b * d);
  w2_world_pretrain_targets(w, td->Za, sp->n_a, td->Yu);
  w2_world_pretrain_targets(w, td->Zb, sp->n_b, td->Yu + (size_t)sp->n_a * K);
  double ones = 0;
  for (int i = 0; i < sp->n_a; i++) ones += td->ya[i];
  for (int i = 0; i < sp->n_b; i++) ones += td->yb[i];
  td->prior = ones / td->n_u;
  return W2_OK;
}

W2Err w2_task_data_create(const W2Sweep *s, const W2World *w, const W2TaskSpec *t,
                          uint64_t seed, W2TaskData **out) {
  *out = NULL;
  W2TaskData *td;
  W2_CALLOC(td, 1);
  W2Err err = task_data_fill(s, w, t, seed, td);
  if (err) {
    w2_task_data_destroy(&td);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  *out = td;
  return W2_OK;
}
