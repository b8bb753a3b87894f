/* metrics.c — accuracy, AUROC, ECE, BCE and agreement (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

double w2_accuracy(const float *p, const float *y, int n) {
  long ok = 0;
  for (int i = 0; i < n; i++) ok += (p[i] > 0.5f) == (y[i] > 0.5f);
  return n ? (double)ok / n : NAN;
}

typedef struct {
  float p;
  float y;
} PY;

static int cmp_py(const void *a, const void *b) {
  float x = ((const PY *)a)->p, z = ((const PY *)b)->p;
  return (x > z) - (x < z);
}

int w2_count_nonfinite(const float *p, int n) {
  int bad = 0;
  for (int i = 0; i < n; i++) bad += !isfinite(p[i]);
  return bad;
}

/* Mann-Whitney U: mean rank of the positives among all rows, ties given their mean rank.
 * A NaN never equals itself, so the tie loop below would not advance past one (and qsort's
 * order is undefined with it): non-finite predictions have no AUROC. */
double w2_auroc(const float *p, const float *y, int n) {
  if (n <= 0 || w2_count_nonfinite(p, n)) return NAN;
  PY *v = malloc(sizeof(PY) * (size_t)n);
  if (!v) return NAN;
  long npos = 0;
  for (int i = 0; i < n; i++) {
    v[i].p = p[i];
    v[i].y = y[i];
    npos += y[i] > 0.5f;
  }
  long nneg = n - npos;
  if (npos == 0 || nneg == 0) {
    free(v);
    return NAN;
  }
  qsort(v, (size_t)n, sizeof(PY), cmp_py);
  double rank_sum = 0;
  for (int i = 0; i < n;) {
    int j = i;
    while (j < n && v[j].p == v[i].p) j++;
    double mean_rank = 0.5 * (i + 1 + j); /* ranks i+1 .. j */
    for (int t = i; t < j; t++)
      if (v[t].y > 0.5f) rank_sum += mean_rank;
    i = j;
  }
  free(v);
  return (rank_sum - (double)npos * (npos + 1) / 2.0) / ((double)npos * nneg);
}

double w2_ece(const float *p, const float *y, int n, int bins) {
  /* confidence = max(p, 1-p); accuracy of the hard prediction; |acc - conf| per bin */
  double cnt[64] = {0}, conf[64] = {0}, acc[64] = {0};
  if (bins > 64) bins = 64;
  if (w2_count_nonfinite(p, n)) return NAN; /* (int)NaN below is undefined */
  for (int i = 0; i < n; i++) {
    double c = p[i] > 0.5f ? p[i] : 1.0 - p[i];
    int b = (int)((c - 0.5) * 2.0 * bins);
    if (b >= bins) b = bins - 1;
    if (b < 0) b = 0;
    cnt[b]++;
    conf[b] += c;
    acc[b] += (p[i] > 0.5f) == (y[i] > 0.5f);
  }
  double e = 0;
  for (int b = 0; b < bins; b++)
    if (cnt[b] > 0) e += fabs(acc[b] - conf[b]) / n;
  return n ? e : NAN;
}

double w2_bce(const float *p, const float *y, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    double q = fmin(fmax(p[i], 1e-7), 1 - 1e-7);
    s -= y[i] * log(q) + (1 - y[i]) * log(1 - q);
  }
  return n ? s / n : NAN;
}

double w2_agreement(const float *a, const float *w, const float *y, int n, int which) {
  long num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    int wh = w[i] > 0.5f;
    if (which >= 0 && (wh == (y[i] > 0.5f)) != which) continue;
    den++;
    num += (a[i] > 0.5f) == wh;
  }
  return den ? (double)num / den : NAN;
}

void w2_metrics_compute(const float *p, const float *y, const float *w, int n, W2Metrics *m) {
  m->acc = w2_accuracy(p, y, n);
  m->auroc = w2_auroc(p, y, n);
  m->ece = w2_ece(p, y, n, W2_ECE_BINS);
  m->loss = w2_bce(p, y, n);
  if (w) {
    m->agree = w2_agreement(p, w, y, n, -1);
    m->agree_right = w2_agreement(p, w, y, n, 1);
    m->agree_wrong = w2_agreement(p, w, y, n, 0);
  } else {
    m->agree = m->agree_right = m->agree_wrong = NAN;
  }
  m->weak_fit = NAN;
}
