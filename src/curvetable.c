/* curvetable.c — /curves, the flat table of every cell's curves (see curvetable.h). */
#include "curvetable.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_ROWS 4096 /* ~1 MB chunks: few enough for a fast read, small for tiny sweeps */

static hid_t row_type(void) {
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, W2_CURVETABLE_NAME);
  H5Tset_strpad(s, H5T_STR_NULLPAD);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(W2CurveRow));
  H5Tinsert(t, "task", HOFFSET(W2CurveRow, task), s);
  H5Tinsert(t, "seed", HOFFSET(W2CurveRow, seed), H5T_NATIVE_UINT64);
  H5Tinsert(t, "weak_size", HOFFSET(W2CurveRow, weak_size), s);
  H5Tinsert(t, "strong_size", HOFFSET(W2CurveRow, strong_size), s);
  H5Tinsert(t, "method", HOFFSET(W2CurveRow, method), s);
  H5Tinsert(t, "point", HOFFSET(W2CurveRow, point), H5T_NATIVE_INT32);
  for (int k = 0; k < W2_CURVE_NFIELDS; k++)
    H5Tinsert(t, w2_curve_names[k], HOFFSET(W2CurveRow, v) + sizeof(double) * (size_t)k,
              H5T_NATIVE_DOUBLE);
  H5Tclose(s);
  return t;
}

W2Err w2_curvetable_open(hid_t f, const char *file, W2CurveTable *t) {
  memset(t, 0, sizeof *t);
  t->d = -1;
  t->file = file;
  t->type = row_type();
  hsize_t dim = 0, maxdim = H5S_UNLIMITED, chunk = CHUNK_ROWS;
  hid_t sp = H5Screate_simple(1, &dim, &maxdim);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  herr_t rc = sp >= 0 && dcpl >= 0 ? H5Pset_chunk(dcpl, 1, &chunk) : -1;
  if (rc >= 0) rc = H5Pset_deflate(dcpl, 4);
  if (rc >= 0) t->d = H5Dcreate2(f, "curves", t->type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  if (t->d < 0) {
    w2_curvetable_close(t);
    W2_RAISE(W2_ERR_IO, "%s: cannot create /curves", file);
  }
  return W2_OK;
}

static void copy_name(char *dst, const char *src) {
  memset(dst, 0, W2_CURVETABLE_NAME);
  snprintf(dst, W2_CURVETABLE_NAME, "%s", src);
}

W2Err w2_curvetable_add(W2CurveTable *t, const W2CellResult *c) {
  int n = c->curve.n;
  if (n <= 0) return W2_OK;
  if (n > t->cap) {
    W2CurveRow *b = realloc(t->buf, sizeof *b * (size_t)n);
    W2_CHECK(b, W2_ERR_MEM, "out of memory (/curves, %d points)", n);
    t->buf = b;
    t->cap = n;
  }
  for (int i = 0; i < n; i++) {
    W2CurveRow *r = &t->buf[i];
    copy_name(r->task, c->task);
    r->seed = c->seed;
    copy_name(r->weak_size, c->weak);
    copy_name(r->strong_size, c->strong);
    copy_name(r->method, c->method);
    r->point = i;
    for (int k = 0; k < W2_CURVE_NFIELDS; k++) r->v[k] = c->curve.v[k][i];
  }
  hsize_t start = t->n, count = (hsize_t)n, total = t->n + count;
  herr_t rc = H5Dset_extent(t->d, &total);
  hid_t fs = rc >= 0 ? H5Dget_space(t->d) : -1;
  hid_t ms = H5Screate_simple(1, &count, NULL);
  rc = fs >= 0 && ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL)
                          : -1;
  if (rc >= 0) rc = H5Dwrite(t->d, t->type, ms, fs, H5P_DEFAULT, t->buf);
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  W2_CHECK(rc >= 0, W2_ERR_IO, "%s: cannot append to /curves", t->file);
  t->n = total;
  return W2_OK;
}

void w2_curvetable_close(W2CurveTable *t) {
  if (t->d > 0) H5Dclose(t->d);
  if (t->type > 0) H5Tclose(t->type);
  free(t->buf);
  memset(t, 0, sizeof *t);
  t->d = t->type = -1;
}
