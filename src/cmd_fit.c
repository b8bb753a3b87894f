/* cmd_fit.c — `w2sweep fit RESULTS.h5`: scaling-law fits of weak-supervisor and ceiling
 * error against training compute, PGR against weak and strong compute, bootstrap
 * intervals over seeds and extrapolation backtests, written to /fits and printed.
 *
 * Order of work: read /models and /summary (read-only), compute every fit with the file
 * closed, then open it for writing and build the new tree as /fits.new, and only when
 * that is complete replace /fits with it. A failure at any point before the final swap
 * leaves the file's existing /fits untouched.
 *
 * What is fitted (the maths and its reasons are in fit.h):
 *   /fits/scaling/<task>/<role>  role = weak | ceiling | ceiling_unsup, from /models (not
 *                                ceiling_init, check (f)'s one-size controls):
 *       err = 1 - test_acc against flops, one point per (size, seed).
 *   /fits/pgr/<task>/<method>    from /summary: pgr against weak_flops and strong_flops,
 *       one point per (weak, strong, seed) cell; cells with NaN PGR (ceiling = weak) or a
 *       synthetic supervisor (weak_flops 0) are left out and counted.
 * A partial sweep (missing (size, seed) models or cells, or no /provenance end_time) is
 * fitted on what it has; the table and the /fits attributes say so.
 *
 * Under mpiexec the (independent) fits are dealt round-robin over the ranks and sent back
 * to rank 0, which alone reads, writes and prints; every fit is seeded from its own names,
 * so /fits is bit-identical for any number of ranks.
 *
 * The /fits layout is documented in analysis/README.md ("The /fits group"). */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hdf5.h>

#include "checkpoint.h" /* checked attribute readers */
#include "commands.h"
#include "error.h"
#include "fit.h"

#define NAME_LEN 64 /* in-memory string width: schema strings are S32, room to spare */
#define FILE_STR 32 /* width of the strings we write (the schema's S32) */

/* ---------------------------------------------------------------------------------- */
/* Reading compound datasets                                                          */

typedef enum { F_STR, F_INT, F_DBL } FieldKind; /* F_INT: a uint64 (seeds are 64-bit) */
typedef struct {
  const char *name;
  size_t offset;
  FieldKind kind;
} Field;

typedef struct {
  char task[NAME_LEN], size[NAME_LEN], role[NAME_LEN];
  uint64_t seed;
  double test_acc, flops;
} ModelRow;

typedef struct {
  char task[NAME_LEN], weak[NAME_LEN], strong[NAME_LEN], method[NAME_LEN];
  uint64_t seed;
  double pgr, weak_flops, strong_flops;
} CellRow;

static const Field model_fields[] = {
    {"task", offsetof(ModelRow, task), F_STR},     {"size", offsetof(ModelRow, size), F_STR},
    {"role", offsetof(ModelRow, role), F_STR},     {"seed", offsetof(ModelRow, seed), F_INT},
    {"test_acc", offsetof(ModelRow, test_acc), F_DBL},
    {"flops", offsetof(ModelRow, flops), F_DBL},
};
static const Field cell_fields[] = {
    {"task", offsetof(CellRow, task), F_STR},
    {"weak_size", offsetof(CellRow, weak), F_STR},
    {"strong_size", offsetof(CellRow, strong), F_STR},
    {"method", offsetof(CellRow, method), F_STR},
    {"seed", offsetof(CellRow, seed), F_INT},
    {"pgr", offsetof(CellRow, pgr), F_DBL},
    {"weak_flops", offsetof(CellRow, weak_flops), F_DBL},
    {"strong_flops", offsetof(CellRow, strong_flops), F_DBL},
};
#define NFIELDS(a) (int)(sizeof(a) / sizeof((a)[0]))

static void close_id(hid_t id, herr_t (*fn)(hid_t)) {
  if (id >= 0) fn(id);
}

/* Reads 1-D compound dataset `path` into rows (rowsize bytes each, calloc'd), after
 * checking that every field exists with the right class. Messages name file and path. */
static W2Err read_table(hid_t file, const char *fname, const char *path, const Field *fields,
                        int nfields, size_t rowsize, void **rows_out, size_t *n_out) {
  W2Err err = W2_OK;
  hid_t ds = -1, ftype = -1, space = -1, mtype = -1, strt = -1;
  void *rows = NULL;
  *rows_out = NULL;
  *n_out = 0;
  htri_t ex = H5Lexists(file, path + 1, H5P_DEFAULT);
  if (ex <= 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: no %s dataset (not a w2sweep results file, or nothing run yet)",
                         fname, path);
    goto done;
  }
  ds = H5Dopen2(file, path, H5P_DEFAULT);
  if (ds < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: %s is not a dataset",
                         fname, path);
    goto done;
  }
  ftype = H5Dget_type(ds);
  space = H5Dget_space(ds);
  if (ftype < 0 || space < 0 || H5Tget_class(ftype) != H5T_COMPOUND ||
      H5Sget_simple_extent_ndims(space) != 1) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: %s is not a 1-D compound table", fname, path);
    goto done;
  }
  for (int k = 0; k < nfields; k++) {
    int idx = H5Tget_member_index(ftype, fields[k].name);
    H5T_class_t want = fields[k].kind == F_STR ? H5T_STRING
                       : fields[k].kind == F_INT ? H5T_INTEGER
                                                 : H5T_FLOAT;
    if (idx < 0) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "%s: %s has no field '%s'", fname, path, fields[k].name);
      goto done;
    }
    H5T_class_t cls = H5Tget_member_class(ftype, (unsigned)idx);
    /* an integer where a float is expected converts fine; anything else does not */
    int ok = cls == want || (want == H5T_FLOAT && cls == H5T_INTEGER);
    if (ok && cls == H5T_STRING) {
      hid_t mt = H5Tget_member_type(ftype, (unsigned)idx);
      ok = mt >= 0 && H5Tis_variable_str(mt) == 0;
      close_id(mt, H5Tclose);
    }
    if (!ok) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "%s: %s field '%s' is not a %s", fname, path, fields[k].name,
                           want == H5T_STRING ? "fixed-length string"
                           : want == H5T_INTEGER ? "integer"
                                                 : "number");
      goto done;
    }
  }
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: %s: unreadable extent",
                         fname, path);
    goto done;
  }
  mtype = H5Tcreate(H5T_COMPOUND, rowsize);
  strt = H5Tcopy(H5T_C_S1);
  if (mtype < 0 || strt < 0 || H5Tset_size(strt, NAME_LEN) < 0 ||
      H5Tset_strpad(strt, H5T_STR_NULLTERM) < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: HDF5 type setup failed",
                         fname);
    goto done;
  }
  for (int k = 0; k < nfields; k++) {
    hid_t t = fields[k].kind == F_STR ? strt
              : fields[k].kind == F_INT ? H5T_NATIVE_UINT64
                                        : H5T_NATIVE_DOUBLE;
    if (H5Tinsert(mtype, fields[k].name, fields[k].offset, t) < 0) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                           "%s: HDF5 type setup failed (%s)", fname, fields[k].name);
      goto done;
    }
  }
  rows = calloc(n > 0 ? (size_t)n : 1, rowsize);
  if (!rows) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory reading %s (%lld rows)", path, (long long)n);
    goto done;
  }
  if (n > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: cannot read %s",
                         fname, path);
    goto done;
  }
  /* NAME_LEN exceeds the stored width, so strings are terminated; make sure anyway */
  for (hssize_t i = 0; i < n; i++)
    for (int k = 0; k < nfields; k++)
      if (fields[k].kind == F_STR)
        ((char *)rows + (size_t)i * rowsize + fields[k].offset)[NAME_LEN - 1] = '\0';
  *rows_out = rows;
  *n_out = (size_t)n;
  rows = NULL;
done:
  free(rows);
  close_id(strt, H5Tclose);
  close_id(mtype, H5Tclose);
  close_id(space, H5Sclose);
  close_id(ftype, H5Tclose);
  close_id(ds, H5Dclose);
  return err;
}

/* Reads an optional string attribute of object `obj_path`; out = "" when absent or not one
 * string (w2_h5_attr_read_str: a single value, fixed or variable length, either cset). */
static void read_str_attr(hid_t file, const char *obj_path, const char *name, char *out,
                          size_t cap) {
  out[0] = '\0';
  if (H5Aexists_by_name(file, obj_path, name, H5P_DEFAULT) <= 0) return;
  hid_t o = H5Oopen(file, obj_path, H5P_DEFAULT);
  if (o >= 0 && w2_h5_attr_read_str(o, obj_path, name, out, cap) != W2_OK) {
    out[0] = '\0';
    w2_error_clear();
  }
  close_id(o, H5Oclose);
}

/* ---------------------------------------------------------------------------------- */
/* Fit jobs                                                                           */

typedef char Name[NAME_LEN];

typedef struct {
  int kind;          /* W2_FIT_SCALING or W2_FIT_PGR */
  Name task, name;   /* name = role (scaling) or method (PGR) */
  int fitted;        /* 0: skipped, note says why */
  int saturated;     /* skipped because no more sizes (cells) than parameters (fit.h) */
  char note[256];
  int complete;      /* every (size, seed) / (pair, seed) present */
  char coverage[96]; /* e.g. "13 of 15 (size, seed)" */
  int n_excluded;    /* points left out (zero error, NaN PGR, synthetic supervisor) */
  char excluded_why[192];
  /* points (owned) */
  int n;
  double *x0, *x1, *y;
  int *seed, *level, *sub;      /* seed: dense id of the point's seed (bootstrap cluster) */
  uint64_t *seedv;               /* the seed itself (written to /fits points) */
  Name *level_names, *sub_names; /* id -> name */
  int n_level_names, n_sub_names;
  W2FitResult fit;
  W2Backtest bt[2];
  int status;        /* W2Err of run_job (0 = ok); message in errmsg */
  char errmsg[256];
} Job;

static void job_free(Job *j) {
  free(j->x0);
  free(j->x1);
  free(j->y);
  free(j->seed);
  free(j->seedv);
  free(j->level);
  free(j->sub);
  free(j->level_names);
  free(j->sub_names);
  if (j->fitted) {
    w2_fit_result_free(&j->fit);
    w2_backtest_free(&j->bt[0]);
    w2_backtest_free(&j->bt[1]);
  }
}

/* index of name in names[0..*n), appending it when new (names has room) */
static int intern(Name *names, int *n, const char *name) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(names[i], name)) return i;
  snprintf(names[*n], NAME_LEN, "%s", name);
  return (*n)++;
}

/* index of v in vals[0..*n), appending it when new (vals has room) */
static int intern_u64(uint64_t *vals, int *n, uint64_t v) {
  for (int i = 0; i < *n; i++)
    if (vals[i] == v) return i;
  vals[*n] = v;
  return (*n)++;
}

static W2Err job_alloc(Job *j, int cap) {
  W2_CALLOC(j->x0, cap);
  W2_CALLOC(j->x1, cap);
  W2_CALLOC(j->y, cap);
  W2_CALLOC(j->seed, cap);
  W2_CALLOC(j->seedv, cap);
  W2_CALLOC(j->level, cap);
  W2_CALLOC(j->sub, cap);
  W2_CALLOC(j->level_names, cap);
  W2_CALLOC(j->sub_names, cap);
  return W2_OK;
}

/* FNV-1a: a per-fit bootstrap seed from its names, so results do not depend on the order
 * in which fits run or on which other fits the file holds. */
static unsigned long name_seed(unsigned long base, const char *a, const char *b, int k) {
  uint64_t h = 1469598103934665603ULL;
  const char *parts[2] = {a, b};
  for (int p = 0; p < 2; p++) {
    for (const char *c = parts[p]; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
  }
  h = (h ^ (uint64_t)k) * 1099511628211ULL;
  return (unsigned long)((base ^ (h >> 11)) & 0xffffffffUL);
}

/* Counts distinct (a, b) among n pairs of dense ids and the size of the full a x b grid. */
static void completeness(const int *a, const int *b, int n, int *present, int *grid) {
  int maxa = 0, maxb = 0;
  for (int i = 0; i < n; i++) {
    if (a[i] + 1 > maxa) maxa = a[i] + 1;
    if (b[i] + 1 > maxb) maxb = b[i] + 1;
  }
  char *seen = calloc((size_t)(maxa > 0 ? maxa : 1) * (size_t)(maxb > 0 ? maxb : 1), 1);
  int k = 0;
  if (seen)
    for (int i = 0; i < n; i++) {
      size_t idx = (size_t)a[i] * (size_t)maxb + (size_t)b[i];
      if (!seen[idx]) {
        seen[idx] = 1;
        k++;
      }
    }
  free(seen);
  *present = k;
  *grid = maxa * maxb;
}

static W2Err run_job(Job *j, const W2FitOptions *base) {
  W2FitData d = {j->kind, j->n, j->x0, j->kind == W2_FIT_PGR ? j->x1 : NULL, j->y,
                 j->seed,  j->level, j->kind == W2_FIT_PGR ? j->sub : NULL};
  W2FitOptions o = *base;
  o.seed = name_seed(base->seed, j->task, j->name, 0);
  W2Err e = w2_fit(&d, NULL, &o, &j->fit);
  if (e == W2_ERR_DATA) { /* too little data for this fit: a note, not a failure */
    snprintf(j->note, sizeof j->note, "%s", w2_error_message());
    j->saturated = j->fit.saturated;
    w2_error_clear();
    return W2_OK;
  }
  W2_CALL(e);
  j->fitted = 1;
  for (int h = 1; h <= 2; h++) {
    o.seed = name_seed(base->seed, j->task, j->name, h);
    W2_CALL(w2_fit_backtest(&d, h, &o, &j->bt[h - 1]));
  }
  return W2_OK;
}

/* Groups rows into jobs by (task, name): returns job count and, per row, its job. The jobs
 * array grows as needed; each job's arrays are sized to its own row count. */
static W2Err group_rows(size_t nrows, const char *(*key)(const void *, size_t, int),
                        const void *rows, int kind, Job **jobs_out, int *nj_out, int **row_job) {
  Job *jobs = NULL;
  int nj = 0, cap = 0, *cnt = NULL, *rj = NULL;
  W2_CALLOC(rj, nrows);
  for (size_t r = 0; r < nrows; r++) {
    const char *t = key(rows, r, 0), *n = key(rows, r, 1);
    int k;
    for (k = 0; k < nj; k++)
      if (!strcmp(jobs[k].task, t) && !strcmp(jobs[k].name, n)) break;
    if (k == nj) {
      if (nj == cap) {
        cap = cap ? 2 * cap : 16;
        Job *nj2 = realloc(jobs, (size_t)cap * sizeof *jobs);
        int *nc2 = realloc(cnt, (size_t)cap * sizeof *cnt);
        if (nj2) jobs = nj2;
        if (nc2) cnt = nc2;
        if (!nj2 || !nc2) {
          free(jobs);
          free(cnt);
          free(rj);
          W2_RAISE(W2_ERR_MEM, "out of memory grouping %zu rows", nrows);
        }
      }
      memset(&jobs[nj], 0, sizeof jobs[nj]);
      jobs[nj].kind = kind;
      snprintf(jobs[nj].task, NAME_LEN, "%s", t);
      snprintf(jobs[nj].name, NAME_LEN, "%s", n);
      cnt[nj] = 0;
      nj++;
    }
    cnt[k]++;
    rj[r] = k;
  }
  W2Err err = W2_OK;
  for (int k = 0; k < nj && !err; k++) err = job_alloc(&jobs[k], cnt[k]);
  free(cnt);
  *jobs_out = jobs;
  *nj_out = nj;
  *row_job = rj;
  return err; /* on failure the caller frees the jobs (job_free copes with NULL arrays) */
}

static const char *model_key(const void *rows, size_t r, int which) {
  const ModelRow *m = (const ModelRow *)rows + r;
  return which ? m->role : m->task;
}

static const char *cell_key(const void *rows, size_t r, int which) {
  const CellRow *c = (const CellRow *)rows + r;
  return which ? c->method : c->task;
}

/* "3 cells with X, 2 cells with Y", naming only the nonzero counts */
static void why2(char *out, size_t cap, int n1, const char *w1, int n2, const char *w2) {
  out[0] = '\0';
  if (n1) snprintf(out, cap, "%d %s", n1, w1);
  if (n2) snprintf(out + strlen(out), cap - strlen(out), "%s%d %s", n1 ? ", " : "", n2, w2);
}

/* Scaling jobs: one per (task, role) in /models; err = 1 - test_acc against flops. */
static W2Err build_scaling_jobs(const ModelRow *m, size_t nm, Job **jobs_out, int *nj_out) {
  int *rj = NULL;
  W2_CALL(group_rows(nm, model_key, m, W2_FIT_SCALING, jobs_out, nj_out, &rj));
  Job *jobs = *jobs_out;
  int nj = *nj_out;
  int *nzero = calloc((size_t)nj + 1, sizeof(int)), *nbad = calloc((size_t)nj + 1, sizeof(int));
  int *sid = calloc(nm + 1, sizeof(int));
  uint64_t *seeds = calloc(nm + 1, sizeof(uint64_t));
  W2Err err = W2_OK;
  if (!nzero || !nbad || !sid || !seeds) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int k = 0; k < nj; k++) {
    Job *j = &jobs[k];
    int nseeds = 0;
    for (size_t q = 0; q < nm; q++) {
      if (rj[q] != k) continue;
      double e = 1.0 - m[q].test_acc;
      if (!(m[q].flops > 0) || !isfinite(m[q].flops) || !(e <= 1.0) || !(e >= 0.0)) {
        nbad[k]++;
        continue;
      }
      if (e == 0.0) { /* a perfect test score: log error is undefined */
        nzero[k]++;
        continue;
      }
      int i = j->n++;
      j->x0[i] = m[q].flops;
      j->y[i] = e;
      j->seedv[i] = m[q].seed;
      j->level[i] = intern(j->level_names, &j->n_level_names, m[q].size);
      sid[i] = intern_u64(seeds, &nseeds, m[q].seed);
      j->seed[i] = sid[i];
    }
    j->n_excluded = nzero[k] + nbad[k];
    why2(j->excluded_why, sizeof j->excluded_why, nzero[k],
         "model(s) with test_acc 1 (log error undefined)", nbad[k],
         "model(s) with invalid test_acc or flops");
    int present, grid;
    completeness(j->level, sid, j->n, &present, &grid);
    j->complete = present == grid && j->n_excluded == 0;
    snprintf(j->coverage, sizeof j->coverage, "%d of %d (size, seed) models", present, grid);
  }
done:
  free(rj);
  free(nzero);
  free(nbad);
  free(sid);
  free(seeds);
  return err;
}

/* PGR jobs: one per (task, method) in /summary; pgr against weak and strong flops. */
static W2Err build_pgr_jobs(const CellRow *c, size_t nc, Job **jobs_out, int *nj_out) {
  int *rj = NULL;
  W2_CALL(group_rows(nc, cell_key, c, W2_FIT_PGR, jobs_out, nj_out, &rj));
  Job *jobs = *jobs_out;
  int nj = *nj_out;
  int *pair = calloc(nc + 1, sizeof(int)), *pairkey = calloc(2 * nc + 2, sizeof(int));
  int *sid = calloc(nc + 1, sizeof(int));
  uint64_t *seeds = calloc(nc + 1, sizeof(uint64_t));
  W2Err err = W2_OK;
  if (!pair || !pairkey || !sid || !seeds) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int k = 0; k < nj; k++) {
    Job *j = &jobs[k];
    int nseeds = 0, npairs = 0, nnan = 0, nsynth = 0;
    for (size_t q = 0; q < nc; q++) {
      if (rj[q] != k) continue;
      if (!(c[q].weak_flops > 0) || !(c[q].strong_flops > 0) || !isfinite(c[q].weak_flops) ||
          !isfinite(c[q].strong_flops)) {
        nsynth++; /* synthetic supervisors (noise0.2, ...) have no compute */
        continue;
      }
      if (!isfinite(c[q].pgr)) {
        nnan++;
        continue;
      }
      int i = j->n++;
      j->x0[i] = c[q].weak_flops;
      j->x1[i] = c[q].strong_flops;
      j->y[i] = c[q].pgr;
      j->seedv[i] = c[q].seed;
      j->level[i] = intern(j->level_names, &j->n_level_names, c[q].strong);
      j->sub[i] = intern(j->sub_names, &j->n_sub_names, c[q].weak);
      sid[i] = intern_u64(seeds, &nseeds, c[q].seed);
      j->seed[i] = sid[i];
      int p; /* dense id of the (weak, strong) pair */
      for (p = 0; p < npairs; p++)
        if (pairkey[2 * p] == j->sub[i] && pairkey[2 * p + 1] == j->level[i]) break;
      if (p == npairs) {
        pairkey[2 * p] = j->sub[i];
        pairkey[2 * p + 1] = j->level[i];
        npairs++;
      }
      pair[i] = p;
    }
    j->n_excluded = nnan + nsynth;
    /* undefined PGR (NaN: a gap below max(1 point, 2 SE) or negative, pgr_status) never
     * enters a fit */
    why2(j->excluded_why, sizeof j->excluded_why, nnan,
         "cell(s) with undefined PGR (gap below noise or negative)",
         nsynth, "cell(s) without compute (synthetic supervisor)");
    int present, grid;
    completeness(pair, sid, j->n, &present, &grid);
    j->complete = present == grid;
    snprintf(j->coverage, sizeof j->coverage, "%d of %d (weak, strong, seed) cells", present,
             grid);
  }
done:
  free(rj);
  free(pair);
  free(pairkey);
  free(sid);
  free(seeds);
  return err;
}

/* ---------------------------------------------------------------------------------- */
/* Writing /fits                                                                      */

#define H5CHK(expr, what)                                                               \
  do {                                                                                  \
    if ((expr) < 0)                                                                     \
      return w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot write %s", \
                            g_fname, (what));                                           \
  } while (0)

static const char *g_fname = ""; /* for messages of the writers below */

static W2Err attr_double(hid_t loc, const char *name, double v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = sp >= 0 ? H5Acreate2(loc, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
  herr_t rc = a >= 0 ? H5Awrite(a, H5T_NATIVE_DOUBLE, &v) : -1;
  close_id(a, H5Aclose);
  close_id(sp, H5Sclose);
  H5CHK(rc, name);
  return W2_OK;
}

static W2Err attr_int(hid_t loc, const char *name, int v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = sp >= 0 ? H5Acreate2(loc, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
  herr_t rc = a >= 0 ? H5Awrite(a, H5T_NATIVE_INT, &v) : -1;
  close_id(a, H5Aclose);
  close_id(sp, H5Sclose);
  H5CHK(rc, name);
  return W2_OK;
}

/* Fixed-length string attribute (h5py reads it as bytes; empty strings get length 1). */
static W2Err attr_str(hid_t loc, const char *name, const char *s) {
  size_t len = strlen(s);
  hid_t t = H5Tcopy(H5T_C_S1);
  herr_t rc = t >= 0 ? H5Tset_size(t, len ? len : 1) : -1;
  if (rc >= 0) rc = H5Tset_strpad(t, H5T_STR_NULLPAD);
  hid_t sp = rc >= 0 ? H5Screate(H5S_SCALAR) : -1;
  hid_t a = sp >= 0 ? H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
  char one[1] = {0};
  rc = a >= 0 ? H5Awrite(a, t, len ? s : one) : -1;
  close_id(a, H5Aclose);
  close_id(sp, H5Sclose);
  close_id(t, H5Tclose);
  H5CHK(rc, name);
  return W2_OK;
}

/* Group name for a user-given name: '/' cannot appear in an HDF5 link name and '.' alone
 * means the current group; the original is kept in an attribute. */
static void link_name(const char *in, char *out, size_t cap) {
  snprintf(out, cap, "%s", in[0] ? in : "_");
  for (char *c = out; *c; c++)
    if (*c == '/') *c = '_';
  if (!strcmp(out, ".")) snprintf(out, cap, "_");
}

static hid_t make_group(hid_t parent, const char *name) {
  htri_t ex = H5Lexists(parent, name, H5P_DEFAULT);
  if (ex > 0) return H5Gopen2(parent, name, H5P_DEFAULT);
  if (ex < 0) return -1;
  return H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* n x 3 float64 dataset of bootstrap parameter samples */
static W2Err write_boot(hid_t g, const W2FitResult *f, const char *columns) {
  hsize_t dims[2] = {(hsize_t)f->n_boot_converged, 3};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t ds = sp >= 0 ? H5Dcreate2(g, "bootstrap", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT)
                     : -1;
  herr_t rc = ds >= 0 ? 0 : -1;
  if (rc >= 0 && f->n_boot_converged > 0)
    rc = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->boot);
  W2Err e = rc >= 0 ? attr_str(ds, "columns", columns) : W2_OK;
  close_id(ds, H5Dclose);
  close_id(sp, H5Sclose);
  H5CHK(rc, "bootstrap");
  return e;
}

static const char *par_names(int kind, int j) {
  static const char *sc[3] = {"E", "A", "alpha"}, *pg[3] = {"p0", "pw", "ps"};
  return kind == W2_FIT_SCALING ? sc[j] : pg[j];
}

/* Parameters, intervals and diagnostics of one fit as attributes of g. */
static W2Err write_fit_attrs(hid_t g, const W2FitResult *f) {
  char nm[32];
  for (int k = 0; k < 3; k++) {
    const char *p = par_names(f->kind, k);
    W2_CALL(attr_double(g, p, f->theta[k]));
    snprintf(nm, sizeof nm, "%s_lo", p);
    W2_CALL(attr_double(g, nm, f->lo[k]));
    snprintf(nm, sizeof nm, "%s_hi", p);
    W2_CALL(attr_double(g, nm, f->hi[k]));
    snprintf(nm, sizeof nm, "%s_lo_pct", p);
    W2_CALL(attr_double(g, nm, f->lo_pct[k]));
    snprintf(nm, sizeof nm, "%s_hi_pct", p);
    W2_CALL(attr_double(g, nm, f->hi_pct[k]));
    if (f->kind == W2_FIT_PGR || k == 0) { /* SCALING: E_fitted = 0 when held at 0 */
      snprintf(nm, sizeof nm, "%s_fitted", p);
      W2_CALL(attr_int(g, nm, f->free_par[k]));
    }
  }
  if (f->kind == W2_FIT_SCALING) {
    W2_CALL(attr_double(g, "c_ref", f->ref0));
  } else {
    W2_CALL(attr_double(g, "cw_ref", f->ref0));
    W2_CALL(attr_double(g, "cs_ref", f->ref1));
  }
  W2_CALL(attr_int(g, "converged", f->converged));
  W2_CALL(attr_double(g, "grad_ratio", f->grad_ratio));
  W2_CALL(attr_int(g, "iterations", f->iterations));
  W2_CALL(attr_double(g, "loss", f->loss));
  W2_CALL(attr_double(g, "huber_delta", f->delta));
  W2_CALL(attr_int(g, "n_points", f->n_points));
  W2_CALL(attr_int(g, "n_sizes", f->n_levels));
  W2_CALL(attr_int(g, "n_seeds", f->n_groups));
  W2_CALL(attr_int(g, "n_starts", f->n_starts));
  W2_CALL(attr_int(g, "n_starts_converged", f->n_starts_converged));
  W2_CALL(attr_int(g, "n_starts_at_best", f->n_at_best));
  W2_CALL(attr_int(g, "n_boot", f->n_boot));
  W2_CALL(attr_int(g, "n_boot_converged", f->n_boot_converged));
  W2_CALL(attr_int(g, "n_boot_distinct", f->n_boot_distinct));
  W2_CALL(attr_int(g, "n_cells", f->n_cells));
  W2_CALL(attr_double(g, "level", f->level));
  W2_CALL(attr_double(g, "interval_k", f->interval_k));
  return W2_OK;
}

/* compound types written below; all strings FILE_STR wide */
typedef struct {
  int n_held_out;
  char held_out[FILE_STR], weak[FILE_STR];
  double flops, weak_flops, predicted, pred_lo, pred_hi, measured, abs_err;
  int n_points;
} BtRec;

typedef struct {
  char size[FILE_STR], weak[FILE_STR];
  uint64_t seed;
  double flops, weak_flops, y;
} PtRec;

static hid_t str_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0 && (H5Tset_size(t, FILE_STR) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0)) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

/* Writes a 1-D compound dataset of n records: BtRec (is_bt) or PtRec, whose value field is
 * named yname ("err" or "pgr"). */
static W2Err write_records(hid_t g, const char *name, size_t recsize, const void *recs, size_t n,
                           int is_bt, const char *yname) {
  hid_t s = str_type(), t = H5Tcreate(H5T_COMPOUND, recsize);
  herr_t rc = (s >= 0 && t >= 0) ? 0 : -1;
#define INS(nm, st, fld, ty) \
  if (rc >= 0) rc = H5Tinsert(t, nm, offsetof(st, fld), ty)
  if (is_bt) {
    INS("n_held_out", BtRec, n_held_out, H5T_NATIVE_INT);
    INS("held_out", BtRec, held_out, s);
    INS("weak", BtRec, weak, s);
    INS("flops", BtRec, flops, H5T_NATIVE_DOUBLE);
    INS("weak_flops", BtRec, weak_flops, H5T_NATIVE_DOUBLE);
    INS("predicted", BtRec, predicted, H5T_NATIVE_DOUBLE);
    INS("pred_lo", BtRec, pred_lo, H5T_NATIVE_DOUBLE);
    INS("pred_hi", BtRec, pred_hi, H5T_NATIVE_DOUBLE);
    INS("measured", BtRec, measured, H5T_NATIVE_DOUBLE);
    INS("abs_err", BtRec, abs_err, H5T_NATIVE_DOUBLE);
    INS("n_points", BtRec, n_points, H5T_NATIVE_INT);
  } else {
    INS("size", PtRec, size, s);
    INS("weak", PtRec, weak, s);
    INS("seed", PtRec, seed, H5T_NATIVE_UINT64);
    INS("flops", PtRec, flops, H5T_NATIVE_DOUBLE);
    INS("weak_flops", PtRec, weak_flops, H5T_NATIVE_DOUBLE);
    INS(yname, PtRec, y, H5T_NATIVE_DOUBLE);
  }
#undef INS
  /* the file type is packed so the stored layout does not depend on this compiler */
  hid_t ft = rc >= 0 ? H5Tcopy(t) : -1;
  if (ft >= 0) rc = H5Tpack(ft);
  hsize_t dims[1] = {(hsize_t)n};
  hid_t sp = (rc >= 0 && ft >= 0) ? H5Screate_simple(1, dims, NULL) : -1;
  hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  rc = ds >= 0 ? 0 : -1;
  if (rc >= 0 && n > 0) rc = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs);
  close_id(ds, H5Dclose);
  close_id(sp, H5Sclose);
  close_id(ft, H5Tclose);
  close_id(t, H5Tclose);
  close_id(s, H5Tclose);
  H5CHK(rc, name);
  return W2_OK;
}

static W2Err write_job(hid_t fits, const Job *j) {
  char tl[NAME_LEN], nl[NAME_LEN];
  link_name(j->task, tl, sizeof tl);
  link_name(j->name, nl, sizeof nl);
  hid_t kind_g = make_group(fits, j->kind == W2_FIT_SCALING ? "scaling" : "pgr");
  hid_t task_g = kind_g >= 0 ? make_group(kind_g, tl) : -1;
  hid_t g = task_g >= 0 ? H5Gcreate2(task_g, nl, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  close_id(task_g, H5Gclose);
  close_id(kind_g, H5Gclose);
  if (g < 0) W2_RAISE(W2_ERR_IO, "%s: cannot create /fits group for %s/%s", g_fname, j->task, j->name);
  W2Err err = W2_OK;
  BtRec *bt = NULL;
  PtRec *pts = NULL;
  int is_sc = j->kind == W2_FIT_SCALING;
  W2_CALL_GOTO(err, done, attr_str(g, "task", j->task));
  W2_CALL_GOTO(err, done, attr_str(g, is_sc ? "role" : "method", j->name));
  W2_CALL_GOTO(err, done,
               attr_str(g, "form",
                        is_sc ? "err = E + A*C^-alpha"
                              : "pgr = p0 + pw*log10(Cw/cw_ref) + ps*log10(Cs/cs_ref)"));
  W2_CALL_GOTO(err, done,
               attr_str(g, "units",
                        is_sc ? "err = 1 - test accuracy (fraction); C = training FLOPs "
                                "(pretraining + finetuning)"
                              : "pgr as a fraction; Cw, Cs = weak / strong training FLOPs"));
  W2_CALL_GOTO(err, done,
               attr_str(g, "objective", is_sc ? "sum of Huber(log pred - log err)"
                                         : "sum of Huber(pred - pgr)"));
  W2_CALL_GOTO(err, done,
               attr_str(g, "interval",
                        "_lo/_hi: 95% bootstrap over seeds, the percentile interval "
                        "(_lo_pct/_hi_pct) widened about the estimate by interval_k = "
                        "t_{S-1}/z*sqrt(S/(S-1)) for S seeds (log scale for E, A)"));
  W2_CALL_GOTO(err, done, attr_int(g, "fitted", j->fitted));
  W2_CALL_GOTO(err, done, attr_int(g, "saturated", j->saturated));
  W2_CALL_GOTO(err, done, attr_str(g, "note", j->note));
  W2_CALL_GOTO(err, done, attr_int(g, "complete", j->complete));
  W2_CALL_GOTO(err, done, attr_str(g, "coverage", j->coverage));
  W2_CALL_GOTO(err, done, attr_int(g, "n_excluded", j->n_excluded));
  W2_CALL_GOTO(err, done, attr_str(g, "excluded", j->excluded_why));

  /* the points fitted, so figures can show exactly what the fit saw */
  pts = calloc((size_t)(j->n ? j->n : 1), sizeof *pts);
  if (!pts) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < j->n; i++) {
    snprintf(pts[i].size, FILE_STR, "%.31s", j->level_names[j->level[i]]);
    if (!is_sc) snprintf(pts[i].weak, FILE_STR, "%.31s", j->sub_names[j->sub[i]]);
    pts[i].seed = j->seedv[i];
    pts[i].flops = is_sc ? j->x0[i] : j->x1[i];
    pts[i].weak_flops = is_sc ? NAN : j->x0[i];
    pts[i].y = j->y[i];
  }
  W2_CALL_GOTO(err, done, write_records(g, "points", sizeof *pts, pts, (size_t)j->n, 0,
                                        is_sc ? "err" : "pgr"));
  if (!j->fitted) goto done;

  W2_CALL_GOTO(err, done, write_fit_attrs(g, &j->fit));
  W2_CALL_GOTO(err, done, write_boot(g, &j->fit, is_sc ? "E,A,alpha" : "p0,pw,ps"));
  int nrows = j->bt[0].n_rows + j->bt[1].n_rows, r = 0;
  bt = calloc((size_t)(nrows ? nrows : 1), sizeof *bt);
  if (!bt) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int h = 0; h < 2; h++) {
    const W2Backtest *b = &j->bt[h];
    char sub[16];
    snprintf(sub, sizeof sub, "backtest_%d", h + 1);
    hid_t bg = H5Gcreate2(g, sub, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (bg < 0) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot write %s",
                           g_fname, sub);
      goto done;
    }
    char held[256] = ""; /* held-out size names, comma-separated (rows grouped by size) */
    for (int k = 0; k < b->n_rows; k++)
      if (k == 0 || b->rows[k].level != b->rows[k - 1].level)
        snprintf(held + strlen(held), sizeof held - strlen(held), "%s%s", k ? "," : "",
                 j->level_names[b->rows[k].level]);
    err = attr_int(bg, "n_held_out", b->n_held_out);
    if (!err) err = attr_int(bg, "ok", b->ok);
    if (!err) err = attr_str(bg, "note", b->note);
    if (!err) err = attr_str(bg, "held_out", held);
    if (!err) err = attr_double(bg, "mean_abs_err", b->mean_abs_err);
    if (!err && b->ok) err = write_fit_attrs(bg, &b->fit);
    if (!err && b->ok) err = write_boot(bg, &b->fit, is_sc ? "E,A,alpha" : "p0,pw,ps");
    H5Gclose(bg);
    if (err) {
      w2_error_push(__FILE__, __LINE__, __func__, err);
      goto done;
    }
    for (int k = 0; k < b->n_rows; k++, r++) {
      const W2BacktestRow *row = &b->rows[k];
      bt[r].n_held_out = b->n_held_out;
      snprintf(bt[r].held_out, FILE_STR, "%.31s", j->level_names[row->level]);
      if (!is_sc) snprintf(bt[r].weak, FILE_STR, "%.31s", j->sub_names[row->sub]);
      bt[r].flops = is_sc ? row->x0 : row->x1;
      bt[r].weak_flops = is_sc ? NAN : row->x0;
      bt[r].predicted = row->predicted;
      bt[r].pred_lo = row->pred_lo;
      bt[r].pred_hi = row->pred_hi;
      bt[r].measured = row->measured;
      bt[r].abs_err = row->abs_err;
      bt[r].n_points = row->n_points;
    }
  }
  W2_CALL_GOTO(err, done, write_records(g, "backtest", sizeof *bt, bt, (size_t)r, 1, NULL));
done:
  free(bt);
  free(pts);
  H5Gclose(g);
  return err;
}

static W2Err write_fits(const char *fname, const Job *jobs, int nj, const W2FitOptions *o,
                        int partial, const char *notes) {
  g_fname = fname;
  hid_t f = H5Fopen(fname, H5F_ACC_RDWR, H5P_DEFAULT);
  W2_CHECK(f >= 0, W2_ERR_IO, "%s: cannot open for writing (read-only, or open in a running sweep?)",
           fname);
  W2Err err = W2_OK;
  hid_t g = -1;
  /* leftovers of an interrupted earlier run */
  if (H5Lexists(f, "fits.new", H5P_DEFAULT) > 0 && H5Ldelete(f, "fits.new", H5P_DEFAULT) < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot remove /fits.new",
                         fname);
    goto done;
  }
  g = H5Gcreate2(f, "fits.new", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot create /fits", fname);
    goto done;
  }
  char when[32];
  time_t now = time(NULL);
  struct tm tmv;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
  W2_CALL_GOTO(err, done, attr_int(g, "schema_version", 1));
  W2_CALL_GOTO(err, done, attr_str(g, "created", when));
  W2_CALL_GOTO(err, done, attr_str(g, "w2sweep_version", W2SWEEP_VERSION));
  W2_CALL_GOTO(err, done, attr_int(g, "n_boot", o->n_boot));
  W2_CALL_GOTO(err, done, attr_double(g, "seed", (double)o->seed));
  W2_CALL_GOTO(err, done, attr_double(g, "huber_delta_option", o->huber_delta));
  W2_CALL_GOTO(err, done, attr_double(g, "pgr_delta_option", o->pgr_delta));
  W2_CALL_GOTO(err, done, attr_int(g, "partial", partial));
  W2_CALL_GOTO(err, done, attr_str(g, "notes", notes));
  for (int k = 0; k < nj; k++) W2_CALL_GOTO(err, done, write_job(g, &jobs[k]));
  H5Gclose(g);
  g = -1;
  /* the swap: only now is the old /fits removed */
  if (H5Lexists(f, "fits", H5P_DEFAULT) > 0 && H5Ldelete(f, "fits", H5P_DEFAULT) < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot replace /fits", fname);
    goto done;
  }
  if (H5Lmove(f, "fits.new", f, "fits", H5P_DEFAULT, H5P_DEFAULT) < 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot rename /fits.new",
                         fname);
    goto done;
  }
done:
  close_id(g, H5Gclose);
  if (err && H5Lexists(f, "fits.new", H5P_DEFAULT) > 0) H5Ldelete(f, "fits.new", H5P_DEFAULT);
  if (H5Fclose(f) < 0 && !err)
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: error closing the file",
                         fname);
  return err;
}

/* ---------------------------------------------------------------------------------- */
/* Table                                                                              */

static void fmt_ci(char *out, size_t cap, double v, double lo, double hi, const char *f) {
  char a[24], b[24], c[24];
  snprintf(a, sizeof a, f, v);
  if (isnan(lo)) {
    snprintf(out, cap, "%s [   n/a   ]", a);
    return;
  }
  snprintf(b, sizeof b, f, lo);
  snprintf(c, sizeof c, f, hi);
  snprintf(out, cap, "%s [%s, %s]", a, b, c);
}

static void fmt_bt(char *out, size_t cap, const W2Backtest *b) {
  if (!b->ok) snprintf(out, cap, "%8s", "n/a");
  else snprintf(out, cap, "%8.4f", b->mean_abs_err);
}

/* Lines under a fit's row for what it cannot know: E held at 0, backtests that were not
 * possible, a bootstrap with few distinct replicates. */
static void print_limits(const Job *j) {
  const W2FitResult *f = &j->fit;
  if (j->kind == W2_FIT_SCALING && !f->free_par[0])
    printf("    E held at 0: %d sizes < %d, fitted as a pure power law err = A*C^-alpha\n",
           f->n_levels, W2_FIT_MIN_SIZES_FREE_E);
  if (!j->bt[0].ok) printf("    backtest: %s\n", j->bt[0].note);
  else if (!j->bt[1].ok) printf("    backtest -2: %s\n", j->bt[1].note);
  if (f->n_boot_converged > 0 && f->n_boot_distinct < W2_FIT_FEW_BOOT_DISTINCT)
    printf("    warning: the bootstrap had %d distinct replicates (of %d, %d seeds): its "
           "intervals are coarse\n", f->n_boot_distinct, f->n_boot_converged, f->n_groups);
}

/* The row of a fit that was not made: saturated ones say so in capitals (never a silent
 * "conv yes"), the rest "skipped" with the reason. */
static void print_skipped(const Job *j) {
  const char *why = j->note;
  if (j->saturated && !strncmp(why, "saturated: ", 11)) why += 11;
  printf("%-14s %-13s  %s: %s\n", j->task, j->name, j->saturated ? "SATURATED, not fitted" : "skipped",
         why);
}

static void print_tables(const Job *jobs, int nj, const W2FitOptions *o) {
  int any_sc = 0, any_pg = 0, min_seeds = 1 << 30;
  for (int k = 0; k < nj; k++) {
    if (jobs[k].kind == W2_FIT_SCALING) any_sc = 1;
    else any_pg = 1;
    if (jobs[k].fitted && jobs[k].fit.n_groups < min_seeds) min_seeds = jobs[k].fit.n_groups;
  }
  char e[96], a[96], al[96], b1[16], b2[16];
  if (any_sc) {
    printf("\nScaling fits: err(C) = E + A*C^-alpha   (err = 1 - test accuracy; C = training "
           "FLOPs)\n");
    printf("Huber loss on log error, summed; best of 112 starts (28 with E held at 0); 95%% CI: "
           "bootstrap over seeds\n(B=%d), widened for few seeds; E >= 0 and alpha > 0; a free E "
           "needs >= %d sizes\n", o->n_boot, W2_FIT_MIN_SIZES_FREE_E);
    printf("backtest = mean |predicted - measured| error at the held-out largest 1 / 2 sizes\n");
    printf("%-14s %-13s %5s %4s %4s  %-28s %-28s %-30s %8s %8s\n", "task", "role", "sizes",
           "pts", "conv", "E [95% CI]", "alpha [95% CI]", "A [95% CI]", "bt -1", "bt -2");
    for (int k = 0; k < nj; k++) {
      const Job *j = &jobs[k];
      if (j->kind != W2_FIT_SCALING) continue;
      if (!j->fitted) {
        print_skipped(j);
        continue;
      }
      const W2FitResult *f = &j->fit;
      if (f->free_par[0]) fmt_ci(e, sizeof e, f->theta[0], f->lo[0], f->hi[0], "%.4f");
      else snprintf(e, sizeof e, "0 (held: %d sizes < %d)", f->n_levels, W2_FIT_MIN_SIZES_FREE_E);
      fmt_ci(al, sizeof al, f->theta[2], f->lo[2], f->hi[2], "%.4f");
      fmt_ci(a, sizeof a, f->theta[1], f->lo[1], f->hi[1], "%.3g");
      fmt_bt(b1, sizeof b1, &j->bt[0]);
      fmt_bt(b2, sizeof b2, &j->bt[1]);
      printf("%-14s %-13s %5d %4d %4s  %-28s %-28s %-30s %8s %8s%s\n", j->task, j->name,
             f->n_levels, f->n_points, f->converged ? "yes" : "NO", e, al, a, b1, b2,
             j->complete ? "" : "  (partial)");
      print_limits(j);
    }
  }
  if (any_pg) {
    printf("\nPGR fits: PGR = p0 + pw*log10(Cw/Cw_ref) + ps*log10(Cs/Cs_ref)   (Cw, Cs = weak, "
           "strong training FLOPs;\n"
           "refs = geometric means, so p0 = PGR at the typical pair, pw/ps = PGR change per "
           "decade). Huber loss, summed.\n");
    printf("backtest = mean |predicted - measured| PGR at the held-out largest 1 / 2 strong "
           "sizes\n");
    printf("%-14s %-13s %4s %4s  %-26s %-26s %-26s %8s %8s\n", "task", "method", "pts", "conv",
           "p0 [95% CI]", "pw [95% CI]", "ps [95% CI]", "bt -1", "bt -2");
    for (int k = 0; k < nj; k++) {
      const Job *j = &jobs[k];
      if (j->kind != W2_FIT_PGR) continue;
      if (!j->fitted) {
        print_skipped(j);
        continue;
      }
      const W2FitResult *f = &j->fit;
      char p[3][96];
      for (int q = 0; q < 3; q++) {
        if (f->free_par[q]) fmt_ci(p[q], sizeof p[q], f->theta[q], f->lo[q], f->hi[q], "%.3f");
        else snprintf(p[q], sizeof p[q], "(not identified)");
      }
      fmt_bt(b1, sizeof b1, &j->bt[0]);
      fmt_bt(b2, sizeof b2, &j->bt[1]);
      printf("%-14s %-13s %4d %4s  %-26s %-26s %-26s %8s %8s%s\n", j->task, j->name,
             f->n_points, f->converged ? "yes" : "NO", p[0], p[1], p[2], b1, b2,
             j->complete ? "" : "  (partial)");
      print_limits(j);
    }
  }
  if (min_seeds < 2 && o->n_boot > 0)
    printf("\nnote: fits from a single seed have no intervals (the bootstrap resamples seeds).\n");
  else if (min_seeds < 10 && o->n_boot > 0)
    printf("\nnote: intervals from as few as %d seeds. A plain percentile bootstrap over S seeds "
           "covers far less\n      than 95%% (measured 71%% at S=3, 83%% at S=5); the intervals "
           "shown are widened for S\n      (measured 92-96%%; analysis/README.md). The plain ones "
           "are in /fits as *_lo_pct/*_hi_pct.\n", min_seeds);
}

/* ---------------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: w2sweep fit RESULTS.h5 [--boot N] [--seed S] [--huber-delta D]\n"
          "                              [--pgr-delta D] [--no-write] [-v]\n"
          "\n"
          "Fits, per task, the test error of weak supervisors and of strong ceilings\n"
          "(/models) against training compute, err(C) = E + A*C^-alpha, and, per task and\n"
          "method, PGR against weak and strong compute (/summary), with 95%% bootstrap\n"
          "intervals over seeds and backtests that refit without the largest 1 and 2 sizes\n"
          "and score the extrapolation. Writes /fits in RESULTS.h5 (replacing it) and prints\n"
          "a table. A partial sweep is fitted on what it has and the output says so.\n"
          "\n"
          "  --boot N         bootstrap replicates (default 1000; 0: no intervals)\n"
          "  --seed S         bootstrap seed (default 20231214)\n"
          "  --huber-delta D  Huber delta on log error (default: 1.345 x robust noise\n"
          "                   scale; 1e-3 reproduces Chinchilla's setting)\n"
          "  --pgr-delta D    Huber delta in PGR units (default: as above)\n"
          "  --no-write       print the table only; leave the file untouched\n"
          "  -v               show the call trace of an error\n"
          "\n"
          "Method and /fits layout: analysis/README.md. Exit status: 0 ok, 2 bad or\n"
          "unusable results file or arguments, 1 other failures.\n");
}

static W2Err parse_double(const char *s, const char *opt, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  W2_CHECK(errno == 0 && end != s && *end == '\0' && isfinite(*v), W2_ERR_ARG,
           "%s: '%s' is not a number", opt, s);
  return W2_OK;
}

typedef struct {
  W2FitOptions o;
  const char *fname;
  int no_write, help;
} Args;

static W2Err parse_args(int argc, char **argv, Args *A) {
  memset(A, 0, sizeof *A);
  w2_fit_options_default(&A->o);
  W2FitOptions o = A->o;
  const char *fname = NULL;
  int no_write = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      A->help = 1;
      return W2_OK;
    } else if (!strcmp(a, "-v")) {
      w2_error_set_verbose(1);
    } else if (!strcmp(a, "--no-write")) {
      no_write = 1;
    } else if (!strcmp(a, "--boot") || !strcmp(a, "--seed") || !strcmp(a, "--huber-delta") ||
               !strcmp(a, "--pgr-delta")) {
      W2_CHECK(has_val, W2_ERR_ARG, "%s needs a value (see `w2sweep fit --help`)", a);
      double v;
      W2_CALL(parse_double(argv[++i], a, &v));
      if (!strcmp(a, "--boot")) {
        W2_CHECK(v >= 0 && v <= 1e6 && v == floor(v), W2_ERR_ARG,
                 "--boot: '%s' is not a count in 0..1000000", argv[i]);
        o.n_boot = (int)v;
      } else if (!strcmp(a, "--seed")) {
        W2_CHECK(v >= 0 && v == floor(v) && v < 4294967296.0, W2_ERR_ARG,
                 "--seed: '%s' is not an integer in 0..2^32-1", argv[i]);
        o.seed = (unsigned long)v;
      } else {
        W2_CHECK(v > 0, W2_ERR_ARG, "%s must be > 0", a);
        if (!strcmp(a, "--huber-delta")) o.huber_delta = v;
        else o.pgr_delta = v;
      }
    } else if (a[0] == '-' && a[1]) {
      W2_RAISE(W2_ERR_ARG, "fit: unknown option '%s' (see `w2sweep fit --help`)", a);
    } else {
      W2_CHECK(!fname, W2_ERR_ARG, "fit: one results file expected, got '%s' and '%s'", fname, a);
      fname = a;
    }
  }
  W2_CHECK(fname, W2_ERR_ARG, "fit: no results file given (usage: w2sweep fit RESULTS.h5)");
  A->o = o;
  A->fname = fname;
  A->no_write = no_write;
  return W2_OK;
}

/* Reads /models and /summary (and /provenance end_time) of fname: rank 0 only. */
static W2Err read_results(const char *fname, ModelRow **models, size_t *nm, CellRow **cells,
                          size_t *nc, char *end_time, size_t cap) {
  *models = NULL;
  *cells = NULL;
  *nm = *nc = 0;
  end_time[0] = '\0';
  struct stat st;
  W2_CHECK(stat(fname, &st) == 0, W2_ERR_DATA, "%s: %s", fname, strerror(errno));
  W2_CHECK(S_ISREG(st.st_mode), W2_ERR_DATA, "%s: not a regular file", fname);
  htri_t is5 = H5Fis_hdf5(fname);
  W2_CHECK(is5 > 0, W2_ERR_DATA, "%s: not an HDF5 file", fname);
  hid_t f = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
  W2_CHECK(f >= 0, W2_ERR_DATA, "%s: cannot open (damaged, or locked by a running sweep?)",
           fname);
  int sv = -1;
  if (H5Aexists(f, "schema_version") > 0 &&
      w2_h5_attr_read_int(f, fname, "schema_version", &sv) != W2_OK) {
    H5Fclose(f); /* not a single integer */
    return w2_error_push(__FILE__, __LINE__, __func__, W2_ERR_DATA);
  }
  if (sv != 1) {
    H5Fclose(f);
    if (sv == -1)
      W2_RAISE(W2_ERR_DATA, "%s: no schema_version attribute (not a w2sweep results file)",
               fname);
    W2_RAISE(W2_ERR_DATA, "%s: schema_version %d is not supported (expected 1)", fname, sv);
  }
  W2Err err = read_table(f, fname, "/models", model_fields, NFIELDS(model_fields),
                         sizeof(ModelRow), (void **)models, nm);
  /* check (f)'s controls (role ceiling_init) are one size trained from initialisation: not a
   * ladder to fit, and their FLOPs leave out the pretraining the other rows count */
  size_t keep = 0;
  for (size_t i = 0; !err && i < *nm; i++)
    if (strcmp((*models)[i].role, "ceiling_init") != 0) (*models)[keep++] = (*models)[i];
  if (!err) *nm = keep;
  if (!err)
    err = read_table(f, fname, "/summary", cell_fields, NFIELDS(cell_fields), sizeof(CellRow),
                     (void **)cells, nc);
  if (!err && H5Lexists(f, "provenance", H5P_DEFAULT) > 0)
    read_str_attr(f, "provenance", "end_time", end_time, cap);
  H5Fclose(f);
  if (err) {
    free(*models);
    free(*cells);
    *models = NULL;
    *cells = NULL;
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  return W2_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Several ranks: jobs are dealt round-robin, results come back to rank 0 as bytes.   */
/* All ranks run the same binary on the same kind of node (one MPI job), so structs    */
/* travel as raw bytes; their pointers are rebuilt on arrival.                        */

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} Buf;

static void put(Buf *b, const void *src, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 4096;
    while (cap < b->n + n) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}

static int get(const char *p, size_t n, size_t *at, void *dst, size_t k) {
  if (*at + k > n) return 0;
  memcpy(dst, p + *at, k);
  *at += k;
  return 1;
}

static void put_fit(Buf *b, const W2FitResult *f) {
  put(b, f, sizeof *f);
  put(b, f->boot, (size_t)f->n_boot_converged * 3 * sizeof(double));
}

/* what rank 0 needs of a job another rank ran */
static void pack_job(Buf *b, const Job *j) {
  put(b, &j->status, sizeof j->status);
  put(b, j->errmsg, sizeof j->errmsg);
  put(b, &j->fitted, sizeof j->fitted);
  put(b, &j->saturated, sizeof j->saturated);
  put(b, j->note, sizeof j->note);
  if (!j->fitted) return;
  put_fit(b, &j->fit);
  for (int h = 0; h < 2; h++) {
    const W2Backtest *bt = &j->bt[h];
    put(b, bt, sizeof *bt);
    if (bt->ok) put_fit(b, &bt->fit);
    put(b, bt->rows, (size_t)bt->n_rows * sizeof *bt->rows);
  }
}

static int get_fit(const char *p, size_t n, size_t *at, W2FitResult *f) {
  if (!get(p, n, at, f, sizeof *f)) return 0;
  size_t k = (size_t)f->n_boot_converged * 3;
  f->boot = calloc(k ? k : 1, sizeof(double));
  return f->boot && get(p, n, at, f->boot, k * sizeof(double));
}

static int unpack_job(const char *p, size_t n, Job *j) {
  size_t at = 0;
  if (!get(p, n, &at, &j->status, sizeof j->status) ||
      !get(p, n, &at, j->errmsg, sizeof j->errmsg) ||
      !get(p, n, &at, &j->fitted, sizeof j->fitted) ||
      !get(p, n, &at, &j->saturated, sizeof j->saturated) || !get(p, n, &at, j->note, sizeof j->note))
    return 0;
  if (!j->fitted) return at == n;
  memset(&j->fit, 0, sizeof j->fit);
  memset(j->bt, 0, sizeof j->bt);
  int ok = get_fit(p, n, &at, &j->fit);
  for (int h = 0; h < 2 && ok; h++) {
    W2Backtest *bt = &j->bt[h];
    ok = get(p, n, &at, bt, sizeof *bt);
    bt->rows = NULL;
    bt->fit.boot = NULL;
    if (ok && bt->ok) ok = get_fit(p, n, &at, &bt->fit);
    if (ok) {
      bt->rows = calloc((size_t)(bt->n_rows ? bt->n_rows : 1), sizeof *bt->rows);
      ok = bt->rows && get(p, n, &at, bt->rows, (size_t)bt->n_rows * sizeof *bt->rows);
    }
  }
  return ok && at == n;
}

/* rank 0 -> all: a byte block of any size (MPI counts are int) */
static W2Err bcast_bytes(void *p, size_t n) {
  for (size_t off = 0; off < n;) {
    size_t k = n - off < (size_t)1 << 30 ? n - off : (size_t)1 << 30;
    W2_CALL_MPI(MPI_Bcast((char *)p + off, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD));
    off += k;
  }
  return W2_OK;
}

/* The work of `fit` on every rank. Rank 0 reads, reports, writes; errors it returns are
 * reported by the caller on rank 0 only (other ranks' returns are ignored, the exit status
 * is rank 0's). Collectives are reached by every rank in the same order whatever fails. */
static W2Err fit_main(int argc, char **argv, int *help, int rank, int size) {
  Args A;
  W2Err err = parse_args(argc, argv, &A); /* same verdict on every rank */
  *help = A.help;
  if (err || A.help) return err;
  const W2FitOptions o = A.o;
  const char *fname = A.fname;

  ModelRow *models = NULL;
  CellRow *cells = NULL;
  size_t nm = 0, nc = 0;
  Job *sj = NULL, *pj = NULL, *all = NULL;
  int nsj = 0, npj = 0, nall = 0;
  char notes[2048] = "", end_time[64] = "";
  if (rank == 0) err = read_results(fname, &models, &nm, &cells, &nc, end_time, sizeof end_time);
  if (size > 1) {
    /* status and tables to every rank; a failure ends every rank here */
    unsigned long long hdr[3] = {(unsigned long long)err, nm, nc};
    W2_CALL_MPI(MPI_Bcast(hdr, 3, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD));
    if (hdr[0]) return rank == 0 ? err : (W2Err)hdr[0];
    if (rank != 0) {
      nm = (size_t)hdr[1];
      nc = (size_t)hdr[2];
      models = calloc(nm ? nm : 1, sizeof *models);
      cells = calloc(nc ? nc : 1, sizeof *cells);
      if (!models || !cells) { /* cannot leave the collective: receive into nothing */
        fprintf(stderr, "w2sweep: error: rank %d: out of memory for the results tables\n", rank);
        MPI_Abort(MPI_COMM_WORLD, W2_EXIT_RUNTIME);
      }
    }
    W2_CALL_GOTO(err, done, bcast_bytes(models, nm * sizeof *models));
    W2_CALL_GOTO(err, done, bcast_bytes(cells, nc * sizeof *cells));
  } else if (err) {
    return err;
  }

  /* --- jobs: the same list, in the same order, on every rank --- */
  W2_CALL_GOTO(err, done, build_scaling_jobs(models, nm, &sj, &nsj));
  W2_CALL_GOTO(err, done, build_pgr_jobs(cells, nc, &pj, &npj));
  nall = nsj + npj;
  all = calloc((size_t)(nall ? nall : 1), sizeof *all);
  if (!all) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  /* move the jobs into one array (ownership moves too) */
  if (nsj) memcpy(all, sj, (size_t)nsj * sizeof *all);
  if (npj) memcpy(all + nsj, pj, (size_t)npj * sizeof *all);
  free(sj);
  free(pj);
  sj = pj = NULL;
  nsj = npj = 0;
  if (nall == 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: /models and /summary are empty: nothing to fit yet", fname);
    goto done;
  }

  /* --- fit: job k on rank k % size; a failing job is recorded, not thrown, so that
   * every rank still takes part in the exchange below --- */
  for (int k = rank; k < nall; k += size) {
    W2Err e = run_job(&all[k], &o);
    if (e) {
      all[k].status = e;
      snprintf(all[k].errmsg, sizeof all[k].errmsg, "%s", w2_error_message());
      w2_error_clear();
    }
  }
  if (size > 1) {
    for (int k = 0; k < nall; k++) {
      int owner = k % size;
      if (owner == 0) continue;
      if (rank == owner) {
        Buf b = {0};
        pack_job(&b, &all[k]);
        if (b.oom) {
          fprintf(stderr, "w2sweep: error: rank %d: out of memory packing results\n", rank);
          MPI_Abort(MPI_COMM_WORLD, W2_EXIT_RUNTIME);
        }
        unsigned long long len = b.n;
        W2_CALL_MPI(MPI_Send(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, 0, MPI_COMM_WORLD));
        for (size_t off = 0; off < b.n; off += (size_t)1 << 30) {
          size_t c = b.n - off < (size_t)1 << 30 ? b.n - off : (size_t)1 << 30;
          W2_CALL_MPI(MPI_Send(b.p + off, (int)c, MPI_BYTE, 0, 1, MPI_COMM_WORLD));
        }
        free(b.p);
      } else if (rank == 0) {
        unsigned long long len = 0;
        W2_CALL_MPI(MPI_Recv(&len, 1, MPI_UNSIGNED_LONG_LONG, owner, 0, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE));
        char *p = malloc(len ? (size_t)len : 1);
        if (!p) {
          fprintf(stderr, "w2sweep: error: out of memory receiving results\n");
          MPI_Abort(MPI_COMM_WORLD, W2_EXIT_RUNTIME);
        }
        for (size_t off = 0; off < len; off += (size_t)1 << 30) {
          size_t c = len - off < (size_t)1 << 30 ? len - off : (size_t)1 << 30;
          W2_CALL_MPI(MPI_Recv(p + off, (int)c, MPI_BYTE, owner, 1, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE));
        }
        int ok = unpack_job(p, (size_t)len, &all[k]);
        free(p);
        if (!ok && !err)
          err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_INTERNAL,
                               "results of %s/%s from rank %d are garbled", all[k].task,
                               all[k].name, owner);
      }
    }
  }
  if (rank != 0 || err) goto done;

  int nfitted = 0, partial = 0;
  for (int k = 0; k < nall; k++) {
    if (all[k].status) {
      err = w2_error_raise(__FILE__, __LINE__, __func__, all[k].status, "%s/%s: %s",
                           all[k].task, all[k].name, all[k].errmsg);
      goto done;
    }
    nfitted += all[k].fitted;
    partial |= !all[k].complete;
  }
  if (nfitted == 0) {
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: nothing could be fitted (%s/%s: %s)", fname, all[0].task,
                         all[0].name, all[0].note);
    goto done;
  }

  /* --- notes: missing data (a partial sweep) and points left out by design --- */
  int finished = end_time[0] != '\0';
  char info[2048] = "";
  if (!finished)
    snprintf(notes + strlen(notes), sizeof notes - strlen(notes),
             "no /provenance end_time: the sweep has not finished;");
  for (int k = 0; k < nall; k++) {
    const Job *j = &all[k];
    const char *kind = j->kind == W2_FIT_SCALING ? "scaling" : "pgr";
    if (!j->complete)
      snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s %s/%s: %s;", kind,
               j->task, j->name, j->coverage);
    if (j->n_excluded)
      snprintf(info + strlen(info), sizeof info - strlen(info), "%s %s/%s: left out %s;",
               kind, j->task, j->name, j->excluded_why);
  }
  partial |= !finished;

  /* --- write, then report --- */
  if (!A.no_write) {
    char all_notes[4200];
    snprintf(all_notes, sizeof all_notes, "%s%s", notes, info);
    W2_CALL_GOTO(err, done, write_fits(fname, all, nall, &o, partial, all_notes));
  }
  print_tables(all, nall, &o);
  const char *heads[2] = {"note: partial sweep, fitted on what it has:",
                          "note: points left out of fits:"};
  char *lists[2] = {notes, info};
  for (int q = 0; q < 2; q++) {
    if (!lists[q][0]) continue;
    printf("\n%s\n", heads[q]);
    char *save = NULL;
    for (char *t = strtok_r(lists[q], ";", &save); t; t = strtok_r(NULL, ";", &save))
      printf("  %s\n", t);
  }
  if (A.no_write) printf("\n(--no-write: %s not modified)\n", fname);
  else printf("\nwrote /fits to %s\n", fname);

done:
  for (int k = 0; k < nall; k++) job_free(&all[k]);
  for (int k = 0; k < nsj; k++) job_free(&sj[k]);
  for (int k = 0; k < npj; k++) job_free(&pj[k]);
  free(all);
  free(sj);
  free(pj);
  free(models);
  free(cells);
  return err;
}

int w2_cmd_fit(int argc, char **argv) {
  /* Under mpiexec the fits are shared out over the ranks (each fit is independent and
   * seeded from its own names, so the result does not depend on the number of ranks);
   * rank 0 alone reads and writes the file and prints. */
  int mpi_on = 0, rank = 0, size = 1;
  MPI_Initialized(&mpi_on);
  if (mpi_on) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  H5E_auto2_t old_fn;
  void *old_data;
  H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our one-line messages replace HDF5's stack dumps */
  int help = 0;
  W2Err err = fit_main(argc, argv, &help, rank, size);
  H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
  int rc = w2_exit_status(err);
  if (rank == 0) {
    if (help) usage(stdout);
    if (err) w2_error_report();
    fflush(stdout);
  }
  if (mpi_on && size > 1) MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}
