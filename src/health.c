/* health.c — the known-answer checks (see health.h). */
#include "health.h"

#include <gsl/gsl_cdf.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h" /* checked attribute readers */
#include "pipeline.h"   /* w2_pgr_guarded */

int w2_mean_ci95(const double *v, int n, double *mean, double *half) {
  double m = 0, ss = 0;
  int k = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) {
      m += v[i];
      k++;
    }
  m = k ? m / k : NAN;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) ss += (v[i] - m) * (v[i] - m);
  *mean = m;
  *half = k >= 2 ? gsl_cdf_tdist_Pinv(0.975, k - 1) * sqrt(ss / (k - 1) / k) : NAN;
  return k;
}

static const char *method_name(const W2Sweep *s, W2MethodKind k) {
  for (int i = 0; i < s->nmethods; i++)
    if (s->methods[i].kind == k && !s->methods[i].unsup) return s->methods[i].name;
  return NULL;
}

/* The cell (task, seed, weak, strong, method), or NULL. */
static const W2HealthCell *find(const W2HealthCell *c, int n, const char *task,
                                unsigned long long seed, const char *weak, const char *strong,
                                const char *method) {
  if (!method) return NULL;
  for (int i = 0; i < n; i++)
    if (c[i].seed == seed && !strcmp(c[i].task, task) && !strcmp(c[i].weak, weak) &&
        !strcmp(c[i].strong, strong) && !strcmp(c[i].method, method))
      return &c[i];
  return NULL;
}

/* The ceiling of strong size `strong` for (task, seed) from any cell that carries it, or
 * (from_init) that ceiling trained from initialisation; NaN when none does. */
static double ceiling_of(const W2HealthCell *c, int n, const char *task, unsigned long long seed,
                         const char *strong, int from_init) {
  for (int i = 0; i < n; i++) {
    double v = from_init ? c[i].ceiling_init_acc : c[i].ceiling_acc;
    if (c[i].seed == seed && !strcmp(c[i].task, task) && !strcmp(c[i].strong, strong) &&
        isfinite(v))
      return v;
  }
  return NAN;
}

static void row_set(W2HealthRow *r, const char *task, const char *check, const char *sup,
                    const char *method, const double *v, int n) {
  memset(r, 0, sizeof *r);
  snprintf(r->task, sizeof r->task, "%s", task);
  snprintf(r->check, sizeof r->check, "%s", check);
  snprintf(r->supervisor, sizeof r->supervisor, "%s", sup);
  snprintf(r->method, sizeof r->method, "%s", method ? method : "");
  double m, h;
  w2_mean_ci95(v, n, &m, &h);
  r->mean = m;
  r->lo = isfinite(h) ? m - h : NAN;
  r->hi = isfinite(h) ? m + h : NAN;
  r->n = n;
  r->pass = -1;
  r->ref = NAN;
}

W2Err w2_health_compute(const W2Sweep *s, const W2HealthCell *cells, int n, W2HealthRow **rows,
                        int *nrows, int *passed) {
  *rows = NULL;
  *nrows = 0;
  *passed = -1;
  if (!s->checks.enabled) return W2_OK;
  int L = w2_sweep_largest_strong(s);
  W2_CHECK(L >= 0, W2_ERR_INTERNAL, "checks without a strong size");
  const char *strong = s->sizes[L].name, *mn = method_name(s, W2_M_NAIVE),
             *mc = method_name(s, W2_M_CONF);
  int ncheck = s->checks.nnoise;
  int S = w2_sweep_smallest_strong(s);
  int cap = s->ntasks * (4 + 3 * ncheck);
  W2HealthRow *out = calloc((size_t)cap, sizeof *out);
  double *v = malloc(sizeof(double) * (size_t)(s->nseeds * (s->nweak + 1) + 1));
  if (!out || !v) {
    free(out);
    free(v);
    W2_RAISE(W2_ERR_MEM, "out of memory (health table)");
  }
  int k = 0, ok = 1, any = 0;
  for (int t = 0; t < s->ntasks; t++) {
    const char *task = s->tasks[t].name;
    /* (a) and (b): the ground-truth supervisor's naive student */
    int na = 0, nb = 0;
    double *va = v, vb[W2_MAX_SEEDS];
    for (int sd = 0; sd < s->nseeds; sd++) {
      const W2HealthCell *g = find(cells, n, task, s->seeds[sd], "check_gt", strong, mn);
      if (!g) continue;
      vb[nb++] = 100 * (g->student_acc - g->ceiling_acc);
      for (int w = 0; w < s->nweak; w++) {
        if (w2_sweep_supervisor(s, s->weak[w])) continue; /* trained weak sizes only */
        const W2HealthCell *c = find(cells, n, task, s->seeds[sd], s->weak[w], strong, mn);
        if (!c) continue;
        /* a noise-sized gap makes the ratio noise: undefined, as in every cell's PGR */
        const char *why;
        double pgr = w2_pgr_guarded(c->weak_acc, g->student_acc, g->ceiling_acc, c->gap_se, &why);
        if (isfinite(pgr)) va[na++] = pgr;
      }
    }
    W2HealthRow *ra = &out[k++];
    row_set(ra, task, "a_gt_pgr", "check_gt", mn, va, na);
    if (na) {
      ra->pass = fabs(ra->mean - 1) <= s->checks.pgr_tol;
      ok &= ra->pass;
      any = 1;
    }
    W2HealthRow *rb = &out[k++];
    row_set(rb, task, "b_gt_minus_ceiling", "check_gt", mn, vb, nb);
    if (nb) {
      double tol = isfinite(rb->hi) ? fmax(1.0, rb->hi - rb->mean) : 1.0;
      rb->pass = fabs(rb->mean) <= tol;
      ok &= rb->pass;
      any = 1;
    }
    /* (c) and (d): the noise supervisors */
    for (int q = 0; q < ncheck; q++) {
      char sup[W2_NAME_MAX];
      snprintf(sup, sizeof sup, "check_u%02d", (int)lround(100 * s->checks.noise[q]));
      const char *meths[2] = {mn, mc};
      double vm[2][W2_MAX_SEEDS], vd[W2_MAX_SEEDS], below[W2_MAX_SEEDS];
      int nm[2] = {0, 0}, nd = 0, nbl = 0;
      for (int sd = 0; sd < s->nseeds; sd++) {
        const W2HealthCell *c[2];
        for (int j = 0; j < 2; j++) {
          c[j] = find(cells, n, task, s->seeds[sd], sup, strong, meths[j]);
          if (c[j]) vm[j][nm[j]++] = 100 * (c[j]->student_acc - c[j]->weak_acc);
        }
        if (c[0]) below[nbl++] = 100 * (c[0]->ceiling_acc - c[0]->weak_acc);
        if (c[0] && c[1]) vd[nd++] = 100 * (c[1]->student_acc - c[0]->student_acc);
      }
      for (int j = 0; j < 2; j++) {
        if (!meths[j]) continue;
        W2HealthRow *r = &out[k++];
        row_set(r, task, "c_margin", sup, meths[j], vm[j], nm[j]);
        double bm, bh;
        w2_mean_ci95(below, nbl, &bm, &bh);
        r->ref = bm;
        r->beaten = isfinite(r->lo) && r->lo > 0;
      }
      if (mc) row_set(&out[k++], task, "d_conf_minus_naive", sup, mc, vd, nd);
    }
    /* (e): does the ceiling rise along the ladder? Without that there is nothing for a weak
     * supervisor to elicit, and no PGR of the sweep means anything (issue 15's gap study) */
    if (S != L) {
      double ve[W2_MAX_SEEDS];
      int ne = 0;
      for (int sd = 0; sd < s->nseeds; sd++) {
        double lo = ceiling_of(cells, n, task, s->seeds[sd], s->sizes[S].name, 0),
               hi = ceiling_of(cells, n, task, s->seeds[sd], strong, 0);
        if (isfinite(lo) && isfinite(hi)) ve[ne++] = 100 * (hi - lo);
      }
      W2HealthRow *re = &out[k++];
      row_set(re, task, "e_ceiling_rise", s->sizes[S].name, strong, ve, ne);
      re->ref = s->checks.min_ceiling_rise;
      if (ne && isfinite(re->ref)) {
        re->pass = re->mean >= re->ref;
        ok &= re->pass;
        any = 1;
      }
    }
    /* (f): how much of that ceiling pretraining gave (the same training from init) */
    if (s->checks.pretrain_control) {
      double vf[W2_MAX_SEEDS];
      int nf = 0;
      for (int sd = 0; sd < s->nseeds; sd++) {
        double pre = ceiling_of(cells, n, task, s->seeds[sd], strong, 0),
               init = ceiling_of(cells, n, task, s->seeds[sd], strong, 1);
        if (isfinite(pre) && isfinite(init)) vf[nf++] = 100 * (pre - init);
      }
      W2HealthRow *rf = &out[k++];
      row_set(rf, task, "f_pretrain_gain", "init", strong, vf, nf);
      rf->ref = s->checks.min_pretrain_gain;
      if (nf && isfinite(rf->ref)) {
        rf->pass = rf->mean >= rf->ref;
        ok &= rf->pass;
        any = 1;
      }
    }
  }
  free(v);
  *rows = out;
  *nrows = k;
  *passed = any ? ok : -1;
  return W2_OK;
}

void w2_health_print(FILE *out, const W2HealthRow *rows, int n, int passed) {
  if (n <= 0) return;
  fprintf(out, "\nknown-answer checks (largest strong size; 95 %% t-intervals over seeds)\n");
  fprintf(out, "%-10s %-20s %-10s %-8s %4s %9s %20s %s\n", "task", "check", "supervisor",
          "method", "n", "value", "95 % interval", "");
  int gated_e = 0, any_e = 0, gated_f = 0, any_f = 0;
  for (int i = 0; i < n; i++) {
    const W2HealthRow *r = &rows[i];
    int is_e = !strcmp(r->check, "e_ceiling_rise"), is_f = !strcmp(r->check, "f_pretrain_gain");
    any_e |= is_e;
    gated_e |= is_e && r->pass >= 0;
    any_f |= is_f;
    gated_f |= is_f && r->pass >= 0;
    char iv[64] = "-";
    if (isfinite(r->lo)) snprintf(iv, sizeof iv, "[%.3g, %.3g]", r->lo, r->hi);
    char note[96] = "";
    if (r->pass == 1) snprintf(note, sizeof note, "pass");
    else if (r->pass == 0) snprintf(note, sizeof note, "FAIL");
    else if (!strcmp(r->check, "c_margin"))
      snprintf(note, sizeof note, "%s (supervisor %.1f points %s the ceiling)",
               r->beaten ? "beaten" : "not beaten", fabs(r->ref),
               r->ref < 0 ? "above" : "below");
    if ((is_e || is_f) && isfinite(r->ref))
      snprintf(note + strlen(note), sizeof note - strlen(note), " (want >= %g)", r->ref);
    fprintf(out, "%-10s %-20s %-10s %-8s %4d %9.3g %20s %s\n", r->task, r->check, r->supervisor,
            r->method, r->n, r->mean, iv, note);
  }
  fprintf(out, "(a: PGR of a ground-truth supervisor's student, want 1; b: that student minus "
               "the ceiling, points, want 0; c: student minus supervisor, points; d: conf minus "
               "naive, points%s%s)\n",
          any_e ? "; e: the ceiling of the largest strong size (method column) minus the "
                  "smallest's (supervisor column), points, checked against "
                  "checks.min_ceiling_rise when it is set"
                : "",
          any_f ? "; f: that ceiling minus the same training from initialisation, points, "
                  "checked against checks.min_pretrain_gain when it is set"
                : "");
  /* the checks that decide the verdict: (a), (b), and (e), (f) where they have a bar */
  char slash[32] = "(a)/(b)", list[48] = "(a) and (b)";
  if (gated_e || gated_f) {
    snprintf(slash, sizeof slash, "(a)/(b)%s%s", gated_e ? "/(e)" : "", gated_f ? "/(f)" : "");
    snprintf(list, sizeof list, "(a), (b)%s and %s", gated_e && gated_f ? ", (e)" : "",
             gated_f ? "(f)" : "(e)");
  }
  if (passed == 0)
    fprintf(out, "WARNING: known-answer checks %s FAILED: do not read this sweep's numbers "
                 "as results (figures are flagged)\n",
            slash);
  else if (passed == 1)
    fprintf(out, "known-answer checks %s pass\n", list);
}

static hid_t health_type(void) {
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, W2_HEALTH_NAME);
  H5Tset_strpad(s, H5T_STR_NULLPAD);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(W2HealthRow));
  H5Tinsert(t, "task", HOFFSET(W2HealthRow, task), s);
  H5Tinsert(t, "check", HOFFSET(W2HealthRow, check), s);
  H5Tinsert(t, "supervisor", HOFFSET(W2HealthRow, supervisor), s);
  H5Tinsert(t, "method", HOFFSET(W2HealthRow, method), s);
  H5Tinsert(t, "mean", HOFFSET(W2HealthRow, mean), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "lo", HOFFSET(W2HealthRow, lo), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "hi", HOFFSET(W2HealthRow, hi), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "n", HOFFSET(W2HealthRow, n), H5T_NATIVE_INT);
  H5Tinsert(t, "pass", HOFFSET(W2HealthRow, pass), H5T_NATIVE_INT);
  H5Tinsert(t, "ref", HOFFSET(W2HealthRow, ref), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "beaten", HOFFSET(W2HealthRow, beaten), H5T_NATIVE_INT);
  H5Tclose(s);
  return t;
}

W2Err w2_health_write(hid_t f, const char *file, const W2HealthRow *rows, int n, int passed) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL), t = health_type();
  hid_t d = H5Dcreate2(f, "health", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
  if (rc >= 0) {
    hid_t as = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(d, "passed", H5T_NATIVE_INT, as, H5P_DEFAULT, H5P_DEFAULT);
    rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, &passed);
    if (a >= 0) H5Aclose(a);
    H5Sclose(as);
  }
  if (d >= 0) H5Dclose(d);
  H5Tclose(t);
  H5Sclose(sp);
  W2_CHECK(rc >= 0, W2_ERR_IO, "%s: cannot write /health", file);
  return W2_OK;
}

W2Err w2_health_print_file(FILE *out, const char *h5path) {
  hid_t f = H5Fopen(h5path, H5F_ACC_RDONLY, H5P_DEFAULT);
  W2_CHECK(f >= 0, W2_ERR_IO, "%s: cannot open", h5path);
  W2Err e = W2_OK;
  if (H5Lexists(f, "health", H5P_DEFAULT) > 0) {
    hid_t d = H5Dopen2(f, "health", H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    W2HealthRow *rows = n > 0 ? calloc((size_t)n, sizeof *rows) : NULL;
    hid_t t = health_type();
    int passed = -1;
    if (d < 0 || n < 0 || (n > 0 && (!rows || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                                      rows) < 0)))
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: cannot read /health",
                         h5path);
    else if (H5Aexists(d, "passed") > 0 &&
             w2_h5_attr_read_int(d, h5path, "passed", &passed) != W2_OK) {
      passed = -1; /* not one integer: the verdict is unknown, the rows still print */
      w2_error_clear();
    }
    if (!e) w2_health_print(out, rows, (int)n, passed);
    H5Tclose(t);
    free(rows);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
  }
  H5Fclose(f);
  return e;
}
