/* test_dataset.c — the user dataset format: round trips, accepted variants, and one
 * malformed file per rule (written with the HDF5 C API), each refused with W2_ERR_DATA and
 * a message naming the file and the dataset/row/column at fault.
 *
 * `test_dataset --check FILE N D M K NAME` instead loads FILE (written by the h5py script
 * test from the data/FORMAT.md recipe) and checks its shapes and values:
 * X[i, j] = (i * D + j) / 8, y[i] = (i % 2 == 0), PX[i, j] = -(i * D + j) / 8,
 * PY[i, j] = ((i + j) % 2). No MPI: the dataset module does not use it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dataset.h"
#include "testutil.h"

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* One dataset or attribute to write into a test file. */
typedef struct Item {
  const char *name;  /* "/X", "/pretrain/Y", or "@name" for a root attribute */
  hid_t ftype, mtype;
  int nd;
  hsize_t dims[2];
  const void *data;
} Item;

static void write_items(const char *path, const Item *items, int n) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  W2T_CHECK(f >= 0, "create %s", path);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (int i = 0; i < n; i++) {
    const Item *it = &items[i];
    hid_t s = it->nd ? H5Screate_simple(it->nd, it->dims, NULL) : H5Screate(H5S_SCALAR);
    herr_t st;
    if (it->name[0] == '@') {
      hid_t a = H5Acreate2(f, it->name + 1, it->ftype, s, H5P_DEFAULT, H5P_DEFAULT);
      st = H5Awrite(a, it->mtype, it->data);
      H5Aclose(a);
    } else {
      hid_t d = H5Dcreate2(f, it->name, it->ftype, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      st = d >= 0 ? H5Dwrite(d, it->mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, it->data) : -1;
      if (d >= 0) H5Dclose(d);
    }
    W2T_CHECK(st >= 0, "write %s into %s", it->name, path);
    H5Sclose(s);
  }
  H5Pclose(lcpl);
  H5Fclose(f);
}

/* A refused load: code, file and each expected fragment in the message, ds left empty. */
static void expect_refusal(const char *path, W2Err code, const char *f1, const char *f2) {
  W2Dataset ds;
  memset(&ds, 0xff, sizeof ds); /* load must not rely on a zeroed ds */
  w2_error_clear();
  W2Err e = w2_dataset_load(path, &ds);
  const char *msg = w2_error_message();
  W2T_CHECK(e == code, "%s: load returned %d, expected %d (%s)", path, e, code, msg);
  W2T_CHECK(contains(msg, path), "message '%s' does not name the file %s", msg, path);
  W2T_CHECK(!f1 || contains(msg, f1), "message '%s' does not contain '%s'", msg, f1);
  W2T_CHECK(!f2 || contains(msg, f2), "message '%s' does not contain '%s'", msg, f2);
  W2T_CHECK(ds.X == NULL && ds.y == NULL && ds.PX == NULL && ds.n == 0,
            "%s: a refused load left data in ds", path);
  w2_dataset_free(&ds);
}

enum { N = 20, D = 3, M = 4, K = 2 };

static void fill(W2Dataset *ds, int m, int k) {
  memset(ds, 0, sizeof *ds);
  ds->n = N;
  ds->d = D;
  ds->m = m;
  ds->k = k;
  ds->X = calloc((size_t)N * D, sizeof(float));
  ds->y = calloc(N, sizeof(float));
  for (int e = 0; e < N * D; e++) ds->X[e] = (float)sin(e + 1.0) * 3.0f;
  for (int i = 0; i < N; i++) ds->y[i] = (float)(i % 3 == 0);
  if (m) {
    ds->PX = calloc((size_t)m * D, sizeof(float));
    for (int e = 0; e < m * D; e++) ds->PX[e] = (float)cos(e + 1.0);
  }
  if (k) {
    ds->PY = calloc((size_t)m * k, sizeof(float));
    for (int e = 0; e < m * k; e++) ds->PY[e] = (float)(e % 5) / 4.0f;
  }
  snprintf(ds->name, sizeof ds->name, "toy");
}

static int same(const W2Dataset *a, const W2Dataset *b) {
  if (a->n != b->n || a->d != b->d || a->m != b->m || a->k != b->k) return 0;
  if (strcmp(a->name, b->name) != 0) return 0;
  if (memcmp(a->X, b->X, sizeof(float) * a->n * a->d)) return 0;
  if (memcmp(a->y, b->y, sizeof(float) * a->n)) return 0;
  if (a->m && memcmp(a->PX, b->PX, sizeof(float) * a->m * a->d)) return 0;
  if (a->k && memcmp(a->PY, b->PY, sizeof(float) * a->m * a->k)) return 0;
  if (!a->m && b->PX) return 0;
  if (!a->k && b->PY) return 0;
  return 1;
}

static void test_round_trips(void) {
  const int shapes[3][2] = {{M, K}, {M, 0}, {0, 0}};
  for (int s = 0; s < 3; s++) {
    W2Dataset a, b;
    fill(&a, shapes[s][0], shapes[s][1]);
    W2T_OK(w2_dataset_save("ds_rt.h5", &a));
    char tmp[64];
    snprintf(tmp, sizeof tmp, "ds_rt.h5.tmp.%ld", (long)getpid());
    W2T_CHECK(access(tmp, F_OK) != 0, "save left %s", tmp);
    W2T_OK(w2_dataset_load("ds_rt.h5", &b));
    W2T_CHECK(same(&a, &b), "round trip m=%d k=%d differs", shapes[s][0], shapes[s][1]);
    w2_dataset_free(&a);
    w2_dataset_free(&b);
    W2T_CHECK(b.X == NULL && b.n == 0, "free does not zero");
  }
  /* a failed save leaves nothing */
  W2Dataset a;
  fill(&a, 0, 0);
  w2_error_clear();
  W2T_CHECK(w2_dataset_save("no_such_dir/ds.h5", &a) == W2_ERR_IO &&
                contains(w2_error_message(), "no_such_dir/ds.h5"),
            "save into a missing directory: %s", w2_error_message());
  w2_dataset_free(&a);
}

/* Label types a user may reasonably write: all accepted, all read as 0/1 floats. */
static void test_accepted_variants(void) {
  float X[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
  double Xd[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
  long long yl[4] = {0, 1, 1, 0};
  unsigned char yu[4] = {0, 1, 1, 0};
  double ydbl[4] = {0, 1, 1, 0};
  signed char yb[4] = {0, 1, 1, 0};
  hid_t boolt = H5Tenum_create(H5T_NATIVE_SCHAR); /* how h5py stores numpy bool */
  signed char fv = 0, tv = 1;
  H5Tenum_insert(boolt, "FALSE", &fv);
  H5Tenum_insert(boolt, "TRUE", &tv);
  const struct { hid_t ft, mt; const void *y; const char *file; } ys[] = {
      {H5T_STD_I64LE, H5T_NATIVE_LLONG, yl, "ds_y_int64.h5"},
      {H5T_STD_U8LE, H5T_NATIVE_UCHAR, yu, "ds_y_uint8.h5"},
      {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ydbl, "ds_y_double.h5"},
      {boolt, boolt, yb, "ds_y_bool.h5"}};
  for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++) {
    int f64 = i == 2; /* and float64 inputs with the float64 labels */
    Item items[3] = {
        {"/X", f64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE, f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT,
         2, {4, 2}, f64 ? (const void *)Xd : (const void *)X},
        {"/y", ys[i].ft, ys[i].mt, 1, {4, 0}, ys[i].y},
    };
    write_items(ys[i].file, items, 2);
    W2Dataset ds;
    W2T_OK(w2_dataset_load(ys[i].file, &ds));
    W2T_CHECK(ds.n == 4 && ds.d == 2 && ds.m == 0 && ds.k == 0 && ds.name[0] == '\0',
              "%s: shape %d %d %d %d", ys[i].file, ds.n, ds.d, ds.m, ds.k);
    W2T_CHECK(ds.X && memcmp(ds.X, X, sizeof X) == 0, "%s: X differs", ys[i].file);
    W2T_CHECK(ds.y && ds.y[0] == 0.f && ds.y[1] == 1.f && ds.y[2] == 1.f && ds.y[3] == 0.f,
              "%s: labels differ", ys[i].file);
    w2_dataset_free(&ds);
  }
  H5Tclose(boolt);
}

static void test_malformed(void) {
  enum { n = 10, d = 3 };
  float X[n * d], Xnan[n * d], Xinf[n * d], y[n], y03[n], ynan[n], PX4[M * 4], PX[M * d];
  float PY[M * K], PYbad[M * K];
  int Xi[n * d], yi2[n];
  for (int e = 0; e < n * d; e++) X[e] = Xnan[e] = Xinf[e] = (float)e / 7.0f;
  for (int e = 0; e < n * d; e++) Xi[e] = e;
  Xnan[5 * d + 2] = NAN;
  Xinf[8 * d + 0] = -INFINITY;
  for (int i = 0; i < n; i++) y[i] = y03[i] = ynan[i] = (float)(i & 1), yi2[i] = i & 1;
  y03[7] = 0.3f;
  yi2[3] = 2;
  ynan[0] = NAN;
  for (int e = 0; e < M * 4; e++) PX4[e] = 0.5f;
  for (int e = 0; e < M * d; e++) PX[e] = 0.25f;
  for (int e = 0; e < M * K; e++) PY[e] = PYbad[e] = 0.5f;
  PYbad[1 * K + 0] = 1.5f;
  int one = 1;
  hid_t str8 = H5Tcopy(H5T_C_S1);
  H5Tset_size(str8, 8);
  char strs[n][8];
  memset(strs, 0, sizeof strs);

  const hid_t F = H5T_IEEE_F32LE, NF = H5T_NATIVE_FLOAT;
  const Item gX = {"/X", F, NF, 2, {n, d}, X}, gy = {"/y", F, NF, 1, {n, 0}, y};
  const struct {
    const char *file, *f1, *f2;
    Item items[4];
    int nitems;
  } cases[] = {
      {"ds_noX.h5", "/X", "missing", {gy}, 1},
      {"ds_noy.h5", "/y", "missing", {gX}, 1},
      {"ds_X1d.h5", "/X has 1 dimension, expected 2", NULL,
       {{"/X", F, NF, 1, {n * d, 0}, X}, gy}, 2},
      {"ds_Xint.h5", "/X", "float32", {{"/X", H5T_STD_I32LE, H5T_NATIVE_INT, 2, {n, d}, Xi}, gy},
       2},
      {"ds_Xnan.h5", "/X contains NaN at row 5 column 2", NULL,
       {{"/X", F, NF, 2, {n, d}, Xnan}, gy}, 2},
      {"ds_Xinf.h5", "/X contains Inf at row 8 column 0", NULL,
       {{"/X", F, NF, 2, {n, d}, Xinf}, gy}, 2},
      {"ds_Xempty.h5", "/X", "at least one row", {{"/X", F, NF, 2, {0, d}, X}, gy}, 2},
      {"ds_ylen.h5", "/y has 9 rows, /X has 10", NULL, {gX, {"/y", F, NF, 1, {n - 1, 0}, y}}, 2},
      {"ds_y2d.h5", "/y has 2 dimensions, expected 1", NULL,
       {gX, {"/y", F, NF, 2, {n, 1}, y}}, 2},
      {"ds_ysoft.h5", "/y[7] = 0.300000012 is not a 0/1 label", NULL,
       {gX, {"/y", F, NF, 1, {n, 0}, y03}}, 2},
      {"ds_yint2.h5", "/y[3] = 2 is not a 0/1 label", NULL,
       {gX, {"/y", H5T_STD_I32LE, H5T_NATIVE_INT, 1, {n, 0}, yi2}}, 2},
      {"ds_ynan.h5", "/y[0] = nan", "not a 0/1 label", {gX, {"/y", F, NF, 1, {n, 0}, ynan}}, 2},
      {"ds_ystr.h5", "/y", "non-numeric", {gX, {"/y", str8, str8, 1, {n, 0}, strs}}, 2},
      {"ds_pxcols.h5", "/pretrain/X has 4 columns, /X has 3", NULL,
       {gX, gy, {"/pretrain/X", F, NF, 2, {M, 4}, PX4}}, 3},
      {"ds_pnox.h5", "/pretrain/X is missing", NULL,
       {gX, gy, {"/pretrain/Y", F, NF, 2, {M, K}, PY}}, 3},
      {"ds_pdset.h5", "/pretrain must be a group", NULL,
       {gX, gy, {"/pretrain", F, NF, 2, {M, d}, PX}}, 3},
      {"ds_pyrows.h5", "/pretrain/Y has 3 rows, /pretrain/X has 4", NULL,
       {gX, gy, {"/pretrain/X", F, NF, 2, {M, d}, PX}, {"/pretrain/Y", F, NF, 2, {M - 1, K}, PY}},
       4},
      {"ds_pyrange.h5", "/pretrain/Y[1, 0] = 1.5 is outside [0, 1]", NULL,
       {gX, gy, {"/pretrain/X", F, NF, 2, {M, d}, PX}, {"/pretrain/Y", F, NF, 2, {M, K}, PYbad}},
       4},
      {"ds_nameint.h5", "name", "string",
       {gX, gy, {"@name", H5T_STD_I32LE, H5T_NATIVE_INT, 0, {0, 0}, &one}}, 3},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    write_items(cases[c].file, cases[c].items, cases[c].nitems);
    expect_refusal(cases[c].file, W2_ERR_DATA, cases[c].f1, cases[c].f2);
  }
  H5Tclose(str8);

  FILE *t = fopen("ds_text.h5", "w");
  fputs("X,y\n1,0\n", t);
  fclose(t);
  expect_refusal("ds_text.h5", W2_ERR_DATA, "HDF5", NULL);
  expect_refusal("ds_missing.h5", W2_ERR_IO, NULL, NULL);

  /* the same file with valid pieces loads (the cases above fail for their one reason) */
  const Item ok[4] = {gX, gy, {"/pretrain/X", F, NF, 2, {M, d}, PX},
                      {"/pretrain/Y", F, NF, 2, {M, K}, PY}};
  write_items("ds_ok.h5", ok, 4);
  W2Dataset ds;
  W2T_OK(w2_dataset_load("ds_ok.h5", &ds));
  W2T_CHECK(ds.n == n && ds.d == d && ds.m == M && ds.k == K, "ds_ok.h5 shape");
  w2_dataset_free(&ds);
}

/* --check mode for the h5py script test. */
static int check_file(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: test_dataset --check FILE N D M K NAME\n");
    return 2;
  }
  const char *path = argv[2];
  int n = atoi(argv[3]), d = atoi(argv[4]), m = atoi(argv[5]), k = atoi(argv[6]);
  W2Dataset ds;
  W2T_OK(w2_dataset_load(path, &ds));
  W2T_CHECK(ds.n == n && ds.d == d && ds.m == m && ds.k == k,
            "%s: shapes n=%d d=%d m=%d k=%d, expected %d %d %d %d", path, ds.n, ds.d, ds.m,
            ds.k, n, d, m, k);
  W2T_CHECK(strcmp(ds.name, argv[7]) == 0, "%s: name '%s', expected '%s'", path, ds.name,
            argv[7]);
  if (ds.n == n && ds.d == d && ds.m == m && ds.k == k) {
    int bad = 0;
    for (int e = 0; e < n * d; e++) bad += ds.X[e] != (float)e / 8.0f;
    for (int i = 0; i < n; i++) bad += ds.y[i] != (float)(i % 2 == 0);
    for (int e = 0; e < m * d; e++) bad += ds.PX[e] != -(float)e / 8.0f;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < k; j++) bad += ds.PY[i * k + j] != (float)((i + j) % 2);
    W2T_CHECK(bad == 0, "%s: %d values differ from the h5py recipe", path, bad);
  }
  w2_dataset_free(&ds);
  return w2t_summary();
}

int main(int argc, char **argv) {
  w2_h5_silence();
  if (argc > 1 && strcmp(argv[1], "--check") == 0) return check_file(argc, argv);
  test_round_trips();
  test_accepted_variants();
  test_malformed();
  W2T_CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "%ld HDF5 objects left open",
            (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
  return w2t_summary();
}
