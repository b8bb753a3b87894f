/* cmd_check.c — `w2sweep check [-v] FILE...`: validate sweep files without running them.
 *
 * For each file: "FILE: ok (N cells ...)" on stdout, or one line "FILE:LINE: message" on
 * stderr (compiler style, so editors jump to the line). Warnings ("FILE:LINE: warning: ...")
 * go to stderr and do not fail the check. Exit status 0 when every file is valid, 2 when
 * one is not. Writes no file. Every rank validates (it is cheap); only rank 0 prints. */
#include <mpi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "results.h"
#include "error.h"
#include "dataset.h"
#include "plan.h"
#include "pretrain.h"
#include "sweepcfg.h"

static void check_usage(FILE *out) {
  fprintf(out,
          "usage: w2sweep check [-v] FILE...\n"
          "  Validates sweep files (format: sweeps/README.md): unknown keys, types, ranges,\n"
          "  names that refer to nothing, duplicates, and every data file a task reads\n"
          "  (data/FORMAT.md: format, rows for the splits). Prints \"FILE: ok (...)\" or one line\n"
          "  \"FILE:LINE: message\" and exits 2.\n"
          "  -v, --verbose   also print every setting of a valid file\n");
}

/* "FILE: ok (...)": counts, and the span of the ladder in parameters and pretraining FLOPs. */
static void print_ok(const W2Sweep *s, FILE *out) {
  double pmin = INFINITY, pmax = 0, flo = INFINITY, fhi = 0;
  for (int i = 0; i < s->nsizes; i++) {
    double pp = w2_sweep_size_params(s, &s->sizes[i]);
    double ff = w2_pretrain_flops(s, &s->sizes[i]);
    pmin = fmin(pmin, pp);
    pmax = fmax(pmax, pp);
    flo = fmin(flo, ff);
    fhi = fmax(fhi, ff);
  }
  int npairs = w2_sweep_npairs(s);
  fprintf(out,
          "%s: ok (%ld cells = %d tasks x %d seeds x %d pairs x %d methods%s; %d sizes, "
          "%.3g..%.3g params, pretraining %.3g..%.3g FLOPs = %.1f orders of magnitude",
          s->source_path, w2_sweep_ncells(s), s->ntasks, s->nseeds, npairs, s->nmethods,
          w2_sweep_ncheck_cells(s) ? " + known-answer checks" : "", s->nsizes, pmin, pmax, flo, fhi, log10(fhi / flo));
  long nk = w2_sweep_ncheck_cells(s);
  if (nk) fprintf(out, "; %ld known-answer cells", nk);
  int L = w2_sweep_largest_strong(s);
  if (s->checks.enabled && s->checks.pretrain_control && L >= 0)
    fprintf(out, "; %d control ceilings of %s from initialisation (check (f))",
            s->ntasks * s->nseeds, s->sizes[L].name);
  int nchk = 0;
  for (int i = 0; i < s->nsupervisors; i++) nchk += s->supervisors[i].check;
  int skipped = (s->nweak - nchk) * s->nstrong - npairs;
  if (skipped > 0) fprintf(out, "; %d weak>=strong pairs skipped", skipped);
  fprintf(out, ")\n");
}

/* Each size's memory per rank against the memory a rank will have: runner.rank_memory_gb
 * when set (a size that does not fit at its group size cannot run: an error, 1 returned),
 * else this machine's memory (a note: the cluster's nodes may differ). Prints one line per
 * size that needs a group of ranks or cannot run. */
static int check_memory(const W2Sweep *s, FILE *out, FILE *err) {
  double limit = s->rank_memory_gb * 1e9;
  int set = limit > 0, bad = 0;
  if (!set) limit = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  if (!(limit > 0)) return 0;
  const char *what = set ? "runner.rank_memory_gb" : "this machine's memory";
  for (int i = 0; i < s->nsizes; i++) {
    const W2SizeSpec *z = &s->sizes[i];
    int p = w2_plan_size_ranks(s, z);
    double need = w2_plan_size_rank_bytes(s, z, p);
    if (need <= limit && p == 1) continue;
    int fit = 1; /* the smallest power-of-two group that fits */
    while (fit < W2_PLAN_MAX_GROUP && w2_plan_size_rank_bytes(s, z, fit) > limit) fit *= 2;
    int fits_any = w2_plan_size_rank_bytes(s, z, fit) <= limit;
    if (need <= limit) {
      if (out)
        fprintf(out, "  size %s: %.3g GB on one rank; trains on a group of %d ranks (%.3g GB each)\n",
                z->name, w2_plan_size_rank_bytes(s, z, 1) / 1e9, p, need / 1e9);
    } else if (!fits_any) {
      bad |= set;
      if (set ? err : out)
        fprintf(set ? err : out, "%s:%d: size '%s' needs %.3g GB per rank even on %d ranks, more "
                "than %s (%.3g GB): it cannot run\n", s->source_path, z->line, z->name,
                w2_plan_size_rank_bytes(s, z, fit) / 1e9, fit, what, limit / 1e9);
    } else {
      bad |= set;
      if (set ? err : out)
        fprintf(set ? err : out, "%s:%d: size '%s' needs %.3g GB per rank on %d rank%s, more than "
                "%s (%.3g GB): it needs a group of %d ranks (ranks = %d%s)\n", s->source_path,
                z->line, z->name, need / 1e9, p, p == 1 ? "" : "s", what, limit / 1e9, fit, fit,
                set ? "" : ", or set runner.rank_memory_gb");
    }
  }
  return bad;
}

int w2_cmd_check(int argc, char **argv) {
  int rank = 0;
  int mpi_on = 0;
  MPI_Initialized(&mpi_on);
  if (mpi_on) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  FILE *out = rank == 0 ? stdout : NULL, *err = rank == 0 ? stderr : NULL;

  int verbose = 0, nfiles = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      if (out) check_usage(out);
      return 0;
    } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
      verbose = 1;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      if (err) {
        fprintf(err, "w2sweep: error: check: unknown option '%s'\n", argv[i]);
        check_usage(err);
      }
      return W2_EXIT_INPUT;
    } else {
      nfiles++;
    }
  }
  if (nfiles == 0) {
    if (err) check_usage(err);
    return W2_EXIT_INPUT;
  }

  /* W2Sweep is large (fixed-size tables): keep it off the stack */
  W2Sweep *s = calloc(1, sizeof *s);
  if (!s) {
    if (err) fprintf(err, "w2sweep: error: out of memory\n");
    return W2_EXIT_RUNTIME;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1]) continue;
    W2Err e = w2_sweep_load_ex(argv[i], s, err);
    if (e) {
      /* the message already is "FILE:LINE: message" */
      if (err) fprintf(err, "%s\n", w2_error_message());
      w2_error_clear();
      int code = e == W2_ERR_CONFIG || e == W2_ERR_ARG ? W2_EXIT_INPUT : W2_EXIT_RUNTIME;
      if (code > status) status = code;
      continue;
    }
    e = w2_sweep_check_data(s);
    if (!e) e = w2_results_check_output_path(s, 1);
    if (e) {
      /* "FILE:LINE: tasks[i] ('name'): what is wrong with its data file" */
      if (err) fprintf(err, "%s\n", w2_error_message());
      w2_error_clear();
      w2_sweep_free(s);
      if (W2_EXIT_INPUT > status) status = W2_EXIT_INPUT;
      continue;
    }
    if (check_memory(s, out, err)) {
      w2_sweep_free(s);
      if (W2_EXIT_INPUT > status) status = W2_EXIT_INPUT;
      continue;
    }
    if (out) {
      print_ok(s, out);
      if (verbose) w2_sweep_print(s, out);
    }
    w2_sweep_free(s);
  }
  free(s);
  return status;
}
