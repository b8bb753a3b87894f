/* cmd_cell.c — `w2sweep cell SWEEP.cfg --task T --weak W --strong S --method M [--seed N]
 * [--cache DIR | --no-cache]`: one (weak, strong, method, task, seed) cell and its
 * prerequisites on one rank, printed as a readable table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "methods/method.h"
#include "dataset.h"
#include "pipeline.h"
#include "rng.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: w2sweep cell SWEEP.cfg --task T --weak W --strong S --method M [--seed N]\n"
          "                    [--cache DIR | --no-cache] [--quiet]\n"
          "Runs one cell of the sweep's grid (and the pretraining, weak supervisor and\n"
          "ceiling it needs, reusing cached ones) on this rank and prints its results.\n"
          "Defaults: the first task, weak size, strong size and method of the sweep file,\n"
          "its first seed, and its cache directory.\n");
}

static const char *fmt_pct(double v, char *buf) {
  if (v != v) return "   n/a";
  snprintf(buf, 16, "%6.2f", 100 * v);
  return buf;
}

static W2Err run(int argc, char **argv) {
  const char *file = NULL, *task = NULL, *weak = NULL, *strong = NULL, *method = NULL;
  const char *cache = NULL;
  long long seed = -1;
  int no_cache = 0, quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = !strcmp(a, "--task")     ? &task
                        : !strcmp(a, "--weak")   ? &weak
                        : !strcmp(a, "--strong") ? &strong
                        : !strcmp(a, "--method") ? &method
                        : !strcmp(a, "--cache")  ? &cache
                                                 : NULL;
    if (slot) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "cell: %s needs a value", a);
      *slot = argv[++i];
    } else if (!strcmp(a, "--seed")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "cell: --seed needs a value");
      char *end;
      seed = strtoll(argv[++i], &end, 10);
      W2_CHECK(*end == '\0' && seed >= 0, W2_ERR_ARG, "cell: --seed '%s' is not a non-negative integer", argv[i]);
    } else if (!strcmp(a, "--no-cache")) {
      no_cache = 1;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return W2_OK;
    } else if (a[0] == '-') {
      W2_RAISE(W2_ERR_ARG, "cell: unknown option '%s' (see w2sweep cell --help)", a);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "cell: more than one sweep file ('%s', '%s')", file, a);
      file = a;
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "cell: no sweep file given (see w2sweep cell --help)");
  W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  W2Err e = w2_sweep_check_data(&s);
  if (e) {
    w2_sweep_free(&s);
    return e;
  }
  W2Grid *grid = NULL;
  W2Pipeline *p = NULL;
  W2TaskData *td = NULL;
  W2CellResult c = {0};
  const W2TaskSpec *t = NULL;
  for (int i = 0; i < s.ntasks; i++)
    if (!task || !strcmp(s.tasks[i].name, task)) { t = &s.tasks[i]; break; }
  const W2MethodSpec *m = NULL;
  for (int i = 0; i < s.nmethods; i++)
    if (!method || !strcmp(s.methods[i].name, method)) { m = &s.methods[i]; break; }
  if (!weak) weak = s.weak[0];
  if (!strong) strong = s.strong[0];
  const W2SizeSpec *ss = w2_sweep_size(&s, strong);
  if (!t) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no task named '%s'", file, task);
  else if (!m) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no method named '%s'", file, method);
  else if (!ss) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no size named '%s'", file, strong);
  else if (!w2_sweep_size(&s, weak) && !w2_sweep_supervisor(&s, weak))
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG, "%s: no size or supervisor named '%s'", file, weak);
  if (e) goto done;
  uint64_t sd = seed >= 0 ? (uint64_t)seed : s.seeds[0];
  W2_CALL_GOTO(e, done, w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &grid));
  W2_CALL_GOTO(e, done, w2_pipeline_create(&s, grid, no_cache ? NULL : cache ? cache : s.cache_dir, &p));
  if (!quiet) w2_pipeline_set_log(p, stderr);
  W2_CALL_GOTO(e, done, w2_task_data_create(&s, w2_pipeline_world(p), t, sd, &td));
  W2_CALL_GOTO(e, done, w2_pipe_cell(p, t, td, sd, weak, ss, m, &c));
  char b1[16], b2[16], b3[16];
  printf("\ncell: task %s, seed %llu, weak %s -> strong %s, method %s%s\n", c.task,
         (unsigned long long)c.seed, c.weak, c.strong, c.method,
         w2_method_ops((int)m->kind)->oracle ? " (ORACLE: chooses on the test split)" : "");
  printf("  %-34s %8s\n", "", "test acc %");
  printf("  %-34s %8s  (%.3g training FLOPs)\n", "weak supervisor", fmt_pct(c.weak_acc, b1), c.weak_flops);
  printf("  %-34s %8s\n", "strong ceiling (ground truth)", fmt_pct(c.ceiling_acc, b1));
  printf("  %-34s %8s  (best over training %s)\n", "strong student (weak labels)",
         fmt_pct(c.student_acc, b1), fmt_pct(c.student_best_acc, b2));
  printf("  PGR = (student - weak) / (ceiling - weak) = %.3f   (best: %.3f)\n", c.pgr, c.pgr_best);
  printf("  agreement with supervisor: %s%% overall, %s%% where it is right, %s%% where it is wrong\n",
         fmt_pct(c.agree, b1), fmt_pct(c.agree_weak_right, b2), fmt_pct(c.agree_weak_wrong, b3));
  for (int i = 0; i < c.nchain; i++)
    printf("  bootstrap step %d: %-10s test acc %s\n", i, c.chain[i], fmt_pct(c.chain_acc[i], b1));
  printf("\n  %8s %10s %8s %8s %8s %12s\n", "step", "flops", "acc %", "agree %", "agreeW %", "fit weak %");
  for (int k = 0; k < c.curve.n; k++)
    printf("  %8.0f %10.3g %8.2f %8.2f %8.2f %12.2f\n", c.curve.v[W2_C_STEP][k],
           c.curve.v[W2_C_FLOPS][k], 100 * c.curve.v[W2_C_ACC][k], 100 * c.curve.v[W2_C_AGREE][k],
           100 * c.curve.v[W2_C_AGREE_WRONG][k], 100 * c.curve.v[W2_C_WEAK_FIT][k]);
done:
  w2_cell_result_clear(&c);
  w2_task_data_destroy(&td);
  w2_pipeline_destroy(&p);
  w2_grid_destroy(&grid);
  w2_sweep_free(&s);
  return e;
}

int w2_cmd_cell(int argc, char **argv) {
  W2Err e = run(argc, argv);
  if (e) w2_error_report();
  return w2_exit_status(e);
}
