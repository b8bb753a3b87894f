/* probe.c — L2 logistic-regression probes solved by Newton + LAPACK Cholesky, penalty by
 * k-fold cross-validation (see probe.h for the model and the procedure). */
#include "probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* LAPACK / BLAS (Fortran symbols of the BLAS pkg-config module; Debian ships no LAPACKE
 * header for OpenBLAS's bundled LAPACK, so the prototypes are ours, as in blacs.h). */
void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
            const double *a, const int *lda, const double *beta, double *c, const int *ldc);
void dgemv_(const char *trans, const int *m, const int *n, const double *alpha, const double *a,
            const int *lda, const double *x, const int *incx, const double *beta, double *y,
            const int *incy);
void ssyrk_(const char *uplo, const char *trans, const int *n, const int *k, const float *alpha,
            const float *a, const int *lda, const float *beta, float *c, const int *ldc);
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda,
             float *b, const int *ldb, int *info);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);

void w2_probe_opts_default(W2ProbeOpts *o) {
  o->folds = 5;
  o->nlambda = 13;
  o->lambda_min = 1e-4;
  o->lambda_max = 1e2;
  o->criterion = W2_PROBE_CV_CE;
  o->key = 0;
  o->tol = 1e-6;
  o->max_iter = 100;
}

/* ----------------------------------------------------------------------------------- */
/* the objective on an augmented design A (n x p row-major, last column all ones) */

/* log(1 + e^z) without overflow */
static double softplus(double z) { return (z > 0 ? z : 0) + log1p(exp(-fabs(z))); }
static double sigmoid(double z) {
  return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* J(theta) = (1/n) sum CE + lambda/2 |theta[0..p-1)|^2; logits into z (n); gradient into g
 * (p) when g != NULL, using r (n) as scratch. */
static double objective(const double *A, const double *y, int n, int p, double lambda,
                        const double *theta, double *z, double *r, double *g) {
  const double one = 1, zero = 0, inv_n = 1.0 / n;
  const int inc = 1;
  dgemv_("T", &p, &n, &one, A, &p, theta, &inc, &zero, z, &inc); /* z = A theta */
  double f = 0;
  for (int i = 0; i < n; i++) f += softplus(z[i]) - y[i] * z[i];
  f *= inv_n;
  double pen = 0;
  for (int j = 0; j < p - 1; j++) pen += theta[j] * theta[j];
  f += 0.5 * lambda * pen;
  if (g) {
    for (int i = 0; i < n; i++) r[i] = sigmoid(z[i]) - y[i];
    dgemv_("N", &p, &n, &inv_n, A, &p, r, &inc, &zero, g, &inc); /* g = A^T r / n */
    for (int j = 0; j < p - 1; j++) g[j] += lambda * theta[j];
  }
  return f;
}

double w2_probe_objective(const double *Z, const float *y, int n, int d, double lambda,
                          const double *theta, double *grad) {
  int p = d + 1;
  double *A = malloc(sizeof(double) * (size_t)n * p), *yy = malloc(sizeof(double) * (size_t)n);
  double *z = malloc(sizeof(double) * (size_t)n), *r = malloc(sizeof(double) * (size_t)n);
  double f = NAN;
  if (A && yy && z && r) {
    for (int i = 0; i < n; i++) {
      memcpy(A + (size_t)i * p, Z + (size_t)i * d, sizeof(double) * (size_t)d);
      A[(size_t)i * p + d] = 1;
      yy[i] = y[i];
    }
    f = objective(A, yy, n, p, lambda, theta, z, r, grad);
  }
  free(A);
  free(yy);
  free(z);
  free(r);
  return f;
}

/* ----------------------------------------------------------------------------------- */
/* Newton's method */

/* The Newton system is formed and solved in single precision (ssyrk, spotrf: twice the
 * speed of double): an inexact Newton direction costs at most a few more iterations, while
 * the objective, gradient, line search and stopping test stay in double, so the optimum is
 * found to the same tolerance. */
typedef struct Newton {
  int n, p;
  const double *A, *y;
  double *theta, *g, *step, *trial, *z, *r;
  float *H, *As, *sstep;
  double flops;
} Newton;

static W2Err newton_alloc(Newton *nw, int n, int p) {
  memset(nw, 0, sizeof *nw);
  nw->n = n;
  nw->p = p;
  W2_CALLOC(nw->theta, p);
  W2_CALLOC(nw->g, p);
  W2_CALLOC(nw->step, p);
  W2_CALLOC(nw->trial, p);
  W2_CALLOC(nw->H, (size_t)p * p);
  W2_CALLOC(nw->sstep, p);
  W2_CALLOC(nw->As, (size_t)n * p);
  W2_CALLOC(nw->z, n);
  W2_CALLOC(nw->r, n);
  return W2_OK;
}

static void newton_free(Newton *nw) {
  free(nw->theta);
  free(nw->g);
  free(nw->step);
  free(nw->trial);
  free(nw->H);
  free(nw->sstep);
  free(nw->As);
  free(nw->z);
  free(nw->r);
}

/* Minimises J from nw->theta (warm start). Returns the iterations done in *iters. */
static W2Err newton_solve(Newton *nw, double lambda, double tol, int max_iter, int *iters) {
  int n = nw->n, p = nw->p, info = 0, one_i = 1;
  const float one = 1, zero = 0;
  double f = objective(nw->A, nw->y, n, p, lambda, nw->theta, nw->z, nw->r, nw->g);
  int it = 0;
  for (; it < max_iter; it++) {
    double gmax = 0;
    for (int j = 0; j < p; j++) gmax = fmax(gmax, fabs(nw->g[j]));
    if (gmax < tol) break;
    /* H = A^T diag(s(1-s)/n) A + lambda I (bias unpenalised: a 1e-10 ridge keeps it PD) */
    for (int i = 0; i < n; i++) {
      double s = sigmoid(nw->z[i]), c = sqrt(s * (1 - s) / n);
      const double *a = nw->A + (size_t)i * p;
      float *as = nw->As + (size_t)i * p;
      for (int j = 0; j < p; j++) as[j] = (float)(c * a[j]);
    }
    ssyrk_("U", "N", &p, &n, &one, nw->As, &p, &zero, nw->H, &p);
    /* bias unpenalised: a small ridge keeps the system positive definite in float */
    for (int j = 0; j < p; j++) nw->H[(size_t)j * p + j] += j < p - 1 ? (float)lambda : 1e-6f;
    spotrf_("U", &p, nw->H, &p, &info);
    W2_CHECK(info == 0, W2_ERR_NUM, "probe: Newton Hessian not positive definite (spotrf info %d, "
             "lambda %g)", info, lambda);
    for (int j = 0; j < p; j++) nw->sstep[j] = (float)nw->g[j];
    spotrs_("U", &p, &one_i, nw->H, &p, nw->sstep, &p, &info);
    W2_CHECK(info == 0, W2_ERR_NUM, "probe: spotrs failed (info %d)", info);
    for (int j = 0; j < p; j++) nw->step[j] = nw->sstep[j];
    nw->flops += (double)n * p * p + (double)p * p * p / 3 + 2.0 * p * p + 8.0 * n * p;
    /* backtracking line search on J (Armijo, c = 1e-4) */
    double slope = 0;
    for (int j = 0; j < p; j++) slope += nw->g[j] * nw->step[j];
    double t = 1, fn = f;
    int ok = 0;
    for (int ls = 0; ls < 50; ls++, t *= 0.5) {
      for (int j = 0; j < p; j++) nw->trial[j] = nw->theta[j] - t * nw->step[j];
      fn = objective(nw->A, nw->y, n, p, lambda, nw->trial, nw->z, nw->r, NULL);
      nw->flops += 4.0 * n * p;
      if (fn <= f - 1e-4 * t * slope) {
        ok = 1;
        break;
      }
    }
    if (!ok) break; /* no decrease at machine precision: converged as far as it can */
    memcpy(nw->theta, nw->trial, sizeof(double) * (size_t)p);
    f = objective(nw->A, nw->y, n, p, lambda, nw->theta, nw->z, nw->r, nw->g);
  }
  *iters = it;
  W2_CHECK(isfinite(f), W2_ERR_NUM, "probe: objective is %g", f);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* a training set: standardisation, design (primal, or reduced to the row space) */

typedef struct Design {
  int n, d, p, reduced;
  double *mean, *inv_std; /* (d) */
  double *Z;              /* (n x d) standardised rows */
  double *A;              /* (n x p) design, last column 1 */
  double *y;              /* (n) */
  double *M;              /* reduced: (n x r) row-major, w = Z^T M beta */
  double *c;              /* (n) scratch for the back-map */
  double flops;
} Design;

static void design_free(Design *ds) {
  free(ds->mean);
  free(ds->inv_std);
  free(ds->Z);
  free(ds->A);
  free(ds->y);
  free(ds->M);
  free(ds->c);
  memset(ds, 0, sizeof *ds);
}

/* Rows rows[0..n) of F (or 0..n when rows == NULL). */
static W2Err design_build(Design *ds, const float *F, const float *y, const int *rows, int n,
                          int d) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->d = d;
  W2_CALLOC(ds->mean, d);
  W2_CALLOC(ds->inv_std, d);
  W2_CALLOC(ds->Z, (size_t)n * d);
  W2_CALLOC(ds->y, n);
  W2_CALLOC(ds->c, n);
  for (int i = 0; i < n; i++) {
    const float *f = F + (size_t)(rows ? rows[i] : i) * d;
    for (int j = 0; j < d; j++) ds->mean[j] += f[j];
    ds->y[i] = y[rows ? rows[i] : i];
  }
  for (int j = 0; j < d; j++) ds->mean[j] /= n;
  for (int i = 0; i < n; i++) {
    const float *f = F + (size_t)(rows ? rows[i] : i) * d;
    for (int j = 0; j < d; j++) {
      double v = f[j] - ds->mean[j];
      ds->inv_std[j] += v * v;
    }
  }
  for (int j = 0; j < d; j++) {
    double sd = sqrt(ds->inv_std[j] / n);
    /* a constant feature (a dead ReLU unit) carries nothing: weight it 0 */
    ds->inv_std[j] = sd > 1e-12 * (1 + fabs(ds->mean[j])) ? 1.0 / sd : 0.0;
  }
  for (int i = 0; i < n; i++) {
    const float *f = F + (size_t)(rows ? rows[i] : i) * d;
    double *z = ds->Z + (size_t)i * d;
    for (int j = 0; j < d; j++) z[j] = (f[j] - ds->mean[j]) * ds->inv_std[j];
  }
  if (d <= n) {
    ds->p = d + 1;
    W2_CALLOC(ds->A, (size_t)n * ds->p);
    for (int i = 0; i < n; i++) {
      memcpy(ds->A + (size_t)i * ds->p, ds->Z + (size_t)i * d, sizeof(double) * (size_t)d);
      ds->A[(size_t)i * ds->p + d] = 1;
    }
    return W2_OK;
  }
  /* d > n: Z = U L^1/2 V^T; w = V_r beta keeps every logit (Z w = U_r L_r^1/2 beta) and the
   * penalty (|w| = |beta|), and the optimum's w lies in the row space of Z */
  ds->reduced = 1;
  double *G = NULL, *ev = NULL, *work = NULL;
  int *iwork = NULL, info = 0, lwork = -1, liwork = -1, iw_q = 0;
  const double one = 1, zero = 0;
  double wq = 0;
  W2_CALLOC(G, (size_t)n * n);
  W2_CALLOC(ev, n);
  dsyrk_("U", "T", &n, &d, &one, ds->Z, &d, &zero, G, &n); /* G = Z Z^T */
  dsyevd_("V", "U", &n, G, &n, ev, &wq, &lwork, &iw_q, &liwork, &info);
  lwork = (int)wq + 1;
  liwork = iw_q + 1;
  work = malloc(sizeof(double) * (size_t)lwork);
  iwork = malloc(sizeof(int) * (size_t)liwork);
  W2Err e = W2_OK;
  if (!work || !iwork) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe, n = %d)", n);
    goto done;
  }
  dsyevd_("V", "U", &n, G, &n, ev, work, &lwork, iwork, &liwork, &info);
  if (info != 0) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_NUM, "probe: dsyevd info %d", info);
    goto done;
  }
  ds->flops += (double)n * n * d + 9.0 * n * n * n;
  double emax = ev[n - 1];
  int r = 0, k0 = n;
  for (int k = n - 1; k >= 0 && ev[k] > 1e-10 * emax && ev[k] > 0; k--) k0 = k;
  r = n - k0;
  ds->p = r + 1;
  ds->A = calloc((size_t)n * ds->p, sizeof(double));
  ds->M = calloc((size_t)n * (r ? r : 1), sizeof(double));
  if (!ds->A || !ds->M) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe, n = %d)", n);
    goto done;
  }
  for (int k = 0; k < r; k++) {
    double l = ev[k0 + k], sl = sqrt(l);
    const double *u = G + (size_t)(k0 + k) * n; /* eigenvector, column-major */
    for (int i = 0; i < n; i++) {
      ds->A[(size_t)i * ds->p + k] = u[i] * sl;
      ds->M[(size_t)i * r + k] = u[i] / sl;
    }
  }
  for (int i = 0; i < n; i++) ds->A[(size_t)i * ds->p + r] = 1;
done:
  free(G);
  free(ev);
  free(work);
  free(iwork);
  return e;
}

/* w (d) and b of the original standardised features from the Newton parameters theta. */
static void design_weights(Design *ds, const double *theta, double *w, double *b) {
  int d = ds->d, n = ds->n, r = ds->p - 1;
  *b = theta[r];
  if (!ds->reduced) {
    memcpy(w, theta, sizeof(double) * (size_t)d);
    return;
  }
  for (int i = 0; i < n; i++) { /* c = M beta */
    double s = 0;
    for (int k = 0; k < r; k++) s += ds->M[(size_t)i * r + k] * theta[k];
    ds->c[i] = s;
  }
  const double one = 1, zero = 0;
  const int inc = 1;
  dgemv_("N", &d, &n, &one, ds->Z, &d, ds->c, &inc, &zero, w, &inc); /* w = Z^T c */
}

/* ----------------------------------------------------------------------------------- */
/* the probe object */

static W2Err probe_new(int d, W2Probe **out) {
  W2Probe *p;
  W2_CALLOC(p, 1);
  p->d = d;
  p->mean = calloc((size_t)d, sizeof(double));
  p->inv_std = calloc((size_t)d, sizeof(double));
  p->w = calloc((size_t)d, sizeof(double));
  if (!p->mean || !p->inv_std || !p->w) {
    w2_probe_destroy(&p);
    W2_RAISE(W2_ERR_MEM, "out of memory (probe of %d features)", d);
  }
  *out = p;
  return W2_OK;
}

void w2_probe_destroy(W2Probe **pp) {
  W2Probe *p = *pp;
  if (!p) return;
  free(p->mean);
  free(p->inv_std);
  free(p->w);
  free(p);
  *pp = NULL;
}

static double predict_logit(const double *mean, const double *inv_std, const double *w, double b,
                            const float *f, int d) {
  double s = b;
  for (int j = 0; j < d; j++) s += (f[j] - mean[j]) * inv_std[j] * w[j];
  return s;
}

void w2_probe_predict(const W2Probe *p, const float *F, int n, float *prob) {
  for (int i = 0; i < n; i++)
    prob[i] = (float)sigmoid(predict_logit(p->mean, p->inv_std, p->w, p->b, F + (size_t)i * p->d, p->d));
}

static W2Err check_args(const float *y, int n, int d, const W2ProbeOpts *o) {
  W2_CHECK(n >= 1 && d >= 1, W2_ERR_ARG, "probe: %d rows of %d features", n, d);
  W2_CHECK(o->tol > 0 && o->max_iter >= 1, W2_ERR_ARG, "probe: tol %g, max_iter %d", o->tol,
           o->max_iter);
  for (int i = 0; i < n; i++)
    W2_CHECK(y[i] >= 0 && y[i] <= 1, W2_ERR_ARG, "probe: target %d is %g, not in [0, 1]", i,
             (double)y[i]);
  return W2_OK;
}

W2Err w2_probe_fit_lambda(const float *F, const float *y, int n, int d, double lambda,
                          const W2ProbeOpts *opts, W2Probe **out) {
  W2ProbeOpts o;
  w2_probe_opts_default(&o);
  if (opts) o = *opts;
  W2_CALL(check_args(y, n, d, &o));
  W2_CHECK(lambda > 0, W2_ERR_ARG, "probe: lambda %g must be > 0", lambda);
  Design ds;
  Newton nw;
  memset(&nw, 0, sizeof nw);
  W2Err e = design_build(&ds, F, y, NULL, n, d);
  if (!e) e = newton_alloc(&nw, n, ds.p);
  if (!e) e = probe_new(d, out);
  if (!e) {
    nw.A = ds.A;
    nw.y = ds.y;
    e = newton_solve(&nw, lambda, o.tol, o.max_iter, &(*out)->iters);
  }
  if (!e) {
    W2Probe *p = *out;
    memcpy(p->mean, ds.mean, sizeof(double) * (size_t)d);
    memcpy(p->inv_std, ds.inv_std, sizeof(double) * (size_t)d);
    design_weights(&ds, nw.theta, p->w, &p->b);
    p->lambda = lambda;
    p->flops = nw.flops + ds.flops;
  } else {
    w2_probe_destroy(out);
  }
  newton_free(&nw);
  design_free(&ds);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

/* The grid, largest first. */
static void lambda_grid(const W2ProbeOpts *o, double *lam) {
  for (int k = 0; k < o->nlambda; k++) {
    double t = o->nlambda > 1 ? (double)k / (o->nlambda - 1) : 0;
    lam[k] = exp(log(o->lambda_max) + t * (log(o->lambda_min) - log(o->lambda_max)));
  }
  lam[0] = o->lambda_max; /* the end points exactly as given */
  if (o->nlambda > 1) lam[o->nlambda - 1] = o->lambda_min;
}

/* One CV fold: fits on train rows for every lambda (warm starts, largest first) and adds
 * the held-out CE and correct counts to ce[] / acc[]. */
static W2Err cv_fold(const float *F, const float *y, int d, const int *tr, int ntr, const int *ho,
                     int nho, const W2ProbeOpts *o, const double *lam, double *ce, double *acc,
                     double *flops) {
  Design ds;
  Newton nw;
  memset(&nw, 0, sizeof nw);
  double *w = calloc((size_t)d, sizeof(double));
  W2Err e = w ? design_build(&ds, F, y, tr, ntr, d)
              : w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe)");
  if (!w) memset(&ds, 0, sizeof ds);
  if (!e) e = newton_alloc(&nw, ntr, ds.p);
  nw.A = ds.A;
  nw.y = ds.y;
  for (int k = 0; k < o->nlambda && !e; k++) {
    int it;
    e = newton_solve(&nw, lam[k], o->tol, o->max_iter, &it);
    if (e) break;
    double b;
    design_weights(&ds, nw.theta, w, &b);
    for (int i = 0; i < nho; i++) {
      double z = predict_logit(ds.mean, ds.inv_std, w, b, F + (size_t)ho[i] * d, d);
      double t = y[ho[i]];
      ce[k] += softplus(z) - t * z;
      acc[k] += (z > 0) == (t > 0.5);
    }
    *flops += 2.0 * nho * d;
  }
  *flops += nw.flops + ds.flops;
  newton_free(&nw);
  design_free(&ds);
  free(w);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

W2Err w2_probe_fit(const float *F, const float *y, int n, int d, const W2ProbeOpts *opts,
                   W2Probe **out) {
  W2ProbeOpts o;
  w2_probe_opts_default(&o);
  if (opts) o = *opts;
  *out = NULL;
  W2_CALL(check_args(y, n, d, &o));
  if (o.folds <= 1) {
    W2_CALL(w2_probe_fit_lambda(F, y, n, d, o.lambda_max, &o, out));
    return W2_OK;
  }
  W2_CHECK(o.nlambda >= 1 && o.nlambda <= W2_PROBE_MAX_LAMBDAS, W2_ERR_ARG,
           "probe: %d lambdas (1 to %d)", o.nlambda, W2_PROBE_MAX_LAMBDAS);
  W2_CHECK(o.lambda_min > 0 && o.lambda_max >= o.lambda_min, W2_ERR_ARG,
           "probe: lambda grid [%g, %g]", o.lambda_min, o.lambda_max);
  W2_CHECK(n >= 2 * o.folds, W2_ERR_ARG, "probe: %d rows are too few for %d-fold CV", n, o.folds);
  double lam[W2_PROBE_MAX_LAMBDAS], ce[W2_PROBE_MAX_LAMBDAS] = {0}, acc[W2_PROBE_MAX_LAMBDAS] = {0};
  lambda_grid(&o, lam);
  int *perm = malloc(sizeof(int) * (size_t)n), *tr = malloc(sizeof(int) * (size_t)n);
  int *ho = malloc(sizeof(int) * (size_t)n);
  W2Err e = W2_OK;
  double flops = 0;
  if (!perm || !tr || !ho) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe CV)");
    goto done;
  }
  w2_permutation(o.key, 0, n, perm);
  for (int f = 0; f < o.folds && !e; f++) {
    int ntr = 0, nho = 0;
    for (int i = 0; i < n; i++) {
      if (i % o.folds == f) ho[nho++] = perm[i];
      else tr[ntr++] = perm[i];
    }
    e = cv_fold(F, y, d, tr, ntr, ho, nho, &o, lam, ce, acc, &flops);
  }
  if (e) goto done;
  int best = 0;
  for (int k = 0; k < o.nlambda; k++) {
    ce[k] /= n;
    acc[k] /= n;
  }
  for (int k = 1; k < o.nlambda; k++) {
    /* strict improvement only: ties keep the larger (earlier) lambda */
    int better = o.criterion == W2_PROBE_CV_ACC ? acc[k] > acc[best] : ce[k] < ce[best];
    if (better) best = k;
  }
  e = w2_probe_fit_lambda(F, y, n, d, lam[best], &o, out);
  if (!e) {
    W2Probe *p = *out;
    p->nlambda = o.nlambda;
    p->chosen = best;
    memcpy(p->lambdas, lam, sizeof(double) * (size_t)o.nlambda);
    memcpy(p->cv_ce, ce, sizeof(double) * (size_t)o.nlambda);
    memcpy(p->cv_acc, acc, sizeof(double) * (size_t)o.nlambda);
    p->flops += flops;
  }
done:
  free(perm);
  free(tr);
  free(ho);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

W2Err w2_probe_crossfit(const float *F, const float *y, int n, int d, int folds, uint64_t key,
                        const W2ProbeOpts *opts, float *out, double *flops) {
  W2_CHECK(folds >= 2 && n >= 2 * folds, W2_ERR_ARG, "probe: %d rows in %d cross-fitting folds",
           n, folds);
  W2ProbeOpts o;
  w2_probe_opts_default(&o);
  if (opts) o = *opts;
  int *perm = malloc(sizeof(int) * (size_t)n);
  float *Ft = malloc(sizeof(float) * (size_t)n * d), *yt = malloc(sizeof(float) * (size_t)n);
  W2Err e = W2_OK;
  W2Probe *p = NULL;
  if (!perm || !Ft || !yt) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (probe cross-fit)");
    goto done;
  }
  w2_permutation(key, 0, n, perm);
  for (int f = 0; f < folds && !e; f++) {
    int nt = 0;
    for (int i = 0; i < n; i++) {
      if (i % folds == f) continue;
      memcpy(Ft + (size_t)nt * d, F + (size_t)perm[i] * d, sizeof(float) * (size_t)d);
      yt[nt++] = y[perm[i]];
    }
    o.key = w2_key(key, "probe-crossfit-cv", (uint64_t)f, 0);
    e = w2_probe_fit(Ft, yt, nt, d, &o, &p);
    if (e) break;
    for (int i = f; i < n; i += folds) w2_probe_predict(p, F + (size_t)perm[i] * d, 1, out + perm[i]);
    if (flops) *flops += p->flops;
    w2_probe_destroy(&p);
  }
done:
  w2_probe_destroy(&p);
  free(perm);
  free(Ft);
  free(yt);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
