/* test_slurmgen.c — slurmgen.h: shell quoting (checked by /bin/sh itself), the Slurm value
 * checks, the artifact slices of tests/sweeps/tiny.cfg, and that a bad option writes nothing. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "plan.h"
#include "slurmgen.h"
#include "scheduler.h"
#include "testutil.h"

/* What /bin/sh makes of `printf %s QUOTED` (the quoted form must come back verbatim). */
static void shell_roundtrip(const char *v) {
  char q[1024], cmd[1100], got[1024] = "";
  W2T_OK(w2_sh_quote("test value", v, q, sizeof q));
  snprintf(cmd, sizeof cmd, "printf %%s %s", q);
  FILE *p = popen(cmd, "r");
  W2T_CHECK(p != NULL, "popen failed");
  if (!p) return;
  size_t n = fread(got, 1, sizeof got - 1, p);
  got[n] = '\0';
  pclose(p);
  W2T_CHECK(!strcmp(got, v), "sh read back [%s] for [%s] (quoted %s)", got, v, q);
}

static void test_quote(void) {
  char q[64];
  W2T_OK(w2_sh_quote("v", "abc", q, sizeof q));
  W2T_CHECK(!strcmp(q, "'abc'"), "abc -> %s", q);
  W2T_OK(w2_sh_quote("v", "it's", q, sizeof q));
  W2T_CHECK(!strcmp(q, "'it'\\''s'"), "it's -> %s", q);
  W2T_OK(w2_sh_quote("v", "", q, sizeof q));
  W2T_CHECK(!strcmp(q, "''"), "empty -> %s", q);
  W2T_CHECK(w2_sh_quote("v", "a\nb", q, sizeof q) == W2_ERR_ARG, "a newline must be refused");
  W2T_CHECK(w2_sh_quote("v", "a\rb", q, sizeof q) == W2_ERR_ARG, "a carriage return must be refused");
  W2T_CHECK(strstr(w2_error_message(), "line break") != NULL, "message: %s", w2_error_message());
  W2T_CHECK(w2_sh_quote("v", "''''''''''''''''", q, 8) == W2_ERR_INTERNAL, "overflow must be caught");
  w2_error_clear();
  const char *hostile[] = {"$(touch pwned)", "`id`", "a'b\"c", "'; rm -rf /; '", "\\", "\\'",
                           "$HOME ${IFS} *", "# not a comment", "%a %j", "!x {a,b} ~", "'"};
  for (size_t k = 0; k < sizeof hostile / sizeof *hostile; k++) shell_roundtrip(hostile[k]);
}

static void test_values(void) {
  const char *good_time[] = {"10", "10:00", "1:00:00", "1-0", "1-02:03", "1-02:03:04", "UNLIMITED",
                             "infinite"};
  const char *bad_time[] = {"", "1:2:3:4", "1-2-3", "-1", "1-", "a", "1:00;x", "1 :00", ":10", "10:",
                            "1-1:2:3:4", "10\n"};
  for (size_t k = 0; k < sizeof good_time / sizeof *good_time; k++)
    W2T_CHECK(w2_slurm_time_ok(good_time[k]), "time '%s' should be accepted", good_time[k]);
  for (size_t k = 0; k < sizeof bad_time / sizeof *bad_time; k++)
    W2T_CHECK(!w2_slurm_time_ok(bad_time[k]), "time '%s' should be refused", bad_time[k]);
  W2T_CHECK(w2_slurm_word_ok("debug", 0) && w2_slurm_word_ok("gpu_a100-80.x", 0), "plain names");
  W2T_CHECK(w2_slurm_word_ok("a,b", 1) && !w2_slurm_word_ok("a,b", 0), "comma lists only where allowed");
  const char *bad_word[] = {"", "p q", "p;x", "-x", "$(x)", "a'b", "a\nb", "a/b"};
  for (size_t k = 0; k < sizeof bad_word / sizeof *bad_word; k++)
    W2T_CHECK(!w2_slurm_word_ok(bad_word[k], 1), "word '%s' should be refused", bad_word[k]);
  W2T_CHECK(w2_slurm_mem_ok("4G") && w2_slurm_mem_ok("100") && w2_slurm_mem_ok("512m"), "memory sizes");
  W2T_CHECK(!w2_slurm_mem_ok("G") && !w2_slurm_mem_ok("4GB") && !w2_slurm_mem_ok("4G;x") &&
                !w2_slurm_mem_ok(""),
            "bad memory sizes");
}

static void test_bins(const W2Plan *plan) {
  int n = plan->njobs;
  int *bin = malloc(sizeof(int) * (size_t)n);
  int npre = plan->counts[W2_JOB_PRETRAIN];
  int nb = w2_slurm_artifact_bins(plan, 0, bin);
  W2T_CHECK(nb == npre, "default: one slice per pretraining run (%d), got %d", npre, nb);
  int *used = calloc((size_t)nb, sizeof(int));
  int ok_range = 1, ok_cells = 1, ok_unit = 1;
  for (int i = 0; i < n; i++) {
    const W2Job *j = &plan->jobs[i];
    if (j->type == W2_JOB_CELL) {
      ok_cells &= bin[i] == -1;
      continue;
    }
    if (bin[i] < 0 || bin[i] >= nb) {
      ok_range = 0;
      continue;
    }
    used[bin[i]]++;
    /* a weak supervisor or ceiling stays with the pretraining run it is built on */
    if (j->ndeps > 0) ok_unit &= bin[i] == bin[j->deps[0]];
  }
  W2T_CHECK(ok_cells, "cells must have no artifact slice");
  W2T_CHECK(ok_range, "every artifact job must have a slice in [0, %d)", nb);
  W2T_CHECK(ok_unit, "an artifact job must share the slice of its first dependency");
  int empty = 0;
  for (int k = 0; k < nb; k++) empty += used[k] == 0;
  W2T_CHECK(empty == 0, "%d empty slices", empty);
  free(used);
  W2T_CHECK(w2_slurm_artifact_bins(plan, 2, bin) == 2, "2 slices asked, 2 given");
  int c0 = 0, c1 = 0;
  for (int i = 0; i < n; i++) c0 += bin[i] == 0, c1 += bin[i] == 1;
  W2T_CHECK(c0 > 0 && c1 > 0 && c0 + c1 == n - plan->ncells, "2 slices: %d + %d jobs", c0, c1);
  int big = w2_slurm_artifact_bins(plan, 1000, bin);
  W2T_CHECK(big < 1000 && big >= npre, "slices are capped at the number of units (%d)", big);
  free(bin);
}

static void test_write(const W2Sweep *s, const W2Plan *plan) {
  char dir[] = "/tmp/w2test-slurmgen.XXXXXX";
  W2T_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char out[256], path[320];
  snprintf(out, sizeof out, "%s/jobs", dir);
  W2SlurmOpts o = {.w2sweep = "/usr/bin/true", .sweep = "/x/tiny.cfg", .output = "/x/r.h5",
                   .cache = "/x/cache", .dir = out, .ranks = 2, .ranks_per_job = 1,
                   .cells_jobs = 4, .launcher = "srun", .mpi = "pmix", .time = "1:00; touch x"};
  struct stat st;
  W2T_CHECK(w2_slurm_write(s, plan, &o, NULL) == W2_ERR_ARG, "a bad --time must be refused");
  W2T_CHECK(stat(out, &st) != 0, "nothing may be written when an option is bad");
  w2_error_clear();
  o.time = "2:00:00";
  W2T_OK(w2_slurm_write(s, plan, &o, NULL));
  const char *files[] = {"sweep.sbatch", "artifacts.sbatch", "cells.sbatch", "merge.sbatch", "submit.sh"};
  for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
    snprintf(path, sizeof path, "%s/%s", out, files[k]);
    W2T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0111), "%s missing or not executable", path);
  }
  snprintf(path, sizeof path, "%s/cells.sbatch", out);
  FILE *f = fopen(path, "r");
  int slices = 0, cells = 0, arr = 0;
  char line[4096];
  while (f && fgets(line, sizeof line, f)) {
    int k, c;
    if (sscanf(line, "# slice %d: %d cells", &k, &c) == 2) slices++, cells += c;
    if (!strcmp(line, "#SBATCH --array=0-3\n")) arr = 1;
  }
  if (f) fclose(f);
  W2T_CHECK(slices == 4 && cells == plan->ncells, "cells.sbatch: %d slices with %d cells (want 4, %d)",
            slices, cells, plan->ncells);
  W2T_CHECK(arr, "cells.sbatch has no '#SBATCH --array=0-3'");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "for f in %s/*.sbatch %s/submit.sh; do bash -n \"$f\" || exit 1; done", out, out);
  W2T_CHECK(system(cmd) == 0, "a script fails bash -n");
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  test_quote();
  test_values();
  const char *src = getenv("W2SWEEP_SOURCE_DIR");
  char cfg[1024];
  snprintf(cfg, sizeof cfg, "%s/tests/sweeps/tiny.cfg", src ? src : "..");
  W2Sweep s;
  W2Plan *plan = NULL;
  W2Err le = w2_sweep_load(cfg, &s);
  W2T_CHECK(le == W2_OK, "%s: %s", cfg, w2_error_message());
  if (le == W2_OK) {
    W2T_OK(w2_plan_build(&s, &plan));
    if (plan) {
      test_bins(plan);
      test_write(&s, plan);
      w2_plan_destroy(&plan);
    }
    /* check (f)'s control ceilings wait for nothing: each is a unit of its own and lands
     * in an artifact slice like every other artifact job */
    s.checks.enabled = 1;
    s.checks.pretrain_control = 1;
    W2T_OK(w2_plan_build(&s, &plan));
    if (plan) {
      int ninit = 0;
      for (int i = 0; i < plan->njobs; i++) ninit += strstr(plan->jobs[i].id, "/init") != NULL;
      W2T_CHECK(ninit > 0, "the plan has control ceilings (%d)", ninit);
      test_bins(plan);
      w2_plan_destroy(&plan);
    }
    w2_sweep_free(&s);
  }
  /* --only selects an id and the ids below it, by whole path components */
  W2T_CHECK(w2_job_matches("pretrain/m/s1", "pretrain/m/s1"), "an id matches itself");
  W2T_CHECK(!w2_job_matches("pretrain/m/s10", "pretrain/m/s1"), "s1 does not select s10");
  W2T_CHECK(w2_job_matches("ceiling/t/s0/m/unsup", "ceiling/t/s0/m"), "ids below match");
  W2T_CHECK(w2_job_matches("cell/linear/s0/a/b/naive", "cell/linear/"), "trailing slash");
  W2T_CHECK(!w2_job_matches("cell/linear2/s0", "cell/linear"), "linear does not select linear2");
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
  
