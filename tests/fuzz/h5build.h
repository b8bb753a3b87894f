/* h5build.h — the HDF5 fuzz harnesses' input: the fuzzer's bytes are either
 *
 *  - a recipe (the default): w2fuzz_h5_build turns them into a well-formed HDF5 file of
 *    objects named from the harness's dictionary (the names the readers look for): datasets,
 *    attributes, groups and soft links of any type (integers and floats of every size and byte
 *    order, fixed and variable-length strings, enums, compounds with the readers' field
 *    names, arrays, opaque), any rank and shape (0 to 3 dimensions, empty ones too), any
 *    storage (contiguous, compact, chunked with gzip, shuffle, fletcher32) and any values
 *    (NaN, Inf, huge, 0/1 runs). This fuzzes w2sweep's readers, not HDF5's parser;
 *  - raw file bytes (W2SWEEP_FUZZ_RAW=1): the input is the file. This also fuzzes HDF5 1.10.8's
 *    own parser, which crashes on some corrupt files inside the library (bench/RESULTS.md
 *    lists what the raw runs found); the HDF5 seed files of make_seeds.py are for this mode.
 */
#ifndef W2_FUZZ_H5BUILD_H
#define W2_FUZZ_H5BUILD_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *p;
  size_t n, at;
} W2FuzzIn;

static inline unsigned w2fuzz_u8(W2FuzzIn *in) { return in->at < in->n ? in->p[in->at++] : 0; }

/* fills buf with the next input bytes (zeros when the input is spent) */
static inline void w2fuzz_bytes(W2FuzzIn *in, void *buf, size_t len) {
  size_t k = in->n - in->at < len ? in->n - in->at : len;
  memcpy(buf, in->p + in->at, k);
  memset((char *)buf + k, 0, len - k);
  in->at += k;
}

typedef struct {
  const char *const *names;  /* object and attribute names (paths allowed: "pretrain/X") */
  int nnames;
  const char *const *fields; /* compound member names */
  int nfields;
  /* the harness's well-formed objects (a data file's /X and /y, a results file's tables),
   * built with types, shapes and values from the input: the readers' success paths */
  void (*preset)(W2FuzzIn *in, hid_t file);
} W2FuzzDict;

/* a datatype from the menu; *vlen set when it is a variable-length string (memory holds
 * char pointers) */
static hid_t w2fuzz_type(W2FuzzIn *in, const W2FuzzDict *d, int depth, int *vlen) {
  static const hid_t *atoms[] = {&H5T_STD_I8LE_g,   &H5T_STD_U8LE_g,   &H5T_STD_I16LE_g,
                                 &H5T_STD_I32LE_g,  &H5T_STD_U32LE_g,  &H5T_STD_I64LE_g,
                                 &H5T_STD_U64LE_g,  &H5T_STD_I64BE_g,  &H5T_STD_I32BE_g,
                                 &H5T_IEEE_F32LE_g, &H5T_IEEE_F64LE_g, &H5T_IEEE_F32BE_g,
                                 &H5T_IEEE_F64BE_g, &H5T_IEEE_F64LE_g, &H5T_IEEE_F32LE_g};
  const unsigned natoms = sizeof atoms / sizeof atoms[0];
  unsigned k = w2fuzz_u8(in) % (natoms + 7);
  *vlen = 0;
  if (k < natoms) return H5Tcopy(*atoms[k]);
  hid_t t = -1;
  switch (k - natoms) {
  case 0: /* fixed-length string */
  case 1:
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 1 + w2fuzz_u8(in) % 80);
    H5Tset_strpad(t, (H5T_str_t)(w2fuzz_u8(in) % 3));
    H5Tset_cset(t, w2fuzz_u8(in) & 1 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    return t;
  case 2: /* variable-length string */
    if (depth > 0) return H5Tcopy(H5T_STD_I32LE);
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, w2fuzz_u8(in) & 1 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    *vlen = 1;
    return t;
  case 3: { /* numpy bool as h5py stores it */
    t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v0 = 0, v1 = 1;
    H5Tenum_insert(t, "FALSE", &v0);
    H5Tenum_insert(t, "TRUE", &v1);
    return t;
  }
  case 4: { /* compound of the readers' field names */
    if (depth > 0) return H5Tcopy(H5T_IEEE_F64LE);
    int nf = 1 + (int)(w2fuzz_u8(in) % 12);
    hid_t m[12];
    size_t off[12], size = 0;
    for (int i = 0; i < nf; i++) {
      int v;
      m[i] = w2fuzz_type(in, d, depth + 1, &v);
      off[i] = size;
      size += H5Tget_size(m[i]);
    }
    t = H5Tcreate(H5T_COMPOUND, size ? size : 1);
    for (int i = 0; i < nf; i++) {
      H5Tinsert(t, d->fields[w2fuzz_u8(in) % d->nfields], off[i], m[i]); /* a repeat fails */
      H5Tclose(m[i]);
    }
    return t;
  }
  case 5: { /* array */
    hsize_t dim = 1 + w2fuzz_u8(in) % 4;
    return H5Tarray_create2(H5T_IEEE_F64LE, 1, &dim);
  }
  default: /* opaque */
    t = H5Tcreate(H5T_OPAQUE, 1 + w2fuzz_u8(in) % 8);
    H5Tset_tag(t, "fuzz");
    return t;
  }
}

/* creates dataset or attribute `name` under loc from the recipe */
static void w2fuzz_object(W2FuzzIn *in, const W2FuzzDict *d, hid_t f, int attr) {
  const char *name = d->names[w2fuzz_u8(in) % d->nnames];
  hid_t loc = f;
  if (attr && (w2fuzz_u8(in) & 1)) { /* on an object made before, else on the root */
    const char *on = d->names[w2fuzz_u8(in) % d->nnames];
    if (H5Lexists(f, on, H5P_DEFAULT) > 0) loc = H5Oopen(f, on, H5P_DEFAULT);
    if (loc < 0) loc = f;
  }
  int vlen;
  hid_t t = w2fuzz_type(in, d, 0, &vlen);
  int rank = (int)(w2fuzz_u8(in) % 4);
  hsize_t dims[3] = {1, 1, 1}, n = 1;
  for (int i = 0; i < rank; i++) {
    dims[i] = w2fuzz_u8(in) % 12;
    n *= dims[i];
  }
  hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
  size_t sz = t >= 0 ? H5Tget_size(t) : 1;
  char *buf = calloc(n ? n : 1, sz ? sz : 1);
  char **strs = NULL;
  if (buf && n) {
    unsigned fill = w2fuzz_u8(in) % 4; /* 0, 1: raw bytes; 2: one element repeated; 3: 0 */
    if (vlen) {
      strs = (char **)buf;
      for (hsize_t i = 0; i < n; i++) {
        size_t len = w2fuzz_u8(in) % 48;
        strs[i] = calloc(len + 1, 1);
        if (strs[i]) w2fuzz_bytes(in, strs[i], len);
      }
    } else if (fill < 2) {
      w2fuzz_bytes(in, buf, n * sz);
    } else if (fill == 2) {
      w2fuzz_bytes(in, buf, sz);
      for (hsize_t i = 1; i < n; i++) memcpy(buf + i * sz, buf, sz);
    }
  }
  if (attr) {
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
      H5Awrite(a, t, buf);
      H5Aclose(a);
    }
  } else {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    unsigned layout = w2fuzz_u8(in);
    if (rank && (layout & 3) == 1) {
      hsize_t ch[3];
      for (int i = 0; i < rank; i++) ch[i] = 1 + (dims[i] ? w2fuzz_u8(in) % dims[i] : 0);
      H5Pset_chunk(dcpl, rank, ch);
      if (layout & 4) H5Pset_shuffle(dcpl);
      if (layout & 8) H5Pset_deflate(dcpl, 1);
      if (layout & 16) H5Pset_fletcher32(dcpl);
    } else if ((layout & 3) == 2 && n * sz < 4096) {
      H5Pset_layout(dcpl, H5D_COMPACT);
    }
    hid_t ds = H5Dcreate2(f, name, t, sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0) {
      if (n && !(layout & 32)) H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
      H5Dclose(ds); /* (layout & 32): never written, reads give the fill value */
    }
    H5Pclose(dcpl);
    H5Pclose(lcpl);
  }
  if (strs)
    for (hsize_t i = 0; i < n; i++) free(strs[i]);
  free(buf);
  H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (loc != f) H5Oclose(loc);
}

/* One value of a number column: mostly plausible ones, sometimes raw bytes (NaN, huge). */
static inline double w2fuzz_num(W2FuzzIn *in) {
  static const double v[] = {0, 1, 0.5, 0.75, -1, 1e3, 1e6, 2.5, 0.3, 1e300};
  unsigned k = w2fuzz_u8(in);
  if (k < 200) return v[k % (sizeof v / sizeof v[0])];
  double x;
  w2fuzz_bytes(in, &x, sizeof x);
  return x;
}

/* A 1-D compound table `name` of n rows (n from the input) with the given fields: kinds
 * 'S' string (fixed length 8, 32, 64 or 80), 'U' seed (uint64, int64 or int32), 'D' number
 * (float64, float32, int32), 'I' int (int32, int64, float64). Strings are names the sweeps
 * use, one of 40 bytes, or "". */
static inline void w2fuzz_table(W2FuzzIn *in, hid_t f, const char *name,
                                const char *const *fields, const char *kinds, int nf) {
  static const char *const strs[] = {"linear", "t2", "t4", "t6", "naive", "conf", "weak",
                                     "ceiling", "", "a_name_of_exactly_forty_bytes_123456789",
                                     "negative_gap", "s0"};
  static const size_t slen[] = {32, 32, 64, 8, 80};
  hid_t mt[64];
  size_t off[64], size = 0;
  if (nf > 64) nf = 64;
  for (int i = 0; i < nf; i++) {
    unsigned c = w2fuzz_u8(in) % 8; /* 0..4 the usual type, 5..7 another */
    if (kinds[i] == 'S') {
      mt[i] = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt[i], slen[c % 5]);
      H5Tset_strpad(mt[i], c == 7 ? H5T_STR_NULLTERM : H5T_STR_NULLPAD);
    } else if (kinds[i] == 'U') {
      mt[i] = H5Tcopy(c < 5 ? H5T_STD_U64LE : c == 5 ? H5T_STD_I64LE : H5T_STD_I32LE);
    } else if (kinds[i] == 'I') {
      mt[i] = H5Tcopy(c < 5 ? H5T_STD_I32LE : c == 5 ? H5T_STD_I64LE : H5T_IEEE_F64LE);
    } else {
      mt[i] = H5Tcopy(c < 5 ? H5T_IEEE_F64LE : c == 5 ? H5T_IEEE_F32LE : H5T_STD_I32LE);
    }
    off[i] = size;
    size += H5Tget_size(mt[i]);
  }
  hid_t t = H5Tcreate(H5T_COMPOUND, size);
  for (int i = 0; i < nf; i++) H5Tinsert(t, fields[i], off[i], mt[i]);
  hsize_t n = w2fuzz_u8(in) % 9;
  char *rows = calloc(n ? n : 1, size);
  for (hsize_t r = 0; r < n && rows; r++)
    for (int i = 0; i < nf; i++) {
      char *at = rows + r * size + off[i];
      H5T_class_t cls = H5Tget_class(mt[i]);
      size_t sz = H5Tget_size(mt[i]);
      if (cls == H5T_STRING) {
        const char *v = strs[w2fuzz_u8(in) % (sizeof strs / sizeof strs[0])];
        memcpy(at, v, strlen(v) < sz ? strlen(v) : sz);
      } else if (cls == H5T_FLOAT && sz == 8) {
        double x = w2fuzz_num(in);
        memcpy(at, &x, 8);
      } else if (cls == H5T_FLOAT) {
        float x = (float)w2fuzz_num(in);
        memcpy(at, &x, 4);
      } else if (sz == 8) {
        int64_t x = (int64_t)(w2fuzz_u8(in) % 4) - (w2fuzz_u8(in) == 255);
        memcpy(at, &x, 8);
      } else {
        int32_t x = (int32_t)(w2fuzz_u8(in) % 4);
        memcpy(at, &x, 4);
      }
    }
  hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (n && (w2fuzz_u8(in) & 1)) {
    H5Pset_chunk(dcpl, 1, &n);
    H5Pset_deflate(dcpl, 4); /* as the results writer stores tables */
  }
  hid_t d = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d >= 0) {
    if (n && rows) H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
    H5Dclose(d);
  }
  free(rows);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Tclose(t);
  for (int i = 0; i < nf; i++) H5Tclose(mt[i]);
}

/* A scalar attribute of type t (int32, uint64, float64 or a fixed string) on obj. */
static inline void w2fuzz_attr(hid_t obj, const char *name, hid_t t, const void *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, t, v);
    H5Aclose(a);
  }
  H5Sclose(sp);
}

/* Writes the file the recipe in describes to path (HDF5's messages off). 0 when done. */
static inline int w2fuzz_h5_build(const uint8_t *data, size_t size, const W2FuzzDict *d,
                                  const char *path) {
  W2FuzzIn in = {data, size, 0};
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (w2fuzz_u8(&in) & 1) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) return -1;
  int nobj = (int)(w2fuzz_u8(&in) % 16);
  for (int i = 0; i < nobj && in.at < in.n; i++) {
    unsigned op = w2fuzz_u8(&in) % 9;
    if (op == 8) {
      if (d->preset) d->preset(&in, f);
    } else if (op < 3) w2fuzz_object(&in, d, f, 0);
    else if (op < 6) w2fuzz_object(&in, d, f, 1);
    else if (op == 6) {
      hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
      H5Pset_create_intermediate_group(lcpl, 1);
      hid_t g = H5Gcreate2(f, d->names[w2fuzz_u8(&in) % d->nnames], lcpl, H5P_DEFAULT,
                           H5P_DEFAULT);
      if (g >= 0) H5Gclose(g);
      H5Pclose(lcpl);
    } else { /* a soft link, possibly dangling or to another kind of object */
      const char *to = d->names[w2fuzz_u8(&in) % d->nnames];
      char target[64];
      snprintf(target, sizeof target, "/%s", to);
      H5Lcreate_soft(target, f, d->names[w2fuzz_u8(&in) % d->nnames], H5P_DEFAULT,
                     H5P_DEFAULT);
    }
  }
  return H5Fclose(f) < 0 ? -1 : 0;
}

/* The harness's input file at path: the recipe built, or (W2SWEEP_FUZZ_RAW=1) the bytes. */
static inline void w2fuzz_input_file(const uint8_t *data, size_t size, const W2FuzzDict *d,
                                     const char *path) {
  static int raw = -1;
  if (raw < 0) raw = getenv("W2SWEEP_FUZZ_RAW") && !strcmp(getenv("W2SWEEP_FUZZ_RAW"), "1");
  if (!raw) {
    if (w2fuzz_h5_build(data, size, d, path) == 0) return;
    abort(); /* the builder's own failure: never expected */
  }
  FILE *fp = fopen(path, "wb");
  if (!fp) abort();
  if (size && fwrite(data, 1, size, fp) != size) abort();
  if (fclose(fp) != 0) abort();
}

#endif
