/* results.c — cell files, status records and the assembled results file (see results.h and
 * results/SCHEMA.md). Every HDF5 call is checked; every id is closed. */
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blasenv.h"
#include "checkpoint.h"
#include "columns.h"
#include "curvetable.h"
#include "health.h"
#include "sweepcfg.h" /* w2_sweep_size_params */
#include "methods/method.h"
#include "pretrain.h"
#include "rng.h"
#include "store.h"
#include "summary.h"
#include "world.h"

#define S32 32
#define W2_MSET_MAX 24 /* m_<key> columns at most */
#define S256 256 /* method_settings: the canonical JSON (W2CellResult.method_settings) */
#define SCHEMA_VERSION 1

void w2_now_iso(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void w2_results_workdir(const W2Sweep *s, char *dir, size_t len) {
  snprintf(dir, len, "%s.parts", s->output);
}

/* Removes "*.tmp.<pid>" files a killed writer left in dir (never read, only untidy). */
static void remove_stale_tmp(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[W2_PATH_MAX + 300];
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
}

void w2_remove_dead_tmp(const char *dir) {
  char host[64] = "host", path[W2_PATH_MAX + 300];
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  for (char *c = host; *c; c++) /* as w2_tmp_path writes it */
    if (*c == '.' || *c == '/') *c = '_';
  size_t hl = strlen(host);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *t = strstr(e->d_name, ".tmp.");
    if (!t || strncmp(t + 5, host, hl) != 0 || t[5 + hl] != '.') continue;
    char *end;
    long pid = strtol(t + 6 + hl, &end, 10);
    if (*end || pid <= 0) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer still runs */
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

W2Err w2_results_prepare(const char *workdir) {
  char d[W2_PATH_MAX + 32];
  const char *sub[2] = {"cells", "status"};
  for (int i = 0; i < 2; i++) {
    snprintf(d, sizeof d, "%s/%s", workdir, sub[i]);
    W2_CALL(w2_mkdirs(d));
    /* only this sweep writes here, and only while it runs: leftovers are a killed run's */
    remove_stale_tmp(d);
  }
  return W2_OK;
}

void w2_results_cell_path(const char *workdir, const char *job_id, char *path, size_t len) {
  char name[W2_JOB_ID_MAX * 2];
  w2_job_filename(job_id, name, sizeof name);
  snprintf(path, len, "%s/cells/%s.h5", workdir, name);
}

/* ---- status records -------------------------------------------------------------------- */

static const char *const state_names[] = {"pending", "running", "done", "failed"};

W2Err w2_status_write(const char *workdir, const char *job_id, const W2Status *st) {
  char name[W2_JOB_ID_MAX * 2], path[W2_PATH_MAX + 512], tmp[W2_PATH_MAX + 600];
  w2_job_filename(job_id, name, sizeof name);
  snprintf(path, sizeof path, "%s/status/%s.txt", workdir, name);
  w2_tmp_path(path, tmp, sizeof tmp);
  FILE *f = fopen(tmp, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write status: %s", tmp, strerror(errno));
  fprintf(f, "state %s\nattempts %d\nrank %d\nhost %s\nstarted %.3f\nseconds %.3f\ncpu %.3f\n"
               "error %s\n",
          state_names[st->state], st->attempts, st->rank, st->host[0] ? st->host : "-",
          st->started, st->seconds, st->cpu, st->error);
  int bad = fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write status", path);
  }
  return W2_OK;
}

/* bounded copy that always terminates (and says so to the compiler) */
static void copy_str(char *dst, size_t len, const char *src) {
  size_t n = strlen(src);
  if (n >= len) n = len - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

void w2_status_read(const char *workdir, const char *job_id, W2Status *st) {
  char name[W2_JOB_ID_MAX * 2], path[W2_PATH_MAX + 512], line[1024];
  memset(st, 0, sizeof *st);
  w2_job_filename(job_id, name, sizeof name);
  snprintf(path, sizeof path, "%s/status/%s.txt", workdir, name);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (!strncmp(line, "state ", 6)) {
      for (int k = 0; k < 4; k++)
        if (!strcmp(line + 6, state_names[k])) st->state = (W2JobState)k;
    } else if (!strncmp(line, "attempts ", 9)) {
      st->attempts = atoi(line + 9);
    } else if (!strncmp(line, "rank ", 5)) {
      st->rank = atoi(line + 5);
    } else if (!strncmp(line, "host ", 5)) {
      copy_str(st->host, sizeof st->host, line + 5);
    } else if (!strncmp(line, "started ", 8)) {
      st->started = atof(line + 8);
    } else if (!strncmp(line, "seconds ", 8)) {
      st->seconds = atof(line + 8);
    } else if (!strncmp(line, "cpu ", 4)) {
      st->cpu = atof(line + 4);
    } else if (!strncmp(line, "error ", 6)) {
      copy_str(st->error, sizeof st->error, line + 6);
    }
  }
  fclose(f);
}

uint64_t w2_results_sweep_hash(const W2Sweep *s) {
  const char *text = s->config_text ? s->config_text : "";
  return w2_fnv1a(W2_FNV_OFFSET, text, strlen(text));
}

int w2_results_sweep_match(const char *workdir, const W2Sweep *s) {
  char path[W2_PATH_MAX + 32], line[64];
  snprintf(path, sizeof path, "%s/sweep.hash", workdir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned long long old = 0;
  int ok = fgets(line, sizeof line, f) && sscanf(line, "%llx", &old) == 1;
  fclose(f);
  return ok && old == (unsigned long long)w2_results_sweep_hash(s) ? 1 : -1;
}

W2Err w2_results_check_sweep(const char *workdir, const W2Sweep *s) {
  unsigned long long h = (unsigned long long)w2_results_sweep_hash(s);
  char path[W2_PATH_MAX + 32], line[W2_PATH_MAX + 64], old[W2_NAME_MAX * 2 + 8] = "" /* s->name: W2_NAME_MAX * 2 */;
  snprintf(path, sizeof path, "%s/sweep.hash", workdir);
  if (w2_results_sweep_match(workdir, s) > 0) return W2_OK;
  /* another text: the same sweep, edited or extended, may go on (each finished cell is
   * reused only when its own settings hash matches: w2_pipe_cell_hash); another sweep may
   * not (its name, on the second line, differs) */
  FILE *f = fopen(path, "r");
  int known = 0;
  if (f) {
    if (fgets(line, sizeof line, f) && fgets(line, sizeof line, f) &&
        sscanf(line, "name %71s", old) == 1)
      known = 1;
    fclose(f);
    W2_CHECK(!known || !strcmp(old, s->name), W2_ERR_CONFIG,
             "%s: its finished cells belong to sweep '%s', not '%s' (%s); remove %s (or run with "
             "--output elsewhere) to start this sweep afresh",
             workdir, old, s->name, s->source_path, workdir);
  }
  char tmp[W2_PATH_MAX + 128];
  w2_tmp_path(path, tmp, sizeof tmp);
  f = fopen(tmp, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  fprintf(f, "%016llx %s\nname %s\n", h, s->source_path, s->name);
  int bad = fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write", path);
  }
  return W2_OK;
}

/* Line of the `output` setting in the sweep text (1 when not found). */
static int output_line(const char *text) {
  int line = 1;
  for (const char *c = text; c && *c; line++) {
    const char *k = c + strspn(c, " \t");
    if (!strncmp(k, "output", 6) && strchr(" \t=:", k[6])) return line;
    c = strchr(c, '\n');
    if (c) c++;
  }
  return 1;
}

W2Err w2_results_check_output_path(const W2Sweep *s, int from_file) {
  char where[W2_PATH_MAX + 64];
  if (from_file)
    snprintf(where, sizeof where, "%s:%d: output", s->source_path,
             output_line(s->config_text));
  else
    snprintf(where, sizeof where, "--output");
  size_t n = strlen(s->output);
  W2_CHECK(n > 0 && s->output[n - 1] != '/', W2_ERR_CONFIG,
           "%s '%s' names a directory; it must name the results file (e.g. '%sresults.h5')",
           where, s->output, s->output);
  struct stat st;
  W2_CHECK(stat(s->output, &st) != 0 || !S_ISDIR(st.st_mode), W2_ERR_CONFIG,
           "%s '%s' is a directory; it must name the results file (e.g. '%s/results.h5')",
           where, s->output, s->output);
  char dir[W2_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", s->output);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    /* the nearest existing ancestor must be a directory (w2_mkdirs makes the rest) */
    while (stat(dir, &st) != 0 && (slash = strrchr(dir, '/')) && slash != dir) *slash = '\0';
    W2_CHECK(stat(dir, &st) != 0 || S_ISDIR(st.st_mode), W2_ERR_CONFIG,
             "%s '%s': %s is not a directory", where, s->output, dir);
  }
  return W2_OK;
}

W2Err w2_results_check_output(const W2Sweep *s) {
  if (!w2_file_exists(s->output)) return W2_OK;
  hid_t f;
  W2Err e = w2_h5_open_read(s->output, -1, &f);
  if (e) {
    w2_error_clear();
    W2_RAISE(W2_ERR_ARG, "%s exists and is not a w2sweep results file; refusing to replace it "
             "(choose another --output)", s->output);
  }
  char name[W2_NAME_MAX + 8] = "";
  uint64_t h = 0;
  int has_name = H5Aexists(f, "sweep_name") > 0, has_hash = H5Aexists(f, "sweep_hash") > 0;
  if (has_name) e = w2_h5_attr_read_str(f, s->output, "sweep_name", name, sizeof name);
  if (!e && has_hash) e = w2_h5_attr_read_u64(f, s->output, "sweep_hash", &h);
  H5Fclose(f);
  if (e) w2_error_clear();
  W2_CHECK(!e && has_name, W2_ERR_ARG,
           "%s exists and is not a w2sweep results file; refusing to replace it (choose "
           "another --output)", s->output);
  W2_CHECK(has_hash ? h == w2_results_sweep_hash(s) : strcmp(name, s->name) == 0, W2_ERR_ARG,
           "%s holds the results of sweep '%s'%s, not of %s; refusing to replace it (remove it, "
           "or choose another --output)", s->output, name,
           strcmp(name, s->name) ? "" : " from another version of its file", s->source_path);
  return W2_OK;
}

W2Err w2_results_write_jobs(const char *workdir, const W2Plan *plan) {
  char path[W2_PATH_MAX + 32], tmp[W2_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/jobs.txt", workdir);
  w2_tmp_path(path, tmp, sizeof tmp);
  FILE *f = fopen(tmp, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  for (int i = 0; i < plan->njobs; i++) fprintf(f, "%s\n", plan->jobs[i].id);
  int bad = fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write the job list", path);
  }
  return W2_OK;
}

/* ---- HDF5 helpers (the shared ones are in checkpoint.h) ------------------------------ */

/* String attributes are fixed-length UTF-8 (SCHEMA.md readers decode bytes). */
static W2Err attr_put_str(hid_t loc, const char *file, const char *name, const char *v) {
  W2_CALL(w2_h5_attr_write_str_fixed(loc, file, name, v, H5T_CSET_UTF8));
  return W2_OK;
}

/* A string attribute into a name field of cap bytes: a longer one is refused, not cut. */
static W2Err attr_get_name(hid_t loc, const char *file, const char *name, char *v, size_t cap) {
  char buf[256];
  W2_CALL(w2_h5_attr_read_str(loc, file, name, buf, sizeof buf));
  size_t n = strlen(buf);
  W2_CHECK(n < cap, W2_ERR_DATA, "%s: attribute '%s' is longer than %zu bytes", file, name,
           cap - 1);
  memcpy(v, buf, n + 1);
  return W2_OK;
}

#define CURVE_DEFLATE 4 /* SCHEMA.md: curves are deflate-compressed */

/* ---- one cell: attributes + curves, in a cell file's root or a group of the results ---- */

/* Every column of columns.h is a field of W2CellResult at w2_column(i)->off. */
static const void *col_ptr(const W2CellResult *c, const W2Column *col) {
  return (const char *)c + col->off;
}

/* file names the HDF5 file in messages (loc is its root or a group in it). */
static W2Err write_cell(hid_t loc, const char *file, const W2CellResult *c, int rank,
                        int attempts) {
  /* the columns (columns.h), one attribute each */
  for (int i = 0; i < w2_column_count(); i++) {
    const W2Column *col = w2_column(i);
    const void *v = col_ptr(c, col);
    switch (col->type) {
    case W2_COL_STR: W2_CALL(attr_put_str(loc, file, col->name, v)); break;
    case W2_COL_U64: W2_CALL(w2_h5_attr_write_u64(loc, file, col->name, *(const uint64_t *)v)); break;
    case W2_COL_F64: W2_CALL(w2_h5_attr_write_double(loc, file, col->name, *(const double *)v)); break;
    }
  }
  W2_CALL(w2_h5_attr_write_int(loc, file, "selected_point", c->selected_point));
  W2_CALL(w2_h5_attr_write_int(loc, file, "rank", rank));
  W2_CALL(w2_h5_attr_write_int(loc, file, "attempts", attempts));
  for (int f = 0; f < W2_CURVE_NFIELDS; f++)
    W2_CALL(w2_h5_write_f64_1d(loc, file, w2_curve_names[f], c->curve.n, c->curve.v[f],
                               CURVE_DEFLATE));
  if (c->nchain > 0) {
    hsize_t n = (hsize_t)c->nchain;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, W2_NAME_MAX);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(loc, "chain", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->chain) : -1;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    W2_CHECK(rc >= 0, W2_ERR_IO, "%s: cannot write dataset chain", file);
    W2_CALL(w2_h5_write_f64_1d(loc, file, "chain_acc", c->nchain, c->chain_acc, CURVE_DEFLATE));
  }
  return W2_OK;
}

static W2Err read_cell(hid_t loc, const char *file, W2CellResult *c) {
  memset(c, 0, sizeof *c);
  /* the columns (columns.h); those added by issue 13 are absent from older cells: their
   * config_hash reads 0, which no cell hash is, so resume computes them again */
  int old = H5Aexists(loc, "config_hash") <= 0;
  for (int i = 0; i < w2_column_count(); i++) {
    const W2Column *col = w2_column(i);
    void *v = (char *)c + col->off;
    if (old && col->since13) {
      if (col->type == W2_COL_F64) *(double *)v = NAN;
      continue;
    }
    switch (col->type) {
    case W2_COL_STR: W2_CALL(attr_get_name(loc, file, col->name, v, col->cap)); break;
    case W2_COL_U64: W2_CALL(w2_h5_attr_read_u64(loc, file, col->name, (uint64_t *)v)); break;
    case W2_COL_F64: W2_CALL(w2_h5_attr_read_double(loc, file, col->name, (double *)v)); break;
    }
  }
  W2_CALL(w2_h5_attr_read_int(loc, file, "selected_point", &c->selected_point));
  hsize_t n = 0;
  W2_CALL(w2_h5_inspect(loc, file, "step", 1, &n, NULL, NULL));
  W2_CHECK(n <= INT_MAX, W2_ERR_DATA, "%s: dataset step is too long", file);
  W2_CALL(w2_curve_alloc(&c->curve, (int)n));
  for (int f = 0; f < W2_CURVE_NFIELDS; f++)
    W2_CALL(w2_h5_read_1d(loc, file, w2_curve_names[f], H5T_NATIVE_DOUBLE, n, c->curve.v[f]));
  hsize_t nc = 0;
  if (w2_h5_exists(loc, "chain")) W2_CALL(w2_h5_inspect(loc, file, "chain", 1, &nc, NULL, NULL));
  if (nc > 0) {
    W2_CHECK(nc <= W2_CHAIN_MAX, W2_ERR_DATA, "%s: chain too long", file);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, W2_NAME_MAX);
    hid_t d = H5Dopen2(loc, "chain", H5P_DEFAULT);
    herr_t rc = d >= 0 ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->chain) : -1;
    if (d >= 0) H5Dclose(d);
    H5Tclose(t);
    W2_CHECK(rc >= 0, W2_ERR_DATA, "%s: chain cannot be read", file);
    c->nchain = (int)nc;
    W2_CALL(w2_h5_read_1d(loc, file, "chain_acc", H5T_NATIVE_DOUBLE, nc, c->chain_acc));
  }
  return W2_OK;
}

W2Err w2_cellfile_write(const char *path, const W2CellResult *c, int rank, int attempts) {
  char tmp[W2_PATH_MAX + 600];
  hid_t f;
  W2_CALL(w2_h5_create_tmp(path, 0, tmp, sizeof tmp, &f));
  W2Err e = write_cell(f, path, c, rank, attempts);
  W2_CALL(w2_h5_commit(&f, tmp, path, e));
  return W2_OK;
}

W2Err w2_cellfile_read(const char *path, W2CellResult *c) {
  hid_t f;
  W2_CALL(w2_h5_open_read(path, 0, &f));
  W2Err e = read_cell(f, path, c);
  H5Fclose(f);
  if (e) {
    w2_curve_free(&c->curve);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  return W2_OK;
}

/* ---- the results file -------------------------------------------------------------------- */

typedef struct SummaryRow {
  W2CellResult c;           /* every column of columns.h (its curve is not kept) */
  double mset[W2_MSET_MAX]; /* m_<key>: every registered setting key; NaN where not the kind's */
} SummaryRow;

/* The m_<key> columns: the registry's setting keys (method.h), each once, lists left out
 * (a chain is in method_settings and the cell's chain dataset). */
static int mset_keys(const char **keys) {
  int n = 0;
  for (int k = 0; k < w2_method_count(); k++) {
    const W2MethodOps *o = w2_method_ops(k);
    for (int i = 0; i < o->nsettings; i++) {
      if (o->settings[i].type == W2_SET_NAMES) continue;
      int seen = 0;
      for (int q = 0; q < n; q++) seen |= !strcmp(keys[q], o->settings[i].key);
      if (!seen && n < W2_MSET_MAX) keys[n++] = o->settings[i].key;
    }
  }
  return n;
}

static void mset_fill(const W2MethodSpec *m, double *v) {
  const char *keys[W2_MSET_MAX];
  int n = mset_keys(keys);
  for (int i = 0; i < n; i++) {
    const W2MethodSetting *st = w2_method_setting((int)m->kind, keys[i]);
    v[i] = st ? w2_method_setting_value(m, st) : NAN;
  }
}

typedef struct ModelRow {
  char task[S32], size[S32], role[S32];
  uint64_t seed;
  double test_acc, test_auroc, test_loss, flops, params;
} ModelRow;

typedef struct SizeRow {
  char name[S32], family[S32];
  int32_t width, depth;
  double params, pretrain_flops;
  int32_t ranks, heads, ctx;
} SizeRow;

static hid_t str_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, S32);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  return t;
}

static W2Err table_write2(hid_t f, const char *name, hid_t ftype, hid_t mtype, size_t n,
                          const void *rows) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (n > 0) {
    H5Pset_chunk(dcpl, 1, &dim);
    H5Pset_deflate(dcpl, 4);
  }
  hid_t d = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
  if (d >= 0) H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(sp);
  W2_CHECK(rc >= 0, W2_ERR_IO, "HDF5: cannot write table %s", name);
  return W2_OK;
}

static W2Err table_write(hid_t f, const char *name, hid_t type, size_t n, const void *rows) {
  return table_write2(f, name, type, type, n, rows);
}

/* /summary from the columns table (columns.h) and the registry's m_<key> columns: the
 * memory type reads each column from its W2CellResult field, the file type packs them in
 * the table's order (strings fixed-length, NUL-padded, of the column's width). */
static W2Err write_summary(hid_t f, const SummaryRow *rows, size_t n) {
  const char *keys[W2_MSET_MAX];
  int nk = mset_keys(keys);
  size_t fsize = 0;
  for (int i = 0; i < w2_column_count(); i++) fsize += w2_column(i)->width;
  fsize += sizeof(double) * (size_t)nk;
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(SummaryRow));
  hid_t ft = H5Tcreate(H5T_COMPOUND, fsize);
  size_t at = 0;
  for (int i = 0; i < w2_column_count(); i++) {
    const W2Column *col = w2_column(i);
    size_t moff = offsetof(SummaryRow, c) + col->off;
    if (col->type == W2_COL_STR) {
      hid_t ms = H5Tcopy(H5T_C_S1), fs = H5Tcopy(H5T_C_S1);
      H5Tset_size(ms, col->cap);
      H5Tset_strpad(ms, H5T_STR_NULLTERM);
      H5Tset_size(fs, col->width);
      H5Tset_strpad(fs, H5T_STR_NULLPAD);
      H5Tinsert(mt, col->name, moff, ms);
      H5Tinsert(ft, col->name, at, fs);
      H5Tclose(ms);
      H5Tclose(fs);
    } else {
      int u = col->type == W2_COL_U64;
      H5Tinsert(mt, col->name, moff, u ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE);
      H5Tinsert(ft, col->name, at, u ? H5T_STD_U64LE : H5T_IEEE_F64LE);
    }
    at += col->width;
  }
  for (int i = 0; i < nk; i++) {
    char name[64];
    snprintf(name, sizeof name, "m_%s", keys[i]);
    H5Tinsert(mt, name, offsetof(SummaryRow, mset) + sizeof(double) * i, H5T_NATIVE_DOUBLE);
    H5Tinsert(ft, name, at, H5T_IEEE_F64LE);
    at += sizeof(double);
  }
  W2Err e = table_write2(f, "summary", ft, mt, n, rows);
  H5Tclose(mt);
  H5Tclose(ft);
  return e;
}

static W2Err write_models(hid_t f, const ModelRow *rows, size_t n) {
  hid_t s = str_type();
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(ModelRow));
  H5Tinsert(t, "task", offsetof(ModelRow, task), s);
  H5Tinsert(t, "size", offsetof(ModelRow, size), s);
  H5Tinsert(t, "role", offsetof(ModelRow, role), s);
  H5Tinsert(t, "seed", offsetof(ModelRow, seed), H5T_NATIVE_UINT64);
  H5Tinsert(t, "test_acc", offsetof(ModelRow, test_acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "test_auroc", offsetof(ModelRow, test_auroc), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "test_loss", offsetof(ModelRow, test_loss), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "flops", offsetof(ModelRow, flops), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "params", offsetof(ModelRow, params), H5T_NATIVE_DOUBLE);
  W2Err e = table_write(f, "models", t, n, rows);
  H5Tclose(t);
  H5Tclose(s);
  return e;
}

static W2Err write_sizes(hid_t f, const SizeRow *rows, size_t n) {
  hid_t s = str_type();
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(SizeRow));
  H5Tinsert(t, "name", offsetof(SizeRow, name), s);
  H5Tinsert(t, "width", offsetof(SizeRow, width), H5T_NATIVE_INT32);
  H5Tinsert(t, "depth", offsetof(SizeRow, depth), H5T_NATIVE_INT32);
  H5Tinsert(t, "params", offsetof(SizeRow, params), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "pretrain_flops", offsetof(SizeRow, pretrain_flops), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "ranks", offsetof(SizeRow, ranks), H5T_NATIVE_INT32);
  H5Tinsert(t, "family", offsetof(SizeRow, family), s);
  H5Tinsert(t, "heads", offsetof(SizeRow, heads), H5T_NATIVE_INT32);
  H5Tinsert(t, "ctx", offsetof(SizeRow, ctx), H5T_NATIVE_INT32);
  W2Err e = table_write(f, "sizes", t, n, rows);
  H5Tclose(t);
  H5Tclose(s);
  return e;
}

/* /grid: the cell metrics as (task, seed, weak, strong, method) arrays, NaN where a cell
 * does not exist, each axis a dimension scale with the names along it. */
static W2Err write_axis(hid_t g, const char *name, int n, const char (*names)[W2_NAME_MAX],
                        const uint64_t *nums) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL);
  hid_t t = nums ? H5Tcopy(H5T_NATIVE_UINT64) : str_type();
  char(*buf)[S32] = NULL;
  if (!nums) {
    buf = calloc((size_t)n, S32);
    W2_CHECK(buf, W2_ERR_MEM, "out of memory");
    for (int i = 0; i < n; i++) snprintf(buf[i], S32, "%s", names[i]);
  }
  hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, nums ? (const void *)nums : (const void *)buf) : -1;
  if (rc >= 0) rc = H5DSset_scale(d, name);
  if (d >= 0) H5Dclose(d);
  free(buf);
  H5Tclose(t);
  H5Sclose(sp);
  W2_CHECK(rc >= 0, W2_ERR_IO, "HDF5: cannot write axis %s", name);
  return W2_OK;
}

static const char *const grid_metrics[] = {"student_acc", "student_best_acc", "pgr", "pgr_best",
                                           "weak_acc", "ceiling_acc", "agree_weak_wrong"};
#define NGRID (int)(sizeof grid_metrics / sizeof grid_metrics[0])

static const W2Column *field_col(const char *name) { return w2_column(w2_column_find(name)); }

static W2Err write_grid(hid_t f, const W2Sweep *s, const SummaryRow *rows, size_t n) {
  hid_t g = H5Gcreate2(f, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "HDF5: cannot create /grid");
  W2Err e = W2_OK;
  char(*tn)[W2_NAME_MAX] = calloc((size_t)s->ntasks, W2_NAME_MAX);
  char(*mn)[W2_NAME_MAX] = calloc((size_t)s->nmethods, W2_NAME_MAX);
  hsize_t dims[5] = {(hsize_t)s->ntasks, (hsize_t)s->nseeds, (hsize_t)s->nweak,
                     (hsize_t)s->nstrong, (hsize_t)s->nmethods};
  size_t total = dims[0] * dims[1] * dims[2] * dims[3] * dims[4];
  double *arr = malloc(sizeof(double) * total);
  if (!tn || !mn || !arr) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < s->ntasks; i++) snprintf(tn[i], W2_NAME_MAX, "%s", s->tasks[i].name);
  for (int i = 0; i < s->nmethods; i++) snprintf(mn[i], W2_NAME_MAX, "%s", s->methods[i].name);
  W2_CALL_GOTO(e, done, write_axis(g, "task", s->ntasks, (const char(*)[W2_NAME_MAX])tn, NULL));
  W2_CALL_GOTO(e, done, write_axis(g, "seed", s->nseeds, NULL, s->seeds));
  W2_CALL_GOTO(e, done, write_axis(g, "weak_size", s->nweak, (const char(*)[W2_NAME_MAX])s->weak, NULL));
  W2_CALL_GOTO(e, done, write_axis(g, "strong_size", s->nstrong, (const char(*)[W2_NAME_MAX])s->strong, NULL));
  W2_CALL_GOTO(e, done, write_axis(g, "method", s->nmethods, (const char(*)[W2_NAME_MAX])mn, NULL));
  static const char *const axes[5] = {"task", "seed", "weak_size", "strong_size", "method"};
  for (int k = 0; k < NGRID && !e; k++) {
    const W2Column *fc = field_col(grid_metrics[k]);
    for (size_t i = 0; i < total; i++) arr[i] = NAN;
    for (size_t r = 0; r < n; r++) {
      int ix[5] = {-1, -1, -1, -1, -1};
      const W2CellResult *c = &rows[r].c;
      for (int i = 0; i < s->ntasks; i++) if (!strcmp(c->task, s->tasks[i].name)) ix[0] = i;
      for (int i = 0; i < s->nseeds; i++) if (s->seeds[i] == c->seed) ix[1] = i;
      for (int i = 0; i < s->nweak; i++) if (!strcmp(c->weak, s->weak[i])) ix[2] = i;
      for (int i = 0; i < s->nstrong; i++) if (!strcmp(c->strong, s->strong[i])) ix[3] = i;
      for (int i = 0; i < s->nmethods; i++) if (!strcmp(c->method, s->methods[i].name)) ix[4] = i;
      if (ix[0] < 0 || ix[1] < 0 || ix[2] < 0 || ix[3] < 0 || ix[4] < 0) continue;
      size_t off = ((((size_t)ix[0] * dims[1] + ix[1]) * dims[2] + ix[2]) * dims[3] + ix[3]) * dims[4] + ix[4];
      arr[off] = *(const double *)col_ptr(c, fc);
    }
    hid_t sp = H5Screate_simple(5, dims, NULL);
    hid_t d = H5Dcreate2(g, grid_metrics[k], H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d >= 0 ? H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, arr) : -1;
    for (int a = 0; a < 5 && rc >= 0; a++) {
      hid_t sc = H5Dopen2(g, axes[a], H5P_DEFAULT);
      rc = sc >= 0 ? H5DSattach_scale(d, sc, (unsigned)a) : -1;
      if (rc >= 0) rc = H5DSset_label(d, (unsigned)a, axes[a]);
      if (sc >= 0) H5Dclose(sc);
    }
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    if (rc < 0) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "HDF5: cannot write /grid/%s", grid_metrics[k]);
  }
done:
  free(tn);
  free(mn);
  free(arr);
  H5Gclose(g);
  return e;
}

/* A scalar UTF-8 string dataset: the sweep text may be up to 1 MB, and an attribute holds at
 * most 64 KB (a sweep file over that once failed only after all compute). */
static W2Err put_text(hid_t loc, const char *file, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  W2_CHECK(t >= 0, W2_ERR_IO, "%s: HDF5 cannot make a string type", file);
  hid_t sp = -1, d = -1;
  herr_t rc = H5Tset_size(t, strlen(v) + 1);
  if (rc >= 0) rc = H5Tset_cset(t, H5T_CSET_UTF8);
  if (rc >= 0) rc = (sp = H5Screate(H5S_SCALAR)) >= 0 ? 0 : -1;
  if (rc >= 0) rc = (d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 ? 0 : -1;
  if (rc >= 0) rc = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  if (d >= 0 && H5Dclose(d) < 0) rc = -1;
  if (sp >= 0) H5Sclose(sp);
  H5Tclose(t);
  W2_CHECK(rc >= 0, W2_ERR_IO, "%s: cannot write dataset %s", file, name);
  return W2_OK;
}

static W2Err write_provenance(hid_t f, const W2Sweep *s, const W2Provenance *pv) {
  const char *file = s->output;
  hid_t g = H5Gcreate2(f, "provenance", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "%s: cannot create group /provenance", file);
  char buf[256];
  unsigned maj, min, rel;
  H5get_libversion(&maj, &min, &rel);
  snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
  char mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(mpiv, &len);
  mpiv[strcspn(mpiv, "\n,")] = '\0';
  W2Err e = W2_OK;
  W2_CALL_GOTO(e, done, put_text(g, file, "config_text", s->config_text ? s->config_text : ""));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "config_file", s->source_path));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "git_commit", W2SWEEP_GIT_COMMIT));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "w2sweep_version", W2SWEEP_VERSION));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "hdf5_version", buf));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "mpi_version", mpiv));
  char blas[512];
  w2_blas_describe(blas, sizeof blas);
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "blas", blas));
  W2_CALL_GOTO(e, done, w2_h5_attr_write_int(g, file, "nranks", pv->nranks));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "hosts", pv->hosts));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "start_time", pv->start_time));
  W2_CALL_GOTO(e, done, attr_put_str(g, file, "end_time", pv->end_time));
done:
  H5Gclose(g);
  return e;
}

static void copy_name(char *dst, const char *src) {
  memset(dst, 0, S32);
  snprintf(dst, S32, "%s", src);
}

/* /health: the known-answer checks (health.h) from the cell rows and, for (f), the
 * untrained controls among the model rows; /health@passed also on the root as
 * health_passed (-1: the sweep has no checks). */
static W2Err write_health(hid_t f, const W2Sweep *s, const SummaryRow *rows, int n,
                          const ModelRow *models, int nm) {
  W2HealthCell *c = calloc((size_t)(n ? n : 1), sizeof *c);
  W2_CHECK(c, W2_ERR_MEM, "out of memory (health)");
  for (int i = 0; i < n; i++) {
    const W2CellResult *r = &rows[i].c;
    c[i] = (W2HealthCell){r->task, r->weak, r->strong, r->method, (unsigned long long)r->seed,
                          r->weak_acc, r->ceiling_acc, r->student_acc, r->gap_se / 100, NAN};
    for (int k = 0; k < nm && s->checks.pretrain_control; k++)
      if (models[k].seed == r->seed && !strcmp(models[k].role, "ceiling_init") &&
          !strcmp(models[k].task, r->task) && !strcmp(models[k].size, r->strong))
        c[i].ceiling_init_acc = models[k].test_acc;
  }
  W2HealthRow *hr = NULL;
  int nh = 0, passed = -1;
  W2Err e = w2_health_compute(s, c, n, &hr, &nh, &passed);
  if (!e && s->checks.enabled) e = w2_health_write(f, s->output, hr, nh, passed);
  if (!e) e = w2_h5_attr_write_int(f, s->output, "health_passed", passed);
  free(hr);
  free(c);
  return e;
}

/* /intervals: the mean / 95 % interval table (summary.h) from the cell rows. */
static W2Err write_intervals(hid_t f, const W2Sweep *s, const SummaryRow *rows, int n) {
  W2SummaryCell *c = calloc((size_t)(n ? n : 1), sizeof *c);
  W2_CHECK(c, W2_ERR_MEM, "out of memory (intervals)");
  for (int i = 0; i < n; i++) {
    const W2CellResult *r = &rows[i].c;
    c[i] = (W2SummaryCell){r->task, r->weak, r->strong, r->method,
                           r->weak_acc, r->ceiling_acc, r->student_acc, r->pgr};
  }
  W2SummaryRow *sr = NULL;
  int ns = 0;
  W2Err e = w2_summary_compute(s, c, n, &sr, &ns);
  if (!e) e = w2_summary_write(f, s->output, sr, ns);
  free(sr);
  free(c);
  return e;
}

W2Err w2_results_assemble(const W2Sweep *s, const W2Plan *plan, W2Pipeline *p,
                          const char *workdir, const W2Provenance *prov, int *missing) {
  char tmp[W2_PATH_MAX + 64], path[W2_PATH_MAX + 512];
  int ncell = plan->ncells, nmodel = plan->counts[W2_JOB_WEAK] + plan->counts[W2_JOB_CEILING];
  SummaryRow *rows = calloc((size_t)(ncell ? ncell : 1), sizeof *rows);
  ModelRow *models = calloc((size_t)(nmodel ? nmodel : 1), sizeof *models);
  SizeRow *sizes = calloc((size_t)s->nsizes, sizeof *sizes);
  W2_CHECK(rows && models && sizes, W2_ERR_MEM, "out of memory assembling results");
  hid_t f;
  W2Err e = w2_h5_create_tmp(s->output, s->file_locking, tmp, sizeof tmp, &f);
  if (e) goto out;
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  int nrow = 0, nm = 0, miss = 0;
  W2CurveTable ct; /* /curves: every cell's curves as one table, appended cell by cell */
  e = w2_curvetable_open(f, s->output, &ct);
  for (int i = 0; i < plan->njobs && !e; i++) {
    const W2Job *j = &plan->jobs[i];
    if (j->type == W2_JOB_CELL) {
      W2CellResult c;
      w2_results_cell_path(workdir, j->id, path, sizeof path);
      if (!w2_file_exists(path)) {
        miss++;
        continue;
      }
      W2_CALL_GOTO(e, close, w2_cellfile_read(path, &c));
      /* a cell computed with other settings (resume recomputes it) is not this sweep's */
      if (p && c.config_hash != w2_pipe_cell_hash(p, &s->tasks[j->task], s->seeds[j->seed],
                                                  s->weak[j->weak], &s->sizes[j->size],
                                                  &s->methods[j->method])) {
        w2_curve_free(&c.curve);
        miss++;
        continue;
      }
      /* /cells/<task>/s<seed>/<weak>/<strong>/<method> */
      char gname[W2_PATH_MAX];
      snprintf(gname, sizeof gname, "cells/%s/s%llu/%s/%s/%s", c.task, (unsigned long long)c.seed,
               c.weak, c.strong, c.method);
      hid_t g = H5Gcreate2(f, gname, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      if (g < 0) {
        w2_curve_free(&c.curve);
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot create group %s",
                           s->output, gname);
        break;
      }
      W2Status st;
      w2_status_read(workdir, j->id, &st);
      e = write_cell(g, s->output, &c, st.rank, st.attempts > 0 ? st.attempts : 1);
      H5Gclose(g);
      if (!e) e = w2_curvetable_add(&ct, &c);
      SummaryRow *r = &rows[nrow++];
      mset_fill(&s->methods[j->method], r->mset);
      w2_curve_free(&c.curve);
      r->c = c; /* the columns; the curve is written above and not kept */
    } else if ((j->type == W2_JOB_WEAK || j->type == W2_JOB_CEILING) && p) {
      const W2TaskSpec *t = &s->tasks[j->task];
      uint64_t seed = s->seeds[j->seed];
      W2RunResult *rr = NULL;
      int is_weak = j->type == W2_JOB_WEAK;
      const char *name = is_weak ? s->weak[j->weak] : s->sizes[j->size].name;
      if (is_weak) w2_pipe_weak_path(p, name, t, seed, path, sizeof path);
      else w2_pipe_ceiling_path(p, &s->sizes[j->size], t, seed, j->start, path, sizeof path);
      if (!path[0] || !w2_file_exists(path)) continue;
      /* load through the pipeline: it checks the hash and never recomputes an existing file */
      W2TaskData td = {0};
      td.n_b = s->split.n_b;
      td.n_test = s->split.n_test;
      W2Err le = is_weak ? w2_pipe_weak(p, name, t, &td, seed, &rr)
                         : w2_pipe_ceiling(p, &s->sizes[j->size], t, &td, seed, j->start, &rr);
      if (le) {
        e = w2_error_push(__FILE__, __LINE__, __func__, le);
        break;
      }
      ModelRow *m = &models[nm++];
      copy_name(m->task, t->name);
      copy_name(m->size, name);
      const char *start = is_weak ? "" : w2_start_name(j->start);
      char role[S32];
      snprintf(role, sizeof role, "%s%s%s", is_weak ? "weak" : "ceiling", start[0] ? "_" : "",
               start);
      copy_name(m->role, role);
      m->seed = seed;
      m->test_acc = rr->final.acc;
      m->test_auroc = rr->final.auroc;
      m->test_loss = rr->final.loss;
      m->flops = rr->flops;
      m->params = rr->params;
      w2_run_result_free(&rr);
    }
  }
  if (e) goto close;
  for (int i = 0; i < s->nsizes; i++) {
    copy_name(sizes[i].name, s->sizes[i].name);
    sizes[i].width = s->sizes[i].width;
    sizes[i].depth = s->sizes[i].depth;
    sizes[i].params = w2_sweep_size_params(s, &s->sizes[i]); /* any family */
    sizes[i].pretrain_flops = w2_pretrain_flops(s, &s->sizes[i]);
    sizes[i].ranks = w2_plan_size_ranks(s, &s->sizes[i]);
    int xf = s->sizes[i].family == W2_FAMILY_TRANSFORMER;
    copy_name(sizes[i].family, w2_family_names[s->sizes[i].family]);
    sizes[i].heads = xf ? s->sizes[i].heads : 0;
    sizes[i].ctx = xf ? s->sizes[i].ctx : 0;
  }
  W2_CALL_GOTO(e, close, write_summary(f, rows, (size_t)nrow));
  W2_CALL_GOTO(e, close, write_models(f, models, (size_t)nm));
  W2_CALL_GOTO(e, close, write_sizes(f, sizes, (size_t)s->nsizes));
  W2_CALL_GOTO(e, close, write_grid(f, s, rows, (size_t)nrow));
  W2_CALL_GOTO(e, close, write_health(f, s, rows, nrow, models, nm));
  W2_CALL_GOTO(e, close, write_intervals(f, s, rows, nrow));
  W2_CALL_GOTO(e, close, write_provenance(f, s, prov));
  W2_CALL_GOTO(e, close, w2_h5_attr_write_int(f, s->output, "schema_version", SCHEMA_VERSION));
  W2_CALL_GOTO(e, close, attr_put_str(f, s->output, "sweep_name", s->name));
  W2_CALL_GOTO(e, close, w2_h5_attr_write_u64(f, s->output, "sweep_hash", w2_results_sweep_hash(s)));
  W2_CALL_GOTO(e, close, w2_h5_attr_write_int(f, s->output, "complete", miss == 0));
  W2_CALL_GOTO(e, close, w2_h5_attr_write_int(f, s->output, "cells_expected", ncell));
  W2_CALL_GOTO(e, close, w2_h5_attr_write_int(f, s->output, "cells_present", nrow));
  if (missing) *missing = miss;
close:
  w2_curvetable_close(&ct);
  H5Pclose(lcpl);
  e = w2_h5_commit(&f, tmp, s->output, e);
out:
  free(rows);
  free(models);
  free(sizes);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
