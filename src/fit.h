/* fit.h — scaling-law and PGR fits on plain arrays (no I/O; `w2sweep fit` in cmd_fit.c
 * reads the results file and calls these).
 *
 * Two model forms, both fitted by minimising a SUMMED Huber loss of the residuals with
 * GSL's trust-region nonlinear least squares (gsl_multifit_nlinear, Levenberg-Marquardt):
 *
 *   W2_FIT_SCALING   err(C) = E + A * C^(-alpha)
 *       C   = training compute in FLOPs (> 0), err = test error = 1 - accuracy, in (0, 1].
 *       residual r = log(pred) - log(err), pred written as LSE(e, a - alpha*ln(C/c_ref))
 *       with E = exp(e), A = exp(a) * c_ref^alpha, alpha = exp(b), so E >= 0, A > 0 and
 *       alpha > 0 are constraints the optimiser cannot break (alpha -> 0 and E -> 0 are
 *       reachable as limits; a fit at alpha ~ 0 says the error does not fall with compute).
 *       Saturation: a fit needs more distinct sizes than free parameters, or the curve only
 *       passes through the means. A free E needs >= W2_FIT_MIN_SIZES_FREE_E (5) sizes; with
 *       3-4 sizes E is held at 0 (err = A*C^-alpha, 2 parameters, free_par[0] = 0); with
 *       fewer the fit is refused and marked saturated.
 *       This is Chinchilla's approach 3 (Hoffmann et al. 2022) as re-done by Besiroglu et al.
 *       (Epoch AI, 2024): Huber loss on log error, summed over points, not averaged
 *       (averaging shrinks the gradient and stops optimisers early), a grid of 112
 *       starting points with the best converged optimum kept, an explicit convergence
 *       check, parameters never rounded.
 *       One deliberate difference: Chinchilla's delta = 1e-3 was set for LM pretraining
 *       losses; test errors measured on finite test sets are much noisier (several %
 *       relative), where delta = 1e-3 turns the fit into a median (L1) regression that is
 *       inefficient and converges slowly. By default delta is set on the noise scale,
 *       Huber's 1.345 * sigma (95 % Gaussian efficiency, bounded influence of outliers),
 *       sigma = 1.4826 * MAD of the residuals of a robust preliminary fit (least squares
 *       from the grid, then Huber). W2FitOptions.huber_delta = 1e-3 reproduces Chinchilla.
 *       c_ref (geometric mean of the compute values) only conditions the optimisation;
 *       the reported E, A, alpha are for C in FLOPs.
 *
 *   W2_FIT_PGR       PGR(Cw, Cs) = p0 + pw * log10(Cw/cw_ref) + ps * log10(Cs/cs_ref)
 *       Cw, Cs = training compute of the weak supervisor and of the strong student (FLOPs),
 *       cw_ref, cs_ref = geometric means of the observed values, so p0 is the PGR at the
 *       sweep's typical pair and pw, ps are "PGR per decade of compute".
 *       Why linear and not logistic: PGR is not confined to [0, 1] (a student can do worse
 *       than its supervisor, PGR < 0, or beat the ceiling, PGR > 1), so a logistic would
 *       clip real behaviour; over the compute ranges of Burns et al. (2023, Figs. 3, 5)
 *       PGR moves roughly linearly in log compute; and three parameters are what a sweep
 *       of a handful of sizes can identify. A term is dropped (held at 0) when its compute
 *       takes fewer than two distinct values (e.g. a single weak size). Saturation: it
 *       needs more distinct (weak, strong) cells than free terms, else it is refused and
 *       marked saturated.
 *       PGR is a ratio whose denominator (ceiling - weak accuracy) can be small, which
 *       makes heavy-tailed outliers; the loss is therefore Huber with delta chosen as for
 *       the scaling fit (1.345 * robust sigma) unless the caller sets pgr_delta.
 *       The Huber loss of a linear model is convex: one start suffices.
 *
 * Huber as least squares: with h(r) = r^2/2 (|r| <= d), d|r| - d^2/2 (|r| > d), the
 * residual handed to GSL is f = sign(r) * sqrt(2 w h(r)) (w = point weight), so
 * 1/2 sum f^2 = sum w h(r) exactly and LM minimises the summed Huber loss itself.
 *
 * Convergence: the driver stopping is not trusted. A run counts as converged when the
 * point is stationary: for every parameter the points' gradient terms cancel to within
 * grad_tol of their total size (grad_ratio), or every residual is at rounding level.
 * When LM stops short of that (with a small delta most points sit on the linear branch
 * and LM's Gauss-Newton model crawls), damped Newton steps with the exact Hessian and
 * Armijo backtracking finish the job; they only ever lower the loss. Fits that are still
 * not stationary are reported with converged = 0, never silently used.
 *
 * Intervals: nonparametric bootstrap over seeds (clusters). A replicate draws as many
 * seeds as there are, with replacement, and refits on every point of the drawn seeds
 * (a seed drawn twice counts twice); replicates start from the full-data optimum and
 * fall back to the full grid when that start does not converge; replicates that still do
 * not converge are dropped and counted. lo_pct/hi_pct are the percentile intervals
 * (type-7 quantiles of the replicates). n_boot_distinct counts the distinct kept replicates
 * (distinct seed multiplicities): S seeds allow at most C(2S-1, S) (10 for S = 3), so a
 * 1000-replicate bootstrap over 3 seeds is 10 replicates repeated.
 * With S seeds a percentile bootstrap acts like a z interval built from a standard error
 * with S-1 degrees of freedom and only (S-1)/S of the variance, so it covers less than its
 * level: measured 71 % at S=3, 83 % at S=5, 90 % at S=10, 93 % at S=20 for a nominal 95 %
 * (analysis/README.md). The reported interval lo/hi therefore widens the percentile
 * interval about the estimate by k = t_{S-1}(q) / z(q) * sqrt(S/(S-1)), q = (1+level)/2
 * (k = 2.69 at S=3, 1.58 at S=5, 1.22 at S=10, 1.10 at S=20; on the log scale for the
 * positive E and A), never narrower than lo_pct/hi_pct; measured coverage 92-96 % at
 * S = 3..20. Prediction bands (w2_fit_predict_band) get the same widening.
 *
 * Backtest: the fit is repeated without the points of the largest h "levels" (sizes,
 * ordered by compute; for PGR the strong sizes) and predicts each held-out cell at the
 * geometric-mean compute of that cell; the measurement is the mean over that cell's
 * points (error for scaling, PGR for PGR). The refit follows w2_fit's rules on what is
 * left (E held at 0 below 5 sizes), and a backtest is "not possible (N sizes)" (ok = 0)
 * when fewer than 3 sizes (PGR: 2 strong sizes, and more cells than terms) remain.
 *
 * Randomness: gsl_rng mt19937 seeded from W2FitOptions.seed only, so results are
 * reproducible and independent of the order in which fits are run.
 *
 * Cost (-O3, one core): a scaling fit of 6 sizes x 3 seeds takes ~8 ms (two-stage delta
 * plus 112 starts), ~36 ms with 1000 bootstrap replicates.
 */
#ifndef W2_FIT_H
#define W2_FIT_H

#include "error.h"

enum { W2_FIT_SCALING = 0, W2_FIT_PGR = 1 };
#define W2_FIT_NPAR 3
/* A scaling fit with a free irreducible error E needs this many sizes; with 3-4 sizes E is
 * held at 0 (err = A*C^-alpha, 2 parameters); with fewer the fit is saturated (refused). */
#define W2_FIT_MIN_SIZES_FREE_E 5
/* Fewer distinct bootstrap replicates than this make a coarse interval (3 seeds have 10
 * possible replicates, 4 have 35): `w2sweep fit` warns. */
#define W2_FIT_FEW_BOOT_DISTINCT 50

typedef struct {
  double huber_delta; /* scaling fits: Huber delta on log error; <= 0 (default): 1.345 *
                         robust sigma of the residuals; 1e-3 reproduces Chinchilla */
  double pgr_delta;   /* PGR fits: Huber delta in PGR units; <= 0 (default): as above */
  int n_boot;         /* bootstrap replicates (default 1000); 0 = no intervals */
  double level;       /* interval coverage (default 0.95) */
  int max_iter;       /* iterations per start: LM, then as many Newton polish steps when LM
                         stops short of stationarity (default 500) */
  double grad_tol;    /* convergence: per parameter, |sum_i g_i| <= grad_tol * sum_i |g_i|
                         with g_i point i's gradient term (default 1e-6; see grad_ratio) */
  unsigned long seed; /* bootstrap RNG seed (default 20231214) */
} W2FitOptions;

void w2_fit_options_default(W2FitOptions *o);

/* Observations for one fit. Arrays have length n and are borrowed (not copied).
 *   x0:    SCALING: compute C (FLOPs).       PGR: weak compute Cw (FLOPs).
 *   x1:    SCALING: unused (may be NULL).    PGR: strong compute Cs (FLOPs).
 *   y:     SCALING: error in (0, 1].          PGR: PGR (any finite value).
 *   group: bootstrap cluster of each point (seed), any int values.
 *   level: size of each point (SCALING: the model's size; PGR: the strong size), any int
 *          values; levels are ranked by the mean log compute of their points for the
 *          backtest (SCALING: x0, PGR: x1).
 *   sub:   PGR: weak size of each point, so backtest cells are (weak, strong) pairs;
 *          may be NULL (SCALING, or a single cell per level). */
typedef struct {
  int kind; /* W2_FIT_SCALING or W2_FIT_PGR */
  int n;
  const double *x0, *x1, *y;
  const int *group, *level, *sub;
} W2FitData;

/* One fitted model. */
typedef struct {
  int kind;
  double theta[W2_FIT_NPAR]; /* SCALING: E, A, alpha (C in FLOPs); PGR: p0, pw, ps */
  double lo[W2_FIT_NPAR], hi[W2_FIT_NPAR]; /* interval at `level`: bootstrap over seeds,
                                              widened for few seeds (above); NaN without */
  double lo_pct[W2_FIT_NPAR], hi_pct[W2_FIT_NPAR]; /* plain percentile bootstrap interval */
  double level;       /* interval level (0.95) */
  double interval_k;  /* widening factor k applied to lo_pct/hi_pct (NaN without) */
  int free_par[W2_FIT_NPAR]; /* 1 = fitted, 0 = held at 0 (PGR terms without spread;
                                SCALING: E with fewer than W2_FIT_MIN_SIZES_FREE_E sizes, its
                                theta 0 and its intervals NaN) */
  double ref0, ref1;  /* SCALING: c_ref (FLOPs), ref1 unused; PGR: cw_ref, cs_ref */
  double delta;       /* Huber delta used */
  double loss;        /* summed Huber loss at the optimum */
  double grad_ratio;  /* stationarity at the optimum: max over parameters of
                         |sum_i g_i| / max(sum_i |g_i|, sum_i w_i |h'(r_i)|), i.e. how far the
                         points' pulls are from cancelling (0 = exact stationary point) */
  int converged;      /* finite, no GSL failure, and grad_ratio <= grad_tol (or every
                         residual at rounding level); the driver stopping is not enough */
  int iterations;     /* LM iterations of the selected start */
  int n_points, n_levels, n_groups;
  int n_starts, n_starts_converged; /* grid starts tried / converged */
  int n_at_best;      /* converged starts within 1e-6 (relative) of the best loss */
  int n_cells;        /* SCALING: distinct sizes; PGR: distinct (weak, strong) cells */
  int saturated;      /* 1: no more n_cells than free parameters (the curve would pass
                         through the means): w2_fit refused with W2_ERR_DATA */
  int n_boot, n_boot_converged;     /* replicates drawn / kept */
  int n_boot_distinct; /* distinct kept replicates (distinct seed multiplicities): with S
                          seeds at most C(2S-1, S), e.g. 10 for S = 3 */
  double *boot;       /* n_boot_converged x 3, row-major, natural parameters (theta) */
} W2FitResult;

/* Fit `d` (all points, or those with mask[i] != 0 when mask is not NULL) and, when
 * opts->n_boot > 0 and there are >= 2 groups, bootstrap intervals.
 * Raises W2_ERR_DATA (the message says why) when the data cannot determine the model:
 * SCALING needs positive compute, errors in (0, 1] and >= 3 distinct levels (with 3-4
 * levels E is held at 0, free_par[0] = 0); PGR needs >= 2 points, positive computes, finite
 * PGR; and either needs more distinct levels (PGR: cells) than free parameters, else
 * out->saturated = 1 with the error (the message starts "saturated:").
 * A fit that does not converge is NOT an error: out->converged says so.
 * out->boot is allocated; release with w2_fit_result_free. */
W2Err w2_fit(const W2FitData *d, const int *mask, const W2FitOptions *opts, W2FitResult *out);
void w2_fit_result_free(W2FitResult *r);

/* Model prediction at (x0, x1) (same units as W2FitData) with natural parameters theta. */
double w2_fit_predict(int kind, const double *theta, double ref0, double ref1, double x0,
                      double x1);
/* Interval (r->level) of the prediction at (x0, x1): percentile over r's bootstrap
 * samples, widened by r->interval_k like the parameter intervals (NaN without samples). */
void w2_fit_predict_band(const W2FitResult *r, double x0, double x1, double *lo, double *hi);

/* One held-out cell of a backtest. */
typedef struct {
  int level;        /* held-out level (size) id as given in W2FitData.level */
  int sub;          /* sub id (PGR: weak size) or 0 */
  double x0, x1;    /* geometric-mean compute of the cell's points */
  double predicted; /* prediction of the fit without the held-out levels */
  double pred_lo, pred_hi; /* its band (w2_fit_predict_band; NaN without one) */
  double measured;  /* mean of y over the cell's points */
  double abs_err;   /* |predicted - measured| */
  int n_points;
} W2BacktestRow;

typedef struct {
  int n_held_out;    /* number of largest levels held out */
  int ok;            /* 0: not enough levels left to fit (see note) */
  char note[160];
  W2FitResult fit;   /* the fit without them (valid when ok) */
  int n_rows;
  W2BacktestRow *rows; /* n_rows cells, ordered by level rank then sub */
  double mean_abs_err; /* mean of rows[].abs_err (NaN if none) */
} W2Backtest;

/* Refit without the n_held_out largest levels and score the extrapolation. Too few
 * levels left is not an error (out->ok = 0, out->note says why). */
W2Err w2_fit_backtest(const W2FitData *d, int n_held_out, const W2FitOptions *opts,
                      W2Backtest *out);
void w2_backtest_free(W2Backtest *b);

/* Summed weighted Huber loss and its gradient with respect to the INTERNAL parameters
 * (SCALING: e = ln E, a = ln(A c_ref^-alpha), b = ln alpha; PGR: p0, pw, ps) at u. Exposed for
 * tests (gradient vs finite differences). w may be NULL (all 1). grad may be NULL. */
double w2_fit_loss(const W2FitData *d, const double *w, double delta, double ref0,
                   double ref1, const double *u, double *grad);

/* Huber function and derivative (exposed for tests). */
double w2_huber(double r, double delta);
double w2_huber_deriv(double r, double delta);

#endif
