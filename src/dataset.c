/* dataset.c — load, validate and save users' HDF5 datasets (see dataset.h, data/FORMAT.md).
 *
 * The loader checks everything a training run would otherwise trip over later and far
 * from the cause: presence, rank, row and column counts, element class, finiteness and
 * label values, each with the file, dataset and index in the message.
 */
#include "dataset.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h" /* HDF5 helpers */
#include "texttask.h"
#include "rng.h"

#define W2_DATASET_VERSION 1

void w2_dataset_free(W2Dataset *ds) {
  free(ds->X);
  free(ds->y);
  free(ds->PX);
  free(ds->PY);
  memset(ds, 0, sizeof *ds);
}

/* ----------------------------------------------------------------------------------- */
/* loading */

/* Reads a 2-D floating-point dataset into a new row-major (rows, cols) float array and
 * checks every value is finite. */
static W2Err read_matrix(hid_t f, const char *path, const char *name, int *rows, int *cols,
                         float **out) {
  hsize_t dims[2];
  H5T_class_t cls;
  size_t sz;
  W2_CALL(w2_h5_inspect(f, path, name, 2, dims, &cls, &sz));
  W2_CHECK(cls == H5T_FLOAT && (sz == 4 || sz == 8), W2_ERR_DATA,
           "%s: %s has %s elements of %zu bytes, expected float32 (or float64)", path, name,
           cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : "non-numeric", sz);
  W2_CHECK(dims[0] >= 1 && dims[1] >= 1, W2_ERR_DATA, "%s: %s has shape (%llu, %llu), "
           "expected at least one row and one column", path, name,
           (unsigned long long)dims[0], (unsigned long long)dims[1]);
  W2_CHECK(dims[0] <= INT_MAX && dims[1] <= INT_MAX &&
               dims[0] * dims[1] <= SIZE_MAX / sizeof(float) / 2,
           W2_ERR_DATA, "%s: %s has shape (%llu, %llu), too large", path, name,
           (unsigned long long)dims[0], (unsigned long long)dims[1]);
  int r = (int)dims[0], c = (int)dims[1];
  float *a;
  W2_ALLOC_ALIGNED(a, (size_t)r * c);
  *out = a; /* owned by the caller's ds from here on, freed on failure with it */
  *rows = r;
  *cols = c;
  W2_CALL(w2_h5_read(f, path, name, H5T_NATIVE_FLOAT, a));
  for (size_t e = 0; e < (size_t)r * c; e++)
    W2_CHECK(isfinite(a[e]), W2_ERR_DATA, "%s: %s contains %s at row %zu column %zu%s", path,
             name, isnan(a[e]) ? "NaN" : "Inf", e / c, e % c,
             sz == 8 && !isnan(a[e]) ? " (or a value too large for float32)" : "");
  return W2_OK;
}

/* /y: n labels that must be exactly 0 or 1, whatever numeric type holds them. */
static W2Err read_labels(hid_t f, const char *path, int n, float *y) {
  hsize_t dims[1];
  H5T_class_t cls;
  size_t sz;
  W2_CALL(w2_h5_inspect(f, path, "/y", 1, dims, &cls, &sz));
  W2_CHECK(dims[0] == (hsize_t)n, W2_ERR_DATA, "%s: /y has %llu rows, /X has %d", path,
           (unsigned long long)dims[0], n);
  if (cls == H5T_INTEGER || cls == H5T_ENUM) { /* h5py stores numpy bool as an enum */
    long long *v;
    W2_ALLOC_ALIGNED(v, n);
    W2Err err = w2_h5_read(f, path, "/y", H5T_NATIVE_LLONG, v);
    for (int i = 0; i < n && !err; i++) {
      if (v[i] != 0 && v[i] != 1)
        err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                             "%s: /y[%d] = %lld is not a 0/1 label", path, i, v[i]);
      y[i] = (float)v[i];
    }
    free(v);
    if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
    return W2_OK;
  }
  W2_CHECK(cls == H5T_FLOAT, W2_ERR_DATA, "%s: /y has non-numeric elements, expected 0/1 "
           "labels as integers, bool or float", path);
  /* Read as double so that a value such as 0.99999999 is reported, not rounded to 1. */
  double *v;
  W2_ALLOC_ALIGNED(v, n);
  W2Err err = w2_h5_read(f, path, "/y", H5T_NATIVE_DOUBLE, v);
  for (int i = 0; i < n && !err; i++) {
    if (v[i] != 0.0 && v[i] != 1.0)
      err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "%s: /y[%d] = %.9g is not a 0/1 label (ground truth must be hard)",
                           path, i, v[i]);
    y[i] = (float)v[i];
  }
  free(v);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

static W2Err load_pretrain(hid_t f, const char *path, W2Dataset *ds) {
  hid_t g = H5Gopen2(f, "/pretrain", H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_DATA, "%s: /pretrain must be a group (holding X and optionally Y)",
           path);
  W2_CHECK(H5Gclose(g) >= 0, W2_ERR_DATA, "%s: cannot close /pretrain", path);
  W2_CHECK(w2_h5_exists(f, "/pretrain/X"), W2_ERR_DATA,
           "%s: /pretrain is present but dataset /pretrain/X is missing", path);
  int cols;
  W2_CALL(read_matrix(f, path, "/pretrain/X", &ds->m, &cols, &ds->PX));
  W2_CHECK(cols == ds->d, W2_ERR_DATA, "%s: /pretrain/X has %d columns, /X has %d", path,
           cols, ds->d);
  if (!w2_h5_exists(f, "/pretrain/Y")) return W2_OK;
  int rows;
  W2_CALL(read_matrix(f, path, "/pretrain/Y", &rows, &ds->k, &ds->PY));
  W2_CHECK(rows == ds->m, W2_ERR_DATA, "%s: /pretrain/Y has %d rows, /pretrain/X has %d",
           path, rows, ds->m);
  for (size_t e = 0; e < (size_t)ds->m * ds->k; e++)
    W2_CHECK(ds->PY[e] >= 0.f && ds->PY[e] <= 1.f, W2_ERR_DATA,
             "%s: /pretrain/Y[%zu, %zu] = %g is outside [0, 1]", path, e / ds->k, e % ds->k,
             (double)ds->PY[e]);
  return W2_OK;
}

static W2Err load_all(hid_t f, const char *path, W2Dataset *ds) {
  if (H5Aexists(f, "name") > 0)
    W2_CALL(w2_h5_attr_read_str(f, path, "name", ds->name, sizeof ds->name));
  W2_CHECK(w2_h5_exists(f, "/X"), W2_ERR_DATA, "%s: dataset /X (inputs, float32 N x d) is "
           "missing", path);
  W2_CHECK(w2_h5_exists(f, "/y"), W2_ERR_DATA, "%s: dataset /y (0/1 labels, N) is missing",
           path);
  W2_CALL(read_matrix(f, path, "/X", &ds->n, &ds->d, &ds->X));
  W2_ALLOC_ALIGNED(ds->y, ds->n);
  W2_CALL(read_labels(f, path, ds->n, ds->y));
  if (w2_h5_exists(f, "/pretrain")) W2_CALL(load_pretrain(f, path, ds));
  return W2_OK;
}

W2Err w2_dataset_load(const char *path, W2Dataset *ds) {
  memset(ds, 0, sizeof *ds);
  w2_h5_silence();
  hid_t f;
  W2_CALL(w2_h5_open_read(path, -1, &f));
  W2Err err = load_all(f, path, ds);
  if (H5Fclose(f) < 0 && !err)
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close", path);
  if (err) {
    w2_dataset_free(ds);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* saving */

static W2Err save_all(hid_t f, const char *path, const W2Dataset *ds) {
  hsize_t xd[2] = {(hsize_t)ds->n, (hsize_t)ds->d}, yd[1] = {(hsize_t)ds->n};
  W2_CALL(w2_h5_attr_write_str(f, path, "format", W2_DATASET_FORMAT));
  W2_CALL(w2_h5_attr_write_int(f, path, "version", W2_DATASET_VERSION));
  if (ds->name[0]) W2_CALL(w2_h5_attr_write_str(f, path, "name", ds->name));
  W2_CALL(w2_h5_write_f32(f, path, "X", 2, xd, ds->X));
  W2_CALL(w2_h5_write_f32(f, path, "y", 1, yd, ds->y));
  if (ds->m <= 0) return W2_OK;
  hid_t g = H5Gcreate2(f, "pretrain", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "%s: cannot create group /pretrain", path);
  hsize_t pxd[2] = {(hsize_t)ds->m, (hsize_t)ds->d}, pyd[2] = {(hsize_t)ds->m, (hsize_t)ds->k};
  W2Err err = w2_h5_write_f32(g, path, "X", 2, pxd, ds->PX);
  if (!err && ds->k > 0) err = w2_h5_write_f32(g, path, "Y", 2, pyd, ds->PY);
  if (H5Gclose(g) < 0 && !err)
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close /pretrain",
                         path);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

W2Err w2_dataset_save(const char *path, const W2Dataset *ds) {
  W2_CHECK(ds->n >= 1 && ds->d >= 1 && ds->X && ds->y, W2_ERR_ARG,
           "%s: dataset to save has no examples (n=%d, d=%d)", path, ds->n, ds->d);
  W2_CHECK(ds->m <= 0 || (ds->PX && (ds->k <= 0 || ds->PY)), W2_ERR_ARG,
           "%s: pretraining block of %d rows has no data", path, ds->m);
  w2_h5_silence();
  char tmp[4096];
  hid_t f;
  W2_CALL(w2_h5_create_tmp(path, -1, tmp, sizeof tmp, &f));
  W2Err err = save_all(f, path, ds);
  W2_CALL(w2_h5_commit(&f, tmp, path, err));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* content hashes, shapes and the sweep-level check */

void w2_dataset_info_of(const W2Dataset *ds, W2DataInfo *info) {
  memset(info, 0, sizeof *info);
  info->n = ds->n;
  info->d = ds->d;
  info->m = ds->m;
  info->k = ds->k;
  int shape[4] = {ds->n, ds->d, ds->m, ds->k};
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, "w2-data-x", 9);
  h = w2_fnv1a(h, shape, sizeof shape);
  info->hash_x = w2_fnv1a(h, ds->X, sizeof(float) * (uint64_t)ds->n * ds->d);
  /* /pretrain's hash covers its own shape only (not /X's rows): files that hold the same
   * pretraining data and different labelled rows (sweeps/fashion_mnist.cfg's tasks) share
   * their pretrained models */
  int pshape[3] = {ds->d, ds->m, ds->k};
  uint64_t hp = w2_fnv1a(W2_FNV_OFFSET, "w2-data-pretrain", 16);
  hp = w2_fnv1a(hp, pshape, sizeof pshape);
  if (ds->m > 0) hp = w2_fnv1a(hp, ds->PX, sizeof(float) * (uint64_t)ds->m * ds->d);
  if (ds->m > 0 && ds->k > 0) hp = w2_fnv1a(hp, ds->PY, sizeof(float) * (uint64_t)ds->m * ds->k);
  info->hash_pre = hp;
  uint64_t hy = w2_fnv1a(W2_FNV_OFFSET, "w2-data-y", 9);
  hy = w2_fnv1a(hy, ds->y, sizeof(float) * (uint64_t)ds->n);
  uint64_t all[3] = {info->hash_x, hy, hp};
  info->hash = w2_mix64(w2_fnv1a(W2_FNV_OFFSET, all, sizeof all));
}

/* One entry per data file seen by this process; a sweep has at most W2_MAX_TASKS files.
 * Not thread-safe: only the ranks' main threads call it (the coordinator never does). */
#define INFO_CACHE 32
typedef struct InfoEntry {
  char path[W2_PATH_MAX];
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  W2DataInfo info;
} InfoEntry;
static InfoEntry g_info[INFO_CACHE];
static int g_ninfo, g_next;

W2Err w2_dataset_info(const char *path, W2DataInfo *info) {
  struct stat st;
  W2_CHECK(stat(path, &st) == 0, W2_ERR_IO, "%s: cannot be read", path);
  for (int i = 0; i < g_ninfo; i++) {
    InfoEntry *c = &g_info[i];
    if (!strcmp(c->path, path) && c->dev == st.st_dev && c->ino == st.st_ino &&
        c->size == st.st_size && c->mtime.tv_sec == st.st_mtim.tv_sec &&
        c->mtime.tv_nsec == st.st_mtim.tv_nsec) {
      *info = c->info;
      return W2_OK;
    }
  }
  W2Dataset ds;
  W2_CALL(w2_dataset_load(path, &ds));
  w2_dataset_info_of(&ds, info);
  w2_dataset_free(&ds);
  int slot = -1;
  for (int i = 0; i < g_ninfo && slot < 0; i++)
    if (!strcmp(g_info[i].path, path)) slot = i; /* the file changed: replace its entry */
  if (slot < 0) slot = g_ninfo < INFO_CACHE ? g_ninfo++ : (g_next++ % INFO_CACHE);
  InfoEntry *c = &g_info[slot];
  snprintf(c->path, sizeof c->path, "%s", path);
  c->dev = st.st_dev;
  c->ino = st.st_ino;
  c->size = st.st_size;
  c->mtime = st.st_mtim;
  c->info = *info;
  return W2_OK;
}

int w2_dataset_test_pool(int n, const W2SplitSpec *sp) {
  long rest = (long)n - sp->n_a - sp->n_b, two = 2L * sp->n_test;
  return (int)(two < rest ? two : rest);
}

void w2_dataset_pool_order(int n, int *perm) {
  /* seed- and task-independent: the same rows are held out for every seed and every task
   * of the file, so one pretrained model per size serves them all */
  w2_permutation(w2_key(0, "file-test-pool", 0, 0), 0, n, perm);
}

/* Re-raises the current error err as "SWEEPFILE:LINE: tasks[i] ('name'): message": a bad
 * input (W2_ERR_CONFIG, exit 2), except running out of memory, which is no fault of the file
 * (W2_ERR_MEM, exit 1). */
static W2Err at_task(const W2Sweep *s, int i, W2Err err) {
  char msg[768];
  snprintf(msg, sizeof msg, "%s", w2_error_message());
  const W2TaskSpec *t = &s->tasks[i];
  W2_RAISE(err == W2_ERR_MEM ? W2_ERR_MEM : W2_ERR_CONFIG, "%s:%d: tasks[%d] ('%s'): %s",
           s->source_path, t->line, i, t->name, msg);
}

static W2Err check_task(const W2Sweep *s, const W2TaskSpec *t) {
  W2DataInfo info;
  W2_CALL(w2_dataset_info(t->file, &info));
  const W2SplitSpec *sp = &s->split;
  long need = (long)sp->n_a + sp->n_b + sp->n_test;
  W2_CHECK(info.n >= need, W2_ERR_CONFIG,
           "%s has %d labelled rows but the splits need n_a + n_b + n_test = %d + %d + %d = %ld",
           t->file, info.n, sp->n_a, sp->n_b, sp->n_test, need);
  for (int j = 0; j < s->nmethods; j++)
    W2_CHECK(!s->methods[j].unsup, W2_ERR_CONFIG,
             "methods[%d] ('%s') has unsup = true: generative finetuning needs a built-in "
             "task, a file task has no pretraining targets for its rows", j,
             s->methods[j].name);
  return W2_OK;
}

W2Err w2_sweep_check_data(const W2Sweep *s) {
  for (int i = 0; i < s->ntasks; i++) {
    if (s->tasks[i].kind == W2_TASK_TEXT) {
      /* enough words in each split, for every seed (texttask.h "Tasks") */
      for (int k = 0; k < s->nseeds; k++) {
        W2TaskData td;
        memset(&td, 0, sizeof td);
        W2Err err = w2_text_task_fill(s, &s->tasks[i], s->seeds[k], &td);
        free(td.Xa), free(td.ya), free(td.ida), free(td.Xb), free(td.yb), free(td.idb);
        free(td.Xt), free(td.yt), free(td.idt);
        if (err) return at_task(s, i, err);
      }
      continue;
    }
    if (s->tasks[i].kind != W2_TASK_FILE) continue;
    W2Err err = check_task(s, &s->tasks[i]);
    if (err) return at_task(s, i, err);
  }
  return W2_OK;
}
