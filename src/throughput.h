/* throughput.h — seconds a job takes on one rank, from what it computes (plan.h, W2Work).
 *
 * FLOPs alone mispredict this program's jobs by factors of several: the quickstart's models
 * are 4 to 256 units wide, where a training step's time is mostly per-step and elementwise
 * work (batch gathers, AdamW over small tensors, the loss, evaluation forwards) and each job
 * has fixed costs (reading its checkpoints, writing its artifact, building its task data),
 * while a cross-validated probe's small Newton solves run at a rate of their own. So a
 * job's time on one rank is the linear model
 *
 *   seconds = job[type] + flop * (FLOPs - probe FLOPs) + step * steps + act * activations
 *             + fit * probe FLOPs
 *
 * with non-negative coefficients fitted (w2_throughput_fit) to the per-job CPU seconds that
 * the runner records (status files, results.h) for a calibration sweep run on the machine
 * (bench/calibrate.sh; bench/throughput.cfg is this project's, with its machine and date).
 * A job on a group of p ranks is taken to take seconds / p. A run adds its start and the
 * assembly of the results file, `assembly` seconds per cell of the sweep, measured by
 * bench/calibrate.sh as the CPU time of rerunning the finished calibration sweep. `plan` feeds these times to its
 * scheduler simulation (w2_plan_simulate), so its estimate is the makespan of the runner's
 * packing of jobs onto ranks, not a sum divided by ranks. CPU time is fitted because wall
 * time on a shared machine includes other users' load: the estimate is the wall time of an
 * unloaded machine, one core per rank.
 *
 * Transformer jobs get a model of their own: their FLOP rate, per-step and fixed costs differ
 * from the MLPs' (bench/throughput_text.cfg, fitted on a text sweep; INSTALL.md). A file says
 * which family's jobs it was fitted on, and `plan` reads the sweep's family's default.
 *
 * File format (libconfig, every key required but `family`):
 *   machine = "...";  date = "YYYY-MM-DD";  source = "what was measured";  jobs = N;
 *   family = "mlp" | "transformer";   (optional; absent = "mlp", files from before it)
 *   seconds_per_job = { pretrain = s; weak = s; ceiling = s; cell = s; };
 *   seconds_per_gflop = s;  seconds_per_kstep = s;  seconds_per_mact = s;
 *   seconds_per_probe_gflop = s;  seconds_per_cell_assembled = s;
 * Every number finite and >= 0 (a negative or missing one is refused naming file and line). */
#ifndef W2_THROUGHPUT_H
#define W2_THROUGHPUT_H

#include "plan.h"
#include "spec.h"

typedef struct W2Throughput {
  char machine[160], date[32], source[256];
  int njobs;         /* jobs the fit used */
  int family;        /* W2Family of the jobs it was fitted on */
  double job[4];     /* fixed seconds per job, by W2JobType */
  double flop;       /* seconds per FLOP */
  double step;       /* seconds per optimizer step */
  double act;        /* seconds per activation (W2Work.act) */
  double fit;        /* seconds per FLOP of probe solves (W2Work.probe) */
  double assembly;   /* seconds per cell of a run's start and its results file's assembly
                        on rank 0 (after the last job; a finished sweep's rerun is only this) */
} W2Throughput;

W2Err w2_throughput_load(const char *path, W2Throughput *t);
W2Err w2_throughput_save(const char *path, const W2Throughput *t);
/* Seconds job j takes on one rank (on a group of p ranks, about this / p). */
double w2_throughput_seconds(const W2Throughput *t, const W2Job *j);
/* Fits t's coefficients to measured seconds (secs[i] < 0: job i not measured; a group's
 * seconds count times its ranks) by
 * non-negative least squares (exact: every subset of coefficients is tried) with residuals
 * weighted by 1 / seconds, so that neither the many small jobs nor the few long ones decide
 * alone; machine, date and source are left to the caller. W2_ERR_DATA when fewer than
 * 2 * (coefficients) jobs were measured. */
W2Err w2_throughput_fit(const W2Plan *p, const double *secs, W2Throughput *t);

#endif
