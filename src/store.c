/* store.c — result artifact files (see store.h). */
#include "store.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
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

int w2_artifact_ok(const char *path) {
  if (!w2_file_exists(path)) return 0;
  hid_t f = -1;
  W2Err e = w2_h5_open_read(path, -1, &f);
  if (!e) {
    H5Fclose(f);
    return 1;
  }
  w2_error_clear();
  if (e == W2_ERR_DATA) unlink(path); /* unreadable as HDF5: recomputed (see store.h) */
  return 0;
}

int w2_same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
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

/* ---- results ---------------------------------------------------------------------- */

#define NMETRIC 8
static const char *const metric_names[NMETRIC] = {
    "acc", "auroc", "ece", "loss", "agree", "agree_weak_right", "agree_weak_wrong", "weak_fit"};
static double *metric_ptr(W2Metrics *m, int i) {
  double *p[NMETRIC] = {&m->acc, &m->auroc, &m->ece, &m->loss,
                        &m->agree, &m->agree_right, &m->agree_wrong, &m->weak_fit};
  return p[i];
}

#define NRECIPE 14
static const char *const recipe_names[NRECIPE] = {
    "recipe_lr", "recipe_epochs", "recipe_anchor_decay", "recipe_body_lr_scale",
    "recipe_weight_decay", "recipe_batch", "recipe_val_acc", "recipe_index", "recipe_count",
    "ft_acc", "lp_acc", "ft_val_acc", "lp_val_acc", "chose_probe"};

static W2Err save_body(hid_t f, const char *path, const W2RunResult *r, uint64_t hash) {
  W2_CALL(w2_h5_attr_write_str_fixed(f, path, "format", FORMAT, H5T_CSET_ASCII));
  W2_CALL(w2_h5_attr_write_int(f, path, "version", VERSION));
  W2_CALL(w2_h5_attr_write_u64(f, path, "config_hash", hash));
  W2_CALL(w2_h5_attr_write_double(f, path, "flops", r->flops));
  W2_CALL(w2_h5_attr_write_double(f, path, "params", r->params));
  W2_CALL(w2_h5_attr_write_double(f, path, "best_acc", r->best_acc));
  W2Metrics m = r->final;
  for (int i = 0; i < NMETRIC; i++)
    W2_CALL(w2_h5_attr_write_double(f, path, metric_names[i], *metric_ptr(&m, i)));
  /* the recipe it was trained with, and the ceiling's choice (pipeline.h "Recipes") */
  const W2StageHyper *h = &r->recipe;
  double rv[] = {h->lr, h->epochs, h->anchor_decay, h->body_lr_scale > 0 ? h->body_lr_scale : 1,
                 h->weight_decay, (double)h->batch, r->recipe_val_acc, r->recipe_index,
                 r->recipe_count, r->ft_acc, r->lp_acc, r->ft_val_acc, r->lp_val_acc,
                 r->chose_probe};
  for (int i = 0; i < NRECIPE; i++) W2_CALL(w2_h5_attr_write_double(f, path, recipe_names[i], rv[i]));
  hsize_t nb = (hsize_t)r->n_b, nt = (hsize_t)r->n_test;
  W2_CALL(w2_h5_write_f32(f, path, "prob_b", 1, &nb, r->prob_b));
  W2_CALL(w2_h5_write_f32(f, path, "prob_test", 1, &nt, r->prob_test));
  hid_t g = H5Gcreate2(f, "curve", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2_CHECK(g >= 0, W2_ERR_IO, "%s: cannot create group curve", path);
  W2Err e = W2_OK;
  for (int k = 0; k < W2_CURVE_NFIELDS && !e; k++) /* uncompressed: a private cache file */
    e = w2_h5_write_f64_1d(g, path, w2_curve_names[k], r->curve.n, r->curve.v[k], 0);
  if (H5Gclose(g) < 0 && !e)
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO, "%s: cannot close group curve",
                       path);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

W2Err w2_store_result_save(const char *path, const W2RunResult *r, uint64_t hash) {
  char tmp[4096];
  hid_t f;
  W2_CALL(w2_h5_create_tmp(path, 0, tmp, sizeof tmp, &f));
  W2Err e = save_body(f, path, r, hash);
  W2_CALL(w2_h5_commit(&f, tmp, path, e));
  return W2_OK;
}

static W2Err load_body(hid_t f, const char *path, uint64_t hash, W2RunResult *r) {
  char fmt[32] = "";
  W2_CALL(w2_h5_attr_read_str(f, path, "format", fmt, sizeof fmt));
  W2_CHECK(strcmp(fmt, FORMAT) == 0, W2_ERR_DATA, "%s: not a w2sweep result file", path);
  int v;
  uint64_t h;
  W2_CALL(w2_h5_attr_read_int(f, path, "version", &v));
  W2_CHECK(v == VERSION, W2_ERR_DATA, "%s: result format version %d, expected %d", path, v,
           VERSION);
  W2_CALL(w2_h5_attr_read_u64(f, path, "config_hash", &h));
  W2_CHECK(h == hash, W2_ERR_DATA,
           "%s: config_hash %016llx does not match the settings (%016llx)", path,
           (unsigned long long)h, (unsigned long long)hash);
  W2_CALL(w2_h5_attr_read_double(f, path, "flops", &r->flops));
  W2_CALL(w2_h5_attr_read_double(f, path, "params", &r->params));
  W2_CALL(w2_h5_attr_read_double(f, path, "best_acc", &r->best_acc));
  for (int i = 0; i < NMETRIC; i++)
    W2_CALL(w2_h5_attr_read_double(f, path, metric_names[i], metric_ptr(&r->final, i)));
  /* recipe attributes: absent in files written before recipes existed (their hash is the
   * same when selection is off); r->recipe then keeps what the caller set (the finetune
   * stage, which is what trained them); warm-up and schedule are never selected */
  if (H5Aexists(f, recipe_names[0]) > 0) {
    double rv[NRECIPE];
    for (int i = 0; i < NRECIPE; i++)
      W2_CALL(w2_h5_attr_read_double(f, path, recipe_names[i], &rv[i]));
    W2StageHyper *rh = &r->recipe;
    rh->lr = (float)rv[0];
    rh->epochs = rv[1];
    rh->anchor_decay = (float)rv[2];
    rh->body_lr_scale = (float)rv[3];
    rh->weight_decay = (float)rv[4];
    rh->batch = (int)rv[5];
    r->recipe_val_acc = rv[6];
    r->recipe_index = (int)rv[7];
    r->recipe_count = (int)rv[8];
    r->ft_acc = rv[9];
    r->lp_acc = rv[10];
    r->ft_val_acc = rv[11];
    r->lp_val_acc = rv[12];
    r->chose_probe = (int)rv[13];
  }
  W2_CALL(w2_h5_read_1d(f, path, "prob_b", H5T_NATIVE_FLOAT, (hsize_t)r->n_b, r->prob_b));
  W2_CALL(w2_h5_read_1d(f, path, "prob_test", H5T_NATIVE_FLOAT, (hsize_t)r->n_test,
                        r->prob_test));
  /* curve length from the file */
  hsize_t n = 0;
  W2_CALL(w2_h5_inspect(f, path, "curve/step", 1, &n, NULL, NULL));
  W2_CHECK(n <= INT_MAX, W2_ERR_DATA, "%s: dataset curve/step is too long", path);
  W2_CALL(w2_curve_alloc(&r->curve, (int)n));
  char name[64];
  for (int k = 0; k < W2_CURVE_NFIELDS; k++) {
    snprintf(name, sizeof name, "curve/%s", w2_curve_names[k]);
    W2_CALL(w2_h5_read_1d(f, path, name, H5T_NATIVE_DOUBLE, n, r->curve.v[k]));
  }
  return W2_OK;
}

W2Err w2_store_result_load(const char *path, uint64_t hash, W2RunResult **out) {
  W2RunResult *r = *out;
  W2_CHECK(r && r->prob_b && r->prob_test, W2_ERR_INTERNAL, "result not allocated");
  hid_t f;
  W2_CALL(w2_h5_open_read(path, 0, &f));
  W2Err e = load_body(f, path, hash, r);
  H5Fclose(f);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
