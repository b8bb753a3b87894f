/* cmd_export.c — `w2sweep export RESULTS.h5 --csv [-o FILE]`: the summary table as CSV,
 * one row per cell, for spreadsheets and shell pipelines. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "columns.h"
#include "commands.h"
#include "error.h"
#include "store.h"

/* The columns: the table of columns.h in its order, then the m_<key> settings columns the
 * file's /summary has (the method registry's; they vary with the build). */
#define MAXCOL 128
typedef struct Col {
  char name[64];
  W2ColType type;
  size_t width;
} Col;

static int file_columns(hid_t d, Col *cols) {
  int n = 0;
  hid_t ft = H5Dget_type(d);
  for (int i = 0; i < w2_column_count() && n < MAXCOL; i++) {
    const W2Column *c = w2_column(i);
    /* results files written before issue 13 lack its columns: exported without them */
    if (c->since13 && H5Tget_member_index(ft, c->name) < 0) continue;
    snprintf(cols[n].name, sizeof cols[n].name, "%s", c->name);
    cols[n].type = c->type;
    cols[n++].width = c->width;
  }
  int nm = H5Tget_nmembers(ft);
  for (int i = 0; i < nm && n < MAXCOL; i++) {
    char *name = H5Tget_member_name(ft, (unsigned)i);
    if (name && !strncmp(name, "m_", 2)) {
      snprintf(cols[n].name, sizeof cols[n].name, "%s", name);
      cols[n].type = W2_COL_F64;
      cols[n++].width = sizeof(double);
    }
    H5free_memory(name);
  }
  H5Tclose(ft);
  return n;
}

/* Reads one column of the compound dataset into a new *buf of n values (free it). A string
 * column is read whole, at the width the file stores (c->width becomes it, at least the
 * table's: w2sweep writes fixed-width strings, other writers longer or variable-length
 * ones), so nothing is cut. */
static W2Err read_col(hid_t d, const char *file, Col *c, hsize_t n, void **buf) {
  hid_t ft = H5Dget_type(d);
  int idx = ft >= 0 ? H5Tget_member_index(ft, c->name) : -1;
  hid_t mft = idx >= 0 ? H5Tget_member_type(ft, (unsigned)idx) : -1;
  int str = c->type == W2_COL_STR;
  int vlen = str && mft >= 0 && H5Tget_class(mft) == H5T_STRING && H5Tis_variable_str(mft) > 0;
  size_t fsize = mft >= 0 ? H5Tget_size(mft) : 0;
  H5T_cset_t cset = mft >= 0 && H5Tget_class(mft) == H5T_STRING ? H5Tget_cset(mft)
                                                                 : H5T_CSET_ASCII;
  if (mft >= 0) H5Tclose(mft);
  if (ft >= 0) H5Tclose(ft);
  W2_CHECK(idx >= 0, W2_ERR_DATA, "%s: /summary has no column '%s'", file, c->name);
  if (str) c->width = vlen ? sizeof(char *) : (fsize > c->width ? fsize : c->width);
  *buf = calloc(n ? n : 1, c->width);
  W2_CHECK(*buf, W2_ERR_MEM, "out of memory reading /summary column '%s' (%llu rows)", c->name,
           (unsigned long long)n);
  hid_t mt = H5Tcreate(H5T_COMPOUND, c->width);
  hid_t st = -1;
  if (str) {
    st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, vlen ? H5T_VARIABLE : c->width);
    H5Tset_cset(st, cset); /* HDF5 does not convert between ASCII and UTF-8 */
    if (!vlen) H5Tset_strpad(st, H5T_STR_NULLPAD);
  }
  H5Tinsert(mt, c->name, 0,
            str ? st : c->type == W2_COL_U64 ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE);
  herr_t rc = n ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) : 0;
  if (vlen && rc >= 0) { /* to fixed width: the longest string, NUL-padded */
    char **v = *buf;
    size_t w = 32;
    for (hsize_t r = 0; r < n; r++)
      if (v[r] && strlen(v[r]) > w) w = strlen(v[r]);
    char *fixed = calloc(n ? n : 1, w);
    for (hsize_t r = 0; r < n && fixed; r++)
      if (v[r]) memcpy(fixed + r * w, v[r], strlen(v[r]));
    hid_t sp = H5Dget_space(d);
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, *buf);
    H5Sclose(sp);
    free(*buf);
    *buf = fixed;
    c->width = w;
    if (!fixed) rc = -1;
  }
  H5Tclose(mt);
  if (st >= 0) H5Tclose(st);
  W2_CHECK(rc >= 0, W2_ERR_DATA, "%s: /summary column '%s' cannot be read", file, c->name);
  return W2_OK;
}

static void csv_str(FILE *o, const char *s) {
  /* quote when needed (RFC 4180) */
  if (strpbrk(s, ",\"\n")) {
    fputc('"', o);
    for (; *s; s++) {
      if (*s == '"') fputc('"', o);
      fputc(*s, o);
    }
    fputc('"', o);
  } else {
    fputs(s, o);
  }
}

static W2Err run(int argc, char **argv) {
  const char *file = NULL, *out = NULL;
  int csv = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("usage: w2sweep export RESULTS.h5 --csv [-o FILE]\n"
             "Writes /summary as CSV (header + one row per cell) to FILE or stdout.\n");
      return W2_OK;
    } else if (!strcmp(argv[i], "--csv")) {
      csv = 1;
    } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "export: %s needs a file name", argv[i]);
      out = argv[++i];
    } else if (argv[i][0] == '-') {
      W2_RAISE(W2_ERR_ARG, "export: unknown option '%s'", argv[i]);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "export: more than one results file");
      file = argv[i];
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "export: no results file given (see w2sweep export --help)");
  W2_CHECK(csv, W2_ERR_ARG, "export: say which format (--csv is the one there is)");
  W2_CHECK(!out || !w2_same_file(out, file), W2_ERR_ARG,
           "export: -o '%s' is the results file '%s' itself (it would be overwritten)", out, file);
  w2_h5_silence();
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  W2_CHECK(f >= 0, W2_ERR_DATA, "%s: cannot open as HDF5 (missing, corrupt or not HDF5)", file);
  W2Err e = W2_OK;
  hid_t d = -1;
  void *data[MAXCOL] = {0};
  static Col cols[MAXCOL];
  int ncol = 0;
  char *sbuf = NULL;
  char tmp[4096] = "";
  FILE *o = stdout;
  if (H5Lexists(f, "summary", H5P_DEFAULT) <= 0 || (d = H5Dopen2(f, "summary", H5P_DEFAULT)) < 0) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: no /summary table (not a w2sweep results file)", file);
    goto done;
  }
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  int nd = H5Sget_simple_extent_ndims(sp);
  if (nd == 1) H5Sget_simple_extent_dims(sp, &n, NULL);
  H5Sclose(sp);
  if (nd != 1) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA, "%s: /summary is not a 1-D table", file);
    goto done;
  }
  ncol = file_columns(d, cols);
  size_t wmax = 0;
  for (int c = 0; c < ncol && !e; c++) {
    e = read_col(d, file, &cols[c], n, &data[c]);
    if (cols[c].type == W2_COL_STR && cols[c].width > wmax) wmax = cols[c].width;
  }
  if (e) goto done;
  sbuf = malloc(wmax + 1); /* one string cell, NUL-terminated */
  if (!sbuf) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  if (out) {
    w2_tmp_path(out, tmp, sizeof tmp);
    o = fopen(tmp, "w");
    if (!o) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot write: %s", out, strerror(errno));
      goto done;
    }
  }
  for (int c = 0; c < ncol; c++) fprintf(o, "%s%s", c ? "," : "", cols[c].name);
  fputc('\n', o);
  for (hsize_t r = 0; r < n; r++) {
    for (int c = 0; c < ncol; c++) {
      if (c) fputc(',', o);
      if (cols[c].type == W2_COL_STR) {
        memcpy(sbuf, (char *)data[c] + r * cols[c].width, cols[c].width);
        sbuf[cols[c].width] = '\0';
        csv_str(o, sbuf);
      } else if (cols[c].type == W2_COL_U64) {
        fprintf(o, "%llu", (unsigned long long)((uint64_t *)data[c])[r]);
      } else {
        double v = ((double *)data[c])[r];
        if (isnan(v)) fputs("NaN", o);
        else fprintf(o, "%.10g", v);
      }
    }
    fputc('\n', o);
  }
  /* a full disk or a closed pipe shows only here (stdio buffers): check the flush and the
   * stream's error flag, or `export > /dev/full` would exit 0 having written nothing */
  if (out) {
    int bad = ferror(o) != 0;
    errno = bad ? EIO : 0;
    bad |= fclose(o) != 0;
    o = NULL;
    if (bad || rename(tmp, out) != 0) {
      int err = errno;
      unlink(tmp);
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot write: %s", out,
                         strerror(err ? err : EIO));
    }
  } else if (fflush(o) != 0 || ferror(o)) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                       "export: cannot write the CSV to standard output: %s",
                       strerror(errno ? errno : EIO));
  }
done:
  free(sbuf);
  for (int c = 0; c < MAXCOL; c++) free(data[c]);
  if (d >= 0) H5Dclose(d);
  H5Fclose(f);
  return e;
}

int w2_cmd_export(int argc, char **argv) {
  W2Err e = run(argc, argv);
  if (e) w2_error_report();
  return w2_exit_status(e);
}
