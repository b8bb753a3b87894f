/* main.c — `w2sweep <command> [args]`: MPI setup and dispatch to cmd_*.c. */
#include <mpi.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blasenv.h"
#include "commands.h"
#include "error.h"
#include "scheduler.h"

struct w2_cmd_entry {
  const char *name;
  W2Command fn;
  const char *help;
};

#define W2_WEAK __attribute__((weak))
/* Commands not yet linked in are weak symbols, so the dispatcher builds while
 * subcommands land one by one; a missing one says so instead of crashing. */
W2_WEAK int w2_cmd_run(int, char **);
W2_WEAK int w2_cmd_cell(int, char **);
W2_WEAK int w2_cmd_check(int, char **);
W2_WEAK int w2_cmd_plan(int, char **);
W2_WEAK int w2_cmd_status(int, char **);
W2_WEAK int w2_cmd_export(int, char **);
W2_WEAK int w2_cmd_fit(int, char **);
W2_WEAK int w2_cmd_slurm(int, char **);
W2_WEAK int w2_cmd_merge(int, char **);

static const struct w2_cmd_entry commands[] = {
    {"run", w2_cmd_run, "run a sweep file on all MPI ranks, resuming what is unfinished"},
    {"check", w2_cmd_check, "validate a sweep file (file:line messages, exit 2)"},
    {"plan", w2_cmd_plan, "print cells, artifacts, FLOPs and estimated wall time"},
    {"status", w2_cmd_status, "report progress of a (partial) results file"},
    {"export", w2_cmd_export, "write the summary table of a results file as CSV"},
    {"fit", w2_cmd_fit, "fit scaling laws and backtest extrapolation, write /fits"},
    {"cell", w2_cmd_cell, "run one (weak, strong, method, task, seed) cell on one rank"},
    {"slurm", w2_cmd_slurm, "write sbatch scripts (one MPI job, or chained job arrays)"},
    {"merge", w2_cmd_merge, "merge array-job shards into one results file"},
};
#define NCMD (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out, "usage: w2sweep <command> [options]\n\ncommands:\n");
  for (int i = 0; i < NCMD; i++)
    if (commands[i].fn) fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\n`w2sweep <command> --help` describes a command. Set W2SWEEP_TRACE=1 to see\n"
               "the call stack behind an error.\n");
}

int w2_exit_status(int err) {
  switch (err) {
  case W2_OK: return 0;
  case W2_ERR_ARG:
  case W2_ERR_CONFIG:
  case W2_ERR_DATA: return W2_EXIT_INPUT;
  default: return W2_EXIT_RUNTIME;
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? W2_EXIT_INPUT : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    char blas[512];
    w2_blas_describe(blas, sizeof blas);
    printf("w2sweep %s (%s)\nBLAS: %s\n", W2SWEEP_VERSION, W2SWEEP_GIT_COMMIT, blas);
    return 0;
  }
  const struct w2_cmd_entry *cmd = NULL;
  for (int i = 0; i < NCMD; i++)
    if (!strcmp(argv[1], commands[i].name)) cmd = &commands[i];
  if (!cmd || !cmd->fn) {
    fprintf(stderr, "w2sweep: error: unknown command '%s' (try `w2sweep --help`)\n", argv[1]);
    return W2_EXIT_INPUT;
  }
  /* `run` calls MPI from rank 0's coordinator thread and its worker at once (scheduler.h):
   * that needs MPI_THREAD_MULTIPLE. Without it `run` stops here with one line, from rank 0,
   * before reading anything; the other commands are single-threaded and go on. */
  int provided = MPI_THREAD_SINGLE, rank = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (!strcmp(cmd->name, "run") && w2_mpi_threads_check() != W2_OK) {
    if (rank == 0) w2_error_report();
    MPI_Finalize();
    return W2_EXIT_RUNTIME;
  }
  int rc = cmd->fn(argc - 1, argv + 1);
  /* every command's output is checked once here: `status > /dev/full` must not exit 0 having
   * written nothing (stdout is a full buffer until this flush) */
  errno = 0;
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) { /* else the command said why */
    fprintf(stderr, "w2sweep: error: cannot write to standard output: %s\n",
            errno ? strerror(errno) : "write error");
    rc = W2_EXIT_RUNTIME;
  }
  MPI_Finalize();
  return rc;
}
