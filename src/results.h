/* results.h — where a sweep's results live while it runs and when it is done.
 *
 * While running, every finished cell is one small HDF5 file in the sweep's work directory
 * <output>.parts/cells/<job>.h5, written to a temporary name and renamed: a cell is either
 * there completely or not at all, whatever is killed when. That file is the durable unit
 * of progress (resume skips cells whose file is there and opens: a truncated one is redone)
 * and the shard that `merge` reads.
 * Beside it, <output>.parts/status/<job>.txt records attempts and the last error of jobs
 * that failed or are running.
 *
 * When every job has ended, rank 0 assembles the results file (results/SCHEMA.md) from the
 * cell files and the artifact cache, into a temporary file renamed over the output: the
 * results file is never half-written, and an older one stays intact until the new one is
 * complete. Assembly is deterministic (plan order), so results do not depend on the rank
 * count or on which rank ran what. */
#ifndef W2_RESULTS_H
#define W2_RESULTS_H

#include "pipeline.h"
#include "plan.h"

typedef enum { W2_ST_PENDING = 0, W2_ST_RUNNING, W2_ST_DONE, W2_ST_FAILED } W2JobState;

typedef struct W2Status {
  W2JobState state;
  int attempts;
  char error[512];
  char host[64];
  int rank;
  double started;   /* Unix time the last attempt started */
  double seconds;   /* its duration (done or failed) */
  double cpu;       /* CPU seconds of the worker thread over it (0: not recorded), what
                       `plan --calibrate` fits on a loaded machine */
} W2Status;

/* <output>.parts */
void w2_results_workdir(const W2Sweep *s, char *dir, size_t len);
/* Creates the work directory tree and removes temporary files a killed run left in it.
 * Call on one rank, before any worker starts. */
W2Err w2_results_prepare(const char *workdir);
/* Removes the temporary files ("<name>.tmp.<host>.<pid>", w2_tmp_path) in dir that a killed
 * writer on this host left behind (its pid no longer runs); others' are left alone, since a
 * cache is shared between sweeps. */
void w2_remove_dead_tmp(const char *dir);
void w2_results_cell_path(const char *workdir, const char *job_id, char *path, size_t len);

/* A finished cell (atomic). rank/attempts are recorded for provenance only. */
W2Err w2_cellfile_write(const char *path, const W2CellResult *c, int rank, int attempts);
/* Reads a cell file; W2_ERR_DATA naming the file when it is not one. */
W2Err w2_cellfile_read(const char *path, W2CellResult *c);

W2Err w2_status_write(const char *workdir, const char *job_id, const W2Status *st);
/* A missing status file reads as pending with 0 attempts. */
void w2_status_read(const char *workdir, const char *job_id, W2Status *st);

/* Ties the work directory to the sweep that uses it: writes <workdir>/sweep.hash (the hash
 * of the sweep text, then "name <sweep name>"). A changed text of the same sweep is
 * accepted and recorded — each finished cell is reused only when its own settings hash
 * matches (pipeline.h w2_pipe_cell_hash), so an edited or extended sweep computes exactly
 * the cells it changed — while another sweep's name raises W2_ERR_CONFIG. `merge` still
 * requires every shard's sweep.hash to be this text's (w2_results_sweep_match). */
W2Err w2_results_check_sweep(const char *workdir, const W2Sweep *s);
/* The hash of the sweep text that sweep.hash and the results file's root attribute
 * `sweep_hash` record (FNV-1a of the whole text). */
uint64_t w2_results_sweep_hash(const W2Sweep *s);
/* How a work directory (or a shard's) relates to sweep s: 1 its sweep.hash is s's, 0 it
 * has none, -1 it was made by another sweep text. */
int w2_results_sweep_match(const char *workdir, const W2Sweep *s);

/* s->output can be a results file: not '' or ending in '/', not a directory, and its nearest
 * existing parent a directory; else W2_ERR_CONFIG, one line naming the sweep file's line of
 * `output` (from_file) or --output. Checked by `check` and before `run` computes anything. */
W2Err w2_results_check_output_path(const W2Sweep *s, int from_file);
/* When s->output exists it must be a results file of this very sweep text (root attribute
 * sweep_hash; files without one: the same sweep name): anything else is refused, W2_ERR_ARG
 * with one line, before it could be replaced (`merge --output` onto another sweep's file). */
W2Err w2_results_check_output(const W2Sweep *s);

/* The job list of the plan, one id per line, in <workdir>/jobs.txt (for `status`). */
W2Err w2_results_write_jobs(const char *workdir, const W2Plan *plan);

/* Run facts recorded under /provenance. */
typedef struct W2Provenance {
  int nranks;
  char hosts[1024];
  char start_time[32], end_time[32];
} W2Provenance;

/* Writes the results file s->output from the cell files in workdir and the artifacts of
 * pipeline p (weak supervisors and ceilings for /models). Cells without a file are left
 * out and counted in *missing; a partial file says so in its root attribute `complete`. */
W2Err w2_results_assemble(const W2Sweep *s, const W2Plan *plan, W2Pipeline *p,
                          const char *workdir, const W2Provenance *prov, int *missing);

/* ISO 8601 UTC now. */
void w2_now_iso(char *buf, size_t len);

#endif
