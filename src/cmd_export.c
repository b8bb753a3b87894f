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
#include "commands.h"
#include "error.h"
#include "store.h"

/* column order: the documented ones first, then the rest of /summary */
static const char *const cols[] = {
    "task", "seed", "weak_size", "strong_size", "method", "weak_acc", "ceiling_acc",
    "student_acc", "student_best_acc", "pgr", "pgr_best", "gap", "gap_se", "pgr_status",
    "agree_weak_wrong", "weak_flops",
    "strong_flops", "agree", "agree_weak_right", "student_auroc", "student_ece", "weak_params",
    "strong_params", "wall_s", "ceiling_ft_acc", "ceiling_lp_acc", "ceiling_is_probe",
    "recipe_lr", "recipe_epochs", "recipe_anchor_decay", "recipe_body_lr_scale",
    "recipe_head_init", "weak_recipe_lr", "weak_recipe_epochs"};
#define NCOL (int)(sizeof cols / sizeof cols[0])

/* string columns; "seed" (column 1) is the one integer column (uint64: seeds are 64-bit),
 * the rest float64 */
static int is_str(int c) {
  return c == 0 || c == 2 || c == 3 || c == 4 || !strcmp(cols[c], "pgr_status");
}

/* Reads one column of the compound dataset into a new *buf of n values. A string column is
 * read whole, at the width the file stores (*width bytes each, at least 32: w2sweep writes
 * S32, other writers longer or variable-length strings), so nothing is cut. */
static W2Err read_col(hid_t d, const char *file, int c, hsize_t n, void **buf, size_t *width) {
  hid_t ft = H5Dget_type(d);
  int idx = ft >= 0 ? H5Tget_member_index(ft, cols[c]) : -1;
  hid_t mft = idx >= 0 ? H5Tget_member_type(ft, (unsigned)idx) : -1;
  int vlen = mft >= 0 && H5Tget_class(mft) == H5T_STRING && H5Tis_variable_str(mft) > 0;
  size_t fsize = mft >= 0 ? H5Tget_size(mft) : 0;
  H5T_cset_t cset = mft >= 0 && H5Tget_class(mft) == H5T_STRING ? H5Tget_cset(mft)
                                                                 : H5T_CSET_ASCII;
  if (mft >= 0) H5Tclose(mft);
  if (ft >= 0) H5Tclose(ft);
  W2_CHECK(idx >= 0, W2_ERR_DATA, "%s: /summary has no column '%s'", file, cols[c]);
  *width = !is_str(c) ? (c == 1 ? sizeof(uint64_t) : sizeof(double))
           : vlen     ? sizeof(char *)
                      : (fsize > 32 ? fsize : 32);
  *buf = calloc(n ? n : 1, *width);
  W2_CHECK(*buf, W2_ERR_MEM, "out of memory reading /summary column '%s' (%llu rows)", cols[c],
           (unsigned long long)n);
  hid_t mt = H5Tcreate(H5T_COMPOUND, *width);
  hid_t st = -1;
  if (is_str(c)) {
    st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, vlen ? H5T_VARIABLE : *width);
    H5Tset_cset(st, cset); /* HDF5 does not convert between ASCII and UTF-8 */
    if (!vlen) H5Tset_strpad(st, H5T_STR_NULLPAD);
  }
  H5Tinsert(mt, cols[c], 0, is_str(c) ? st : c == 1 ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE);
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
    *width = w;
    if (!fixed) rc = -1;
  }
  H5Tclose(mt);
  if (st >= 0) H5Tclose(st);
  W2_CHECK(rc >= 0, W2_ERR_DATA, "%s: /summary column '%s' cannot be read", file, cols[c]);
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
  void *data[NCOL] = {0};
  size_t width[NCOL] = {0};
  char *s = NULL; /* one string cell, terminated */
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
  for (int c = 0; c < NCOL && !e; c++) e = read_col(d, file, c, n, &data[c], &width[c]);
  if (e) goto done;
  size_t wmax = 0;
  for (int c = 0; c < NCOL; c++) wmax = width[c] > wmax ? width[c] : wmax;
  s = malloc(wmax + 1);
  if (!s) {
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
  for (int c = 0; c < NCOL; c++) fprintf(o, "%s%s", c ? "," : "", cols[c]);
  fputc('\n', o);
  for (hsize_t r = 0; r < n; r++) {
    for (int c = 0; c < NCOL; c++) {
      if (c) fputc(',', o);
      if (is_str(c)) {
        memcpy(s, (char *)data[c] + r * width[c], width[c]);
        s[width[c]] = '\0';
        csv_str(o, s);
      } else if (c == 1) {
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
  free(s);
  for (int c = 0; c < NCOL; c++) free(data[c]);
  if (d >= 0) H5Dclose(d);
  H5Fclose(f);
  return e;
}

int w2_cmd_export(int argc, char **argv) {
  W2Err e = run(argc, argv);
  if (e) w2_error_report();
  return w2_exit_status(e);
}
