/* metrics.h — what is measured at every evaluation point of a finetuning run.
 *
 * All inputs are probabilities of the positive class and 0/1 labels; a prediction is
 * "positive" when p > 0.5. Agreement compares hard predictions of the student with hard
 * predictions of the supervisor on the same rows; "where the supervisor is right/wrong"
 * splits the rows by whether the supervisor's hard prediction equals ground truth (paper
 * Fig. 8: imitation of supervisor mistakes is agreement where it is wrong). */
#ifndef W2_METRICS_H
#define W2_METRICS_H

typedef struct W2Metrics {
  double acc;          /* test accuracy */
  double auroc;        /* area under the ROC curve (ties counted half) */
  double ece;          /* expected calibration error, W2_ECE_BINS equal-width bins */
  double loss;         /* mean binary cross entropy against ground truth */
  double agree;        /* agreement with the supervisor's test predictions (NaN if none) */
  double agree_right;  /* ... on rows where the supervisor is right */
  double agree_wrong;  /* ... on rows where the supervisor is wrong (NaN if it never is) */
  double weak_fit;     /* agreement with the weak labels on the training split B */
} W2Metrics;

#define W2_ECE_BINS 15

/* Number of non-finite (NaN or infinite) entries of p: a diverged model's predictions.
 * w2_auroc and w2_ece return NaN for such input; the pipeline fails the job (W2_ERR_NUM). */
int w2_count_nonfinite(const float *p, int n);
double w2_accuracy(const float *p, const float *y, int n);
double w2_auroc(const float *p, const float *y, int n);
double w2_ece(const float *p, const float *y, int n, int bins);
double w2_bce(const float *p, const float *y, int n);
/* Fraction of rows where (a > 0.5) == (b > 0.5); restricted to rows where the
 * supervisor w is right (which = 1) or wrong (which = 0) against y, or all (which = -1). */
double w2_agreement(const float *a, const float *w, const float *y, int n, int which);

/* Test metrics of student probabilities p against labels y and supervisor predictions w
 * (NULL: agreement fields NaN). weak_fit is left to the caller. */
void w2_metrics_compute(const float *p, const float *y, const float *w, int n, W2Metrics *m);

#endif
