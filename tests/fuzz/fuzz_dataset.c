/* fuzz_dataset.c — libFuzzer harness for the data-file loader (w2_dataset_load: HDF5 open,
 * every dataset's rank, shape, class, finiteness and label check, /pretrain; dataset.h,
 * data/FORMAT.md). The input is a recipe for an HDF5 file of the names a data file has, or
 * the file's bytes (h5build.h). Any input must load (and then
 * hold what dataset.h promises: shapes >= 1, labels 0/1, finite inputs, targets in [0, 1]) or
 * give one error, never a crash, a hang, a leak, an HDF5 id left open or a sanitizer report.
 * Raw-bytes seeds: valid and odd data files from tests/fuzz/make_seeds.py. Built by W2SWEEP_FUZZ with clang
 * (tests/test_fuzz.sh; bench/RESULTS.md: long runs). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "error.h"
#include "h5build.h"
#include "h5ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"X", "y", "pretrain", "pretrain/X", "pretrain/Y",
                                    "name", "Y", "x", "data/X", "format", "version"};
static const char *const fields[] = {"X", "y", "a", "b"};

/* a float matrix (float32, float64 or big-endian float32) of plausible or raw values */
static void matrix(W2FuzzIn *in, hid_t f, const char *name, hsize_t r, hsize_t c) {
  static const hid_t *types[] = {&H5T_IEEE_F32LE_g, &H5T_IEEE_F64LE_g, &H5T_IEEE_F32BE_g};
  hid_t t = *types[w2fuzz_u8(in) % 3];
  double *v = calloc(r * c ? r * c : 1, sizeof *v);
  for (hsize_t i = 0; i < r * c && v; i++) v[i] = w2fuzz_num(in);
  hsize_t dims[2] = {r, c};
  hid_t sp = H5Screate_simple(2, dims, NULL), lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t d = H5Dcreate2(f, name, t, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0) {
    if (v && r * c) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
  }
  H5Pclose(lcpl);
  H5Sclose(sp);
  free(v);
}

/* a data file's /X and /y (and /pretrain) of the input's shapes, types and values */
static void preset(W2FuzzIn *in, hid_t f) {
  hsize_t n = 1 + w2fuzz_u8(in) % 12, d = 1 + w2fuzz_u8(in) % 4;
  matrix(in, f, "X", n, d);
  static const hid_t *ytypes[] = {&H5T_STD_I8LE_g, &H5T_STD_U64LE_g, &H5T_IEEE_F32LE_g,
                                  &H5T_IEEE_F64BE_g, &H5T_STD_I64BE_g};
  hid_t yt = *ytypes[w2fuzz_u8(in) % 5];
  double y[12];
  unsigned bits = w2fuzz_u8(in), odd = w2fuzz_u8(in);
  for (hsize_t i = 0; i < n; i++) y[i] = (bits >> (i % 8)) & 1;
  if (odd < 16) y[odd % n] = odd & 1 ? 0.3 : 2; /* sometimes one label that is not 0/1 */
  hsize_t ny = n - (w2fuzz_u8(in) == 0);
  hid_t sp = H5Screate_simple(1, &ny, NULL);
  hid_t ds = H5Dcreate2(f, "y", yt, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (ds >= 0) {
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
    H5Dclose(ds);
  }
  H5Sclose(sp);
  unsigned pre = w2fuzz_u8(in) % 4;
  if (pre) {
    hsize_t m = 1 + w2fuzz_u8(in) % 8;
    matrix(in, f, "pretrain/X", m, pre == 3 ? d + 1 : d);
    if (pre >= 2) matrix(in, f, "pretrain/Y", m - (w2fuzz_u8(in) == 0), 1 + w2fuzz_u8(in) % 3);
  }
}

static const W2FuzzDict dict = {names, sizeof names / sizeof names[0], fields,
                                sizeof fields / sizeof fields[0], preset};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the loader reads a path (its messages name the file): one file per fuzzing process,
   * rewritten for every input, in the current directory */
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "w2fuzz-%ld.h5", (long)getpid());
  w2fuzz_input_file(data, size, &dict, path);
  W2Dataset ds;
  if (w2_dataset_load(path, &ds) == W2_OK) {
    /* what a loaded dataset promises to the pipeline */
    if (ds.n < 1 || ds.d < 1 || !ds.X || !ds.y || ds.m < 0 || ds.k < 0 ||
        (ds.m > 0) != (ds.PX != NULL) || (ds.k > 0) != (ds.PY != NULL) || (ds.k > 0 && ds.m < 1))
      abort();
    for (size_t i = 0; i < (size_t)ds.n * ds.d; i++)
      if (!isfinite(ds.X[i])) abort();
    for (int i = 0; i < ds.n; i++)
      if (ds.y[i] != 0.f && ds.y[i] != 1.f) abort();
    for (size_t i = 0; i < (size_t)ds.m * ds.k; i++)
      if (!(ds.PY[i] >= 0.f && ds.PY[i] <= 1.f)) abort();
    W2DataInfo info;
    w2_dataset_info_of(&ds, &info);
    w2_dataset_free(&ds);
  } else {
    /* a refused file: one line naming the file, nothing left allocated */
    const char *msg = w2_error_message();
    if (!strstr(msg, path) || strchr(msg, '\n') || ds.X || ds.y || ds.PX || ds.PY) abort();
  }
  w2_error_clear();
  w2fuzz_h5_ids_check(); /* every HDF5 id opened was closed, on every path */
  return 0;
}
