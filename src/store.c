/* store.c — result artifact files (see store.h). */
#include "store.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"

#define FORMAT "w2sweep-result"
#define VERSION 1

const char *const w2_curve_names[W2_CURVE_NFIELDS] = {
    "step", "flops", "test_acc", "test_auroc", "test_ece", "test_loss",
    "agree", "agree_weak_right", "agree_weak_wrong", "weak_fit"};

W2Err w2_curve_alloc(W2Curve *c, int n) {
  memset(c, 0, sizeof *c);
  double *blk;
  W2_CALLOC(blk, (size_t)W2_CURVE_NFIELDS * (n > 0 ? n : 1));
  for (int f = 0; f < W2_CURVE_NFIELDS; f++) c->v[f] = blk + (size_t)f * (n > 0 ? n : 1);
  c->n = n;
  return W2_OK;
}

void w2_curve_free(W2Curve *c) {
  free(c->v[0]);
  memset(c, 0, sizeof *c);
}

int w2_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

W2Err w2_mkdirs(const char *path) {
  char buf[4096];
  W2_CHECK(strlen(path) < sizeof buf, W2_ERR_ARG, "path too long: %s", path);
  strcpy(buf, path);
  for (char *c = buf + 1;; c++) {
    if (*c == '/' || *c == '\0') {
      char save = *c;
      *c = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        W2_RAISE(W2_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
      *c = save;
      if (!save) break;
    }
  }
  return W2_OK;
}

/* ---- small HDF5 helpers: every call checked ------------------------------------- */

static W2Err attr_write(hid_t loc, const char *name, hid_t type, const void *val) {
  hid_t sp = H5Screate(H5S_SCALAR);
  W2_CHECK(sp >= 0, W2_ERR_IO, "HDF5: cannot create dataspace for attribute %s", name);
  hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = a >= 0 ? H5Awrite(a, type, val) : -1;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  W2_CHECK(st >= 0, W2_ERR_IO, "HDF5: cannot write attribute %s", name);
  return W2_OK;
}

static W2Err attr_str(hid_t loc, const char *name, const char *val) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(val) + 1);
  W2Err e = attr_write(loc, name, t, val);
  H5Tclose(t);
  return e;
}

static W2Err attr_read(hid_t loc, const char *file, const char *name, hid_t type, void *val) {
  W2_CHECK(H5Aexists(loc, name) > 0, W2_ERR_DATA, "%s: attribute '%s' is missing", file, name);
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  herr_t st = a >= 0 ? H5Aread(a, type, val) : -1;
  if (a >= 0) H5Aclose(a);
  W2_CHECK(st >= 0, W2_ERR_DATA, "%s: attribute '%s' cannot be read", file, name);
  return W2_OK;
}

static W2Err dset_write(hid_t loc, const char *name, hid_t type, int n, const void *data) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL);
  hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = d >= 0 && n > 0 ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : d >= 0 ? 0 : -1;
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  W2_CHECK(st >= 0, W2_ERR_IO, "HDF5: cannot write dataset %s", name);
  return W2_OK;
}

static W2Err dset_read(hid_t loc, const char *file, const char *name, hid_t type, int n,
                       void *data) {
  W2_CHECK(H5Lexists(loc, name, H5P_DEFAULT) > 0, W2_ERR_DATA, "%s: dataset '%s' is missing",
           file, name);
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  W2_CHECK(d >= 0, W2_ERR_DATA, "%s: dataset '%s' cannot be opened", file, name);
  hid_t sp = H5Dget_space(d);
  hsize_t dim = 0;
  int nd = H5Sget_simple_extent_ndims(sp);
  if (nd == 1) H5Sget_simple_extent_dims(sp, &dim, NULL);
  H5Sclose(sp);
  herr_t st = (nd == 1 && dim == (hsize_t)n)
                  ? (n > 0 ? H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0)
                  : -2;
  H5Dclose(d);
  W2_CHECK(st != -2, W2_ERR_DATA, "%s: dataset '%s' has the wrong shape (expected %d)", file,
           name, n);
  W2_CHECK(st >= 0, W2_ERR_DATA, "%s: dataset '%s' cannot be read", file, name);
  return W2_OK;
}

/* ---- results ---------------------------------------------------------------------- */

#define NMETRIC 8
static const char *const metric_names[NMETRIC] = {
    "acc", "auroc", "ece", "loss", "agree", "agree_weak_right", "agree_weak_wrong", "weak_fit"};
static double *metric_ptr(W2Metrics *m, int i) {
  double *p[NMETRIC] = {&m->acc, &m->auroc, &m->ece, &m->loss,
                        &m->agree, &m->agree_right, &m->agree_wrong, &m->weak_fit};
  return p[i];
}

static W2Err save_body(hid_t f, const W2RunResult *r, uint64_t hash) {
  int v = VERSION;
  W2_CALL(attr_str(f, "format", FORMAT));
  W2_CALL(attr_write(f, "version", H5T_NATIVE_INT, &v));
  W2_CALL(attr_write(f, "config_hash", H5T_NATIVE_UINT64, &hash));
  W2_CALL(attr_write(f, "flops", H5T_NATIVE_DOUBLE, &r->flops));
  W2_CALL(attr_write(f, "params", H5T_NATIVE_DOUBLE, &r->params));
  W2_CALL(attr_write(f, "best_acc", H5T_NATIVE_DOUBLE, &r->best_acc));
  W2Metrics m = r->final;
  for (int i = 0; i < NMETRIC; i++)
    W2_CALL(attr_write(f, metric_names[i], H5T_NATIVE_DOUBLE, metric_ptr(&m, i)));
  W2_CALL(dset_write(f, "prob_b", H5T_NATIVE_FLOAT, r->n_b, r->prob_b));
  W2_CALL(dset_write(f, "prob_test", H5T_NATIVE_FLOAT, r->n_test, r->prob_test));
  hid_t g = H5Gcreate2(f, "curve", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "HDF5: cannot create group curve");
  W2Err e = W2_OK;
  for (int k = 0; k < W2_CURVE_NFIELDS && !e; k++)
    e = dset_write(g, w2_curve_names[k], H5T_NATIVE_DOUBLE, r->curve.n, r->curve.v[k]);
  H5Gclose(g);
  return e;
}

W2Err w2_store_result_save(const char *path, const W2RunResult *r, uint64_t hash) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  w2_h5_silence();
  hid_t fapl = w2_h5_fapl(0);
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  W2_CHECK(f >= 0, W2_ERR_IO, "%s: cannot create file", tmp);
  W2Err e = save_body(f, r, hash);
  if (H5Fclose(f) < 0 && !e) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: close failed", tmp);
  if (!e && rename(tmp, path) != 0)
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "cannot rename %s to %s: %s",
                       tmp, path, strerror(errno));
  if (e) {
    unlink(tmp);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}

static W2Err load_body(hid_t f, const char *path, uint64_t hash, W2RunResult *r) {
  char fmt[32] = "";
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, sizeof fmt);
  W2Err e = attr_read(f, path, "format", t, fmt);
  H5Tclose(t);
  W2_CALL(e);
  W2_CHECK(strcmp(fmt, FORMAT) == 0, W2_ERR_DATA, "%s: not a w2sweep result file", path);
  int v;
  uint64_t h;
  W2_CALL(attr_read(f, path, "version", H5T_NATIVE_INT, &v));
  W2_CHECK(v == VERSION, W2_ERR_DATA, "%s: result format version %d, expected %d", path, v,
           VERSION);
  W2_CALL(attr_read(f, path, "config_hash", H5T_NATIVE_UINT64, &h));
  W2_CHECK(h == hash, W2_ERR_DATA,
           "%s: config_hash %016llx does not match the settings (%016llx)", path,
           (unsigned long long)h, (unsigned long long)hash);
  W2_CALL(attr_read(f, path, "flops", H5T_NATIVE_DOUBLE, &r->flops));
  W2_CALL(attr_read(f, path, "params", H5T_NATIVE_DOUBLE, &r->params));
  W2_CALL(attr_read(f, path, "best_acc", H5T_NATIVE_DOUBLE, &r->best_acc));
  for (int i = 0; i < NMETRIC; i++)
    W2_CALL(attr_read(f, path, metric_names[i], H5T_NATIVE_DOUBLE, metric_ptr(&r->final, i)));
  W2_CALL(dset_read(f, path, "prob_b", H5T_NATIVE_FLOAT, r->n_b, r->prob_b));
  W2_CALL(dset_read(f, path, "prob_test", H5T_NATIVE_FLOAT, r->n_test, r->prob_test));
  /* curve length from the file */
  W2_CHECK(H5Lexists(f, "curve", H5P_DEFAULT) > 0, W2_ERR_DATA, "%s: group 'curve' is missing", path);
  hid_t d = H5Dopen2(f, "curve/step", H5P_DEFAULT);
  W2_CHECK(d >= 0, W2_ERR_DATA, "%s: dataset 'curve/step' is missing", path);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  H5Sclose(sp);
  H5Dclose(d);
  W2_CALL(w2_curve_alloc(&r->curve, (int)n));
  char name[64];
  for (int k = 0; k < W2_CURVE_NFIELDS; k++) {
    snprintf(name, sizeof name, "curve/%s", w2_curve_names[k]);
    W2_CALL(dset_read(f, path, name, H5T_NATIVE_DOUBLE, (int)n, r->curve.v[k]));
  }
  return W2_OK;
}

W2Err w2_store_result_load(const char *path, uint64_t hash, W2RunResult **out) {
  W2RunResult *r = *out;
  W2_CHECK(r && r->prob_b && r->prob_test, W2_ERR_INTERNAL, "result not allocated");
  w2_h5_silence();
  hid_t fapl = w2_h5_fapl(0);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  W2_CHECK(f >= 0, W2_ERR_DATA, "%s: cannot open as HDF5 (corrupt or not HDF5)", path);
  W2Err e = load_body(f, path, hash, r);
  H5Fclose(f);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
