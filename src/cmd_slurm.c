/* cmd_slurm.c — `w2sweep slurm SWEEP.cfg`: writes ready-to-submit sbatch scripts for the sweep
 * (one MPI job, or chained job arrays; slurmgen.h). Runs nothing and submits nothing. */
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "plan.h"
#include "slurmgen.h"
#include "sweepcfg.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: w2sweep slurm SWEEP.cfg [options]\n"
          "Writes sbatch scripts for the sweep into one directory (nothing is submitted):\n"
          "  sweep.sbatch      mode a: the whole sweep as one MPI job (srun w2sweep run)\n"
          "  artifacts.sbatch  mode b: job array computing the shared artifacts\n"
          "  cells.sbatch      job array, element i = cost-balanced slice i of the cells\n"
          "  merge.sbatch      w2sweep merge: the slices' shards -> one results file\n"
          "  submit.sh         submits the three arrays chained with --dependency=afterok\n"
          "A requeued or resubmitted element (sbatch --array=K cells.sbatch) resumes.\n"
          "See slurm/README.md, \"Running on a cluster\".\n\n"
          "options:\n"
          "  --out DIR            script directory (default slurm/jobs/<sweep name>)\n"
          "  --output FILE        results file (default: the sweep's `output`)\n"
          "  --cache DIR          artifact cache (default: the sweep's `cache`)\n"
          "  --partition P        sbatch --partition (letters, digits, _ - . ,)\n"
          "  --account A          sbatch --account\n"
          "  --qos Q              sbatch --qos\n"
          "  --time T             sbatch --time of every job (MM, HH:MM:SS, D-HH:MM:SS, ...)\n"
          "  --mem M              sbatch --mem (e.g. 4G)\n"
          "  --ranks N            ranks of the one-job mode (default 4)\n"
          "  --ranks-per-job N    ranks of each array element (default 1)\n"
          "  --cells-jobs N       elements of the cells array (default: cells, at most 16)\n"
          "  --artifact-jobs N    elements of the artifacts array (default: one per\n"
          "                       pretraining run)\n"
          "  --max-parallel K     at most K elements of an array at once (array %%K)\n"
          "  --launcher L         srun (default) or mpirun\n"
          "  --mpi TYPE           srun --mpi=TYPE (default pmix)\n"
          "  --site FILE          shell lines copied into every script after the #SBATCH\n"
          "                       lines: module loads, environment (slurm/templates/site.sh)\n"
          "  --w2sweep PATH       the binary the jobs run (default: this one)\n");
}

/* v for an error message, which must stay one line */
static const char *shown(const char *v) {
  return strchr(v, '\n') || strchr(v, '\r') ? "(a value with a line break)" : v;
}

/* out = path made absolute against the current directory (not resolved: it may not exist) */
static W2Err absolute(const char *what, const char *path, char *out, size_t cap) {
  W2_CHECK(path[0], W2_ERR_ARG, "slurm: %s is empty", what);
  if (path[0] == '/') {
    W2_CHECK(strlen(path) < cap, W2_ERR_ARG, "slurm: %s is too long", what);
    snprintf(out, cap, "%s", path);
    return W2_OK;
  }
  char cwd[PATH_MAX];
  W2_CHECK(getcwd(cwd, sizeof cwd), W2_ERR_IO, "slurm: cannot read the current directory: %s",
           strerror(errno));
  while (path[0] == '.' && path[1] == '/') path += 2;
  W2_CHECK(strlen(cwd) + strlen(path) + 2 <= cap, W2_ERR_ARG, "slurm: %s is too long", what);
  /* cwd + "/" + path, lengths checked above */
  size_t lc = strcmp(cwd, "/") ? strlen(cwd) : 0, lp = strlen(path);
  memcpy(out, cwd, lc);
  out[lc] = '/';
  memcpy(out + lc + 1, path, lp + 1);
  return W2_OK;
}

static W2Err parse_int(const char *opt, const char *v, int min, int *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  W2_CHECK(*v && *end == '\0' && errno == 0 && x >= min && x <= 1000000, W2_ERR_ARG,
           "slurm: %s '%s' must be an integer >= %d", opt, shown(v), min);
  *out = (int)x;
  return W2_OK;
}

/* The whole site file (caller frees); no NUL bytes, at most 1 MiB. */
static W2Err read_site(const char *path, char **text) {
  FILE *f = fopen(path, "rb");
  W2_CHECK(f, W2_ERR_ARG, "slurm: --site %s: %s", shown(path), strerror(errno));
  size_t cap = 1 << 20, n;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(f);
    W2_RAISE(W2_ERR_MEM, "out of memory reading %s", path);
  }
  n = fread(buf, 1, cap + 1, f);
  int err = ferror(f);
  fclose(f);
  if (err || n > cap || memchr(buf, '\0', n)) {
    free(buf);
    W2_RAISE(W2_ERR_ARG, "slurm: --site %s: %s", shown(path),
             err ? "read error" : n > cap ? "larger than 1 MiB" : "contains NUL bytes (not a text file)");
  }
  buf[n] = '\0';
  *text = buf;
  return W2_OK;
}

typedef struct Args {
  const char *file, *out, *output, *cache, *site, *w2sweep;
  W2SlurmOpts o;
} Args;

static W2Err parse(int argc, char **argv, Args *a, int *help) {
  W2SlurmOpts *o = &a->o;
  o->ranks = 4;
  o->ranks_per_job = 1;
  o->cells_jobs = 0;
  o->artifact_jobs = 0;
  o->launcher = "srun";
  o->mpi = "pmix";
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      *help = 1;
      return W2_OK;
    }
    if (s[0] != '-') {
      W2_CHECK(!a->file, W2_ERR_ARG, "slurm: more than one sweep file ('%s', '%s')", shown(a->file),
                shown(s));
      a->file = s;
      continue;
    }
    static const char *const valued[] = {"--out", "--output", "--cache", "--partition", "--account",
                                         "--qos", "--time", "--mem", "--ranks", "--ranks-per-job",
                                         "--cells-jobs", "--artifact-jobs", "--max-parallel",
                                         "--launcher", "--mpi", "--site", "--w2sweep"};
    int known = 0;
    for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= !strcmp(s, valued[k]);
    W2_CHECK(known, W2_ERR_ARG, "slurm: unknown option '%s' (see w2sweep slurm --help)", shown(s));
    W2_CHECK(i + 1 < argc, W2_ERR_ARG, "slurm: %s needs a value", s);
    const char *v = argv[++i];
    if (!strcmp(s, "--out")) a->out = v;
    else if (!strcmp(s, "--output")) a->output = v;
    else if (!strcmp(s, "--cache")) a->cache = v;
    else if (!strcmp(s, "--site")) a->site = v;
    else if (!strcmp(s, "--w2sweep")) a->w2sweep = v;
    else if (!strcmp(s, "--partition")) o->partition = v;
    else if (!strcmp(s, "--account")) o->account = v;
    else if (!strcmp(s, "--qos")) o->qos = v;
    else if (!strcmp(s, "--time")) o->time = v;
    else if (!strcmp(s, "--mem")) o->mem = v;
    else if (!strcmp(s, "--launcher")) o->launcher = v;
    else if (!strcmp(s, "--mpi")) o->mpi = v;
    else if (!strcmp(s, "--ranks")) W2_CALL(parse_int(s, v, 1, &o->ranks));
    else if (!strcmp(s, "--ranks-per-job")) W2_CALL(parse_int(s, v, 1, &o->ranks_per_job));
    else if (!strcmp(s, "--cells-jobs")) W2_CALL(parse_int(s, v, 1, &o->cells_jobs));
    else if (!strcmp(s, "--artifact-jobs")) W2_CALL(parse_int(s, v, 1, &o->artifact_jobs));
    else W2_CALL(parse_int(s, v, 1, &o->max_parallel));
  }
  W2_CHECK(a->file, W2_ERR_ARG, "slurm: no sweep file given (see w2sweep slurm --help)");
  return W2_OK;
}

static W2Err run(int argc, char **argv) {
  Args a = {0};
  int help = 0;
  W2_CALL(parse(argc, argv, &a, &help));
  if (help) {
    usage(stdout);
    return W2_OK;
  }
  W2SlurmOpts *o = &a.o;
  W2Sweep s;
  W2_CALL(w2_sweep_load(a.file, &s));
  W2Plan *plan = NULL;
  char *site = NULL;
  W2Err e = W2_OK;
  static char sweep[PATH_MAX], bin[PATH_MAX], output[W2_PATH_MAX + 8], cache[W2_PATH_MAX + 8],
      dir[W2_PATH_MAX + 8], site_abs[W2_PATH_MAX + 8];
  W2_CALL_GOTO(e, done, absolute("the sweep file path", a.file, sweep, sizeof sweep));
  if (a.w2sweep) {
    W2_CALL_GOTO(e, done, absolute("--w2sweep", a.w2sweep, bin, sizeof bin));
    if (access(bin, X_OK) != 0) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_ARG,
                         "slurm: --w2sweep %s is not an executable file", shown(a.w2sweep));
      goto done;
    }
  } else {
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
    if (n <= 0) {
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_IO,
                         "slurm: cannot find this program's path (/proc/self/exe); give --w2sweep PATH");
      goto done;
    }
    bin[n] = '\0';
  }
  W2_CALL_GOTO(e, done, absolute("the output path", a.output ? a.output : s.output, output, sizeof output));
  W2_CALL_GOTO(e, done, absolute("the cache path", a.cache ? a.cache : s.cache_dir, cache, sizeof cache));
  if (a.out) {
    W2_CALL_GOTO(e, done, absolute("--out", a.out, dir, sizeof dir));
  } else {
    char rel[W2_PATH_MAX];
    snprintf(rel, sizeof rel, "slurm/jobs/%s", s.name);
    W2_CALL_GOTO(e, done, absolute("--out", rel, dir, sizeof dir));
  }
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = '\0';
  if (a.site) {
    W2_CALL_GOTO(e, done, read_site(a.site, &site));
    W2_CALL_GOTO(e, done, absolute("--site", a.site, site_abs, sizeof site_abs));
    o->site_text = site;
    o->site_path = site_abs;
  }
  o->w2sweep = bin;
  o->sweep = sweep;
  o->output = output;
  o->cache = cache;
  o->dir = dir;
  W2_CALL_GOTO(e, done, w2_plan_build(&s, &plan));
  if (o->cells_jobs == 0) o->cells_jobs = plan->ncells < 16 ? (plan->ncells > 0 ? plan->ncells : 1) : 16;
  W2_CALL_GOTO(e, done, w2_slurm_write(&s, plan, o, stdout));
done:
  free(site);
  w2_plan_destroy(&plan);
  w2_sweep_free(&s);
  return e;
}

int w2_cmd_slurm(int argc, char **argv) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  /* writing files is one process's job; under mpirun the other ranks only wait */
  W2Err e = W2_OK;
  if (rank == 0) {
    e = run(argc, argv);
    if (e) w2_error_report();
  }
  MPI_Bcast(&e, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return w2_exit_status(e);
}
