/* fit.c — Huber-loss fits of err = E + A*C^-alpha and of PGR against compute, with
 * bootstrap-over-seeds intervals and extrapolation backtests (see fit.h for the method
 * and the reasons behind each choice). Pure computation on arrays: no I/O. */
#include "fit.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_rng.h>

/* calloc or record W2_ERR_MEM in `err` and jump to `label` (functions with cleanup) */
#define ALLOC_GOTO(err, label, p, n)                                               \
  do {                                                                             \
    size_t n_ = (size_t)(n);                                                       \
    (p) = calloc(n_ ? n_ : 1, sizeof *(p));                                        \
    if (!(p)) {                                                                    \
      (err) = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,             \
                             "out of memory allocating %zu bytes", n_ * sizeof *(p)); \
      goto label;                                                                  \
    }                                                                              \
  } while (0)

void w2_fit_options_default(W2FitOptions *o) {
  o->huber_delta = 0.0; /* data-driven (1.345 * robust sigma); 1e-3 = Chinchilla's */
  o->pgr_delta = 0.0;   /* data-driven (1.345 * robust sigma) */
  o->n_boot = 1000;
  o->level = 0.95;
  o->max_iter = 500;
  o->grad_tol = 1e-6;
  o->seed = 20231214UL;
}

double w2_huber(double r, double delta) {
  double a = fabs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

double w2_huber_deriv(double r, double delta) {
  return r > delta ? delta : (r < -delta ? -delta : r);
}

/* ---------------------------------------------------------------------------------- */
/* Problem: transformed data, weights and which internal parameters are free.         */

typedef struct {
  int kind, n;
  double delta, ref0, ref1;
  double *t0, *t1, *ty; /* SCALING: ln(C/c_ref), -, ln err.  PGR: log10(Cw/cw_ref), log10(Cs/cs_ref), pgr */
  double *w;            /* current weights (0 = point not in this fit) */
  int nfree, idx[W2_FIT_NPAR]; /* free internal parameters */
  double u[W2_FIT_NPAR];       /* full internal parameter vector (fixed entries stay 0) */
} Prob;

static void prob_free(Prob *p) {
  free(p->t0);
  free(p->t1);
  free(p->ty);
  free(p->w);
  memset(p, 0, sizeof *p);
}

/* Prediction (on the residual's scale: ln err or PGR) and its gradient wrt the full
 * internal parameter vector u. SCALING: u = (ln E, ln A', ln alpha), so E >= 0 and
 * alpha > 0 are constraints the optimiser cannot break; E held at 0 is u[0] = -inf. */
static double model_eval(const Prob *p, const double *u, int i, double *g) {
  if (p->kind == W2_FIT_SCALING) {
    /* ln(E + A' e^{-alpha t}) = LSE(z1, z2) = max + log1p(e^{-|z1 - z2|}), evaluated
     * stably with one exp; the softmax weights s1, s2 (the gradient) reuse it. */
    double alpha = exp(u[2]);
    double z1 = u[0], z2 = u[1] - alpha * p->t0[i];
    double t = exp(-fabs(z1 - z2));
    double lp = (z1 > z2 ? z1 : z2) + log1p(t);
    if (g) {
      double big = 1.0 / (1.0 + t), small = t * big;
      double s1 = z1 > z2 ? big : small, s2 = z1 > z2 ? small : big;
      g[0] = s1;
      g[1] = s2;
      g[2] = -p->t0[i] * alpha * s2;
    }
    return lp;
  }
  if (g) {
    g[0] = 1.0;
    g[1] = p->t0[i];
    g[2] = p->t1[i];
  }
  return u[0] + u[1] * p->t0[i] + u[2] * p->t1[i];
}

static void unpack(const Prob *p, const gsl_vector *x, double *u) {
  memcpy(u, p->u, sizeof p->u);
  for (int j = 0; j < p->nfree; j++) u[p->idx[j]] = gsl_vector_get(x, (size_t)j);
}

/* f_i = sign(r) sqrt(2 w h(r)): 1/2 sum f_i^2 is the summed weighted Huber loss. */
static int cb_f(const gsl_vector *x, void *params, gsl_vector *f) {
  const Prob *p = params;
  double u[W2_FIT_NPAR];
  unpack(p, x, u);
  for (int i = 0; i < p->n; i++) {
    double fi = 0.0;
    if (p->w[i] > 0) {
      double r = model_eval(p, u, i, NULL) - p->ty[i];
      double a = fabs(r);
      fi = a <= p->delta ? r : copysign(sqrt(2.0 * p->delta * a - p->delta * p->delta), r);
      fi *= sqrt(p->w[i]);
    }
    if (!isfinite(fi)) return GSL_EBADFUNC;
    gsl_vector_set(f, (size_t)i, fi);
  }
  return GSL_SUCCESS;
}

static int cb_df(const gsl_vector *x, void *params, gsl_matrix *J) {
  const Prob *p = params;
  double u[W2_FIT_NPAR], g[W2_FIT_NPAR];
  unpack(p, x, u);
  for (int i = 0; i < p->n; i++) {
    double s = 0.0;
    if (p->w[i] > 0) {
      double r = model_eval(p, u, i, g) - p->ty[i];
      double a = fabs(r);
      /* d f / d r: 1 on the quadratic branch, delta / sqrt(2 delta |r| - delta^2) beyond */
      s = a <= p->delta ? 1.0 : p->delta / sqrt(2.0 * p->delta * a - p->delta * p->delta);
      s *= sqrt(p->w[i]);
    }
    for (int j = 0; j < p->nfree; j++) {
      double v = s == 0.0 ? 0.0 : s * g[p->idx[j]];
      if (!isfinite(v)) return GSL_EBADFUNC;
      gsl_matrix_set(J, (size_t)i, (size_t)j, v);
    }
  }
  return GSL_SUCCESS;
}

/* Summed weighted Huber loss at full internal u; grad (full, may be NULL). Also the
 * stationarity ratio used as the convergence test (see fit.h, grad_tol):
 *   max_j |sum_i g_ij| / max(sum_i |g_ij|, G, F),  g_ij = w_i h'(r_i) d pred_i / d u_j,
 *   G = sum_i w_i |h'(r_i)| (the gradient's size if every derivative were 1), and
 *   F = 1e-8 * delta * sum_i w_i (a floor for tiny residuals; exact fits: exact_fit).
 * The G term keeps a parameter whose derivatives all vanish (E -> 0 at its boundary,
 * e -> -inf) from being declared unconverged for a gradient that is negligibly small. */
static double prob_loss(const Prob *p, const double *u, double *grad, double *ratio) {
  double L = 0.0, sum[W2_FIT_NPAR] = {0}, sabs[W2_FIT_NPAR] = {0}, G = 0.0, W = 0.0;
  double g[W2_FIT_NPAR];
  for (int i = 0; i < p->n; i++) {
    if (!(p->w[i] > 0)) continue;
    double r = model_eval(p, u, i, g) - p->ty[i];
    double hd = w2_huber_deriv(r, p->delta) * p->w[i];
    L += p->w[i] * w2_huber(r, p->delta);
    G += fabs(hd);
    W += p->w[i];
    for (int j = 0; j < W2_FIT_NPAR; j++) {
      sum[j] += hd * g[j];
      sabs[j] += fabs(hd * g[j]);
    }
  }
  if (grad)
    for (int j = 0; j < W2_FIT_NPAR; j++) grad[j] = sum[j];
  if (ratio) {
    double worst = 0.0, F = 1e-8 * p->delta * W;
    for (int k = 0; k < p->nfree; k++) {
      int j = p->idx[k];
      double den = fmax(fmax(sabs[j], G), F);
      double q = den > 0 ? fabs(sum[j]) / den : 0.0;
      if (!(q <= worst)) worst = q; /* NaN propagates as "not converged" */
    }
    *ratio = worst;
  }
  return L;
}

/* ---------------------------------------------------------------------------------- */
/* One LM run from a start.                                                           */

typedef struct {
  gsl_multifit_nlinear_workspace *ws;
  gsl_multifit_nlinear_fdf fdf;
  gsl_vector *x;
} Solver;

static W2Err solver_init(Solver *s, Prob *p) {
  memset(s, 0, sizeof *s);
  gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
  par.trs = gsl_multifit_nlinear_trs_lm;
  /* no rows would make a meaningless problem; callers guarantee n >= 1, nfree >= 1 */
  s->fdf.f = cb_f;
  s->fdf.df = cb_df;
  s->fdf.fvv = NULL;
  s->fdf.n = (size_t)p->n;
  s->fdf.p = (size_t)p->nfree;
  s->fdf.params = p;
  /* GSL requires n >= p; zero-weight rows are allowed, so pad small problems is not
   * needed: callers check the number of points first. */
  s->ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, (size_t)p->n,
                                     (size_t)p->nfree);
  s->x = gsl_vector_alloc((size_t)p->nfree);
  W2_CHECK(s->ws && s->x, W2_ERR_MEM, "out of memory allocating a %d x %d fit workspace",
           p->n, p->nfree);
  return W2_OK;
}

static void solver_free(Solver *s) {
  if (s->ws) gsl_multifit_nlinear_free(s->ws);
  if (s->x) gsl_vector_free(s->x);
  memset(s, 0, sizeof *s);
}

/* Every residual within a few hundred ulps of the data: the loss is at its global
 * minimum (0) and the gradient ratio is rounding noise, so the fit counts as converged. */
static int exact_fit(const Prob *p, double loss) {
  double W = 0.0, ymax = 0.0;
  for (int i = 0; i < p->n; i++)
    if (p->w[i] > 0) {
      W += p->w[i];
      ymax = fmax(ymax, fabs(p->ty[i]));
    }
  double rtol = 256.0 * DBL_EPSILON * (1.0 + ymax);
  return loss <= 0.5 * W * rtol * rtol;
}

typedef struct {
  double u[W2_FIT_NPAR];
  double loss, ratio;
  int converged, iterations;
} RunOut;

/* Gradient and exact Hessian of the summed Huber loss over the free parameters at u.
 * Hessian = sum_i w_i [h''(r_i) grad_i grad_i^T + h'(r_i) Hess(pred_i)], h'' = 1 on the
 * quadratic branch and 0 beyond; for SCALING Hess(pred) = s1 s2 v v^T + s2 Hess(z2),
 * v = (1, -1, t alpha), Hess(z2) = -t alpha in the (ln alpha, ln alpha) entry only. */
static void loss_hessian(const Prob *p, const double *u, double *g, double *H) {
  int k = p->nfree;
  double gp[W2_FIT_NPAR];
  memset(g, 0, (size_t)k * sizeof *g);
  memset(H, 0, (size_t)(k * k) * sizeof *H);
  for (int i = 0; i < p->n; i++) {
    if (!(p->w[i] > 0)) continue;
    double r = model_eval(p, u, i, gp) - p->ty[i];
    double hd = w2_huber_deriv(r, p->delta), h2 = fabs(r) <= p->delta ? 1.0 : 0.0;
    int sc = p->kind == W2_FIT_SCALING;
    double v[W2_FIT_NPAR] = {1.0, -1.0, sc ? p->t0[i] * exp(u[2]) : 0.0};
    double curv = sc ? gp[0] * gp[1] : 0.0;
    for (int a = 0; a < k; a++) {
      int ia = p->idx[a];
      g[a] += p->w[i] * hd * gp[ia];
      for (int b = 0; b < k; b++) {
        int ib = p->idx[b];
        double z2 = sc && ia == 2 && ib == 2 ? gp[2] : 0.0; /* s2 * (-t alpha) */
        H[a * k + b] += p->w[i] * (h2 * gp[ia] * gp[ib] + hd * (curv * v[ia] * v[ib] + z2));
      }
    }
  }
}

/* Solves (H + lam I) d = -g by Cholesky (k <= 3); returns 0 if not positive definite. */
static int chol_solve(const double *H, double lam, const double *g, int k, double *d) {
  double L[9] = {0}, y[3];
  for (int a = 0; a < k; a++)
    for (int b = 0; b <= a; b++) {
      double sum = H[a * k + b] + (a == b ? lam : 0.0);
      for (int c = 0; c < b; c++) sum -= L[a * 3 + c] * L[b * 3 + c];
      if (a == b) {
        if (!(sum > 0)) return 0;
        L[a * 3 + a] = sqrt(sum);
      } else {
        L[a * 3 + b] = sum / L[b * 3 + b];
      }
    }
  for (int a = 0; a < k; a++) {
    double sum = -g[a];
    for (int c = 0; c < a; c++) sum -= L[a * 3 + c] * y[c];
    y[a] = sum / L[a * 3 + a];
  }
  for (int a = k - 1; a >= 0; a--) {
    double sum = y[a];
    for (int c = a + 1; c < k; c++) sum -= L[c * 3 + a] * d[c];
    d[a] = sum / L[a * 3 + a];
  }
  return 1;
}

/* Damped Newton from where LM stopped, used only when LM's point fails the stationarity
 * test. With a small delta (e.g. Chinchilla's 1e-3 on noisy errors) most points sit on
 * the linear branch: LM's Gauss-Newton model gives each of them a spurious curvature
 * ~delta/|r| and crawls, while the exact Hessian (curvature from the points inside the
 * quadratic zone only) lands on the optimum once that set of points settles. Steps are
 * accepted only when they lower the loss (Armijo backtracking), so this cannot make a
 * fit worse; the convergence verdict is recomputed at the end. */
static void polish(const Prob *p, const W2FitOptions *o, RunOut *out) {
  int k = p->nfree;
  double u[W2_FIT_NPAR], L = out->loss, ratio = out->ratio;
  memcpy(u, out->u, sizeof u);
  for (int it = 0; it < o->max_iter && ratio > o->grad_tol; it++) {
    double g[3], H[9], d[3] = {0}, scale = 0.0;
    loss_hessian(p, u, g, H);
    for (int a = 0; a < k; a++) scale = fmax(scale, fabs(H[a * k + a]));
    double lam = 0.0;
    int okc = 0;
    for (int tries = 0; tries < 30 && !okc; tries++) {
      okc = chol_solve(H, lam, g, k, d);
      lam = lam == 0.0 ? 1e-12 * (scale > 0 ? scale : 1.0) : lam * 10.0;
    }
    if (!okc) break;
    double slope = 0.0;
    for (int a = 0; a < k; a++) slope += g[a] * d[a];
    if (!(slope < 0)) break;
    int accepted = 0;
    for (double t = 1.0; t > 1e-12; t *= 0.5) {
      double un[W2_FIT_NPAR], rn;
      memcpy(un, u, sizeof un);
      for (int a = 0; a < k; a++) un[p->idx[a]] += t * d[a];
      double Ln = prob_loss(p, un, NULL, &rn);
      if (isfinite(Ln) && Ln <= L + 1e-4 * t * slope) {
        memcpy(u, un, sizeof u);
        L = Ln;
        ratio = rn;
        accepted = 1;
        break;
      }
    }
    if (!accepted) break;
    out->iterations++;
  }
  if (L <= out->loss) {
    memcpy(out->u, u, sizeof u);
    out->loss = L;
    out->ratio = ratio;
    out->converged = ratio <= o->grad_tol || exact_fit(p, L);
  }
}

static void run_lm(Solver *s, Prob *p, const double *u0, const W2FitOptions *o, RunOut *out) {
  for (int j = 0; j < p->nfree; j++) gsl_vector_set(s->x, (size_t)j, u0[p->idx[j]]);
  int info = 0, status = gsl_multifit_nlinear_init(s->x, &s->fdf, s->ws);
  if (status == GSL_SUCCESS)
    /* tight tolerances: a loose stop is the failure Besiroglu et al. found in the
     * original Chinchilla fit; stationarity is then checked independently below */
    status = gsl_multifit_nlinear_driver((size_t)o->max_iter, 1e-14, 1e-14, 0.0, NULL, NULL,
                                         &info, s->ws);
  gsl_vector *pos = gsl_multifit_nlinear_position(s->ws);
  unpack(p, pos, out->u);
  out->iterations = (int)gsl_multifit_nlinear_niter(s->ws);
  out->loss = prob_loss(p, out->u, NULL, &out->ratio);
  int finite = isfinite(out->loss);
  for (int k = 0; k < p->nfree; k++) finite = finite && isfinite(out->u[p->idx[k]]);
  /* GSL_EMAXITER / GSL_ENOPROG only say the driver stopped; whether the point is a
   * minimum is decided by the stationarity ratio. Other statuses are failures. */
  int status_ok = status == GSL_SUCCESS || status == GSL_EMAXITER || status == GSL_ENOPROG;
  out->converged = finite && status_ok && (out->ratio <= o->grad_tol || exact_fit(p, out->loss));
  if (!out->converged && finite && status_ok) polish(p, o, out);
}

/* ---------------------------------------------------------------------------------- */
/* Helpers                                                                            */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* type-7 quantile of sorted v[0..n) */
static double quantile_sorted(const double *v, int n, double q) {
  if (n <= 0) return NAN;
  double h = (n - 1) * q;
  int lo = (int)floor(h);
  if (lo >= n - 1) return v[n - 1];
  return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

/* Distinct values of ids[i] over points with keep[i]; returns count, fills map[i] =
 * dense index (or -1). vals (size n) receives the distinct values. */
static int dense_ids(const int *ids, const double *keep, int n, int *vals, int *map) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    map[i] = -1;
    if (!(keep[i] > 0)) continue;
    int id = ids ? ids[i] : 0, j;
    for (j = 0; j < k; j++)
      if (vals[j] == id) break;
    if (j == k) vals[k++] = id;
    map[i] = j;
  }
  return k;
}

/* Number of distinct values (relative tolerance 1e-9) of t over points with w > 0,
 * capped at 3 (callers only ask "at least 2 / 3"). */
static int n_distinct(const double *t, const double *w, int n) {
  double seen[3];
  int k = 0;
  for (int i = 0; i < n && k < 3; i++) {
    if (!(w[i] > 0)) continue;
    int j;
    for (j = 0; j < k; j++)
      if (fabs(t[i] - seen[j]) <= 1e-9 * fmax(1.0, fabs(seen[j]))) break;
    if (j == k) seen[k++] = t[i];
  }
  return k;
}

static void to_natural(const Prob *p, const double *u, double *theta) {
  if (p->kind == W2_FIT_SCALING) {
    theta[0] = exp(u[0]);
    theta[2] = exp(u[2]);
    theta[1] = exp(u[1] + theta[2] * log(p->ref0));
  } else {
    for (int j = 0; j < W2_FIT_NPAR; j++) theta[j] = u[j];
  }
}

double w2_fit_predict(int kind, const double *theta, double ref0, double ref1, double x0,
                      double x1) {
  if (kind == W2_FIT_SCALING)
    return theta[0] + exp(log(theta[1]) - theta[2] * log(x0));
  return theta[0] + theta[1] * log10(x0 / ref0) + theta[2] * log10(x1 / ref1);
}

/* Widens [lo, hi] about c by k (on the log scale when positive, i.e. errors, E, A, alpha,
 * never below 0 for them), never narrowing it. */
static void widen(double c, double k, int logscale, double *lo, double *hi) {
  double l = *lo, h = *hi;
  if (logscale && c > 0 && l > 0 && h > 0) {
    double lc = log(c);
    l = exp(lc - k * (lc - log(l)));
    h = exp(lc + k * (log(h) - lc));
  } else {
    l = c - k * (c - l);
    h = c + k * (h - c);
    /* a positive quantity with a replicate at its bound 0: the bound stays the limit */
    if (logscale && *lo >= 0 && l < 0) l = 0;
  }
  *lo = fmin(l, *lo);
  *hi = fmax(h, *hi);
}

void w2_fit_predict_band(const W2FitResult *r, double x0, double x1, double *lo, double *hi) {
  *lo = *hi = NAN;
  int m = r->n_boot_converged;
  if (m < 2 || !r->boot) return;
  double *v = malloc((size_t)m * sizeof *v);
  if (!v) return;
  for (int b = 0; b < m; b++)
    v[b] = w2_fit_predict(r->kind, r->boot + 3 * b, r->ref0, r->ref1, x0, x1);
  qsort(v, (size_t)m, sizeof *v, cmp_double);
  *lo = quantile_sorted(v, m, 0.5 * (1 - r->level));
  *hi = quantile_sorted(v, m, 1 - 0.5 * (1 - r->level));
  free(v);
  if (isfinite(r->interval_k))
    widen(w2_fit_predict(r->kind, r->theta, r->ref0, r->ref1, x0, x1), r->interval_k,
          r->kind == W2_FIT_SCALING, lo, hi);
}

/* Build the transformed problem over points with mask (NULL = all). */
static W2Err prob_build(const W2FitData *d, const int *mask, Prob *p) {
  memset(p, 0, sizeof *p);
  W2_CHECK(d->kind == W2_FIT_SCALING || d->kind == W2_FIT_PGR, W2_ERR_INTERNAL,
           "unknown fit kind %d", d->kind);
  W2_CHECK(d->n >= 0 && d->x0 && d->y && d->group && d->level, W2_ERR_INTERNAL,
           "fit data incomplete");
  W2_CHECK(d->kind == W2_FIT_SCALING || d->x1, W2_ERR_INTERNAL, "PGR fit needs x1");
  int n = d->n;
  p->kind = d->kind;
  p->n = n;
  W2_CALLOC(p->t0, n);
  W2_CALLOC(p->t1, n);
  W2_CALLOC(p->ty, n);
  W2_CALLOC(p->w, n);
  double s0 = 0, s1 = 0;
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    double x0 = d->x0[i], x1 = d->kind == W2_FIT_PGR ? d->x1[i] : 1.0, y = d->y[i];
    if (d->kind == W2_FIT_SCALING) {
      W2_CHECK(isfinite(x0) && x0 > 0, W2_ERR_DATA, "compute %g is not positive", x0);
      W2_CHECK(isfinite(y) && y > 0 && y <= 1, W2_ERR_DATA,
               "error %g outside (0, 1] (log error undefined)", y);
    } else {
      W2_CHECK(isfinite(x0) && x0 > 0 && isfinite(x1) && x1 > 0, W2_ERR_DATA,
               "weak/strong compute %g/%g not positive", x0, x1);
      W2_CHECK(isfinite(y), W2_ERR_DATA, "PGR is not finite");
    }
    p->w[i] = 1.0;
    s0 += log(x0);
    s1 += log(x1);
    m++;
  }
  p->ref0 = m ? exp(s0 / m) : 1.0;
  p->ref1 = m ? exp(s1 / m) : 1.0;
  for (int i = 0; i < n; i++) {
    if (!(p->w[i] > 0)) continue;
    if (d->kind == W2_FIT_SCALING) {
      p->t0[i] = log(d->x0[i] / p->ref0);
      p->ty[i] = log(d->y[i]);
    } else {
      p->t0[i] = log10(d->x0[i] / p->ref0);
      p->t1[i] = log10(d->x1[i] / p->ref1);
      p->ty[i] = d->y[i];
    }
  }
  return W2_OK;
}

/* Identifiability of the current weights; sets p->nfree/idx for PGR when set_free. */
static int prob_identifiable(Prob *p, int set_free, const int *level_dense, int n_levels_cap) {
  if (p->kind == W2_FIT_SCALING) {
    /* three parameters need three distinct sizes */
    char *seen = calloc((size_t)(n_levels_cap > 0 ? n_levels_cap : 1), 1);
    if (!seen) return 0;
    int k = 0;
    for (int i = 0; i < p->n; i++)
      if (p->w[i] > 0 && level_dense[i] >= 0 && !seen[level_dense[i]]) {
        seen[level_dense[i]] = 1;
        k++;
      }
    free(seen);
    /* the free set (E free or held at 0) is chosen by w2_fit from the number of sizes */
    return k >= 3;
  }
  int has_w = n_distinct(p->t0, p->w, p->n) >= 2, has_s = n_distinct(p->t1, p->w, p->n) >= 2;
  int npts = 0;
  for (int i = 0; i < p->n; i++) npts += p->w[i] > 0;
  if (set_free) {
    p->nfree = 0;
    p->idx[p->nfree++] = 0;
    if (has_w) p->idx[p->nfree++] = 1;
    if (has_s) p->idx[p->nfree++] = 2;
    return npts >= p->nfree;
  }
  /* a replicate must identify every term the full fit has */
  for (int k = 1; k < p->nfree; k++)
    if ((p->idx[k] == 1 && !has_w) || (p->idx[k] == 2 && !has_s)) return 0;
  return npts >= p->nfree;
}

/* Best converged optimum over the start grid (SCALING; 4 x 4 x 7 = 112 starts, or 16 when
 * coarse) or from one start (PGR: convex). The selected run goes to *best; converged
 * runs are preferred, then the lowest loss. */
static void fit_from_grid(Solver *s, Prob *p, const W2FitOptions *o, int coarse, RunOut *best,
                          int *n_starts, int *n_conv, int *n_at_best) {
  RunOut run;
  int have = 0, nst = 0, nc = 0;
  double *losses = NULL;
  if (p->kind == W2_FIT_SCALING) {
    double ymin = INFINITY, tmin = INFINITY, tmax = -INFINITY;
    int m = 0;
    for (int i = 0; i < p->n; i++)
      if (p->w[i] > 0) {
        ymin = fmin(ymin, p->ty[i]);
        tmin = fmin(tmin, p->t0[i]);
        tmax = fmax(tmax, p->t0[i]);
        m++;
      }
    double *ys = malloc((size_t)(m ? m : 1) * sizeof *ys);
    double ymed = ymin;
    if (ys) {
      int k = 0;
      for (int i = 0; i < p->n; i++)
        if (p->w[i] > 0) ys[k++] = p->ty[i];
      qsort(ys, (size_t)k, sizeof *ys, cmp_double);
      ymed = quantile_sorted(ys, k, 0.5);
      free(ys);
    }
    double span = tmax - tmin > 1e-12 ? tmax - tmin : 1.0;
    /* E below the smallest error; A' (reducible error at c_ref) around the typical error;
     * alpha such that the reducible part changes by 0.1 .. 16 nats over the data. */
    static const double de[] = {-4, -2, -1, -0.3}, da[] = {-3, -1.5, -0.5, 0.5},
                        ka[] = {0.1, 0.3, 1, 2, 4, 8, 16};
    int ne = p->u[0] == -INFINITY ? 1 : 4, na = 4, nk = 7; /* E held at 0: no E axis */
    losses = malloc((size_t)(ne * na * nk) * sizeof *losses);
    /* coarse: every other value on each axis (16 starts), for the preliminary fit */
    int step = coarse ? 2 : 1;
    for (int ie = ne > 1 ? coarse : 0; ie < ne; ie += step)
      for (int ia = coarse; ia < na; ia += step)
        for (int ik = 0; ik < nk; ik += step) {
          double u0[3] = {ymin + de[ie], ymed + da[ia], log(ka[ik] / span)};
          run_lm(s, p, u0, o, &run);
          nst++;
          if (run.converged) {
            if (losses) losses[nc] = run.loss;
            nc++;
          }
          /* prefer converged runs; among equals the lower loss */
          if (!have || (run.converged && !best->converged) ||
              (run.converged == best->converged && run.loss < best->loss)) {
            *best = run;
            have = 1;
          }
        }
  } else {
    double u0[3] = {0, 0, 0};
    run_lm(s, p, u0, o, &run);
    *best = run;
    nst = 1;
    nc = run.converged;
    losses = malloc(sizeof *losses);
    if (losses) losses[0] = run.loss;
  }
  int at = 0;
  if (losses && best->converged)
    for (int k = 0; k < nc; k++)
      if (losses[k] <= best->loss + 1e-6 * fabs(best->loss) + 1e-300) at++;
  free(losses);
  *n_starts = nst;
  *n_conv = nc;
  *n_at_best = at;
}

/* 1.345 * sigma, sigma = 1.4826 * median |residual| at internal parameters u. */
static double huber_scale(const Prob *p, const double *u, double floor_delta) {
  int m = 0;
  for (int i = 0; i < p->n; i++) m += p->w[i] > 0;
  double *r = malloc((size_t)(m ? m : 1) * sizeof *r), mad = 0.0;
  if (r && m > 0) {
    int k = 0;
    for (int i = 0; i < p->n; i++)
      if (p->w[i] > 0) r[k++] = fabs(model_eval(p, u, i, NULL) - p->ty[i]);
    qsort(r, (size_t)k, sizeof *r, cmp_double);
    mad = quantile_sorted(r, k, 0.5);
  }
  free(r);
  /* the floor keeps an (almost) exact fit from making delta 0, i.e. the loss pure L1 */
  return fmax(1.345 * 1.4826 * mad, floor_delta);
}

/* Huber delta on the scale of the noise (Huber's 1.345 sigma: 95 % efficiency under
 * Gaussian noise, bounded influence beyond). sigma comes from a robust two-stage fit:
 * least squares (from the start grid), then Huber with the delta of those residuals,
 * then the MAD of the Huber residuals, so one gross outlier cannot inflate delta.
 * A caller-fixed delta (> 0) skips all of this. */
static void choose_delta(Solver *s, Prob *p, const W2FitOptions *o, double fixed) {
  if (fixed > 0) {
    p->delta = fixed;
    return;
  }
  const double floor_delta = 1e-3; /* Chinchilla's delta, in log-error or PGR units */
  RunOut ls, hub;
  int a, b, c;
  p->delta = 1e30; /* every residual on the quadratic branch: least squares */
  fit_from_grid(s, p, o, 1, &ls, &a, &b, &c);
  p->delta = huber_scale(p, ls.u, floor_delta);
  run_lm(s, p, ls.u, o, &hub);
  p->delta = huber_scale(p, hub.u, floor_delta);
}

W2Err w2_fit(const W2FitData *d, const int *mask, const W2FitOptions *opts, W2FitResult *out) {
  W2FitOptions o;
  if (opts)
    o = *opts;
  else
    w2_fit_options_default(&o);
  memset(out, 0, sizeof *out);
  out->kind = d->kind;
  for (int j = 0; j < W2_FIT_NPAR; j++)
    out->theta[j] = out->lo_pct[j] = out->hi_pct[j] = out->lo[j] = out->hi[j] = NAN;
  out->level = o.level;
  out->interval_k = NAN;

  W2Err err = W2_OK;
  Prob p;
  Solver s = {0};
  gsl_rng *rng = NULL;
  int *gmap = NULL, *gvals = NULL, *lmap = NULL, *lvals = NULL, *cnt = NULL;
  uint64_t *rep_hash = NULL;
  double *keep = NULL;
  gsl_error_handler_t *old_handler = gsl_set_error_handler_off();

  W2_CALL_GOTO(err, done, prob_build(d, mask, &p));
  int n = p.n;
  ALLOC_GOTO(err, done, gmap, n);
  ALLOC_GOTO(err, done, gvals, n);
  ALLOC_GOTO(err, done, lmap, n);
  ALLOC_GOTO(err, done, lvals, n);
  ALLOC_GOTO(err, done, keep, n);
  memcpy(keep, p.w, (size_t)n * sizeof *keep);
  int n_groups = dense_ids(d->group, keep, n, gvals, gmap);
  int n_levels = dense_ids(d->level, keep, n, lvals, lmap);
  int n_points = 0;
  for (int i = 0; i < n; i++) n_points += keep[i] > 0;
  out->n_points = n_points;
  out->n_groups = n_groups;
  out->n_levels = n_levels;
  out->ref0 = p.ref0;
  out->ref1 = d->kind == W2_FIT_PGR ? p.ref1 : NAN;

  /* Saturation (fit.h): a family needs more distinct sizes (PGR: (weak, strong) cells)
   * than free parameters, or the curve just passes through the means; a free E needs
   * W2_FIT_MIN_SIZES_FREE_E sizes, with fewer E is held at 0 (a pure power law). */
  if (d->kind == W2_FIT_SCALING) {
    int efree = n_levels >= W2_FIT_MIN_SIZES_FREE_E;
    p.nfree = 0;
    if (efree) p.idx[p.nfree++] = 0;
    else p.u[0] = -INFINITY; /* E = exp(u[0]) = 0 */
    p.idx[p.nfree++] = 1;
    p.idx[p.nfree++] = 2;
    out->n_cells = n_levels;
    if (n_levels < 3) {
      out->saturated = 1;
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "saturated: %d size%s cannot test even a 2-parameter power law "
                           "(needs >= 3 sizes; a free E needs >= %d)",
                           n_levels, n_levels == 1 ? "" : "s", W2_FIT_MIN_SIZES_FREE_E);
      goto done;
    }
  } else {
    if (!prob_identifiable(&p, 1, lmap, n_levels) || n_points < 2) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "needs >= 2 cells to fit PGR; has %d", n_points);
      goto done;
    }
    /* distinct (strong, weak) cells among the points */
    int nc = 0;
    for (int i = 0; i < n; i++) {
      if (!(keep[i] > 0)) continue;
      int j;
      for (j = 0; j < i; j++)
        if (keep[j] > 0 && d->level[j] == d->level[i] &&
            (!d->sub || d->sub[j] == d->sub[i]))
          break;
      nc += j == i;
    }
    out->n_cells = nc;
    if (nc <= p.nfree) {
      out->saturated = 1;
      for (int k = 0; k < p.nfree; k++) out->free_par[p.idx[k]] = 1;
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "saturated: %d (weak, strong) cell%s for %d parameter%s (needs >= %d "
                           "cells to fit PGR)", nc, nc == 1 ? "" : "s", p.nfree,
                           p.nfree == 1 ? "" : "s", p.nfree + 1);
      goto done;
    }
  }
  for (int j = 0; j < W2_FIT_NPAR; j++) out->free_par[j] = 0;
  for (int k = 0; k < p.nfree; k++) out->free_par[p.idx[k]] = 1;
  W2_CALL_GOTO(err, done, solver_init(&s, &p));
  choose_delta(&s, &p, &o, d->kind == W2_FIT_SCALING ? o.huber_delta : o.pgr_delta);
  out->delta = p.delta;

  RunOut best;
  fit_from_grid(&s, &p, &o, 0, &best, &out->n_starts, &out->n_starts_converged, &out->n_at_best);
  to_natural(&p, best.u, out->theta);
  out->loss = best.loss;
  out->grad_ratio = best.ratio;
  out->converged = best.converged;
  out->iterations = best.iterations;

  /* bootstrap over groups (seeds) */
  if (o.n_boot > 0 && n_groups >= 2 && best.converged) {
    ALLOC_GOTO(err, done, cnt, n_groups);
    ALLOC_GOTO(err, done, out->boot, (size_t)o.n_boot * 3);
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory (rng)");
      goto done;
    }
    gsl_rng_set(rng, o.seed);
    ALLOC_GOTO(err, done, rep_hash, o.n_boot);
    int kept = 0;
    for (int b = 0; b < o.n_boot; b++) {
      memset(cnt, 0, (size_t)n_groups * sizeof *cnt);
      for (int g = 0; g < n_groups; g++) cnt[gsl_rng_uniform_int(rng, (unsigned long)n_groups)]++;
      for (int i = 0; i < n; i++) p.w[i] = keep[i] > 0 ? (double)cnt[gmap[i]] : 0.0;
      if (!prob_identifiable(&p, 0, lmap, n_levels)) continue;
      RunOut run;
      run_lm(&s, &p, best.u, &o, &run);
      if (!run.converged && d->kind == W2_FIT_SCALING) {
        int a, c, e;
        fit_from_grid(&s, &p, &o, 0, &run, &a, &c, &e);
      }
      if (!run.converged) continue;
      to_natural(&p, run.u, out->boot + 3 * kept);
      /* which seeds, how often: replicates with the same counts are the same replicate */
      uint64_t h = 1469598103934665603ULL;
      for (int g = 0; g < n_groups; g++) h = (h ^ (uint64_t)cnt[g]) * 1099511628211ULL;
      rep_hash[kept] = h;
      kept++;
    }
    out->n_boot = o.n_boot;
    out->n_boot_converged = kept;
    qsort(rep_hash, (size_t)kept, sizeof *rep_hash, cmp_u64);
    for (int b = 0; b < kept; b++) out->n_boot_distinct += b == 0 || rep_hash[b] != rep_hash[b - 1];
    if (kept >= 2) {
      double *col;
      ALLOC_GOTO(err, done, col, kept);
      for (int j = 0; j < W2_FIT_NPAR; j++) {
        for (int b = 0; b < kept; b++) col[b] = out->boot[3 * b + j];
        qsort(col, (size_t)kept, sizeof *col, cmp_double);
        out->lo_pct[j] = quantile_sorted(col, kept, 0.5 * (1 - o.level));
        out->hi_pct[j] = quantile_sorted(col, kept, 1 - 0.5 * (1 - o.level));
      }
      /* small-sample widening (fit.h): t with S-1 degrees of freedom over z, and the
       * (S-1)/S variance deficit of resampling S clusters */
      double q = 0.5 * (1 + o.level), S = n_groups;
      out->interval_k =
          gsl_cdf_tdist_Pinv(q, S - 1) / gsl_cdf_ugaussian_Pinv(q) * sqrt(S / (S - 1));
      for (int j = 0; j < W2_FIT_NPAR; j++) {
        if (d->kind == W2_FIT_SCALING && !out->free_par[j]) { /* E held at 0: no interval */
          out->lo_pct[j] = out->hi_pct[j] = NAN;
          continue;
        }
        out->lo[j] = out->lo_pct[j];
        out->hi[j] = out->hi_pct[j];
        /* E, A and alpha are positive: widened on the log scale */
        widen(out->theta[j], out->interval_k, d->kind == W2_FIT_SCALING, &out->lo[j],
              &out->hi[j]);
      }
      free(col);
    }
  }

done:
  gsl_set_error_handler(old_handler);
  if (rng) gsl_rng_free(rng);
  solver_free(&s);
  prob_free(&p);
  free(gmap);
  free(gvals);
  free(lmap);
  free(lvals);
  free(cnt);
  free(rep_hash);
  free(keep);
  if (err) w2_fit_result_free(out);
  return err;
}

void w2_fit_result_free(W2FitResult *r) {
  free(r->boot);
  r->boot = NULL;
  r->n_boot_converged = 0;
}

/* ---------------------------------------------------------------------------------- */
/* Backtest                                                                           */

typedef struct {
  int level;
  double key; /* mean log compute on the level axis */
} LevelRank;

static int cmp_level_rank(const void *a, const void *b) {
  const LevelRank *x = a, *y = b;
  if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
  return (x->level > y->level) - (x->level < y->level);
}

W2Err w2_fit_backtest(const W2FitData *d, int n_held_out, const W2FitOptions *opts,
                      W2Backtest *out) {
  memset(out, 0, sizeof *out);
  out->n_held_out = n_held_out;
  out->mean_abs_err = NAN;
  W2_CHECK(n_held_out >= 1, W2_ERR_ARG, "backtest needs >= 1 held-out size");
  int n = d->n;
  const double *axis = d->kind == W2_FIT_SCALING ? d->x0 : d->x1;
  W2_CHECK(axis != NULL, W2_ERR_INTERNAL, "fit data incomplete");

  W2Err err = W2_OK;
  LevelRank *lr = NULL;
  int *cntl = NULL, *mask = NULL;
  ALLOC_GOTO(err, done, lr, n);
  ALLOC_GOTO(err, done, cntl, n);
  ALLOC_GOTO(err, done, mask, n);

  /* rank levels by mean log compute on the extrapolation axis */
  int nl = 0;
  for (int i = 0; i < n; i++) {
    int j;
    for (j = 0; j < nl; j++)
      if (lr[j].level == d->level[i]) break;
    if (j == nl) {
      lr[nl].level = d->level[i];
      lr[nl].key = 0;
      nl++;
    }
    lr[j].key += log(axis[i] > 0 ? axis[i] : DBL_MIN);
    cntl[j]++;
  }
  for (int j = 0; j < nl; j++) lr[j].key /= cntl[j];
  qsort(lr, (size_t)nl, sizeof *lr, cmp_level_rank);

  /* what is left must itself be fittable without saturating (w2_fit's rules): >= 3 sizes
   * for a scaling law (a pure power law below W2_FIT_MIN_SIZES_FREE_E), >= 2 strong sizes
   * for PGR (and more cells than parameters, checked by the refit) */
  int need = d->kind == W2_FIT_SCALING ? 3 : 2;
  if (nl - n_held_out < need) {
    snprintf(out->note, sizeof out->note,
             "not possible (%d %ssizes): holding out %d leaves fewer than the %d a fit needs", nl,
             d->kind == W2_FIT_SCALING ? "" : "strong ", n_held_out, need);
    goto done;
  }
  int cut = nl - n_held_out; /* ranks >= cut are held out */
  for (int i = 0; i < n; i++) {
    int rnk = 0;
    while (lr[rnk].level != d->level[i]) rnk++;
    mask[i] = rnk < cut;
  }
  err = w2_fit(d, mask, opts, &out->fit);
  if (err == W2_ERR_DATA) {
    /* not enough left to fit is a finding of the backtest, not a failure of the command */
    snprintf(out->note, sizeof out->note, "not possible (%d %ssizes): %s", nl,
             d->kind == W2_FIT_SCALING ? "" : "strong ", w2_error_message());
    w2_error_clear();
    err = W2_OK;
    goto done;
  }
  if (err) {
    w2_error_push(__FILE__, __LINE__, __func__, err);
    goto done;
  }
  out->ok = 1;

  /* held-out cells: distinct (level, sub) among held-out points, by level rank then sub */
  ALLOC_GOTO(err, done, out->rows, n);
  int nr = 0;
  for (int rnk = cut; rnk < nl; rnk++) {
    int first_row = nr;
    for (int i = 0; i < n; i++) {
      if (mask[i] || d->level[i] != lr[rnk].level) continue;
      int sub = d->sub ? d->sub[i] : 0, j;
      for (j = first_row; j < nr; j++)
        if (out->rows[j].sub == sub) break;
      if (j == nr) {
        memset(&out->rows[nr], 0, sizeof out->rows[nr]);
        out->rows[nr].level = lr[rnk].level;
        out->rows[nr].sub = sub;
        nr++;
      }
      W2BacktestRow *row = &out->rows[j];
      row->x0 += log(d->x0[i]);
      row->x1 += d->x1 ? log(d->x1[i]) : 0.0;
      row->measured += d->y[i];
      row->n_points++;
    }
    /* keep rows of one level ordered by sub id (insertion sort: few rows) */
    for (int a = first_row + 1; a < nr; a++)
      for (int b = a; b > first_row && out->rows[b - 1].sub > out->rows[b].sub; b--) {
        W2BacktestRow t = out->rows[b];
        out->rows[b] = out->rows[b - 1];
        out->rows[b - 1] = t;
      }
  }
  double sum = 0;
  for (int j = 0; j < nr; j++) {
    W2BacktestRow *row = &out->rows[j];
    row->x0 = exp(row->x0 / row->n_points);
    row->x1 = d->x1 ? exp(row->x1 / row->n_points) : NAN;
    row->measured /= row->n_points;
    row->predicted = w2_fit_predict(d->kind, out->fit.theta, out->fit.ref0, out->fit.ref1,
                                    row->x0, row->x1);
    w2_fit_predict_band(&out->fit, row->x0, row->x1, &row->pred_lo, &row->pred_hi);
    row->abs_err = fabs(row->predicted - row->measured);
    sum += row->abs_err;
  }
  out->n_rows = nr;
  out->mean_abs_err = nr ? sum / nr : NAN;

done:
  free(lr);
  free(cntl);
  free(mask);
  if (err) w2_backtest_free(out);
  return err;
}

void w2_backtest_free(W2Backtest *b) {
  w2_fit_result_free(&b->fit);
  free(b->rows);
  b->rows = NULL;
  b->n_rows = 0;
}

double w2_fit_loss(const W2FitData *d, const double *w, double delta, double ref0,
                   double ref1, const double *u, double *grad) {
  Prob p;
  if (prob_build(d, NULL, &p)) {
    prob_free(&p);
    w2_error_clear();
    return NAN;
  }
  /* use the caller's references so u means the same thing as in the caller's fit */
  for (int i = 0; i < p.n; i++) {
    if (d->kind == W2_FIT_SCALING) {
      p.t0[i] = log(d->x0[i] / ref0);
    } else {
      p.t0[i] = log10(d->x0[i] / ref0);
      p.t1[i] = log10(d->x1[i] / ref1);
    }
    if (w) p.w[i] = w[i];
  }
  p.delta = delta;
  p.nfree = 3;
  for (int j = 0; j < 3; j++) p.idx[j] = j;
  double L = prob_loss(&p, u, grad, NULL);
  prob_free(&p);
  return L;
}
