/* cmd_merge.c — `w2sweep merge SWEEP.cfg`: one results file from the shards that the elements
 * of a cells job array wrote (`w2sweep slurm`, mode b).
 *
 * Each element ran `w2sweep run --shard i/N --output SHARDS/cells-<i>.h5 --no-assemble`, so
 * its finished cells are files in SHARDS/cells-<i>.h5.parts/cells/. Merge brings every cell of
 * the plan that is not yet in OUTPUT.parts/cells/ there (a hard link, or a copy to a temporary
 * name renamed into place, with its status record), then assembles OUTPUT from OUTPUT.parts
 * exactly as `run` does (w2_results_assemble: plan order, so the cell metrics equal those of
 * one mpirun of the same sweep). Cells already in OUTPUT.parts are kept.
 *
 * A partial merge (cells missing: an element failed, was cancelled, or is still running)
 * still writes OUTPUT, marked complete = 0 with cells_present < cells_expected, lists what is
 * missing and why (the failed job's error when a shard recorded one), and exits 1, so a
 * merge job in a chain shows as FAILED. Merging again after the missing elements have been
 * rerun completes it. With no finished cell at all nothing is written. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "commands.h"
#include "dmat.h"
#include "health.h"
#include "results.h"
#include "runlock.h"
#include "store.h"
#include "summary.h"
#include "sweepcfg.h"

#define MAX_LISTED 10

static void usage(FILE *out) {
  fprintf(out,
          "usage: w2sweep merge SWEEP.cfg [--output FILE] [--cache DIR] [--shards DIR]\n"
          "Assembles one results file from the shards of a cells job array (w2sweep slurm):\n"
          "every SHARDS/*.parts/cells/ file of a cell of the sweep is brought into\n"
          "OUTPUT.parts/cells/ and OUTPUT is written from there, as `run` would.\n"
          "Exit 0 when every cell is there; with cells missing, OUTPUT is still written\n"
          "(marked complete = 0), the missing cells are listed, and the exit status is 1.\n\n"
          "options:\n"
          "  --output FILE   results file (default: the sweep's `output`)\n"
          "  --cache DIR     artifact cache, for /models (default: the sweep's `cache`)\n"
          "  --shards DIR    where the elements' shards are (default: OUTPUT.shards)\n");
}

typedef struct CellName {
  char file[W2_JOB_ID_MAX * 2 + 4]; /* <job filename>.h5 */
  int job;
} CellName;

static int cmp_cellname(const void *a, const void *b) {
  return strcmp(((const CellName *)a)->file, ((const CellName *)b)->file);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dst = src: a hard link (same file system), else a copy through a temporary name. An
 * existing dst is kept (it is the same cell). */
static W2Err link_or_copy(const char *src, const char *dst) {
  if (link(src, dst) == 0 || errno == EEXIST) return W2_OK;
  char tmp[4 * W2_PATH_MAX + 32];
  w2_tmp_path(dst, tmp, sizeof tmp);
  FILE *in = fopen(src, "rb");
  W2_CHECK(in, W2_ERR_IO, "merge: cannot read %s: %s", src, strerror(errno));
  FILE *out = fopen(tmp, "wb");
  if (!out) {
    fclose(in);
    W2_RAISE(W2_ERR_IO, "merge: cannot write %s: %s", tmp, strerror(errno));
  }
  char buf[1 << 16];
  size_t n;
  int bad = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) bad = 1;
  bad |= ferror(in);
  fclose(in);
  bad |= fclose(out) != 0;
  if (bad || rename(tmp, dst) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "merge: cannot copy %s to %s", src, dst);
  }
  return W2_OK;
}

/* Names (not paths) of the shard work directories in dir: entries "*.parts" that are
 * directories, sorted. A missing dir is no shard at all. */
static W2Err list_shards(const char *dir, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    W2_CHECK(errno == ENOENT, W2_ERR_IO, "merge: cannot read the shards directory %s: %s", dir,
             strerror(errno));
    return W2_OK;
  }
  int cap = 0;
  struct dirent *ent;
  W2Err e = W2_OK;
  while ((ent = readdir(d))) {
    size_t len = strlen(ent->d_name);
    if (len <= 6 || strcmp(ent->d_name + len - 6, ".parts")) continue;
    char path[2 * W2_PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      char **p = realloc(*names, sizeof(char *) * (size_t)cap);
      if (!p) {
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
        break;
      }
      *names = p;
    }
    if (!((*names)[*n] = strdup(ent->d_name))) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
      break;
    }
    (*n)++;
  }
  closedir(d);
  if (*n > 1) qsort(*names, (size_t)*n, sizeof(char *), cmp_str);
  return e;
}

static void iso_time(double t, char *buf, size_t len) {
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct Counts {
  int present, from_shards, already, missing, nshards;
} Counts;

static W2Err merge(int argc, char **argv, Counts *cnt, int *help) {
  const char *file = NULL, *output = NULL, *cache = NULL, *shards_opt = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      *help = 1;
      return W2_OK;
    } else if (!strcmp(a, "--output") || !strcmp(a, "--cache") || !strcmp(a, "--shards")) {
      W2_CHECK(i + 1 < argc, W2_ERR_ARG, "merge: %s needs a value", a);
      const char *v = argv[++i];
      if (!strcmp(a, "--output")) output = v;
      else if (!strcmp(a, "--cache")) cache = v;
      else shards_opt = v;
    } else if (a[0] == '-') {
      W2_RAISE(W2_ERR_ARG, "merge: unknown option '%s' (see w2sweep merge --help)", a);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "merge: more than one sweep file ('%s', '%s')", file, a);
      file = a;
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "merge: no sweep file given (see w2sweep merge --help)");
  W2Sweep s;
  W2_CALL(w2_sweep_load(file, &s));
  if (output) snprintf(s.output, sizeof s.output, "%s", output);
  if (cache) snprintf(s.cache_dir, sizeof s.cache_dir, "%s", cache);
  W2Plan *plan = NULL;
  W2Grid *g = NULL;
  W2Pipeline *p = NULL;
  CellName *names = NULL;
  char **shard = NULL;
  W2Err e = W2_OK;
  static char lock[W2_PATH_MAX + 16];
  lock[0] = '\0';
  static char workdir[W2_PATH_MAX + 16], shards[W2_PATH_MAX + 16], path[4 * W2_PATH_MAX],
      dst[4 * W2_PATH_MAX];
  W2_CALL_GOTO(e, done, w2_plan_build(&s, &plan));
  w2_results_workdir(&s, workdir, sizeof workdir);
  if (shards_opt) snprintf(shards, sizeof shards, "%s", shards_opt);
  else snprintf(shards, sizeof shards, "%s.shards", s.output);
  W2_CALL_GOTO(e, done, list_shards(shards, &shard, &cnt->nshards));
  /* never mix sweeps: the output, every shard and the work directory must be this sweep's */
  W2_CALL_GOTO(e, done, w2_results_check_output_path(&s, output == NULL));
  W2_CALL_GOTO(e, done, w2_results_check_output(&s));
  for (int sh = 0; sh < cnt->nshards; sh++) {
    snprintf(path, sizeof path, "%s/%s", shards, shard[sh]);
    if (w2_results_sweep_match(path, &s) < 0) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                         "merge: shard %s was run from another version of %s; its cells would "
                         "mix two sweeps (rerun the cells array, or merge with the file it ran)",
                         path, s.source_path);
      goto done;
    }
  }
  if (w2_results_sweep_match(workdir, &s) < 0) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG,
                       "merge: %s holds cells of another version of %s; remove it (or merge "
                       "with --output elsewhere)", workdir, s.source_path);
    goto done;
  }

  /* cells of the plan by file name, for lookups of what the shards hold */
  int nc = 0;
  names = calloc((size_t)(plan->ncells ? plan->ncells : 1), sizeof *names);
  if (!names) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < plan->njobs; i++)
    if (plan->jobs[i].type == W2_JOB_CELL) {
      char fn[W2_JOB_ID_MAX * 2];
      w2_job_filename(plan->jobs[i].id, fn, sizeof fn);
      snprintf(names[nc].file, sizeof names[nc].file, "%s.h5", fn);
      names[nc++].job = i;
    }
  qsort(names, (size_t)nc, sizeof *names, cmp_cellname);
  for (int k = 0; k < nc; k++) {
    w2_results_cell_path(workdir, plan->jobs[names[k].job].id, dst, sizeof dst);
    if (w2_file_exists(dst)) cnt->already++;
  }
  /* nothing to merge: say so before anything is created */
  int any = cnt->already > 0;
  for (int sh = 0; sh < cnt->nshards && !any; sh++) {
    snprintf(path, sizeof path, "%s/%s/cells", shards, shard[sh]);
    DIR *d = opendir(path);
    struct dirent *ent;
    while (d && !any && (ent = readdir(d))) {
      CellName key;
      snprintf(key.file, sizeof key.file, "%s", ent->d_name);
      any = bsearch(&key, names, (size_t)nc, sizeof *names, cmp_cellname) != NULL;
    }
    if (d) closedir(d);
  }
  if (!any) {
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                       "merge: no finished cell of sweep '%s' in %s or %s/*.parts; nothing written "
                       "(run the cells array first)",
                       s.name, workdir, shards);
    goto done;
  }
  {
    char dir[W2_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s.output);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
      *slash = '\0';
      W2_CALL_GOTO(e, done, w2_mkdirs(dir));
    }
  }
  W2_CALL_GOTO(e, done, w2_runlock_acquire(s.output, lock, sizeof lock)); /* runlock.h */
  W2_CALL_GOTO(e, done, w2_results_prepare(workdir));
  W2_CALL_GOTO(e, done, w2_results_check_sweep(workdir, &s)); /* a later `run` checks it */
  W2_CALL_GOTO(e, done, w2_results_write_jobs(workdir, plan));
  for (int sh = 0; sh < cnt->nshards; sh++) {
    char sdir[2 * W2_PATH_MAX + 8];
    snprintf(sdir, sizeof sdir, "%s/%s", shards, shard[sh]);
    snprintf(path, sizeof path, "%s/cells", sdir);
    DIR *d = opendir(path);
    if (!d) continue;
    struct dirent *ent;
    while ((ent = readdir(d)) && !e) {
      if (strstr(ent->d_name, ".tmp.")) continue; /* a writer killed mid-file */
      CellName key;
      snprintf(key.file, sizeof key.file, "%s", ent->d_name);
      const CellName *hit = bsearch(&key, names, (size_t)nc, sizeof *names, cmp_cellname);
      if (!hit) continue; /* not a cell of this sweep (or ".", "..") */
      const char *id = plan->jobs[hit->job].id;
      w2_results_cell_path(workdir, id, dst, sizeof dst);
      if (w2_file_exists(dst)) continue;
      snprintf(path, sizeof path, "%s/cells/%s", sdir, ent->d_name);
      e = link_or_copy(path, dst);
      if (e) break;
      /* the status record carries rank, attempts, host and times (provenance) */
      W2Status st;
      w2_status_read(sdir, id, &st);
      if (st.state == W2_ST_DONE) e = w2_status_write(workdir, id, &st);
      cnt->from_shards++;
    }
    closedir(d);
    if (e) goto done;
  }

  /* what is there, what is missing and why; provenance from the cells' status records */
  W2Provenance prov = {.nranks = 1};
  double t0 = 0, t1 = 0;
  int listed = 0;
  for (int i = 0; i < plan->njobs; i++) {
    const W2Job *j = &plan->jobs[i];
    if (j->type != W2_JOB_CELL) continue;
    w2_results_cell_path(workdir, j->id, dst, sizeof dst);
    W2Status st;
    if (w2_file_exists(dst)) {
      cnt->present++;
      w2_status_read(workdir, j->id, &st);
      if (st.started > 0) {
        if (t0 == 0 || st.started < t0) t0 = st.started;
        if (st.started + st.seconds > t1) t1 = st.started + st.seconds;
      }
      if (st.rank + 1 > prov.nranks) prov.nranks = st.rank + 1;
      if (st.host[0] && strcmp(st.host, "-") && !strstr(prov.hosts, st.host) &&
          strlen(prov.hosts) + strlen(st.host) + 2 < sizeof prov.hosts) {
        if (prov.hosts[0]) strcat(prov.hosts, ",");
        strcat(prov.hosts, st.host);
      }
      continue;
    }
    cnt->missing++;
    if (listed >= MAX_LISTED) continue;
    listed++;
    /* the most telling status of this cell among the shards: failed > running > none */
    W2Status best = {0};
    char where[2 * W2_PATH_MAX + 8] = "";
    for (int sh = 0; sh < cnt->nshards; sh++) {
      char sdir[2 * W2_PATH_MAX + 8];
      snprintf(sdir, sizeof sdir, "%s/%s", shards, shard[sh]);
      w2_status_read(sdir, j->id, &st);
      if ((st.state == W2_ST_FAILED && best.state != W2_ST_FAILED) ||
          (st.state == W2_ST_RUNNING && best.state == W2_ST_PENDING)) {
        best = st;
        snprintf(where, sizeof where, "%s", shard[sh]);
      }
    }
    if (best.state == W2_ST_FAILED)
      fprintf(stderr, "  missing %s: failed after %d attempt%s (%s): %s\n", j->id, best.attempts,
              best.attempts == 1 ? "" : "s", where, best.error);
    else if (best.state == W2_ST_RUNNING)
      fprintf(stderr, "  missing %s: was running in %s (element killed, cancelled or still running)\n",
              j->id, where);
    else
      fprintf(stderr, "  missing %s: in no shard\n", j->id);
  }
  if (cnt->missing > listed)
    fprintf(stderr, "  ... and %d more missing cells\n", cnt->missing - listed);
  if (!prov.hosts[0]) {
    char h[256] = "";
    gethostname(h, sizeof h - 1);
    snprintf(prov.hosts, sizeof prov.hosts, "%s", h);
  }
  if (t0 > 0) {
    iso_time(t0, prov.start_time, sizeof prov.start_time);
    iso_time(t1, prov.end_time, sizeof prov.end_time);
  } else {
    w2_now_iso(prov.start_time, sizeof prov.start_time);
    w2_now_iso(prov.end_time, sizeof prov.end_time);
  }
  int missing = 0;
  W2_CALL_GOTO(e, done, w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2_CALL_GOTO(e, done, w2_pipeline_create(&s, g, s.cache_dir, &p));
  W2_CALL_GOTO(e, done, w2_results_assemble(&s, plan, p, workdir, &prov, &missing));
  printf("w2sweep merge: %d of %d cells (%d from %d shard dir%s in %s, %d were in %s)\n",
         cnt->present, plan->ncells, cnt->from_shards, cnt->nshards, cnt->nshards == 1 ? "" : "s",
         shards, cnt->already, workdir);
  printf("results: %s (%s)\n", s.output, missing ? "PARTIAL: cells missing" : "complete");
  W2_CALL_GOTO(e, done, w2_summary_print_file(stdout, s.output));
  W2_CALL_GOTO(e, done, w2_health_print_file(stdout, s.output));
  if (missing)
    fprintf(stderr,
            "w2sweep: merge: %d of %d cells missing (listed above); %s is marked complete = 0. "
            "Rerun the elements that did not finish (sbatch --array=K cells.sbatch), then merge again.\n",
            missing, plan->ncells, s.output);
done:
  w2_runlock_release(lock);
  w2_pipeline_destroy(&p);
  w2_grid_destroy(&g);
  if (shard) {
    for (int k = 0; k < cnt->nshards; k++) free(shard[k]);
    free(shard);
  }
  free(names);
  w2_plan_destroy(&plan);
  w2_sweep_free(&s);
  return e;
}

int w2_cmd_merge(int argc, char **argv) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  /* one process reads the shards and writes the results; other ranks (under mpirun) wait */
  int rc = 0;
  if (rank == 0) {
    Counts cnt = {0};
    int help = 0;
    W2Err e = merge(argc, argv, &cnt, &help);
    if (help) usage(stdout);
    if (e) {
      w2_error_report();
      rc = w2_exit_status(e);
    } else if (!help && cnt.missing) {
      rc = W2_EXIT_RUNTIME;
    }
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}
