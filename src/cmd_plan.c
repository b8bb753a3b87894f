/* cmd_plan.c — `w2sweep plan SWEEP.cfg [-n N]`: jobs, FLOPs, critical path and the wall
 * time on N ranks estimated from the throughput model (throughput.h) by simulating the
 * scheduler, counting what the cache and the work directory already hold as done; and
 * `--calibrate RESULTS.h5`, which fits that model to a finished run's per-job times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "dataset.h"
#include "pipeline.h"
#include "plan.h"
#include "results.h"
#include "scheduler.h"
#include "sweepcfg.h"
#include "throughput.h"

#ifndef W2SWEEP_THROUGHPUT_DEFAULT
#define W2SWEEP_THROUGHPUT_DEFAULT ""
#endif
#ifndef W2SWEEP_THROUGHPUT_TEXT_DEFAULT /* the transformer family's (throughput.h) */
#define W2SWEEP_THROUGHPUT_TEXT_DEFAULT ""
#endif

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);

/* The FLOP-rate model's rate when none is given: a 256^3 SGEMM, repeated for ~0.2 s,
 * discounted by half for the non-GEMM work of a training step (the model of old, kept for
 * machines without a calibration; it misjudges small models by several times). */
static double measure_rate(void) {
  int n = 256;
  float *a = calloc((size_t)n * n, sizeof(float)), *b = calloc((size_t)n * n, sizeof(float)),
        *c = calloc((size_t)n * n, sizeof(float));
  if (!a || !b || !c) {
    free(a);
    free(b);
    free(c);
    return 1e9;
  }
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

static int is_dir(const char *path) {
  struct stat st;
  return path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Marks the jobs whose artifact (cache) or cell file (work directory) is there, exactly as
 * the runner decides what to skip (w2_job_is_done); nothing when the cache does not exist. */
static W2Err mark_done(const W2Sweep *s, W2Plan *p) {
  if (!is_dir(s->cache_dir)) return W2_OK;
  W2Pipeline *pipe = NULL;
  W2_CALL(w2_pipeline_create(s, NULL, s->cache_dir, &pipe));
  char workdir[W2_PATH_MAX + 16];
  w2_results_workdir(s, workdir, sizeof workdir);
  for (int i = 0; i < p->njobs; i++) p->jobs[i].done = w2_job_is_done(s, p, pipe, workdir, i);
  w2_pipeline_destroy(&pipe);
  return W2_OK;
}

/* "host: cpu model, N cores" */
static void describe_machine(char *buf, size_t len) {
  char host[64] = "?", model[128] = "unknown CPU", line[256];
  gethostname(host, sizeof host - 1);
  FILE *f = fopen("/proc/cpuinfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
      snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  if (f) fclose(f);
  snprintf(buf, len, "%s: %s, %ld cores", host, model, sysconf(_SC_NPROCESSORS_ONLN));
}

/* Fits the throughput model to the per-job times a finished run of this sweep recorded in
 * <results>.parts/status (CPU seconds where recorded, else wall seconds) and writes it. */
static W2Err calibrate(const W2Sweep *s, const W2Plan *p, int family, const char *results,
                       double assembly, const char *out) {
  char workdir[W2_PATH_MAX + 16];
  snprintf(workdir, sizeof workdir, "%s.parts", results);
  W2_CHECK(is_dir(workdir), W2_ERR_ARG, "plan --calibrate: '%s' is not there (run the sweep "
           "with --output %s first)", workdir, results);
  double *secs = malloc(sizeof(double) * (size_t)(p->njobs > 0 ? p->njobs : 1));
  W2_CHECK(secs, W2_ERR_MEM, "out of memory");
  int ncpu = 0, nwall = 0;
  for (int i = 0; i < p->njobs; i++) {
    W2Status st;
    w2_status_read(workdir, p->jobs[i].id, &st);
    secs[i] = -1;
    if (st.state != W2_ST_DONE || st.started <= 0) continue;
    if (st.cpu > 0) {
      secs[i] = st.cpu;
      ncpu++;
    } else {
      secs[i] = st.seconds;
      nwall++;
    }
  }
  W2Throughput t;
  memset(&t, 0, sizeof t);
  W2Err e = w2_throughput_fit(p, secs, &t);
  t.family = family;
  t.assembly = assembly / (p->ncells > 0 ? p->ncells : 1);
  if (!e) {
    describe_machine(t.machine, sizeof t.machine);
    time_t now = time(NULL);
    strftime(t.date, sizeof t.date, "%Y-%m-%d", gmtime(&now));
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
      if (fscanf(f, "%lf", &load) != 1) load = 0;
      fclose(f);
    }
    snprintf(t.source, sizeof t.source, "%.80s: %d jobs, %s seconds, load %.1f at the end",
             s->source_path, t.njobs, nwall ? (ncpu ? "CPU and wall" : "wall") : "CPU", load);
    e = w2_throughput_save(out, &t);
  }
  if (!e) {
    static const char *names[4] = {"pretraining runs", "weak supervisors", "ceilings", "cells"};
    printf("throughput model fitted to %d jobs of %s (%s seconds), written to %s\n", t.njobs,
           results, nwall ? "wall" : "CPU", out);
    printf("  run start and assembly: %.3g s per cell (--assembly %g s over %d cells)\n",
           t.assembly, assembly, p->ncells);
    for (int k = 0; k < 4; k++) {
      double meas = 0, model = 0, err = 0;
      int n = 0;
      for (int i = 0; i < p->njobs; i++)
        if ((int)p->jobs[i].type == k && secs[i] >= 0) {
          double m = w2_throughput_seconds(&t, &p->jobs[i]), y = secs[i] * p->jobs[i].ranks;
          meas += y;
          model += m;
          err += y > 0 ? (m > y ? m / y : y / m) : 1;
          n++;
        }
      if (n)
        printf("  %-18s %5d  measured %9.2f s  model %9.2f s  mean job error %.2fx\n", names[k],
               n, meas, model, err / n);
    }
  }
  free(secs);
  W2_CALL(e);
  return W2_OK;
}

static W2Err run(int argc, char **argv) {
  const char *file = NULL, *model_file = NULL, *calib = NULL, *output = NULL, *cache = NULL;
  int n = 1, verbose = 0, cold = 0;
  double rate = 0, assembly = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      printf("usage: w2sweep plan SWEEP.cfg [-n RANKS] [--jobs] [--output FILE] [--cache DIR]\n"
             "                  [--cold] [--throughput MODEL.cfg | --rate FLOP_PER_S]\n"
             "       w2sweep plan SWEEP.cfg --calibrate RESULTS.h5 [--assembly S]\n"
             "                  [--throughput OUT.cfg]\n"
             "Prints the jobs of the sweep, their FLOPs and seconds, the critical path and the\n"
             "wall time estimated by simulating the scheduler on RANKS ranks. Job times come\n"
             "from the throughput model (default %s;\n"
             "for transformer sweeps %s;\n"
             "or $W2SWEEP_THROUGHPUT; src/throughput.h), or with --rate from FLOPs at that\n"
             "rate. Jobs whose artifact is in the cache or whose cell is finished in OUTPUT.parts\n"
             "take no time (--cold: count everything). --jobs lists every job with its cost,\n"
             "seconds and priority. --calibrate fits the model to the per-job times of a finished\n"
             "run of this sweep and writes it, with S seconds (CPU time of rerunning the\n"
             "finished sweep on one rank) as the run's start and assembly (bench/calibrate.sh).\n",
             W2SWEEP_THROUGHPUT_DEFAULT[0] ? W2SWEEP_THROUGHPUT_DEFAULT : "none built in",
             W2SWEEP_THROUGHPUT_TEXT_DEFAULT[0] ? W2SWEEP_THROUGHPUT_TEXT_DEFAULT : "none built in");
      return W2_OK;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--rate") || !strcmp(a, "--throughput") ||
               !strcmp(a, "--calibrate") || !strcmp(a, "--output") || !strcmp(a, "--cache") ||
               !strcmp(a, "--assembly")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "plan: %s needs a value", a);
      const char *v = argv[++i];
      char *end;
      if (!strcmp(a, "-n")) {
        n = (int)strtol(v, &end, 10);
        W2_CHECK(*end == '\0' && n >= 1, W2_ERR_ARG, "plan: -n '%s' must be a positive integer", v);
      } else if (!strcmp(a, "--rate")) {
        rate = strtod(v, &end);
        W2_CHECK(*end == '\0' && rate > 0, W2_ERR_ARG, "plan: --rate '%s' must be a positive number", v);
      } else if (!strcmp(a, "--assembly")) {
        assembly = strtod(v, &end);
        W2_CHECK(*end == '\0' && assembly >= 0, W2_ERR_ARG,
                 "plan: --assembly '%s' must be a number of seconds >= 0", v);
      } else if (!strcmp(a, "--throughput")) {
        model_file = v;
      } else if (!strcmp(a, "--calibrate")) {
        calib = v;
      } else if (!strcmp(a, "--output")) {
        output = v;
      } else {
        cache = v;
      }
    } else if (!strcmp(a, "--jobs")) {
      verbose = 1;
    } else if (!strcmp(a, "--cold")) {
      cold = 1;
    } else if (a[0] == '-') {
      W2_RAISE(W2_ERR_ARG, "plan: unknown option '%s'", a);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "plan: more than one sweep file");
      file = a;
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "plan: no sweep file given (see w2sweep plan --help)");
  W2_CHECK(!(rate > 0 && model_file), W2_ERR_ARG, "plan: --rate and --throughput exclude each other");
  W2_CHECK(!(calib && rate > 0), W2_ERR_ARG, "plan: --calibrate fits the throughput model, not a rate");
  W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  if (output) snprintf(s.output, sizeof s.output, "%s", output);
  if (cache) snprintf(s.cache_dir, sizeof s.cache_dir, "%s", cache);
  /* every size of a sweep is of one family (sweepcfg.c) */
  int family = s.nsizes > 0 ? s.sizes[0].family : W2_FAMILY_MLP;
  /* the model: --throughput, else $W2SWEEP_THROUGHPUT, else the source tree's for the sweep's
   * family (when there) */
  int from_default = 0;
  if (!model_file) model_file = getenv("W2SWEEP_THROUGHPUT");
  if (!model_file || !model_file[0]) {
    model_file = family == W2_FAMILY_TRANSFORMER ? W2SWEEP_THROUGHPUT_TEXT_DEFAULT
                                                 : W2SWEEP_THROUGHPUT_DEFAULT;
    from_default = 1;
  }
  W2Throughput tp;
  int have_tp = 0;
  W2Plan *p = NULL;
  double *secs = NULL;
  W2Err e = W2_OK;
  if (!calib && rate <= 0 && model_file[0] && (!from_default || access(model_file, R_OK) == 0)) {
    e = w2_throughput_load(model_file, &tp);
    have_tp = !e;
  }
  if (!e) e = w2_sweep_check_data(&s);
  if (!e) e = w2_plan_build(&s, &p);
  if (!e && calib) {
    W2_CALL_GOTO(e, done, calibrate(&s, p, family, calib, assembly,
                                    model_file[0] ? model_file : "throughput.cfg"));
    goto done;
  }
  if (!e && !cold) e = mark_done(&s, p);
  if (!e) {
    secs = calloc((size_t)(p->njobs > 0 ? p->njobs : 1), sizeof(double));
    if (!secs) e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
  }
  if (!e) {
    char model[512];
    if (have_tp) {
      for (int i = 0; i < p->njobs; i++)
        secs[i] = p->jobs[i].done ? 0 : w2_throughput_seconds(&tp, &p->jobs[i]);
      snprintf(model, sizeof model, "%s (%s, %s; unloaded, one core per rank)%s", model_file,
               tp.machine, tp.date,
               tp.family == family ? ""
               : family == W2_FAMILY_TRANSFORMER
                   ? "; WARNING: fitted on MLP jobs, this sweep trains transformers: "
                     "recalibrate on a text sweep (INSTALL.md, 'Calibrating plan')"
                   : "; WARNING: fitted on transformer jobs, this sweep trains MLPs: "
                     "recalibrate (INSTALL.md, 'Calibrating plan')");
    } else {
      int measured = rate <= 0;
      if (measured) rate = measure_rate();
      w2_plan_flop_seconds(p, rate, secs);
      snprintf(model, sizeof model, "FLOPs at %.3g FLOP/s per rank%s", rate,
               measured ? " measured here (no throughput model: see --throughput; off by "
                          "several times for small models)" : "");
    }
    w2_plan_print(p, &s, n, secs, have_tp ? tp.assembly * p->ncells : 0, model, stdout);
    if (verbose)
      for (int i = 0; i < p->njobs; i++)
        printf("  %-60s ranks %d  cost %10.3g  seconds %8.3g  critical path %10.3g  "
               "steps %.6g  act %.6g  probe %.6g%s\n",
               p->jobs[i].id, p->jobs[i].ranks, p->jobs[i].cost, secs[i], p->jobs[i].crit,
               p->jobs[i].work.steps, p->jobs[i].work.act, p->jobs[i].work.probe,
               p->jobs[i].done ? "  done" : "");
  }
done:
  free(secs);
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
