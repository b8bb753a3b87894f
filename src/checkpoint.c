/* checkpoint.c — model checkpoints as HDF5 files, and the HDF5 helpers (see checkpoint.h).
 *
 * Distributed models: the file always holds full matrices, so it does not depend on the
 * grid that wrote it. Save all-gathers each layer and grid rank 0 writes it (serial HDF5);
 * load has rank 0 read and validate every layer before anything is broadcast, so a refused
 * file never leaves a half-loaded model. Errors are agreed over the grid (agree()) so that
 * every rank returns the same code and message and no rank waits in a collective that a
 * failed rank skipped. Memory: one full layer (save) or one full model (load) per rank, the
 * same as w2_mat_allgather; fine for the model sizes a sweep trains.
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define W2_H5_MAX_DIMS 8

/* ----------------------------------------------------------------------------------- */
/* file access */

static int g_file_locking = -1;

void w2_h5_set_file_locking(int file_locking) { g_file_locking = file_locking; }

void w2_tmp_path(const char *path, char *tmp, size_t cap) {
  char host[64] = "host";
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  for (char *c = host; *c; c++)
    if (*c == '.' || *c == '/') *c = '_';
  snprintf(tmp, cap, "%s.tmp.%s.%ld", path, host, (long)getpid());
}

void w2_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

hid_t w2_h5_fapl(int file_locking) {
  w2_h5_silence();
  if (file_locking < 0) file_locking = g_file_locking;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) {
    w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "HDF5: cannot create a file access list");
    return H5I_INVALID_HID;
  }
#if H5_VERSION_GE(1, 10, 7)
  /* ignore_when_disabled = 1: on a file system without flock, proceed unlocked. */
  if (file_locking >= 0 && H5Pset_file_locking(fapl, file_locking ? 1 : 0, 1) < 0) {
    H5Pclose(fapl);
    w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "HDF5: cannot set file locking");
    return H5I_INVALID_HID;
  }
#endif
  return fapl;
}

W2Err w2_h5_open_read(const char *path, int file_locking, hid_t *file) {
  *file = H5I_INVALID_HID;
  W2_CHECK(access(path, R_OK) == 0, W2_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  hid_t fapl = w2_h5_fapl(file_locking);
  if (fapl < 0) return w2_error_push(__FILE__, __LINE__, __func__, W2_ERR_IO);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  W2_CHECK(f >= 0, W2_ERR_DATA,
           "%s: not a readable HDF5 file (truncated, corrupt, or another format)", path);
  *file = f;
  return W2_OK;
}

/* Files are built in memory (the core driver, no backing store) and written out by
 * w2_h5_commit with checked write() calls. HDF5 itself never writes to disk: a write that
 * HDF5 cannot finish (a full disk) leaves its file half-closed in the library, which closes
 * it again at shutdown, inside MPI_Finalize, and crashes there (every rank once died with
 * SIGSEGV on a full disk). The cost is the file's size in memory on the writing rank. */
W2Err w2_h5_create_tmp(const char *path, int file_locking, char *tmp, size_t cap, hid_t *file) {
  *file = H5I_INVALID_HID;
  w2_tmp_path(path, tmp, cap);
  int len = (int)strlen(tmp);
  W2_CHECK(len > 0 && (size_t)len < cap, W2_ERR_ARG, "%s: path too long", path);
  /* the temporary name must be creatable now, not only after the work */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  W2_CHECK(fd >= 0, W2_ERR_IO, "%s: cannot create file: %s", path, strerror(errno));
  close(fd);
  hid_t fapl = w2_h5_fapl(file_locking);
  if (fapl < 0) {
    unlink(tmp);
    return w2_error_push(__FILE__, __LINE__, __func__, W2_ERR_IO);
  }
  hid_t f = -1;
  if (H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) >= 0)
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: HDF5 cannot create a file", path);
  }
  *file = f;
  return W2_OK;
}

/* Writes n bytes of buf to tmp and syncs it; W2_ERR_IO naming the reason (ENOSPC, EIO). */
static W2Err write_image(const char *tmp, const char *path, const char *buf, size_t n) {
  int fd = open(tmp, O_WRONLY | O_TRUNC);
  W2_CHECK(fd >= 0, W2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      close(fd);
      W2_RAISE(W2_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    done += (size_t)w;
  }
  /* data on disk before the name: a crash after rename must not expose an empty file */
  int bad = fsync(fd) != 0 ? errno : 0;
  if (close(fd) != 0 && !bad) bad = errno;
  W2_CHECK(!bad, W2_ERR_IO, "%s: cannot write: %s", path, strerror(bad));
  return W2_OK;
}

W2Err w2_h5_commit(hid_t *file, const char *tmp, const char *path, W2Err err) {
  char *img = NULL;
  ssize_t n = 0;
  int ok = 1;
  if (*file >= 0) {
    if (!err) {
      ok = H5Fflush(*file, H5F_SCOPE_GLOBAL) >= 0 && (n = H5Fget_file_image(*file, NULL, 0)) > 0 &&
           (img = malloc((size_t)n)) != NULL && H5Fget_file_image(*file, img, (size_t)n) == n;
    }
    ok &= H5Fclose(*file) >= 0; /* in memory: nothing left half-open */
  }
  *file = H5I_INVALID_HID;
  if (!err && !ok)
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                         "%s: HDF5 could not finish the file (%zd bytes)", path, n);
  if (!err) err = write_image(tmp, path, img, (size_t)n);
  free(img);
  if (err) {
    remove(tmp);
    return w2_error_push(__FILE__, __LINE__, __func__, err);
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot rename the finished file into place: %s", path,
             strerror(e));
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* datasets */

int w2_h5_exists(hid_t file, const char *name) {
  char buf[512];
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof buf) return 0;
  memcpy(buf, name, n + 1);
  /* H5Lexists needs every intermediate link to exist: test each prefix in turn. */
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    htri_t ok = H5Lexists(file, buf, H5P_DEFAULT);
    buf[i] = c;
    if (ok <= 0) return 0;
  }
  return 1;
}

static const char *class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    default: return "non-numeric";
  }
}

W2Err w2_h5_inspect(hid_t file, const char *path, const char *name, int ndims, hsize_t *dims,
                    H5T_class_t *cls, size_t *size) {
  W2_CHECK(ndims >= 0 && ndims <= W2_H5_MAX_DIMS, W2_ERR_INTERNAL, "inspect ndims %d", ndims);
  W2_CHECK(w2_h5_exists(file, name), W2_ERR_DATA, "%s: dataset %s is missing", path, name);
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  W2_CHECK(d >= 0, W2_ERR_DATA, "%s: %s is not a dataset", path, name);
  hid_t t = H5Dget_type(d), s = H5Dget_space(d);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  size_t sz = t >= 0 ? H5Tget_size(t) : 0;
  int nd = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
  hsize_t dd[H5S_MAX_RANK];
  int got = (nd >= 0 && nd <= H5S_MAX_RANK) ? H5Sget_simple_extent_dims(s, dd, NULL) : -1;
  int ok = t >= 0 && s >= 0 && c != H5T_NO_CLASS && sz > 0 && got == nd;
  if (t >= 0 && H5Tclose(t) < 0) ok = 0;
  if (s >= 0 && H5Sclose(s) < 0) ok = 0;
  if (H5Dclose(d) < 0) ok = 0;
  W2_CHECK(ok, W2_ERR_DATA, "%s: cannot read the type or shape of %s", path, name);
  W2_CHECK(nd == ndims, W2_ERR_DATA, "%s: %s has %d dimension%s, expected %d", path, name, nd,
           nd == 1 ? "" : "s", ndims);
  for (int i = 0; i < nd; i++) dims[i] = dd[i];
  if (cls) *cls = c;
  if (size) *size = sz;
  return W2_OK;
}

/* After a failed read: the first filter of dataset d that this HDF5 library does not have
 * (h5py's lzf, blosc, ...), its id and name in fname; 0 when every filter is available. */
static int missing_filter(hid_t d, char *fname, size_t cap) {
  hid_t dcpl = H5Dget_create_plist(d);
  int n = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0, id = 0;
  for (int i = 0; i < n && !id; i++) {
    unsigned flags = 0, conf = 0;
    size_t nelmts = 0;
    fname[0] = '\0';
    H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, cap, fname, &conf);
    if (f >= 0 && H5Zfilter_avail(f) <= 0) id = (int)f;
  }
  if (dcpl >= 0) H5Pclose(dcpl);
  fname[cap - 1] = '\0';
  return id;
}

W2Err w2_h5_read(hid_t file, const char *path, const char *name, hid_t memtype, void *buf) {
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  W2_CHECK(d >= 0, W2_ERR_DATA, "%s: cannot open dataset %s", path, name);
  herr_t st = H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  char filter[64] = "";
  int missing = st < 0 ? missing_filter(d, filter, sizeof filter) : 0;
  if (H5Dclose(d) < 0) st = -1;
  /* not corrupt: compressed by a filter plugin this HDF5 lacks (h5py's own lzf is 32000) */
  W2_CHECK(!missing, W2_ERR_DATA, "%s: %s is compressed with HDF5 filter %d ('%s'), which is "
           "not available here; rewrite it uncompressed or with gzip (h5repack -f %s=GZIP=4 OLD.h5 NEW.h5)",
           path, name, missing, filter[0] ? filter : "unknown", name[0] == '/' ? name + 1 : name);
  W2_CHECK(st >= 0, W2_ERR_DATA, "%s: cannot read %s (corrupt file, or a type that does "
           "not convert to the expected one)", path, name);
  return W2_OK;
}

W2Err w2_h5_write_f32(hid_t loc, const char *path, const char *name, int ndims,
                      const hsize_t *dims, const float *data) {
  hid_t s = H5Screate_simple(ndims, dims, NULL);
  hid_t d = s >= 0 ? H5Dcreate2(loc, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT)
                   : H5I_INVALID_HID;
  herr_t st = d >= 0 ? H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : -1;
  if (d >= 0 && H5Dclose(d) < 0) st = -1;
  if (s >= 0 && H5Sclose(s) < 0) st = -1;
  W2_CHECK(st >= 0, W2_ERR_IO, "%s: cannot write dataset %s (disk full?)", path, name);
  return W2_OK;
}

W2Err w2_h5_write_f64_1d(hid_t loc, const char *path, const char *name, int n, const double *v,
                         int deflate) {
  hsize_t dim = (hsize_t)(n > 0 ? n : 0);
  hid_t s = H5Screate_simple(1, &dim, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  herr_t st = s >= 0 && dcpl >= 0 ? 0 : -1;
  if (st >= 0 && deflate > 0 && n > 0) { /* a chunked layout needs a non-empty chunk */
    st = H5Pset_chunk(dcpl, 1, &dim);
    if (st >= 0) st = H5Pset_deflate(dcpl, (unsigned)deflate);
  }
  hid_t d = st >= 0 ? H5Dcreate2(loc, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                    : H5I_INVALID_HID;
  if (d < 0) st = -1;
  if (st >= 0 && n > 0) st = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  if (d >= 0 && H5Dclose(d) < 0) st = -1;
  if (dcpl >= 0 && H5Pclose(dcpl) < 0) st = -1;
  if (s >= 0 && H5Sclose(s) < 0) st = -1;
  W2_CHECK(st >= 0, W2_ERR_IO, "%s: cannot write dataset %s (disk full?)", path, name);
  return W2_OK;
}

W2Err w2_h5_read_1d(hid_t loc, const char *path, const char *name, hid_t memtype, hsize_t n,
                    void *buf) {
  hsize_t dim = 0;
  W2_CALL(w2_h5_inspect(loc, path, name, 1, &dim, NULL, NULL));
  W2_CHECK(dim == n, W2_ERR_DATA, "%s: %s has length %llu, expected %llu", path, name,
           (unsigned long long)dim, (unsigned long long)n);
  if (n > 0) W2_CALL(w2_h5_read(loc, path, name, memtype, buf));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* attributes */

static W2Err attr_write(hid_t obj, const char *path, const char *name, hid_t ftype,
                        hid_t mtype, const void *v) {
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = s >= 0 ? H5Acreate2(obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT)
                   : H5I_INVALID_HID;
  herr_t st = a >= 0 ? H5Awrite(a, mtype, v) : -1;
  if (a >= 0 && H5Aclose(a) < 0) st = -1;
  if (s >= 0 && H5Sclose(s) < 0) st = -1;
  W2_CHECK(st >= 0, W2_ERR_IO, "%s: cannot write attribute %s", path, name);
  return W2_OK;
}

W2Err w2_h5_attr_write_int(hid_t obj, const char *path, const char *name, int v) {
  W2_CALL(attr_write(obj, path, name, H5T_STD_I32LE, H5T_NATIVE_INT, &v));
  return W2_OK;
}

W2Err w2_h5_attr_write_u64(hid_t obj, const char *path, const char *name, uint64_t v) {
  W2_CALL(attr_write(obj, path, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v));
  return W2_OK;
}

W2Err w2_h5_attr_write_double(hid_t obj, const char *path, const char *name, double v) {
  W2_CALL(attr_write(obj, path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v));
  return W2_OK;
}

/* A string attribute of type size `size` (H5T_VARIABLE: buf points to the char *). */
static W2Err attr_write_string(hid_t obj, const char *path, const char *name, size_t size,
                               H5T_cset_t cset, const void *buf) {
  hid_t t = H5Tcopy(H5T_C_S1);
  herr_t st = t >= 0 ? 0 : -1;
  if (st >= 0) st = H5Tset_size(t, size);
  if (st >= 0) st = H5Tset_cset(t, cset);
  W2Err err = W2_OK;
  if (st >= 0) err = attr_write(obj, path, name, t, t, buf);
  if (t >= 0 && H5Tclose(t) < 0) st = -1;
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  W2_CHECK(st >= 0, W2_ERR_IO, "%s: cannot write attribute %s", path, name);
  return W2_OK;
}

W2Err w2_h5_attr_write_str(hid_t obj, const char *path, const char *name, const char *v) {
  /* Variable-length UTF-8: h5py returns it as a Python str. */
  W2_CALL(attr_write_string(obj, path, name, H5T_VARIABLE, H5T_CSET_UTF8, &v));
  return W2_OK;
}

W2Err w2_h5_attr_write_str_fixed(hid_t obj, const char *path, const char *name, const char *v,
                                 H5T_cset_t cset) {
  W2_CALL(attr_write_string(obj, path, name, strlen(v) + 1, cset, v));
  return W2_OK;
}

/* Opens a scalar attribute and reports its class; the caller closes *attr. */
static W2Err attr_open(hid_t obj, const char *path, const char *name, hid_t *attr,
                       H5T_class_t *cls) {
  *attr = H5I_INVALID_HID;
  W2_CHECK(H5Aexists(obj, name) > 0, W2_ERR_DATA, "%s: attribute %s is missing", path, name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  W2_CHECK(a >= 0, W2_ERR_DATA, "%s: cannot open attribute %s", path, name);
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (c == H5T_NO_CLASS || np != 1) {
    H5Aclose(a);
    W2_RAISE(W2_ERR_DATA, "%s: attribute %s must be a single value", path, name);
  }
  *attr = a;
  *cls = c;
  return W2_OK;
}

static W2Err attr_read_num(hid_t obj, const char *path, const char *name, int need_int,
                           hid_t mtype, void *v) {
  hid_t a;
  H5T_class_t c;
  W2_CALL(attr_open(obj, path, name, &a, &c));
  int ok_class = c == H5T_INTEGER || (!need_int && c == H5T_FLOAT);
  herr_t st = ok_class ? H5Aread(a, mtype, v) : 0;
  if (H5Aclose(a) < 0) st = -1;
  W2_CHECK(ok_class, W2_ERR_DATA, "%s: attribute %s is %s, expected %s", path, name,
           class_name(c), need_int ? "an integer" : "a number");
  W2_CHECK(st >= 0, W2_ERR_DATA, "%s: cannot read attribute %s", path, name);
  return W2_OK;
}

W2Err w2_h5_attr_read_int(hid_t obj, const char *path, const char *name, int *v) {
  long long x;
  W2_CALL(attr_read_num(obj, path, name, 1, H5T_NATIVE_LLONG, &x));
  W2_CHECK(x >= INT_MIN && x <= INT_MAX, W2_ERR_DATA, "%s: attribute %s = %lld is out of "
           "range", path, name, x);
  *v = (int)x;
  return W2_OK;
}

W2Err w2_h5_attr_read_u64(hid_t obj, const char *path, const char *name, uint64_t *v) {
  W2_CALL(attr_read_num(obj, path, name, 1, H5T_NATIVE_UINT64, v));
  return W2_OK;
}

W2Err w2_h5_attr_read_double(hid_t obj, const char *path, const char *name, double *v) {
  W2_CALL(attr_read_num(obj, path, name, 0, H5T_NATIVE_DOUBLE, v));
  return W2_OK;
}

W2Err w2_h5_attr_read_str(hid_t obj, const char *path, const char *name, char *buf,
                          size_t cap) {
  hid_t a;
  H5T_class_t c;
  W2_CALL(attr_open(obj, path, name, &a, &c));
  if (c != H5T_STRING) {
    H5Aclose(a);
    W2_RAISE(W2_ERR_DATA, "%s: attribute %s is %s, expected a string", path, name,
             class_name(c));
  }
  /* Read with the file's own type as memory type: HDF5 does not convert between the
   * ASCII and UTF-8 character sets, and h5py writes either. */
  hid_t t = H5Aget_type(a);
  herr_t st = t >= 0 ? 0 : -1;
  if (st >= 0 && H5Tis_variable_str(t) > 0) {
    char *s = NULL;
    st = H5Aread(a, t, &s);
    if (st >= 0 && s) snprintf(buf, cap, "%s", s);
    else if (st >= 0) buf[0] = '\0';
    if (s) H5free_memory(s);
  } else if (st >= 0) {
    size_t n = H5Tget_size(t);
    char *s = n > 0 ? calloc(n + 1, 1) : NULL;
    st = s ? H5Aread(a, t, s) : -1;
    if (st >= 0) snprintf(buf, cap, "%s", s);
    free(s);
  }
  if (t >= 0 && H5Tclose(t) < 0) st = -1;
  if (H5Aclose(a) < 0) st = -1;
  W2_CHECK(st >= 0, W2_ERR_DATA, "%s: cannot read attribute %s", path, name);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* agreement over a grid */

/* Every rank of g returns the same code; ranks that did not fail get the message of the
 * lowest failed rank, so each rank can report the same one line. */
static W2Err agree(const W2Grid *g, W2Err err) {
  if (g->size == 1) return err;
  int who = err ? g->rank : g->size;
  MPI_Allreduce(MPI_IN_PLACE, &who, 1, MPI_INT, MPI_MIN, g->comm);
  if (who == g->size) return W2_OK;
  int code = err;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", w2_error_message());
  MPI_Bcast(&code, 1, MPI_INT, who, g->comm);
  MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, who, g->comm);
  if (g->rank == who) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return w2_error_raise(__FILE__, __LINE__, __func__, code, "%s", msg);
}

/* Broadcast n floats from grid rank 0, in chunks that fit an int count. */
static W2Err bcast_floats(const W2Grid *g, float *buf, size_t n) {
  const size_t chunk = (size_t)1 << 28;
  for (size_t off = 0; off < n; off += chunk) {
    size_t c = n - off < chunk ? n - off : chunk;
    W2_CALL_MPI(MPI_Bcast(buf + off, (int)c, MPI_FLOAT, 0, g->comm));
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* checkpoint layout */

static int layer_in(const W2Arch *a, int l) { return l == 0 ? a->d_in : a->width; }
static int layer_out(const W2Arch *a, int l) { return l == a->depth ? a->d_out : a->width; }

static const char *act_name(W2Act a) { return a == W2_ACT_TANH ? "tanh" : "relu"; }

static size_t max_layer_elems(const W2Arch *a) {
  size_t mx = 0;
  for (int l = 0; l <= a->depth; l++) {
    size_t e = (size_t)layer_in(a, l) * layer_out(a, l);
    if (e > mx) mx = e;
  }
  return mx;
}

static W2Err write_header(hid_t f, const char *path, const W2Arch *a, const W2CheckpointMeta *meta) {
  char created[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  W2_CALL(w2_h5_attr_write_str(f, path, "format", W2_CHECKPOINT_FORMAT));
  W2_CALL(w2_h5_attr_write_int(f, path, "version", W2_CHECKPOINT_VERSION));
  W2_CALL(w2_h5_attr_write_int(f, path, "d_in", a->d_in));
  W2_CALL(w2_h5_attr_write_int(f, path, "width", a->width));
  W2_CALL(w2_h5_attr_write_int(f, path, "depth", a->depth));
  W2_CALL(w2_h5_attr_write_int(f, path, "d_out", a->d_out));
  W2_CALL(w2_h5_attr_write_str(f, path, "act", act_name(a->act)));
  W2_CALL(w2_h5_attr_write_str(f, path, "size_name", meta->size_name));
  W2_CALL(w2_h5_attr_write_str(f, path, "kind", meta->kind));
  W2_CALL(w2_h5_attr_write_u64(f, path, "seed", meta->seed));
  W2_CALL(w2_h5_attr_write_u64(f, path, "config_hash", meta->config_hash));
  W2_CALL(w2_h5_attr_write_double(f, path, "flops", meta->flops));
  W2_CALL(w2_h5_attr_write_double(f, path, "params", w2_arch_params(a)));
  W2_CALL(w2_h5_attr_write_str(f, path, "created", created));
  return W2_OK;
}

/* Layer l of the full model: W col-major K x N (as w2_mat_allgather gives it), b (N).
 * The file holds W in C order (K, N), i.e. the transpose of the column-major layout. */
static W2Err write_layer(hid_t f, const char *path, int l, int K, int N, const float *Wcm,
                         const float *b, float *scratch) {
  char gname[16];
  snprintf(gname, sizeof gname, "layer%02d", l);
  for (int j = 0; j < N; j++)
    for (int i = 0; i < K; i++) {
      float w = Wcm[i + (size_t)j * K];
      W2_CHECK(isfinite(w), W2_ERR_NUM, "%s: refusing to save a non-finite weight "
               "(%s/W[%d, %d] = %g)", path, gname, i, j, (double)w);
      scratch[(size_t)i * N + j] = w;
    }
  for (int j = 0; j < N; j++)
    W2_CHECK(isfinite(b[j]), W2_ERR_NUM, "%s: refusing to save a non-finite bias "
             "(%s/b[%d] = %g)", path, gname, j, (double)b[j]);
  hid_t g = H5Gcreate2(f, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "%s: cannot create group %s", path, gname);
  hsize_t wd[2] = {(hsize_t)K, (hsize_t)N}, bd[1] = {(hsize_t)N};
  W2Err err = w2_h5_write_f32(g, path, "W", 2, wd, scratch);
  if (!err) err = w2_h5_write_f32(g, path, "b", 1, bd, b);
  if (H5Gclose(g) < 0 && !err)
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close %s", path, gname);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

W2Err w2_checkpoint_save(const W2Model *m, const char *path, const W2CheckpointMeta *meta) {
  if (m->ops) { /* another family writes its own format (model.h "Families") */
    W2_CALL(m->ops->save(m, path));
    return W2_OK;
  }
  const W2Grid *g = m->grid;
  const W2Arch *a = &m->arch;
  int root = g->rank == 0;
  w2_h5_silence();
  W2Err err = W2_OK;
  size_t mx = max_layer_elems(a);
  float *full = malloc(mx * sizeof(float));
  float *scratch = root ? malloc(mx * sizeof(float)) : NULL;
  if (!full || (root && !scratch))
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory gathering a %zu-element layer to save %s", mx, path);
  err = agree(g, err);
  int gather = !err; /* the same on every rank */
  char tmp[4096];
  hid_t f = H5I_INVALID_HID;
  if (!err && root) {
    err = w2_h5_create_tmp(path, -1, tmp, sizeof tmp, &f);
    if (!err) err = write_header(f, path, a, meta);
  }
  for (int l = 0; l <= a->depth && gather; l++) {
    /* Every rank takes part in every gather even after rank 0 failed: no rank may be left
     * waiting in a collective; the error is agreed once at the end. */
    W2Err e = w2_mat_allgather(&m->W[l], full);
    if (e && !err) err = e;
    if (root && !err)
      err = write_layer(f, path, l, layer_in(a, l), layer_out(a, l), full, m->b[l], scratch);
  }
  if (root && f >= 0) err = w2_h5_commit(&f, tmp, path, err);
  free(full);
  free(scratch);
  err = agree(g, err);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* reading */

static W2Err read_header(hid_t f, const char *path, W2Arch *a, W2CheckpointMeta *meta) {
  char fmt[64], act[16];
  W2_CHECK(H5Aexists(f, "format") > 0, W2_ERR_DATA,
           "%s: not a w2sweep checkpoint (no 'format' attribute)", path);
  W2_CALL(w2_h5_attr_read_str(f, path, "format", fmt, sizeof fmt));
  W2_CHECK(strcmp(fmt, W2_CHECKPOINT_FORMAT) == 0, W2_ERR_DATA,
           "%s: not a w2sweep checkpoint (format is '%s', expected '%s')", path, fmt,
           W2_CHECKPOINT_FORMAT);
  memset(meta, 0, sizeof *meta);
  W2_CALL(w2_h5_attr_read_int(f, path, "version", &meta->version));
  W2_CHECK(meta->version == W2_CHECKPOINT_VERSION, W2_ERR_DATA,
           "%s: checkpoint version %d is not supported (this w2sweep reads version %d)", path,
           meta->version, W2_CHECKPOINT_VERSION);
  W2_CALL(w2_h5_attr_read_int(f, path, "d_in", &a->d_in));
  W2_CALL(w2_h5_attr_read_int(f, path, "width", &a->width));
  W2_CALL(w2_h5_attr_read_int(f, path, "depth", &a->depth));
  W2_CALL(w2_h5_attr_read_int(f, path, "d_out", &a->d_out));
  W2_CHECK(a->d_in >= 1 && a->width >= 1 && a->d_out >= 1, W2_ERR_DATA,
           "%s: d_in=%d width=%d d_out=%d must be positive", path, a->d_in, a->width, a->d_out);
  W2_CHECK(a->depth >= 1 && a->depth < W2_MAX_LAYERS, W2_ERR_DATA,
           "%s: depth %d must be in [1, %d]", path, a->depth, W2_MAX_LAYERS - 1);
  W2_CALL(w2_h5_attr_read_str(f, path, "act", act, sizeof act));
  if (strcmp(act, "relu") == 0) a->act = W2_ACT_RELU;
  else if (strcmp(act, "tanh") == 0) a->act = W2_ACT_TANH;
  else W2_RAISE(W2_ERR_DATA, "%s: act is '%s', expected 'relu' or 'tanh'", path, act);
  W2_CALL(w2_h5_attr_read_str(f, path, "size_name", meta->size_name, sizeof meta->size_name));
  W2_CALL(w2_h5_attr_read_str(f, path, "kind", meta->kind, sizeof meta->kind));
  W2_CALL(w2_h5_attr_read_u64(f, path, "seed", &meta->seed));
  W2_CALL(w2_h5_attr_read_u64(f, path, "config_hash", &meta->config_hash));
  W2_CALL(w2_h5_attr_read_double(f, path, "flops", &meta->flops));
  W2_CALL(w2_h5_attr_read_double(f, path, "params", &meta->params));
  W2_CALL(w2_h5_attr_read_str(f, path, "created", meta->created, sizeof meta->created));
  W2_CHECK(meta->params == w2_arch_params(a), W2_ERR_DATA,
           "%s: params is %.0f but the shape attributes give %.0f (corrupt file)", path,
           meta->params, w2_arch_params(a));
  return W2_OK;
}

W2Err w2_checkpoint_peek(const char *path, W2Arch *arch, W2CheckpointMeta *meta) {
  hid_t f;
  W2Arch a;
  W2CheckpointMeta mt;
  W2_CALL(w2_h5_open_read(path, -1, &f));
  W2Err err = read_header(f, path, &a, &mt);
  H5Fclose(f);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  if (arch) *arch = a;
  if (meta) *meta = mt;
  return W2_OK;
}

#define ARCH_FIELD(field)                                                                \
  W2_CHECK(fa.field == m->field, W2_ERR_DATA,                                            \
           "%s: " #field " is %d in the checkpoint, the model expects %d", path, fa.field, \
           m->field)

static W2Err check_match(const char *path, const W2Arch *m, const W2Arch *fa_,
                         const W2CheckpointMeta *fm, const W2CheckpointMeta *expect) {
  W2Arch fa = *fa_;
  ARCH_FIELD(d_in);
  ARCH_FIELD(width);
  ARCH_FIELD(depth);
  ARCH_FIELD(d_out);
  W2_CHECK(fa.act == m->act, W2_ERR_DATA, "%s: act is %s in the checkpoint, the model "
           "expects %s", path, act_name(fa.act), act_name(m->act));
  if (!expect) return W2_OK;
  W2_CHECK(!expect->size_name[0] || strcmp(fm->size_name, expect->size_name) == 0,
           W2_ERR_DATA, "%s: size_name is '%s' in the checkpoint, expected '%s'", path,
           fm->size_name, expect->size_name);
  W2_CHECK(!expect->kind[0] || strcmp(fm->kind, expect->kind) == 0, W2_ERR_DATA,
           "%s: kind is '%s' in the checkpoint, expected '%s'", path, fm->kind, expect->kind);
  W2_CHECK(fm->seed == expect->seed, W2_ERR_DATA,
           "%s: seed is %llu in the checkpoint, expected %llu", path,
           (unsigned long long)fm->seed, (unsigned long long)expect->seed);
  W2_CHECK(fm->config_hash == expect->config_hash, W2_ERR_DATA,
           "%s: config_hash is %016llx in the checkpoint, expected %016llx (it was made "
           "with different settings; delete it or point the cache elsewhere)", path,
           (unsigned long long)fm->config_hash, (unsigned long long)expect->config_hash);
  return W2_OK;
}

/* Rank 0's half of load: validates the whole file into params (layer by layer, W
 * column-major K x N then b), touching nothing of the model. */
static W2Err read_params(const char *path, const W2Arch *arch, const W2CheckpointMeta *expect,
                         float *params, float *scratch) {
  hid_t f;
  W2Arch fa;
  W2CheckpointMeta fm;
  W2_CALL(w2_h5_open_read(path, -1, &f));
  W2Err err = read_header(f, path, &fa, &fm);
  if (!err) err = check_match(path, arch, &fa, &fm, expect);
  float *p = params;
  for (int l = 0; l <= arch->depth && !err; l++) {
    int K = layer_in(arch, l), N = layer_out(arch, l);
    const char *part[2] = {"W", "b"};
    for (int which = 0; which < 2 && !err; which++) {
      char name[32];
      snprintf(name, sizeof name, "layer%02d/%s", l, part[which]);
      int nd = which == 0 ? 2 : 1;
      hsize_t want[2] = {(hsize_t)(which == 0 ? K : N), (hsize_t)N}, dims[2] = {0, 0};
      H5T_class_t cls;
      size_t sz;
      err = w2_h5_inspect(f, path, name, nd, dims, &cls, &sz);
      if (err) break;
      if (cls != H5T_FLOAT || sz != 4) {
        err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                             "%s: %s is %s of %zu bytes, expected float32", path, name,
                             class_name(cls), sz);
        break;
      }
      if (dims[0] != want[0] || (nd == 2 && dims[1] != want[1])) {
        if (nd == 2)
          err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                               "%s: %s has shape (%llu, %llu), expected (%d, %d)", path, name,
                               (unsigned long long)dims[0], (unsigned long long)dims[1], K, N);
        else
          err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                               "%s: %s has shape (%llu,), expected (%d,)", path, name,
                               (unsigned long long)dims[0], N);
        break;
      }
      float *dst = which == 0 ? scratch : p + (size_t)K * N;
      err = w2_h5_read(f, path, name, H5T_NATIVE_FLOAT, dst);
      if (err) break;
      size_t cnt = which == 0 ? (size_t)K * N : (size_t)N;
      for (size_t e = 0; e < cnt && !err; e++)
        if (!isfinite(dst[e])) {
          char at[48];
          if (which == 0) snprintf(at, sizeof at, "[%zu, %zu]", e / N, e % N);
          else snprintf(at, sizeof at, "[%zu]", e);
          err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                               "%s: %s%s is %s", path, name, at, isnan(dst[e]) ? "NaN" : "Inf");
        }
      if (which == 0) /* file (K, N) C order -> column-major K x N */
        for (int i = 0; i < K; i++)
          for (int j = 0; j < N; j++) p[i + (size_t)j * K] = scratch[(size_t)i * N + j];
    }
    p += (size_t)K * N + N;
  }
  H5Fclose(f);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}

W2Err w2_checkpoint_load(W2Model *m, const char *path, const W2CheckpointMeta *expect) {
  if (m->ops) {
    W2_CALL(m->ops->load(m, path));
    return W2_OK;
  }
  const W2Grid *g = m->grid;
  const W2Arch *a = &m->arch;
  w2_h5_silence();
  size_t total = (size_t)w2_arch_params(a), mx = max_layer_elems(a);
  W2Err err = W2_OK;
  float *params = malloc(total * sizeof(float));
  float *scratch = g->rank == 0 ? malloc(mx * sizeof(float)) : NULL;
  if (!params || (g->rank == 0 && !scratch))
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM,
                         "out of memory reading %zu parameters from %s", total, path);
  err = agree(g, err);
  if (!err && g->rank == 0) err = read_params(path, a, expect, params, scratch);
  err = agree(g, err);
  if (!err && g->size > 1) err = bcast_floats(g, params, total);
  if (!err) {
    const float *p = params;
    for (int l = 0; l <= a->depth; l++) {
      int K = layer_in(a, l), N = layer_out(a, l);
      w2_mat_set_from_full(&m->W[l], p);
      memcpy(m->b[l], p + (size_t)K * N, (size_t)N * sizeof(float));
      p += (size_t)K * N + N;
    }
  }
  free(params);
  free(scratch);
  if (err) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return W2_OK;
}
