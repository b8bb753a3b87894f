/* throughput.c — the per-job time model of plan (see throughput.h). */
#include "throughput.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_keys[4] = {"pretrain", "weak", "ceiling", "cell"};

/* The model's features of job j, in the order of coef() below. */
#define NCOEF 8
static void features(const W2Job *j, double x[NCOEF]) {
  for (int k = 0; k < 4; k++) x[k] = (int)j->type == k;
  x[4] = j->work.flops - j->work.probe;
  x[5] = j->work.steps;
  x[6] = j->work.act;
  x[7] = j->work.probe;
}

static void coef(const W2Throughput *t, double c[NCOEF]) {
  for (int k = 0; k < 4; k++) c[k] = t->job[k];
  c[4] = t->flop;
  c[5] = t->step;
  c[6] = t->act;
  c[7] = t->fit;
}

double w2_throughput_seconds(const W2Throughput *t, const W2Job *j) {
  double x[NCOEF], c[NCOEF], s = 0;
  features(j, x);
  coef(t, c);
  for (int k = 0; k < NCOEF; k++) s += c[k] * x[k];
  return s;
}

/* ---- the file ------------------------------------------------------------------------- */

static W2Err read_number(const char *path, config_setting_t *root, const char *key, double scale,
                         double *out) {
  config_setting_t *v = config_setting_lookup(root, key);
  W2_CHECK(v, W2_ERR_CONFIG, "%s:%d: '%s' is missing (see src/throughput.h)", path,
           config_setting_source_line(root) > 0 ? config_setting_source_line(root) : 1, key);
  int line = config_setting_source_line(v), type = config_setting_type(v);
  W2_CHECK(type == CONFIG_TYPE_FLOAT || type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64,
           W2_ERR_CONFIG, "%s:%d: '%s' must be a number", path, line, key);
  double x = config_setting_get_float(v);
  if (type != CONFIG_TYPE_FLOAT) x = (double)config_setting_get_int64(v);
  W2_CHECK(isfinite(x) && x >= 0, W2_ERR_CONFIG,
           "%s:%d: '%s' = %g must be finite and >= 0 (seconds)", path, line, key, x);
  *out = x * scale;
  return W2_OK;
}

static W2Err read_string(const char *path, config_setting_t *root, const char *key, char *out,
                         size_t len) {
  const char *v = NULL;
  W2_CHECK(config_setting_lookup_string(root, key, &v) == CONFIG_TRUE, W2_ERR_CONFIG,
           "%s: '%s' is missing or not a string (see src/throughput.h)", path, key);
  snprintf(out, len, "%s", v);
  return W2_OK;
}

static W2Err load(const char *path, config_t *cfg, W2Throughput *t) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot open the throughput model: %s", path, strerror(errno));
  int ok = config_read(cfg, f) == CONFIG_TRUE;
  fclose(f);
  W2_CHECK(ok, W2_ERR_CONFIG, "%s:%d: %s", path, config_error_line(cfg) > 0 ? config_error_line(cfg) : 1,
           config_error_text(cfg) ? config_error_text(cfg) : "unreadable");
  config_setting_t *root = config_root_setting(cfg);
  W2_CALL(read_string(path, root, "machine", t->machine, sizeof t->machine));
  W2_CALL(read_string(path, root, "date", t->date, sizeof t->date));
  W2_CALL(read_string(path, root, "source", t->source, sizeof t->source));
  double n;
  W2_CALL(read_number(path, root, "jobs", 1, &n));
  t->njobs = (int)n;
  config_setting_t *fam = config_setting_lookup(root, "family");
  t->family = W2_FAMILY_MLP;
  if (fam) {
    const char *v =
        config_setting_type(fam) == CONFIG_TYPE_STRING ? config_setting_get_string(fam) : NULL;
    t->family = W2_NFAMILIES;
    for (int k = 0; v && k < W2_NFAMILIES; k++)
      if (!strcmp(v, w2_family_names[k])) t->family = k;
    W2_CHECK(t->family < W2_NFAMILIES, W2_ERR_CONFIG,
             "%s:%d: 'family' must be \"mlp\" or \"transformer\"", path,
             config_setting_source_line(fam));
  }
  config_setting_t *per = config_setting_lookup(root, "seconds_per_job");
  W2_CHECK(per && config_setting_is_group(per), W2_ERR_CONFIG,
           "%s:%d: 'seconds_per_job' must be a group { pretrain = ...; weak = ...; ceiling = ...; "
           "cell = ...; }", path, per ? config_setting_source_line(per) : 1);
  for (int k = 0; k < 4; k++) W2_CALL(read_number(path, per, type_keys[k], 1, &t->job[k]));
  W2_CALL(read_number(path, root, "seconds_per_gflop", 1e-9, &t->flop));
  W2_CALL(read_number(path, root, "seconds_per_kstep", 1e-3, &t->step));
  W2_CALL(read_number(path, root, "seconds_per_mact", 1e-6, &t->act));
  W2_CALL(read_number(path, root, "seconds_per_probe_gflop", 1e-9, &t->fit));
  W2_CALL(read_number(path, root, "seconds_per_cell_assembled", 1, &t->assembly));
  return W2_OK;
}

W2Err w2_throughput_load(const char *path, W2Throughput *t) {
  config_t cfg;
  config_init(&cfg);
  W2Err e = load(path, &cfg, t);
  config_destroy(&cfg);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

W2Err w2_throughput_save(const char *path, const W2Throughput *t) {
  FILE *f = fopen(path, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  fprintf(f,
          "# w2sweep's throughput model (src/throughput.h): seconds of a job on one rank =\n"
          "#   seconds_per_job[type] + (FLOPs - probe FLOPs) * seconds_per_gflop / 1e9 + steps * seconds_per_kstep / 1e3\n"
          "#   + activations * seconds_per_mact / 1e6 + probe FLOPs * seconds_per_probe_gflop / 1e9;\n"
          "# a run adds seconds_per_cell_assembled per cell (its start, the results file).\n"
          "# Written by `w2sweep plan --calibrate` (bench/calibrate.sh; INSTALL.md, 'Calibrating plan').\n"
          "machine = \"%s\";\ndate = \"%s\";\nsource = \"%s\";\njobs = %d;\nfamily = \"%s\";\n"
          "seconds_per_job = { pretrain = %.6g; weak = %.6g; ceiling = %.6g; cell = %.6g; };\n"
          "seconds_per_gflop = %.6g;\nseconds_per_kstep = %.6g;\nseconds_per_mact = %.6g;\n"
          "seconds_per_probe_gflop = %.6g;\nseconds_per_cell_assembled = %.6g;\n",
          t->machine, t->date, t->source, t->njobs,
          w2_family_names[t->family], t->job[0], t->job[1], t->job[2], t->job[3],
          t->flop * 1e9, t->step * 1e3, t->act * 1e6, t->fit * 1e9, t->assembly);
  W2_CHECK(fclose(f) == 0, W2_ERR_IO, "%s: cannot write", path);
  return W2_OK;
}

/* ---- the fit -------------------------------------------------------------------------- */

/* Weighted least squares on the active columns (scaled to unit maximum for conditioning);
 * *chisq the weighted residual sum of squares. */
static W2Err solve(int n, const double *X, const double *y, const double *w, const int *active,
                   double *c, double *chisq) {
  int m = 0;
  for (int k = 0; k < NCOEF; k++) m += active[k];
  for (int k = 0; k < NCOEF; k++) c[k] = 0;
  if (!m) {
    *chisq = 0;
    for (int i = 0; i < n; i++) *chisq += w[i] * y[i] * y[i];
    return W2_OK;
  }
  gsl_matrix *A = gsl_matrix_alloc((size_t)n, (size_t)m), *cov = gsl_matrix_alloc((size_t)m, (size_t)m);
  gsl_vector *b = gsl_vector_alloc((size_t)n), *x = gsl_vector_alloc((size_t)m),
             *wv = gsl_vector_alloc((size_t)n);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc((size_t)n, (size_t)m);
  W2Err e = W2_OK;
  if (!A || !cov || !b || !x || !wv || !ws) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory fitting %d jobs", n);
    goto done;
  }
  double scale[NCOEF];
  for (int k = 0, q = 0; k < NCOEF; k++) {
    if (!active[k]) continue;
    scale[q] = 0;
    for (int i = 0; i < n; i++) scale[q] = fmax(scale[q], fabs(X[i * NCOEF + k]));
    if (scale[q] == 0) scale[q] = 1;
    for (int i = 0; i < n; i++) gsl_matrix_set(A, (size_t)i, (size_t)q, X[i * NCOEF + k] / scale[q]);
    q++;
  }
  for (int i = 0; i < n; i++) {
    gsl_vector_set(b, (size_t)i, y[i]);
    gsl_vector_set(wv, (size_t)i, w[i]);
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int rc = gsl_multifit_wlinear(A, wv, b, x, cov, chisq, ws);
  gsl_set_error_handler(old);
  if (rc) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_NUM, "throughput fit: %s", gsl_strerror(rc));
    goto done;
  }
  for (int k = 0, q = 0; k < NCOEF; k++)
    if (active[k]) {
      c[k] = gsl_vector_get(x, (size_t)q) / scale[q];
      q++;
    }
done:
  gsl_multifit_linear_free(ws);
  gsl_vector_free(wv);
  gsl_vector_free(x);
  gsl_vector_free(b);
  gsl_matrix_free(cov);
  gsl_matrix_free(A);
  return e;
}

W2Err w2_throughput_fit(const W2Plan *p, const double *secs, W2Throughput *t) {
  int n = 0;
  for (int i = 0; i < p->njobs; i++) n += secs[i] >= 0;
  W2_CHECK(n >= 2 * NCOEF, W2_ERR_DATA,
           "throughput fit: %d jobs measured, need at least %d (run the calibration sweep first)",
           n, 2 * NCOEF);
  double *X = malloc(sizeof(double) * (size_t)n * NCOEF), *y = malloc(sizeof(double) * (size_t)n),
         *w = malloc(sizeof(double) * (size_t)n);
  if (!X || !y || !w) {
    free(X);
    free(y);
    free(w);
    W2_RAISE(W2_ERR_MEM, "out of memory fitting %d jobs", n);
  }
  int present = 0;
  for (int i = 0, r = 0; i < p->njobs; i++) {
    if (secs[i] < 0) continue;
    features(&p->jobs[i], X + r * NCOEF);
    y[r] = secs[i] * (p->jobs[i].ranks > 1 ? p->jobs[i].ranks : 1);
    /* variance grows with a job's time (Poisson-like: timer and scheduling noise add up
     * over its length), so a residual counts r^2 / y: the many small jobs of a sweep and its
     * few long ones both shape the fit; 10 ms floor for jobs at the timer's resolution */
    w[r] = 1 / fmax(y[r], 0.01);
    for (int k = 0; k < NCOEF; k++) present |= (X[r * NCOEF + k] != 0) << k;
    r++;
  }
  /* non-negative least squares, exactly: the solution is the least-squares fit on some set
   * of coefficients with the others zero, and with 8 coefficients every one of the 256 sets
   * can be tried; the best fit whose coefficients are all >= 0 wins (a coefficient the data
   * cannot tell from zero is zero, not a negative time that cancels another) */
  double best[NCOEF] = {0}, best_chi = INFINITY, c[NCOEF], chi;
  W2Err e = W2_OK;
  for (int set = 0; set < 1 << NCOEF && !e; set++) {
    if (set & ~present) continue; /* a column of zeros: its coefficient stays 0 */
    int active[NCOEF];
    for (int k = 0; k < NCOEF; k++) active[k] = set >> k & 1;
    e = solve(n, X, y, w, active, c, &chi);
    int ok = 1;
    for (int k = 0; k < NCOEF; k++) ok &= c[k] >= 0;
    if (!e && ok && chi < best_chi * (1 - 1e-12)) {
      best_chi = chi;
      memcpy(best, c, sizeof best);
    }
  }
  free(X);
  free(y);
  free(w);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  for (int k = 0; k < 4; k++) t->job[k] = best[k];
  t->flop = best[4];
  t->step = best[5];
  t->act = best[6];
  t->fit = best[7];
  t->njobs = n;
  return W2_OK;
}
