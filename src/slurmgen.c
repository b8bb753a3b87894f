/* slurmgen.c — writes the sbatch scripts of `w2sweep slurm` (see slurmgen.h for the layout and
 * the quoting rules). Everything is checked before anything is written; each script is built
 * in memory and written to a temporary name that is renamed into place. */
#include "slurmgen.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "scheduler.h"
#include "store.h"

/* ---- quoting and validation ------------------------------------------------------------ */

static int has_line_break(const char *v) { return strchr(v, '\n') || strchr(v, '\r'); }

W2Err w2_sh_quote(const char *what, const char *v, char *out, size_t cap) {
  W2_CHECK(!has_line_break(v), W2_ERR_ARG,
           "slurm: %s contains a line break, which a generated script cannot carry", what);
  size_t k = 0;
  W2_CHECK(cap >= 3, W2_ERR_INTERNAL, "slurm: quoting buffer too small");
  out[k++] = '\'';
  for (const char *c = v; *c; c++) {
    W2_CHECK(k + 5 < cap, W2_ERR_INTERNAL, "slurm: %s is too long to quote", what);
    if (*c == '\'') {
      memcpy(out + k, "'\\''", 4); /* close, escaped quote, reopen */
      k += 4;
    } else {
      out[k++] = *c;
    }
  }
  out[k++] = '\'';
  out[k] = '\0';
  return W2_OK;
}

/* 1..3 groups of digits separated by ':' (the part of a time after an optional "D-") */
static int clock_ok(const char *t) {
  int groups = 0;
  while (1) {
    int d = 0;
    while (isdigit((unsigned char)*t)) t++, d++;
    if (d == 0 || d > 9) return 0;
    groups++;
    if (*t == '\0') return groups <= 3;
    if (*t != ':') return 0;
    t++;
  }
}

int w2_slurm_time_ok(const char *t) {
  if (!t || !*t) return 0;
  if (!strcasecmp(t, "UNLIMITED") || !strcasecmp(t, "INFINITE")) return 1;
  const char *dash = strchr(t, '-');
  if (!dash) return clock_ok(t);
  for (const char *c = t; c < dash; c++)
    if (!isdigit((unsigned char)*c)) return 0;
  return dash > t && dash - t <= 9 && clock_ok(dash + 1);
}

int w2_slurm_word_ok(const char *v, int allow_comma) {
  if (!v || !*v) return 0;
  for (const char *c = v; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.' &&
        !(allow_comma && *c == ','))
      return 0;
  return v[0] != '-' && strlen(v) < 256; /* a leading '-' would read as an option */
}

int w2_slurm_mem_ok(const char *v) {
  if (!v || !isdigit((unsigned char)*v)) return 0;
  while (isdigit((unsigned char)*v)) v++;
  if (*v && strchr("KMGTkmgt", *v)) v++;
  return *v == '\0';
}

/* ---- artifact slices ------------------------------------------------------------------- */

int w2_slurm_artifact_bins(const W2Plan *plan, int nbins, int *bin) {
  int n = plan->njobs, nunits = 0;
  size_t cap = (size_t)(n ? n : 1);
  int *unit = malloc(sizeof(int) * cap), *order = malloc(sizeof(int) * cap);
  int *ubin = malloc(sizeof(int) * cap);
  double *ucost = calloc(cap, sizeof(double)), *load = calloc(cap, sizeof(double));
  if (!unit || !order || !ubin || !ucost || !load) { /* out of memory: one slice */
    for (int i = 0; i < n; i++) bin[i] = plan->jobs[i].type == W2_JOB_CELL ? -1 : 0;
    nbins = 1;
    goto out;
  }
  /* plan order is topological: a job's dependencies already have their unit */
  for (int i = 0; i < n; i++) {
    const W2Job *j = &plan->jobs[i];
    if (j->type == W2_JOB_CELL) unit[i] = -1;
    else if (j->ndeps == 0 || unit[j->deps[0]] < 0) unit[i] = nunits++;
    else unit[i] = unit[j->deps[0]];
    if (unit[i] >= 0) ucost[unit[i]] += j->cost * j->ranks;
  }
  if (nbins <= 0) nbins = plan->counts[W2_JOB_PRETRAIN];
  if (nbins > nunits) nbins = nunits;
  if (nbins < 1) nbins = 1;
  /* largest unit first (ties: earlier unit first, so the result is deterministic), each to
   * the currently lightest bin (ties: lowest index) */
  for (int u = 0; u < nunits; u++) order[u] = u;
  for (int a = 1; a < nunits; a++)
    for (int b = a; b > 0 && ucost[order[b]] > ucost[order[b - 1]]; b--) {
      int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  for (int k = 0; k < nunits; k++) {
    int best = 0;
    for (int q = 1; q < nbins; q++)
      if (load[q] < load[best]) best = q;
    load[best] += ucost[order[k]];
    ubin[order[k]] = best;
  }
  for (int i = 0; i < n; i++) bin[i] = unit[i] < 0 ? -1 : ubin[unit[i]];
out:
  free(unit);
  free(order);
  free(ubin);
  free(ucost);
  free(load);
  return nbins;
}

/* Job ids of artifact slice k that `--only` must name (sel[i] = 1): those no other job of the
 * slice needs (running them with their needs runs the whole slice), less those that another
 * named id is a prefix of (`--only` selects by prefix: "ceiling/t/s0/m" runs ".../m/unsup").
 * idx has room for plan->njobs entries (scratch). */
static void slice_heads(const W2Plan *plan, const int *bin, int k, char *sel, int *idx) {
  int m = 0;
  for (int i = 0; i < plan->njobs; i++) {
    sel[i] = bin[i] == k;
    if (sel[i]) idx[m++] = i;
  }
  for (int q = 0; q < m; q++)
    for (int d = 0; d < plan->jobs[idx[q]].ndeps; d++) sel[plan->jobs[idx[q]].deps[d]] = 0;
  for (int q = 0; q < m; q++) {
    const char *id = plan->jobs[idx[q]].id;
    for (int r = 0; r < m && sel[idx[q]]; r++)
      if (r != q && sel[idx[r]] && !strncmp(id, plan->jobs[idx[r]].id, strlen(plan->jobs[idx[r]].id)))
        sel[idx[q]] = 0;
  }
}

/* ---- script text ----------------------------------------------------------------------- */

typedef struct Buf {
  char *p;
  size_t n, cap;
  int oom;
} Buf;

static void bput(Buf *b, const char *s, size_t len) {
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->n + len + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void bputs(Buf *b, const char *s) { bput(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void bprintf(Buf *b, const char *fmt, ...) {
  char small[1024];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (len < 0) return;
  if ((size_t)len < sizeof small) {
    bput(b, small, (size_t)len);
    return;
  }
  char *big = malloc((size_t)len + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)len + 1, fmt, ap);
  va_end(ap);
  bput(b, big, (size_t)len);
  free(big);
}

/* v single-quoted (validated beforehand: no line break) */
static void bquote(Buf *b, const char *v) {
  bputs(b, "'");
  for (const char *c = v; *c; c++) {
    if (*c == '\'') bputs(b, "'\\''");
    else bput(b, c, 1);
  }
  bputs(b, "'");
}

/* NAME='value' on its own line */
static void bvar(Buf *b, const char *name, const char *v) {
  bprintf(b, "%s=", name);
  bquote(b, v);
  bputs(b, "\n");
}

/* A Slurm filename pattern for a literal path: '%' doubled (Slurm expands %j, %a, ...). */
static void slurm_literal(const char *path, char *out, size_t cap) {
  size_t k = 0;
  for (const char *c = path; *c && k + 3 < cap; c++) {
    if (*c == '%') out[k++] = '%';
    out[k++] = *c;
  }
  out[k] = '\0';
}

typedef struct Gen {
  const W2Sweep *s;
  const W2Plan *plan;
  const W2SlurmOpts *o;
  char shards[W2_PATH_MAX + 16];
  char logs[2 * W2_PATH_MAX + 16]; /* Slurm pattern of the logs directory */
  char when[32];
} Gen;

/* The #SBATCH block, the site header and the common variables of every script. */
static void header(Buf *b, const Gen *g, const char *title, const char *job, const char *array,
                   int ntasks, const char *log) {
  const W2SlurmOpts *o = g->o;
  bputs(b, "#!/bin/bash\n");
  bprintf(b, "# %s\n", title);
  bprintf(b, "# Sweep '%s'; generated %s by `w2sweep slurm` (w2sweep %s). Regenerate rather than\n"
             "# edit: every value below is quoted for the shell; the site setup is copied verbatim.\n",
          g->s->name, g->when, W2SWEEP_VERSION);
  char name[W2_NAME_MAX * 2 + 32];
  snprintf(name, sizeof name, "w2-%s-%s", g->s->name, job);
  bputs(b, "#SBATCH --job-name=");
  bquote(b, name);
  bputs(b, "\n");
  if (array) bprintf(b, "#SBATCH --array=%s\n", array);
  bprintf(b, "#SBATCH --ntasks=%d\n", ntasks);
  const char *opt[5] = {"time", "partition", "account", "qos", "mem"};
  const char *val[5] = {o->time, o->partition, o->account, o->qos, o->mem};
  for (int k = 0; k < 5; k++)
    if (val[k]) {
      bprintf(b, "#SBATCH --%s=", opt[k]);
      bquote(b, val[k]);
      bputs(b, "\n");
    }
  /* a requeued element (node failure, preemption, `scontrol requeue`) reruns the same
   * script and resumes; its log is appended to, not truncated */
  bputs(b, "#SBATCH --requeue\n#SBATCH --open-mode=append\n");
  char logpath[2 * W2_PATH_MAX + 64];
  snprintf(logpath, sizeof logpath, "%s/%s", g->logs, log);
  bputs(b, "#SBATCH --output=");
  bquote(b, logpath);
  bputs(b, "\n");
  if (o->site_text) {
    bprintf(b, "# ---- site setup (copied from %s) ----\n", o->site_path ? o->site_path : "--site");
    bputs(b, o->site_text);
    if (o->site_text[0] && o->site_text[strlen(o->site_text) - 1] != '\n') bputs(b, "\n");
    bputs(b, "# ---- end of site setup ----\n");
  } else {
    bputs(b, "# (no site setup: `w2sweep slurm --site FILE` copies module loads and the like here;\n"
             "#  see slurm/templates/site.sh)\n");
  }
  bputs(b, "set -euo pipefail\n");
  bvar(b, "W2SWEEP", o->w2sweep);
  bvar(b, "SWEEP", o->sweep);
  bvar(b, "OUTPUT", o->output);
  bvar(b, "CACHE", o->cache);
  bvar(b, "SHARDS", g->shards);
  if (!strcmp(o->launcher, "mpirun")) {
    bputs(b, "LAUNCH=(mpirun)\n");
  } else {
    bputs(b, "LAUNCH=(srun --mpi=");
    bquote(b, o->mpi);
    bputs(b, ")\n");
  }
  bputs(b, "# one BLAS thread per rank unless the site says otherwise\n"
           "export OPENBLAS_NUM_THREADS=\"${OPENBLAS_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}\"\n");
  bputs(b, "echo \"== $(date -u +%Y-%m-%dT%H:%M:%SZ) job ${SLURM_JOB_ID:-none}"
           "${SLURM_ARRAY_TASK_ID:+ element $SLURM_ARRAY_TASK_ID} on $(hostname)"
           " (restart ${SLURM_RESTART_COUNT:-0})\"\n");
}

static void array_spec(char *out, size_t cap, int n, int max_parallel) {
  if (max_parallel > 0) snprintf(out, cap, "0-%d%%%d", n - 1, max_parallel);
  else snprintf(out, cap, "0-%d", n - 1);
}

static void script_sweep(Buf *b, const Gen *g) {
  header(b, g, "w2sweep: the whole sweep as one MPI job (mode a). Submit: sbatch sweep.sbatch",
         "sweep", NULL, g->o->ranks, "sweep-%j.out");
  bputs(b, "# Resumes by itself: rerun (or let Slurm requeue) and only what is missing is computed.\n"
           "\"${LAUNCH[@]}\" \"$W2SWEEP\" run \"$SWEEP\" --output \"$OUTPUT\" --cache \"$CACHE\"\n");
}

static void script_artifacts(Buf *b, const Gen *g, const int *bin, int nbins) {
  char arr[64];
  array_spec(arr, sizeof arr, nbins, g->o->max_parallel);
  header(b, g,
         "w2sweep: artifacts array (mode b, step 1): element k pretrains the models of slice k and\n"
         "# finetunes the weak supervisors and ceilings built on them, into the artifact cache.",
         "artifacts", arr, g->o->ranks_per_job, "artifacts-%a.out");
  bputs(b, "# `w2sweep run --only ID` runs job ID and what it needs, skipping what the cache holds:\n"
           "# a requeued or resubmitted element (sbatch --array=K artifacts.sbatch) resumes.\n");
  bputs(b, ": \"${SLURM_ARRAY_TASK_ID:?artifacts.sbatch is a job array: submit it with sbatch}\"\n"
           "i=$SLURM_ARRAY_TASK_ID\n"
           "case \"$i\" in\n");
  const W2Plan *plan = g->plan;
  char *sel = malloc((size_t)(plan->njobs ? plan->njobs : 1));
  int *idx = malloc(sizeof(int) * (size_t)(plan->njobs ? plan->njobs : 1));
  if (!sel || !idx) {
    free(sel);
    free(idx);
    b->oom = 1;
    return;
  }
  for (int k = 0; k < nbins; k++) {
    slice_heads(plan, bin, k, sel, idx);
    double flops = 0;
    int njobs = 0;
    for (int i = 0; i < plan->njobs; i++)
      if (bin[i] == k) {
        flops += plan->jobs[i].cost;
        njobs++;
      }
    bprintf(b, "  %d) # %d jobs, %.3g FLOPs\n    jobs=(", k, njobs, flops);
    int first = 1;
    for (int i = 0; i < plan->njobs; i++)
      if (sel[i]) {
        if (!first) bputs(b, " ");
        bquote(b, plan->jobs[i].id);
        first = 0;
      }
    bputs(b, ") ;;\n");
  }
  free(sel);
  free(idx);
  bprintf(b, "  *) echo \"artifacts.sbatch: no slice $i (there are %d: 0..%d)\" >&2; exit 2 ;;\n"
             "esac\n",
          nbins, nbins - 1);
  bputs(b, "only=()\n"
           "for job in \"${jobs[@]}\"; do only+=(--only \"$job\"); done\n"
           "\"${LAUNCH[@]}\" \"$W2SWEEP\" run \"$SWEEP\" --output \"$SHARDS/artifacts-$i.h5\" \\\n"
           "  --cache \"$CACHE\" \"${only[@]}\" --no-assemble --quiet\n");
}

static void script_cells(Buf *b, const Gen *g, int nslices) {
  char arr[64];
  array_spec(arr, sizeof arr, nslices, g->o->max_parallel);
  header(b, g,
         "w2sweep: cells array (mode b, step 2): element i runs cost-balanced slice i of the cells\n"
         "# into its own shard $SHARDS/cells-<i>.h5.parts (combined by merge.sbatch).",
         "cells", arr, g->o->ranks_per_job, "cells-%a.out");
  bputs(b, "# Finished cells are files of the shard: a requeued or resubmitted element\n"
           "# (sbatch --array=K cells.sbatch) computes only the cells of its slice that are missing.\n"
           "# An artifact missing from the cache is computed here (atomically), so this array is\n"
           "# correct without the artifacts array, only slower.\n");
  /* slice sizes, for the reader and for tests */
  char *need = malloc((size_t)(g->plan->njobs ? g->plan->njobs : 1));
  if (need) {
    for (int k = 0; k < nslices; k++) {
      w2_plan_shard(g->plan, k, nslices, need);
      int nc = 0;
      double flops = 0;
      for (int i = 0; i < g->plan->njobs; i++)
        if (need[i] && g->plan->jobs[i].type == W2_JOB_CELL) {
          nc++;
          flops += g->plan->jobs[i].cost;
        }
      bprintf(b, "# slice %d: %d cells, %.3g FLOPs\n", k, nc, flops);
    }
    free(need);
  }
  bprintf(b, "NSLICES=%d\n", nslices);
  bputs(b, ": \"${SLURM_ARRAY_TASK_ID:?cells.sbatch is a job array: submit it with sbatch}\"\n"
           "i=$SLURM_ARRAY_TASK_ID\n"
           "\"${LAUNCH[@]}\" \"$W2SWEEP\" run \"$SWEEP\" --output \"$SHARDS/cells-$i.h5\" \\\n"
           "  --cache \"$CACHE\" --shard \"$i/$NSLICES\" --no-assemble\n");
}

static void script_merge(Buf *b, const Gen *g) {
  header(b, g,
         "w2sweep: merge (mode b, step 3): the cells array's shards -> one results file.\n"
         "# Exit 1 (and a results file marked complete=0) when cells are missing.",
         "merge", NULL, 1, "merge-%j.out");
  bputs(b, "\"$W2SWEEP\" merge \"$SWEEP\" --output \"$OUTPUT\" --cache \"$CACHE\" --shards \"$SHARDS\"\n");
}

static void script_submit(Buf *b, const Gen *g) {
  bputs(b, "#!/bin/bash\n");
  bprintf(b, "# Submits sweep '%s' as chained job arrays: artifacts -> cells -> merge, each step\n"
             "# with --dependency=afterok on the previous one (and --kill-on-invalid-dep=yes, so a\n"
             "# failed step cancels what waits for it instead of leaving it pending forever).\n"
             "# Prints one line per step: '<step> <job id>'. Arguments are passed to every sbatch\n"
             "# (e.g. ./submit.sh --qos=debug). Generated %s by `w2sweep slurm`.\n"
             "# The one-job alternative: sbatch sweep.sbatch\n",
          g->s->name, g->when);
  bputs(b, "set -euo pipefail\n");
  bvar(b, "DIR", g->o->dir);
  bputs(b, "submit() {\n"
           "  local out\n"
           "  out=$(sbatch --parsable \"$@\") || { echo \"submit.sh: sbatch $* failed\" >&2; exit 1; }\n"
           "  echo \"${out%%;*}\"\n"
           "}\n"
           "a=$(submit \"$@\" \"$DIR/artifacts.sbatch\")\n"
           "echo \"artifacts $a\"\n"
           "c=$(submit \"$@\" --dependency=\"afterok:$a\" --kill-on-invalid-dep=yes \"$DIR/cells.sbatch\")\n"
           "echo \"cells $c\"\n"
           "m=$(submit \"$@\" --dependency=\"afterok:$c\" --kill-on-invalid-dep=yes \"$DIR/merge.sbatch\")\n"
           "echo \"merge $m\"\n");
}

static W2Err write_file(const char *dir, const char *name, Buf *b) {
  W2_CHECK(!b->oom && b->p, W2_ERR_MEM, "slurm: out of memory writing %s", name);
  char path[W2_PATH_MAX + 64], tmp[W2_PATH_MAX + 96];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  w2_tmp_path(path, tmp, sizeof tmp);
  FILE *f = fopen(tmp, "w");
  W2_CHECK(f, W2_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  int bad = fwrite(b->p, 1, b->n, f) != b->n;
  bad |= fclose(f) != 0;
  if (!bad) bad = chmod(tmp, 0755) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    W2_RAISE(W2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  }
  return W2_OK;
}

static const W2Plan *sort_plan; /* for cmp_id (qsort has no context argument) */
static int cmp_id(const void *a, const void *b) {
  return strcmp(sort_plan->jobs[*(const int *)a].id, sort_plan->jobs[*(const int *)b].id);
}

/* Number of jobs of another slice that a --only id of the artifacts array also selects
 * (`run --only ID` selects ID and the ids below it, e.g. ".../m" selects ".../m/unsup"); such a job
 * may be computed by two elements at once, correctly (artifacts are written atomically) but
 * twice. *example = one of them. Ids are sorted once, so each prefix is a binary search. */
static int prefix_overlaps(const W2Plan *plan, const int *bin, int nbins, char *example,
                           size_t cap) {
  int n = plan->njobs, count = 0;
  char *sel = malloc((size_t)(n ? n : 1));
  int *idx = malloc(sizeof(int) * (size_t)(n ? n : 1));
  int *sorted = malloc(sizeof(int) * (size_t)(n ? n : 1));
  if (!sel || !idx || !sorted) goto out;
  for (int i = 0; i < n; i++) sorted[i] = i;
  sort_plan = plan;
  qsort(sorted, (size_t)n, sizeof(int), cmp_id);
  for (int k = 0; k < nbins; k++) {
    slice_heads(plan, bin, k, sel, idx);
    for (int i = 0; i < n; i++) {
      if (!sel[i]) continue;
      const char *head = plan->jobs[i].id;
      size_t len = strlen(head);
      int lo = 0, hi = n; /* first id >= head */
      while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(plan->jobs[sorted[mid]].id, head) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (int q = lo; q < n && !strncmp(plan->jobs[sorted[q]].id, head, len); q++) {
        int j = sorted[q];
        if (!w2_job_matches(plan->jobs[j].id, head)) continue; /* "s1" never selects "s10" */
        if (bin[j] >= 0 && bin[j] != k) {
          if (!count) snprintf(example, cap, "'%s' also selects '%s'", head, plan->jobs[j].id);
          count++;
        }
      }
    }
  }
out:
  free(sel);
  free(idx);
  free(sorted);
  return count;
}

/* ---- checks and the whole set ---------------------------------------------------------- */

static W2Err check_value(const char *what, const char *v) {
  W2_CHECK(v && v[0], W2_ERR_ARG, "slurm: %s is empty", what);
  W2_CHECK(strlen(v) < W2_PATH_MAX, W2_ERR_ARG, "slurm: %s is too long (%zu characters)", what,
           strlen(v));
  W2_CHECK(!has_line_break(v), W2_ERR_ARG,
           "slurm: %s contains a line break, which a generated script cannot carry", what);
  return W2_OK;
}

static W2Err check_opts(const W2Sweep *s, const W2SlurmOpts *o) {
  W2_CALL(check_value("the w2sweep binary path", o->w2sweep));
  W2_CALL(check_value("the sweep file path", o->sweep));
  W2_CALL(check_value("the output path (--output or the sweep's `output`)", o->output));
  W2_CALL(check_value("the cache path (--cache or the sweep's `cache`)", o->cache));
  W2_CALL(check_value("the script directory (--out)", o->dir));
  W2_CALL(check_value("the sweep name", s->name));
  const char *abs[5] = {o->w2sweep, o->sweep, o->output, o->cache, o->dir};
  for (int k = 0; k < 5; k++)
    W2_CHECK(abs[k][0] == '/', W2_ERR_INTERNAL, "slurm: path '%s' is not absolute", abs[k]);
  /* sbatch's #SBATCH parser treats '\' as an escape even inside quotes */
  W2_CHECK(!strchr(o->dir, '\\'), W2_ERR_ARG,
           "slurm: the script directory '%s' contains a backslash, which an #SBATCH --output "
           "line cannot carry; choose another --out",
           o->dir);
  /* line breaks first, so that the messages below can show the value on one line */
  const char *word[7] = {o->time, o->partition, o->account, o->qos, o->mem, o->launcher, o->mpi};
  const char *wname[7] = {"--time", "--partition", "--account", "--qos", "--mem", "--launcher", "--mpi"};
  for (int k = 0; k < 7; k++)
    if (word[k]) W2_CALL(check_value(wname[k], word[k]));
  W2_CHECK(!o->time || w2_slurm_time_ok(o->time), W2_ERR_ARG,
           "slurm: --time '%s' is not a Slurm time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
           "D-HH:MM:SS or UNLIMITED)",
           o->time);
  W2_CHECK(!o->partition || w2_slurm_word_ok(o->partition, 1), W2_ERR_ARG,
           "slurm: --partition '%s' may contain only letters, digits, _ - . and ','", o->partition);
  W2_CHECK(!o->account || w2_slurm_word_ok(o->account, 0), W2_ERR_ARG,
           "slurm: --account '%s' may contain only letters, digits, _ - .", o->account);
  W2_CHECK(!o->qos || w2_slurm_word_ok(o->qos, 0), W2_ERR_ARG,
           "slurm: --qos '%s' may contain only letters, digits, _ - .", o->qos);
  W2_CHECK(!o->mem || w2_slurm_mem_ok(o->mem), W2_ERR_ARG,
           "slurm: --mem '%s' must be a number with an optional K, M, G or T suffix", o->mem);
  W2_CHECK(!strcmp(o->launcher, "srun") || !strcmp(o->launcher, "mpirun"), W2_ERR_ARG,
           "slurm: --launcher '%s' must be srun or mpirun", o->launcher);
  W2_CHECK(w2_slurm_word_ok(o->mpi, 0), W2_ERR_ARG,
           "slurm: --mpi '%s' may contain only letters, digits, _ - . (e.g. pmix, pmix_v4)", o->mpi);
  W2_CHECK(o->ranks >= 1 && o->ranks_per_job >= 1, W2_ERR_ARG,
           "slurm: --ranks and --ranks-per-job must be at least 1");
  W2_CHECK(o->cells_jobs >= 1, W2_ERR_ARG, "slurm: --cells-jobs must be at least 1");
  W2_CHECK(o->max_parallel >= 0, W2_ERR_ARG, "slurm: --max-parallel must be positive");
  if (o->site_path) W2_CALL(check_value("the site file path", o->site_path));
  if (o->site_text) {
    /* a line break inside is the point of a site header; what must not happen is that it
     * swallows our own lines: an unterminated quote or heredoc would show in `bash -n` */
    W2_CHECK(strlen(o->site_text) < (1u << 20), W2_ERR_ARG, "slurm: the site file %s is over 1 MiB",
             o->site_path ? o->site_path : "");
  }
  return W2_OK;
}

W2Err w2_slurm_write(const W2Sweep *s, const W2Plan *plan, const W2SlurmOpts *o, FILE *report) {
  W2_CALL(check_opts(s, o));
  W2_CHECK(plan->ncells > 0, W2_ERR_CONFIG, "slurm: sweep '%s' has no cells", s->name);
  Gen g = {.s = s, .plan = plan, .o = o};
  snprintf(g.shards, sizeof g.shards, "%s.shards", o->output);
  char dirpat[2 * W2_PATH_MAX];
  slurm_literal(o->dir, dirpat, sizeof dirpat);
  snprintf(g.logs, sizeof g.logs, "%s/logs", dirpat);
  w2_now_iso(g.when, sizeof g.when);

  int nslices = o->cells_jobs < plan->ncells ? o->cells_jobs : plan->ncells;
  int *bin = malloc(sizeof(int) * (size_t)plan->njobs);
  W2_CHECK(bin, W2_ERR_MEM, "out of memory");
  int nbins = w2_slurm_artifact_bins(plan, o->artifact_jobs, bin);

  char logdir[W2_PATH_MAX + 16];
  snprintf(logdir, sizeof logdir, "%s/logs", o->dir);
  W2Err e = W2_OK;
  Buf b[5] = {{0}};
  script_sweep(&b[0], &g);
  script_artifacts(&b[1], &g, bin, nbins);
  script_cells(&b[2], &g, nslices);
  script_merge(&b[3], &g);
  script_submit(&b[4], &g);
  static const char *const names[5] = {"sweep.sbatch", "artifacts.sbatch", "cells.sbatch",
                                       "merge.sbatch", "submit.sh"};
  W2_CALL_GOTO(e, done, w2_mkdirs(logdir));
  for (int k = 0; k < 5; k++) W2_CALL_GOTO(e, done, write_file(o->dir, names[k], &b[k]));

  if (report) {
    int maxr = 1;
    const char *big = NULL;
    for (int i = 0; i < plan->njobs; i++)
      if (plan->jobs[i].ranks > maxr) {
        maxr = plan->jobs[i].ranks;
        big = plan->jobs[i].id;
      }
    fprintf(report, "w2sweep slurm: sweep '%s' (%d cells, %d jobs) -> %s/\n", s->name,
            plan->ncells, plan->njobs, o->dir);
    fprintf(report, "  sweep.sbatch      mode a: one MPI job of %d ranks (%s)\n", o->ranks,
            !strcmp(o->launcher, "srun") ? "srun" : "mpirun");
    fprintf(report, "  artifacts.sbatch  mode b: array of %d (pretraining + weak supervisors + "
                    "ceilings), %d rank%s each\n",
            nbins, o->ranks_per_job, o->ranks_per_job == 1 ? "" : "s");
    fprintf(report, "  cells.sbatch      array of %d cost-balanced slices of the cells, %d rank%s each\n",
            nslices, o->ranks_per_job, o->ranks_per_job == 1 ? "" : "s");
    fprintf(report, "  merge.sbatch      w2sweep merge -> %s\n", o->output);
    fprintf(report, "  submit.sh         submits artifacts -> cells -> merge (afterok)\n");
    fprintf(report, "submit: %s/submit.sh   (or: sbatch %s/sweep.sbatch)\n", o->dir, o->dir);
    char example[2 * W2_JOB_ID_MAX + 32] = "";
    int overlaps = prefix_overlaps(plan, bin, nbins, example, sizeof example);
    if (overlaps)
      fprintf(report,
              "note: %d `run --only` prefixes of artifacts.sbatch also select jobs of another "
              "element (%s): those may be computed twice (correct, only slower)\n",
              overlaps, example);
    if (maxr > o->ranks_per_job)
      fprintf(report,
              "note: job %s asks for %d ranks; array elements have %d (--ranks-per-job), so it "
              "runs on %d\n",
              big, maxr, o->ranks_per_job, o->ranks_per_job);
  }
done:
  for (int k = 0; k < 5; k++) free(b[k].p);
  free(bin);
  return e;
}
