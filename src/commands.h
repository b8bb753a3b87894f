/* commands.h — the w2sweep subcommands. Each lives in its own file (cmd_<name>.c) and
 * has the signature of W2Command: argv[0] is the subcommand name. A command returns the
 * process exit status: 0 success, 1 runtime failure, 2 bad input (usage, config, data);
 * it reports its own errors with w2_error_report() before returning non-zero.
 * main.c calls MPI_Init before and MPI_Finalize after every command. */
#ifndef W2_COMMANDS_H
#define W2_COMMANDS_H

typedef int (*W2Command)(int argc, char **argv);

int w2_cmd_run(int argc, char **argv);     /* run a sweep file (cmd_run.c) */
int w2_cmd_cell(int argc, char **argv);    /* run one cell on one rank (cmd_cell.c) */
int w2_cmd_check(int argc, char **argv);   /* validate a sweep file (cmd_check.c) */
int w2_cmd_plan(int argc, char **argv);    /* print the plan of a sweep (cmd_plan.c) */
int w2_cmd_status(int argc, char **argv);  /* report a (partial) results file (cmd_status.c) */
int w2_cmd_export(int argc, char **argv);  /* results -> CSV (cmd_export.c) */
int w2_cmd_fit(int argc, char **argv);     /* scaling-law fits (cmd_fit.c) */
int w2_cmd_slurm(int argc, char **argv);   /* write sbatch scripts (cmd_slurm.c) */
int w2_cmd_merge(int argc, char **argv);   /* merge shards (cmd_merge.c) */

/* Exit status for a command that failed on bad input / at runtime. */
#define W2_EXIT_INPUT 2
#define W2_EXIT_RUNTIME 1
/* Map an error code to an exit status (config/data/arg -> 2, others -> 1). */
int w2_exit_status(int err);

#endif
