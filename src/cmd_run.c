/* cmd_run.c — `w2sweep run SWEEP.cfg`: the whole sweep on all MPI ranks (or one, without
 * mpirun), resuming whatever an earlier run left unfinished, ending with one results file
 * and a printed summary. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "checkpoint.h" /* w2_tmp_path */
#include "commands.h"
#include "methods/method.h"
#include "dataset.h"
#include "health.h"
#include "runlock.h"
#include "scheduler.h"
#include "store.h"
#include "summary.h"
#include "sweepcfg.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: [mpirun -np N] w2sweep run SWEEP.cfg [options]\n"
          "Runs every job of the sweep (pretraining, weak supervisors, ceilings, cells) on the\n"
          "MPI ranks, reusing cached artifacts and finished cells, then writes the results file.\n"
          "Rerun the same command after a crash or kill: only what is missing is computed.\n\n"
          "options:\n"
          "  --output FILE       results file (default: the sweep's `output`)\n"
          "  --cache DIR         artifact cache (default: the sweep's `cache`)\n"
          "  --max-attempts N    tries per job before it is marked failed (default: sweep's)\n"
          "  --only ID           run only job ID and the jobs below it (and what they need),\n"
          "                      e.g. --only cell/linear/s0; may be given several times\n"
          "  --shard I/N         run only cost-balanced slice I (0-based) of N of the cells and\n"
          "                      what they need; no results file is assembled (see `merge`)\n"
          "  --no-assemble       leave the finished cells in OUTPUT.parts without assembling\n"
          "  --quiet             no per-stage lines (progress lines stay)\n");
}

/* Cells of a file task are computed from the file's content, which the sweep file (whose
 * hash guards the work dir) does not pin. WORKDIR/data.hash records every file task's
 * content hash (dataset.h W2DataInfo.hash); the finished cells of a task whose data
 * changed, or that has no record, are removed so that this run computes them again (its
 * pretrained models, weak supervisors and ceilings are keyed by the content and are
 * recomputed too). Rank 0 only, before any job starts. */
static W2Err refresh_data_cells(const char *workdir, const W2Sweep *s) {
  char path[W2_PATH_MAX + 64], tmp[W2_PATH_MAX + 384], line[256];
  snprintf(path, sizeof path, "%s/data.hash", workdir);
  unsigned long long old[W2_MAX_TASKS] = {0};
  char known[W2_MAX_TASKS] = {0};
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f)) {
    unsigned long long h;
    char name[W2_NAME_MAX + 1];
    if (sscanf(line, "%llx %32s", &h, name) != 2) continue;
    for (int i = 0; i < s->ntasks; i++)
      if (!strcmp(s->tasks[i].name, name)) {
        old[i] = h;
        known[i] = 1;
      }
  }
  if (f) fclose(f);
  int nfile = 0;
  unsigned long long now[W2_MAX_TASKS] = {0};
  for (int i = 0; i < s->ntasks; i++) {
    if (s->tasks[i].kind != W2_TASK_FILE) continue;
    nfile++;
    W2DataInfo info;
    W2_CALL(w2_dataset_info(s->tasks[i].file, &info));
    now[i] = info.hash;
    if (known[i] && old[i] == now[i]) continue;
    /* remove the files of cells "cell/<task>/..." (job file names, plan.h w2_job_filename) */
    char dir[W2_PATH_MAX + 64], prefix[W2_NAME_MAX * 2 + 16], id[W2_NAME_MAX + 16];
    snprintf(dir, sizeof dir, "%s/cells", workdir);
    snprintf(id, sizeof id, "cell/%s/", s->tasks[i].name);
    w2_job_filename(id, prefix, sizeof prefix);
    DIR *d = opendir(dir);
    if (!d) continue; /* no cells yet */
    struct dirent *de;
    int removed = 0;
    W2Err e = W2_OK;
    while (!e && (de = readdir(d)) != NULL) {
      if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
      snprintf(tmp, sizeof tmp, "%s/%s", dir, de->d_name);
      if (unlink(tmp) != 0 && errno != ENOENT)
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                           "%s: cannot remove a stale cell: %s", tmp, strerror(errno));
      removed++;
    }
    closedir(d);
    W2_CALL(e);
    if (removed)
      printf("w2sweep run: %s changed (or its cells predate data.hash): %d finished cells of "
             "task '%s' will be computed again\n", s->tasks[i].file, removed, s->tasks[i].name);
  }
  if (nfile == 0) return W2_OK;
  w2_tmp_path(path, tmp, sizeof tmp);
  f = fopen(tmp, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  for (int i = 0; i < s->ntasks; i++)
    if (s->tasks[i].kind == W2_TASK_FILE) fprintf(f, "%016llx %s\n", now[i], s->tasks[i].name);
  int bad = fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write", path);
  }
  return W2_OK;
}

static W2Err run(int argc, char **argv, int *exit_failed, int *silent) {
  const char *file = NULL, *output = NULL, *cache = NULL;
  const char *only[256];
  int nonly = 0;
  int max_attempts = 0, quiet = 0, assemble = 1, shard = 0, nshards = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return W2_OK;
    } else if (!strcmp(a, "--output") || !strcmp(a, "--cache") || !strcmp(a, "--only") ||
               !strcmp(a, "--max-attempts") || !strcmp(a, "--shard")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "run: %s needs a value", a);
      const char *v = argv[++i];
      if (!strcmp(a, "--output")) output = v;
      else if (!strcmp(a, "--cache")) cache = v;
      else if (!strcmp(a, "--only")) {
        W2_CHECK(nonly < 256, W2_ERR_ARG, "run: at most 256 --only options");
        only[nonly++] = v;
      }
      else if (!strcmp(a, "--max-attempts")) {
        char *end;
        max_attempts = (int)strtol(v, &end, 10);
        W2_CHECK(*end == '\0' && max_attempts >= 1, W2_ERR_ARG, "run: --max-attempts '%s' must be a positive integer", v);
      } else {
        W2_CHECK(sscanf(v, "%d/%d", &shard, &nshards) == 2 && nshards >= 1 && shard >= 0 &&
                     shard < nshards,
                 W2_ERR_ARG, "run: --shard '%s' must be I/N with 0 <= I < N", v);
      }
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "--no-assemble")) {
      assemble = 0;
    } else if (a[0] == '-') {
      W2_RAISE(W2_ERR_ARG, "run: unknown option '%s' (see w2sweep run --help)", a);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "run: more than one sweep file ('%s', '%s')", file, a);
      file = a;
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "run: no sweep file given (see w2sweep run --help)");
  if (nshards > 1) assemble = 0;
  int rank, nranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  W2_CALL(w2_grid_check_env());
  W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  if (output) snprintf(s.output, sizeof s.output, "%s", output);
  if (cache) snprintf(s.cache_dir, sizeof s.cache_dir, "%s", cache);
  if (max_attempts) s.max_attempts = max_attempts;
  W2Plan *plan = NULL;
  W2Err e = W2_OK;
  if (w2_same_file(s.output, file)) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                       "%s: the output '%s' is the sweep file itself (it would be overwritten); "
                       "choose another output", file, s.output);
    goto done;
  }
  W2_CALL_GOTO(e, done, w2_results_check_output_path(&s, output == NULL));
  /* every data file is opened and checked against the sweep before anything is written */
  W2_CALL_GOTO(e, done, w2_sweep_check_data(&s));
  W2_CALL_GOTO(e, done, w2_plan_build(&s, &plan));
  char workdir[W2_PATH_MAX + 16];
  w2_results_workdir(&s, workdir, sizeof workdir);
  static char lock[W2_PATH_MAX + 16]; /* "" unless this rank holds it */
  if (rank == 0) {
    /* the output's directory, the work dir and the cache are made once, before anyone uses them */
    char dir[W2_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s.output);
    char *slash = strrchr(dir, '/');
    if (slash) {
      *slash = '\0';
      e = w2_mkdirs(dir);
    }
    /* one run per output at a time (runlock.h); a stop says what is kept */
    if (!e) e = w2_runlock_acquire(s.output, lock, sizeof lock);
    if (!e) w2_runlock_signals(workdir);
    if (!e) {
      /* what killed writers left beside the results file and in the cache */
      char d[W2_PATH_MAX + 32];
      const char *sub[] = {"pretrained", "unsup", "weak", "ceiling"};
      snprintf(d, sizeof d, "%s", s.output);
      char *sl = strrchr(d, '/');
      if (sl) *sl = '\0';
      w2_remove_dead_tmp(sl ? d : ".");
      for (int k = 0; k < 4; k++) {
        snprintf(d, sizeof d, "%s/%s", s.cache_dir, sub[k]);
        w2_remove_dead_tmp(d);
      }
      e = w2_results_prepare(workdir);
    }
    if (!e) e = w2_results_check_sweep(workdir, &s);
    if (!e) e = refresh_data_cells(workdir, &s);
    if (!e) e = w2_mkdirs(s.cache_dir);
    if (!e) e = w2_results_write_jobs(workdir, plan);
  }
  /* rank 0's outcome decides for all; only rank 0 prints it */
  int code = e;
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (code) {
    if (rank != 0) *silent = 1;
    e = code;
    goto done;
  }
  W2Provenance prov = {.nranks = nranks};
  w2_now_iso(prov.start_time, sizeof prov.start_time);
  {
    /* hosts: distinct processor names, gathered on every rank */
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int len;
    MPI_Get_processor_name(name, &len);
    char *all = calloc((size_t)nranks, MPI_MAX_PROCESSOR_NAME);
    if (all) {
      MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD);
      for (int r = 0; r < nranks; r++) {
        const char *h = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
        if (!strstr(prov.hosts, h) && strlen(prov.hosts) + strlen(h) + 2 < sizeof prov.hosts) {
          if (prov.hosts[0]) strcat(prov.hosts, ",");
          strcat(prov.hosts, h);
        }
      }
      free(all);
    }
  }
  if (rank == 0) {
    printf("w2sweep run %s: %d cells, %d jobs on %d rank%s (results %s, cache %s)\n", file,
           plan->ncells, plan->njobs, nranks, nranks == 1 ? "" : "s", s.output, s.cache_dir);
    fflush(stdout);
  }
  W2RunOpts o = {.cache_dir = s.cache_dir, .workdir = workdir, .max_attempts = s.max_attempts,
                 .progress_interval = s.progress_interval, .progress = rank == 0 ? stderr : NULL,
                 .log = quiet ? NULL : stderr, .only = only, .nonly = nonly, .shard = shard, .nshards = nshards};
  W2RunSummary sum;
  W2_CALL_GOTO(e, done, w2_schedule_run(&s, plan, MPI_COMM_WORLD, &o, &sum));
  w2_now_iso(prov.end_time, sizeof prov.end_time);
  if (rank == 0) {
    printf("finished in %.1f s: %d jobs done, %d already done, %d failed (%d of %d cells failed)\n",
           sum.seconds, sum.jobs_done, sum.jobs_skipped, sum.jobs_failed, sum.cells_failed,
           plan->ncells);
    /* sweeps that extend (w2_pipe_cell_hash): what this run computed and what it kept */
    printf("cells: %d computed, %d reused\n", sum.cells_done, sum.cells_reused);
    if (sum.jobs_failed) printf("failed jobs keep their error in %s/status/; rerun to retry them\n", workdir);
    if (assemble) {
      W2Grid *g = NULL;
      W2Pipeline *p = NULL;
      int missing = 0;
      e = w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g);
      if (!e) e = w2_pipeline_create(&s, g, s.cache_dir, &p);
      if (!e) e = w2_results_assemble(&s, plan, p, workdir, &prov, &missing);
      w2_pipeline_destroy(&p);
      w2_grid_destroy(&g);
      if (!e) {
        printf("results: %s (%d of %d cells%s)\n", s.output, plan->ncells - missing, plan->ncells,
               missing ? "; partial" : "");
        /* the stored tables, exactly as `merge` prints them */
        e = w2_summary_print_file(stdout, s.output);
        if (!e) e = w2_health_print_file(stdout, s.output);
      }
    }
    *exit_failed = sum.jobs_failed > 0;
  }
  /* the assembly's outcome on rank 0 decides every rank's exit status */
  int ebad = e != W2_OK;
  MPI_Bcast(&ebad, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast(exit_failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (ebad && !e) {
    e = W2_ERR_IO; /* rank 0 printed why; this rank has nothing more to say */
    *silent = 1;
  }
done:
  w2_runlock_release(lock);
  lock[0] = '\0';
  w2_plan_destroy(&plan);
  w2_sweep_free(&s);
  return e;
}

int w2_cmd_run(int argc, char **argv) {
  int failed = 0, quiet = 0;
  W2Err e = run(argc, argv, &failed, &quiet);
  if (e) {
    /* One line, from one rank: every rank reads the same command line, sweep and data files,
     * so an input error (exit 2) is the same on all of them and rank 0 says it; an error of
     * this rank's own (I/O, MPI, memory) is still printed where it happened. */
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0 && w2_exit_status(e) == W2_EXIT_INPUT) quiet = 1;
    if (!quiet) w2_error_report();
    return w2_exit_status(e);
  }
  return failed ? W2_EXIT_RUNTIME : 0;
}
