/* cmd_plan.c — `w2sweep plan SWEEP.cfg [-n N] [--rate FLOPS]`: jobs, FLOPs, critical path
 * and estimated wall time on N ranks, without running anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "dataset.h"
#include "plan.h"
#include "sweepcfg.h"

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);

/* A quick measure of this machine's per-rank rate: a 256^3 SGEMM, repeated for ~0.2 s,
 * discounted by half for the non-GEMM work of a training step. */
static double measure_rate(void) {
  int n = 256;
  float *a = calloc((size_t)n * n, sizeof(float)), *b = calloc((size_t)n * n, sizeof(float)),
        *c = calloc((size_t)n * n, sizeof(float));
  if (!a || !b || !c) return 1e9;
  float one = 1, zero = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int reps = 0;
  double el = 0;
  do {
    sgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n);
    reps++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    el = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  } while (el < 0.2);
  free(a);
  free(b);
  free(c);
  return 0.5 * 2.0 * n * n * (double)n * reps / el;
}

static W2Err run(int argc, char **argv) {
  const char *file = NULL;
  int n = 1, verbose = 0;
  double rate = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("usage: w2sweep plan SWEEP.cfg [-n RANKS] [--rate FLOP_PER_S] [--jobs]\n"
             "Prints the jobs of the sweep, their FLOPs, the critical path and the wall time\n"
             "estimated by simulating the scheduler on RANKS ranks (rate measured here unless\n"
             "given). --jobs lists every job with its cost and priority.\n");
      return W2_OK;
    } else if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--rate")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "plan: %s needs a value", argv[i]);
      char *end;
      if (!strcmp(argv[i], "-n")) {
        n = (int)strtol(argv[++i], &end, 10);
        W2_CHECK(*end == '\0' && n >= 1, W2_ERR_ARG, "plan: -n '%s' must be a positive integer", argv[i]);
      } else {
        rate = strtod(argv[++i], &end);
        W2_CHECK(*end == '\0' && rate > 0, W2_ERR_ARG, "plan: --rate '%s' must be a positive number", argv[i]);
      }
    } else if (!strcmp(argv[i], "--jobs")) {
      verbose = 1;
    } else if (argv[i][0] == '-') {
      W2_RAISE(W2_ERR_ARG, "plan: unknown option '%s'", argv[i]);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "plan: more than one sweep file");
      file = argv[i];
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "plan: no sweep file given (see w2sweep plan --help)");
  W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  W2Plan *p = NULL;
  W2Err e = w2_sweep_check_data(&s);
  if (!e) e = w2_plan_build(&s, &p);
  if (!e) {
    if (rate <= 0) rate = measure_rate();
    w2_plan_print(p, &s, n, rate, stdout);
    if (verbose)
      for (int i = 0; i < p->njobs; i++)
        printf("  %-60s ranks %d  cost %10.3g  critical path %10.3g\n", p->jobs[i].id,
               p->jobs[i].ranks, p->jobs[i].cost, p->jobs[i].crit);
  }
  w2_plan_destroy(&p);
  w2_sweep_free(&s);
  W2_CALL(e);
  return W2_OK;
}

int w2_cmd_plan(int argc, char **argv) {
  W2Err e = run(argc, argv);
  if (e) w2_error_report();
  return w2_exit_status(e);
}
