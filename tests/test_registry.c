/* test_registry.c — the method registry (src/methods/method.h):
 *   the built-in kinds are registered in W2MethodKind's order under their sweep-file names;
 *   a setting key shared by kinds (folds, fraction, drop) is one field with one type and
 *   one default; defaults come from the settings tables;
 *   the canonical JSON depends on kind and settings, not on the method's name;
 *   allocation failure (w2_mcell_fail_alloc_at, = W2SWEEP_FAIL_ALLOC) at every cell
 *   allocation of every kind that allocates returns W2_ERR_MEM — not a config or data
 *   error — with the row's curve freed, and LeakSanitizer (the sanitized build) finds no
 *   leak on any of those paths. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "methods/method.h"
#include "sweepcfg.h"
#include "testutil.h"

static W2Sweep S;

static void tiny_sweep(void) {
  w2t_tiny_world(&S, 2);
  S.split.n_a = 60;
  S.split.n_b = 60;
  S.split.n_test = 60;
  S.pretrain.min_examples = 128;
  S.pretrain.max_examples = 256;
  S.pretrain.hyper.epochs = 1;
  S.finetune.epochs = 1;
  S.finetune.batch = 16;
  S.probe.folds = 3;
  S.probe.nlambda = 3;
  S.eval_points = 2;
}

int main(int argc, char **argv) {
#ifdef __SANITIZE_ADDRESS__
  __lsan_disable(); /* what Open MPI's components keep from initialisation is not ours */
#endif
  MPI_Init(&argc, &argv);
#ifdef __SANITIZE_ADDRESS__
  __lsan_enable();
#endif
  /* 1. the built-in kinds, in W2MethodKind's order */
  static const char *const builtin[W2_M_COUNT] = {
      "naive", "conf", "lp_weak", "lp_gt", "ftweak_lpgt", "es_weak", "es_gt_oracle",
      "bootstrap", "poe", "kl", "window", "selftrain", "clean_knn", "clean_lr"};
  W2T_CHECK(w2_method_count() >= W2_M_COUNT, "%d kinds registered", w2_method_count());
  for (int k = 0; k < W2_M_COUNT; k++)
    W2T_CHECK(!strcmp(w2_method_ops(k)->kind, builtin[k]), "kind %d is '%s', want '%s'", k,
              w2_method_ops(k)->kind, builtin[k]);
  W2T_CHECK(w2_method_ops(w2_method_count()) == NULL && w2_method_ops(-1) == NULL, "bounds");
  W2T_CHECK(w2_method_ops(W2_M_ES_GT_ORACLE)->oracle, "es_gt_oracle is marked an oracle");
  for (int k = 0; k < w2_method_count(); k++)
    if (k != W2_M_ES_GT_ORACLE) W2T_CHECK(!w2_method_ops(k)->oracle, "%s is no oracle", w2_method_ops(k)->kind);

  /* 2. shared keys are one field */
  for (int a = 0; a < w2_method_count(); a++)
    for (int b = 0; b < w2_method_count(); b++) {
      const W2MethodOps *oa = w2_method_ops(a);
      for (int i = 0; i < oa->nsettings; i++) {
        const W2MethodSetting *x = &oa->settings[i], *y = w2_method_setting(b, x->key);
        if (!y) continue;
        W2T_CHECK(x->type == y->type && x->offset == y->offset && x->def == y->def &&
                      x->lo == y->lo && x->hi == y->hi,
                  "setting '%s' differs between %s and %s", x->key, oa->kind, w2_method_ops(b)->kind);
      }
    }
  W2MethodSpec m;
  memset(&m, 0, sizeof m);
  w2_method_defaults(&m, W2_M_CONF);
  W2T_CHECK(m.alpha_max == 0.75 && m.alpha_warmup == 0.2 && m.folds == 5 && m.window_radius == -1 &&
                m.es_holdout == 0.2 && m.knn_k == 10 && m.selftrain_iters == 2,
            "defaults from the settings tables");

  /* 3. canonical JSON: kind and settings, never the name */
  W2MethodSpec a = m, b = m;
  snprintf(a.name, W2_NAME_MAX, "conf");
  snprintf(b.name, W2_NAME_MAX, "conf_a05");
  char ja[512], jb[512];
  w2_method_json(&a, ja, sizeof ja);
  w2_method_json(&b, jb, sizeof jb);
  W2T_CHECK(!strcmp(ja, jb), "renamed method, same JSON (%s vs %s)", ja, jb);
  W2T_CHECK(!strcmp(ja, "{\"kind\":\"conf\",\"unsup\":0,\"alpha_max\":0.75,\"alpha_warmup\":0.20000000000000001}"),
            "conf JSON: %s", ja);
  W2T_CHECK(w2_method_hash(1, &a) == w2_method_hash(1, &b), "renamed method, same hash");
  b.alpha_max = 0.5;
  W2T_CHECK(w2_method_hash(1, &a) != w2_method_hash(1, &b), "alpha_max changes the hash");
  b = a;
  b.unsup = 1;
  W2T_CHECK(w2_method_hash(1, &a) != w2_method_hash(1, &b), "unsup changes the hash");
  b = a;
  b.folds = 3; /* not a conf setting: does not enter conf's description */
  W2T_CHECK(w2_method_hash(1, &a) == w2_method_hash(1, &b), "another kind's field is not conf's");
  w2_method_defaults(&b, W2_M_BOOTSTRAP);
  b.nchain = 2;
  snprintf(b.chain[0], W2_NAME_MAX, "s8");
  snprintf(b.chain[1], W2_NAME_MAX, "s16");
  w2_method_json(&b, jb, sizeof jb);
  W2T_CHECK(!strcmp(jb, "{\"kind\":\"bootstrap\",\"unsup\":0,\"folds\":5,\"chain\":[\"s8\",\"s16\"]}"),
            "bootstrap JSON: %s", jb);
  char small[8];
  int n = w2_method_json(&b, small, sizeof small);
  W2T_CHECK(n == 7 && strlen(small) == 7, "truncated JSON stays a string (%d)", n);

  /* 4. allocation failure at every cell allocation: W2_ERR_MEM, no leak (LSan) */
  tiny_sweep();
  char cache[] = "/tmp/w2test-registry-XXXXXX";
  W2T_CHECK(mkdtemp(cache) != NULL, "temp dir");
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2Pipeline *p;
  W2T_OK(w2_pipeline_create(&S, g, cache, &p));
  W2TaskData *td;
  W2T_OK(w2_task_data_create(&S, w2_pipeline_world(p), &S.tasks[0], 1, &td));
  static const W2MethodKind kinds[] = {W2_M_NAIVE, W2_M_ES_WEAK, W2_M_WINDOW, W2_M_BOOTSTRAP,
                                       W2_M_CLEAN_KNN, W2_M_CLEAN_LR, W2_M_LP_WEAK,
                                       W2_M_FTWEAK_LPGT, W2_M_SELFTRAIN};
  for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
    W2MethodSpec ms;
    memset(&ms, 0, sizeof ms);
    w2_method_defaults(&ms, kinds[q]);
    snprintf(ms.name, W2_NAME_MAX, "%s", w2_method_kind_name(kinds[q]));
    ms.folds = 3;
    ms.selftrain_iters = 1;
    ms.knn_k = 3;
    if (kinds[q] == W2_M_BOOTSTRAP) {
      ms.nchain = 1;
      snprintf(ms.chain[0], W2_NAME_MAX, "w4");
    }
    int failed = 0;
    for (long at = 1; at < 40; at++) {
      W2CellResult c;
      w2_mcell_fail_alloc_at(at);
      W2Err e = w2_pipe_cell(p, &S.tasks[0], td, 1, "w4", &S.sizes[1], &ms, &c);
      w2_mcell_fail_alloc_at(0);
      if (!e) { /* fewer than `at` allocations: the cell ran */
        W2T_CHECK(c.curve.n >= 1, "%s: a curve", ms.name);
        w2_cell_result_clear(&c);
        break;
      }
      failed++;
      W2T_CHECK(e == W2_ERR_MEM, "%s: allocation %ld failing gives error %d, not out of memory",
                ms.name, at, (int)e);
      W2T_CHECK(c.curve.n == 0 && c.curve.v[0] == NULL, "%s: the row's curve is freed", ms.name);
      w2_error_clear();
    }
    W2T_CHECK(failed >= 3, "%s: %d allocation failures walked", ms.name, failed);
  }
  w2_task_data_destroy(&td);
  w2_pipeline_destroy(&p);
  w2_grid_destroy(&g);
#ifdef __SANITIZE_ADDRESS__
  /* the leak check of the sanitized build, here (before MPI_Finalize, whose own leaks the
   * test environment does not chase: tests/CMakeLists.txt ASAN_OPTIONS, overridden for
   * this test in pipeline.cmake) */
  W2T_CHECK(__lsan_do_recoverable_leak_check() == 0, "no leak on the allocation-failure paths");
#endif
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", cache);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", cache);
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
