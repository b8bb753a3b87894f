/* probe.h — linear probes: L2-regularised logistic regression on standardised frozen features.
 *
 * A probe answers "how much of a task is linearly readable from a model's representation",
 * so it must be solved to convergence, not trained for a number of SGD epochs (an
 * unregularised probe fitted by SGD on 1,000 weak labels memorises them and its test
 * accuracy peaks at its first evaluation point; issue 11). Here:
 *
 *   standardise   z_ij = (F_ij - mean_j) / std_j, mean and std over the TRAINING rows
 *                 (std 0 -> the feature is dropped: z = 0);
 *   objective     J(w, b) = (1/n) sum_i CE(y_i, sigmoid(z_i . w + b)) + (lambda/2) |w|^2,
 *                 CE(y, p) = -y log p - (1-y) log(1-p), soft targets y in [0, 1] allowed;
 *                 the bias is not penalised. lambda multiplies a MEAN loss, so the same
 *                 lambda means the same thing at any n (sklearn's C = 1 / (n lambda)).
 *   solver        Newton's method with backtracking (Armijo) line search, the Hessian
 *                 (1/n) Z^T diag(p(1-p)) Z + lambda I formed and solved by BLAS/LAPACK
 *                 (ssyrk, spotrf/spotrs: single precision, an inexact direction costs at
 *                 most an iteration) while objective, gradient and line search are double,
 *                 until the gradient's max-norm is below tol.
 *                 When d exceeds the training rows, the problem is first reduced exactly to
 *                 the r <= n dimensional row space of Z (w = V_r beta, from the eigen-
 *                 decomposition of the n x n Gram matrix Z Z^T, LAPACK dsyevd): the penalty
 *                 and every logit are unchanged, and the Newton system is n x n, not d x d.
 *   lambda        chosen by k-fold cross-validation over a log grid, on the labels the
 *                 probe is given (weak labels for lp_weak: never ground truth, never test):
 *                 each fold standardises on its own training rows, the grid is walked from
 *                 the largest lambda down with warm starts, and the criterion (mean held-out
 *                 CE against the given soft labels, or held-out accuracy against their hard
 *                 version) picks lambda; ties go to the larger lambda. Then the probe is
 *                 refitted on all rows with that lambda.
 * Folds are a pure function of opts.key (rng.h), so a fit is deterministic and independent
 * of ranks and order. All of this runs on one rank (the pipeline calls it on every rank of
 * a model's grid with identical inputs; the results are identical bitwise). */
#ifndef W2_PROBE_H
#define W2_PROBE_H

#include <stdint.h>

#include "error.h"

#define W2_PROBE_MAX_LAMBDAS 64

typedef enum { W2_PROBE_CV_CE = 0, W2_PROBE_CV_ACC = 1 } W2ProbeCriterion;

typedef struct W2ProbeOpts {
  int folds;              /* k of k-fold CV (>= 2); 1 = no CV: fit at lambda_max */
  int nlambda;            /* grid points, log-spaced from lambda_max down to lambda_min */
  double lambda_min, lambda_max;
  W2ProbeCriterion criterion;
  uint64_t key;           /* fold assignment (w2_permutation(key, 0, n)) */
  double tol;             /* Newton stops when max |gradient| < tol */
  int max_iter;           /* Newton iterations per fit */
} W2ProbeOpts;

/* Defaults: 5 folds, 13 points over [1e-4, 1e2] (two per decade), CE, tol 1e-6, 100
 * iterations, key 0. */
void w2_probe_opts_default(W2ProbeOpts *o);

typedef struct W2Probe {
  int d;
  double *mean, *inv_std;  /* (d) standardisation of the rows it was fitted on */
  double *w;               /* (d) weights on the standardised features */
  double b;                /* bias */
  double lambda;           /* the penalty it was fitted with (the CV choice) */
  int iters;               /* Newton iterations of the final fit */
  /* the cross-validation curve (nlambda = 0 when fitted without CV): lambda[k] in
   * decreasing order, mean held-out CE and accuracy against the given labels */
  int nlambda, chosen;
  double lambdas[W2_PROBE_MAX_LAMBDAS], cv_ce[W2_PROBE_MAX_LAMBDAS],
      cv_acc[W2_PROBE_MAX_LAMBDAS];
  double flops;            /* floating-point work of the whole fit, CV included (approx.) */
} W2Probe;

/* Fits a probe to n rows of features F (n x d row-major) and targets y (n, in [0, 1]),
 * choosing lambda by cross-validation as documented above (opts NULL = defaults). Needs
 * n >= 2 * folds. */
W2Err w2_probe_fit(const float *F, const float *y, int n, int d, const W2ProbeOpts *opts,
                   W2Probe **out);
/* Fits at a fixed lambda (no cross-validation). */
W2Err w2_probe_fit_lambda(const float *F, const float *y, int n, int d, double lambda,
                          const W2ProbeOpts *opts, W2Probe **out);
/* prob[i] = sigmoid(standardised F_i . w + b) for n rows of F (n x d row-major). */
void w2_probe_predict(const W2Probe *p, const float *F, int n, float *prob);
void w2_probe_destroy(W2Probe **p);

/* Cross-fitted predictions: rows are split into `folds` folds by key; each fold is
 * predicted by a probe (with its own cross-validated lambda over the other rows, opts)
 * fitted on the other folds, so no row's score comes from a probe that saw its label.
 * The fold probes' FLOPs are added to *flops (may be NULL). */
W2Err w2_probe_crossfit(const float *F, const float *y, int n, int d, int folds, uint64_t key,
                        const W2ProbeOpts *opts, float *out, double *flops);

/* The objective J at theta = (w[0..d), b) on already standardised features Z (n x d
 * row-major, double) and its gradient (d + 1 entries; NULL = skip). Exposed for the tests. */
double w2_probe_objective(const double *Z, const float *y, int n, int d, double lambda,
                          const double *theta, double *grad);

#endif
