/* summary.c — the sweep's mean / 95 % interval table (see summary.h). */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health.h" /* w2_mean_ci95 */
#include "methods/method.h"

typedef struct {
  const W2SummaryCell *c;
  int idx;   /* position in the input: ties keep it, groups are ordered by their first */
} Ref;

static int key_cmp(const W2SummaryCell *a, const W2SummaryCell *b) {
  int r = strcmp(a->task, b->task);
  if (!r) r = strcmp(a->weak, b->weak);
  if (!r) r = strcmp(a->strong, b->strong);
  if (!r) r = strcmp(a->method, b->method);
  return r;
}

static int ref_cmp(const void *x, const void *y) {
  const Ref *a = x, *b = y;
  int r = key_cmp(a->c, b->c);
  return r ? r : (a->idx > b->idx) - (a->idx < b->idx);
}

/* a group: the input position of its first cell, and its row */
typedef struct {
  int first, row;
} Group;

static int group_cmp(const void *x, const void *y) {
  const Group *a = x, *b = y;
  return (a->first > b->first) - (a->first < b->first);
}

static void put(double *mean, double *lo, double *hi, const double *v, int n, int *k) {
  double h;
  int u = w2_mean_ci95(v, n, mean, &h);
  *lo = isfinite(h) ? *mean - h : NAN;
  *hi = isfinite(h) ? *mean + h : NAN;
  if (k) *k = u;
}

static void copy_name(char *dst, const char *src) {
  memset(dst, 0, W2_SUMMARY_NAME);
  snprintf(dst, W2_SUMMARY_NAME, "%s", src);
}

W2Err w2_summary_compute(const W2Sweep *s, const W2SummaryCell *cells, int n,
                         W2SummaryRow **rows, int *nrows) {
  *rows = NULL;
  *nrows = 0;
  if (n <= 0) return W2_OK;
  Ref *ref = malloc(sizeof *ref * (size_t)n);
  double *v = malloc(sizeof(double) * (size_t)n * 4);
  W2SummaryRow *tab = calloc((size_t)n, sizeof *tab), *out = calloc((size_t)n, sizeof *out);
  Group *grp = malloc(sizeof *grp * (size_t)n);
  if (!ref || !v || !tab || !out || !grp) {
    free(ref);
    free(v);
    free(tab);
    free(out);
    free(grp);
    W2_RAISE(W2_ERR_MEM, "out of memory (summary table, %d cells)", n);
  }
  for (int i = 0; i < n; i++) ref[i] = (Ref){&cells[i], i};
  qsort(ref, (size_t)n, sizeof *ref, ref_cmp);
  int nr = 0;
  for (int i = 0; i < n;) {
    int j = i;
    while (j < n && !key_cmp(ref[i].c, ref[j].c)) j++;
    int k = j - i;
    double *wa = v, *ca = v + k, *sa = v + 2 * k, *pg = v + 3 * k;
    for (int q = 0; q < k; q++) {
      wa[q] = ref[i + q].c->weak_acc;
      ca[q] = ref[i + q].c->ceiling_acc;
      sa[q] = ref[i + q].c->student_acc;
      pg[q] = ref[i + q].c->pgr;
    }
    W2SummaryRow *r = &tab[nr];
    const W2SummaryCell *c = ref[i].c;
    copy_name(r->task, c->task);
    copy_name(r->weak_size, c->weak);
    copy_name(r->strong_size, c->strong);
    copy_name(r->method, c->method);
    r->n_seeds = k;
    put(&r->weak_acc, &r->weak_acc_lo, &r->weak_acc_hi, wa, k, NULL);
    put(&r->ceiling_acc, &r->ceiling_acc_lo, &r->ceiling_acc_hi, ca, k, NULL);
    put(&r->student_acc, &r->student_acc_lo, &r->student_acc_hi, sa, k, NULL);
    int u;
    put(&r->pgr, &r->pgr_lo, &r->pgr_hi, pg, k, &u);
    r->n_pgr = u;
    r->oracle = 0;
    for (int m = 0; m < s->nmethods; m++) {
      const W2MethodOps *ops = w2_method_ops((int)s->methods[m].kind);
      if (!strcmp(s->methods[m].name, c->method)) r->oracle = ops && ops->oracle;
    }
    /* ties were sorted by input position: ref[i] is the group's first cell */
    grp[nr] = (Group){ref[i].idx, nr};
    nr++;
    i = j;
  }
  /* back to the input's order: groups by their first cell */
  qsort(grp, (size_t)nr, sizeof *grp, group_cmp);
  for (int i = 0; i < nr; i++) out[i] = tab[grp[i].row];
  free(ref);
  free(v);
  free(tab);
  free(grp);
  *rows = out;
  *nrows = nr;
  return W2_OK;
}

static hid_t summary_type(void) {
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, W2_SUMMARY_NAME);
  H5Tset_strpad(s, H5T_STR_NULLPAD);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(W2SummaryRow));
#define STR(x) H5Tinsert(t, #x, HOFFSET(W2SummaryRow, x), s)
#define I32(x) H5Tinsert(t, #x, HOFFSET(W2SummaryRow, x), H5T_NATIVE_INT32)
#define F64(x) H5Tinsert(t, #x, HOFFSET(W2SummaryRow, x), H5T_NATIVE_DOUBLE)
  STR(task);
  STR(weak_size);
  STR(strong_size);
  STR(method);
  I32(n_seeds);
  I32(n_pgr);
  I32(oracle);
  F64(weak_acc);
  F64(weak_acc_lo);
  F64(weak_acc_hi);
  F64(ceiling_acc);
  F64(ceiling_acc_lo);
  F64(ceiling_acc_hi);
  F64(student_acc);
  F64(student_acc_lo);
  F64(student_acc_hi);
  F64(pgr);
  F64(pgr_lo);
  F64(pgr_hi);
#undef STR
#undef I32
#undef F64
  H5Tclose(s);
  return t;
}

W2Err w2_summary_write(hid_t f, const char *file, const W2SummaryRow *rows, int n) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL), t = summary_type();
  hid_t d = H5Dcreate2(f, "intervals", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
  if (d >= 0) H5Dclose(d);
  H5Tclose(t);
  H5Sclose(sp);
  W2_CHECK(rc >= 0, W2_ERR_IO, "%s: cannot write /intervals", file);
  return W2_OK;
}

void w2_summary_print(FILE *out, const W2SummaryRow *rows, int n) {
  fprintf(out, "\n%-10s %-9s %-9s %-14s %5s %8s %8s %16s %18s\n", "task", "weak", "strong",
          "method", "seeds", "weak %", "ceil %", "student %", "PGR");
  for (int i = 0; i < n; i++) {
    const W2SummaryRow *r = &rows[i];
    double hs = r->student_acc_hi - r->student_acc, hp = r->pgr_hi - r->pgr;
    char nseeds[24];
    snprintf(nseeds, sizeof nseeds, "%d/%d", (int)r->n_pgr, (int)r->n_seeds);
    fprintf(out, "%-10s %-9s %-9s %-14s %5s %8.2f %8.2f %8.2f ± %5.2f %8.3f ± %6.3f%s\n",
            r->task, r->weak_size, r->strong_size, r->method, nseeds, 100 * r->weak_acc,
            100 * r->ceiling_acc, 100 * r->student_acc, isfinite(hs) ? 100 * hs : 0.0, r->pgr,
            isfinite(hp) ? hp : 0.0, r->oracle ? "  (oracle)" : "");
  }
  fprintf(out, "(± : 95 %% t-interval over seeds; PGR = (student - weak) / (ceiling - weak), "
               "undefined where the gap\n ceiling - weak is below max(1 point, 2 standard "
               "errors) or negative; seeds = seeds with a defined PGR / seeds)\n");
}

W2Err w2_summary_read(const char *h5path, W2SummaryRow **rows, int *n) {
  *rows = NULL;
  *n = 0;
  hid_t f = H5Fopen(h5path, H5F_ACC_RDONLY, H5P_DEFAULT);
  W2_CHECK(f >= 0, W2_ERR_IO, "%s: cannot open", h5path);
  W2Err e = W2_OK;
  if (H5Lexists(f, "intervals", H5P_DEFAULT) > 0) {
    hid_t d = H5Dopen2(f, "intervals", H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    hssize_t m = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    W2SummaryRow *r = m > 0 ? calloc((size_t)m, sizeof *r) : NULL;
    hid_t t = summary_type();
    if (d < 0 || m < 0 || m > INT32_MAX ||
        (m > 0 && (!r || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) < 0))) {
      free(r);
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: cannot read /intervals", h5path);
    } else {
      *rows = r;
      *n = (int)m;
    }
    H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
  }
  H5Fclose(f);
  return e;
}

W2Err w2_summary_print_file(FILE *out, const char *h5path) {
  W2SummaryRow *rows;
  int n;
  W2_CALL(w2_summary_read(h5path, &rows, &n));
  if (n > 0) w2_summary_print(out, rows, n);
  free(rows);
  return W2_OK;
}
