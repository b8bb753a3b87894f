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

/* Reads one column of the compound dataset into buf (strings: width bytes each). */
static W2Err read_col(hid_t d, const char *file, const Col *c, hsize_t n, void *buf) {
  hid_t ft = H5Dget_type(d);
  int idx = H5Tget_member_index(ft, c->name);
  H5Tclose(ft);
  W2_CHECK(idx >= 0, W2_ERR_DATA, "%s: /summary has no column '%s'", file, c->name);
  hid_t mt = H5Tcreate(H5T_COMPOUND, c->width);
  hid_t st = -1;
  if (c->type == W2_COL_STR) {
    st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, c->width);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
  }
  H5Tinsert(mt, c->name, 0, c->type == W2_COL_STR ? st : c->type == W2_COL_U64 ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE);
  herr_t rc = n ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
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
  for (int c = 0; c < ncol && !e; c++) {
    data[c] = calloc(n ? n : 1, cols[c].width);
    if (!data[c]) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    else e = read_col(d, file, &cols[c], n, data[c]);
  }
  if (e) goto done;
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
        char s[257];
        size_t w = cols[c].width < 256 ? cols[c].width : 256;
        memcpy(s, (char *)data[c] + r * cols[c].width, w);
        s[w] = '\0';
        csv_str(o, s);
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
