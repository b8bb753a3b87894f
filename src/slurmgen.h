/* slurmgen.h — sbatch scripts for a sweep (`w2sweep slurm`), and the quoting that keeps every
 * value from the sweep file or the command line inert in them.
 *
 * One directory per sweep holds two ways of running it (slurm/README.md, "Running on a
 * cluster"):
 *   sweep.sbatch      one MPI job: `srun --mpi=pmix w2sweep run SWEEP` on o->ranks ranks.
 *   artifacts.sbatch  job array; element k computes artifact slice k: pretraining runs and the
 *                     weak supervisors and ceilings that hang off them (w2_slurm_artifact_bins),
 *                     one `w2sweep run --only ID` per job id of the slice.
 *   cells.sbatch      job array; element i runs `w2sweep run --shard i/N --no-assemble` into its
 *                     own shard <output>.shards/cells-<i>.h5(.parts): elements share no files
 *                     but the (atomic) artifact cache, and a rerun of an element (requeue, or
 *                     `sbatch --array=i cells.sbatch`) skips the cells it already finished.
 *   merge.sbatch      `w2sweep merge`: shards -> one results file (cmd_merge.c).
 *   submit.sh         sbatch the three, chained with --dependency=afterok; prints the job ids.
 *   logs/             job output, one file per element, appended across requeues/resubmits.
 *
 * Quoting: every value that reaches a script (paths from the sweep file or the command line,
 * the binary, names, ids) is written single-quoted ('…', with ' as '\''), which both bash and
 * sbatch's own #SBATCH parser read back verbatim, provided it has no backslash in #SBATCH
 * lines (sbatch treats '\' as an escape even inside quotes; such paths are rejected there).
 * Values with a line break are rejected (a newline would end a #SBATCH line and cannot be
 * carried through `read` by every shell tool), as are Slurm options outside their syntax
 * (w2_slurm_time_ok, w2_slurm_word_ok). The site header (--site FILE) is the user's own shell
 * code and is copied verbatim. */
#ifndef W2_SLURMGEN_H
#define W2_SLURMGEN_H

#include <stddef.h>
#include <stdio.h>

#include "plan.h"
#include "spec.h"

/* out = v single-quoted for bash (and for sbatch #SBATCH lines when v has no backslash).
 * W2_ERR_ARG naming `what` when v holds a line break (\n or \r), W2_ERR_INTERNAL when out
 * is too small (4 * strlen(v) + 3 always suffices). */
W2Err w2_sh_quote(const char *what, const char *v, char *out, size_t cap);

/* 1 when t is a Slurm time limit: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (digits) or
 * UNLIMITED / INFINITE. */
int w2_slurm_time_ok(const char *t);
/* 1 when v is a non-empty word of letters, digits, '_', '-', '.' (and ',' when
 * allow_comma: partition lists): what partition, account and QOS names are made of. */
int w2_slurm_word_ok(const char *v, int allow_comma);
/* 1 when v is a Slurm memory size: digits with an optional K, M, G or T suffix. */
int w2_slurm_mem_ok(const char *v);

/* Artifact slices of the plan: bin[i] in [0, nbins) for every non-cell job i and -1 for
 * cells (bin has plan->njobs entries). Jobs form units: a job without dependencies (a
 * pretraining run, a synthetic supervisor) starts one, any other joins the unit of its first
 * dependency, so a pretraining run and the weak supervisors and ceilings built on it stay
 * together. Units go, largest FLOPs first, to the currently lightest bin. nbins <= 0 means
 * one bin per pretraining run. Returns the number of bins (never more than units). */
int w2_slurm_artifact_bins(const W2Plan *plan, int nbins, int *bin);

typedef struct W2SlurmOpts {
  /* absolute paths */
  const char *w2sweep;    /* the binary the jobs run */
  const char *sweep;      /* the sweep file */
  const char *output;     /* results file */
  const char *cache;      /* artifact cache */
  const char *dir;        /* where the scripts go (created) */
  /* sbatch options; NULL = not written (the site's default applies) */
  const char *partition, *account, *qos, *time, *mem;
  int ranks;              /* ranks of the one-job mode */
  int ranks_per_job;      /* ranks of each array element */
  int cells_jobs;         /* elements of the cells array (clamped to the cell count) */
  int artifact_jobs;      /* elements of the artifacts array (<= 0: one per pretraining run) */
  int max_parallel;       /* array throttle %K (0: none) */
  const char *launcher;   /* "srun" or "mpirun" */
  const char *mpi;        /* srun --mpi=TYPE */
  const char *site_text;  /* site header copied into every script (NULL: none) */
  const char *site_path;  /* where it came from, for the scripts' comments */
} W2SlurmOpts;

/* Checks every option and value (nothing is written when one is bad: W2_ERR_ARG or
 * W2_ERR_CONFIG naming it), then writes the scripts into o->dir (each to a temporary name,
 * renamed) and describes them on `report` (NULL: silent). */
W2Err w2_slurm_write(const W2Sweep *s, const W2Plan *plan, const W2SlurmOpts *o, FILE *report);

#endif
