/* summary.h — the sweep's result table: for every (task, weak, strong, method), the mean
 * over seeds and the 95 % t-interval (health.h w2_mean_ci95) of the weak supervisor's, the
 * ceiling's and the student's test accuracy and of PGR. `run` and `merge` store it as the
 * results file's /intervals (results/SCHEMA.md) and print it from there, so a Slurm user who
 * only ever sees `merge` gets the same numbers as an mpirun user, and the figures
 * (analysis/plots.py) draw these intervals rather than recomputing them.
 *
 * Undefined PGRs (NaN, pipeline.h w2_pgr_guarded) never enter the PGR interval: n_pgr says
 * how many of the n_seeds did. An interval needs two values: lo = hi = NaN with one. */
#ifndef W2_SUMMARY_H
#define W2_SUMMARY_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "spec.h"

/* One cell's numbers, as the table needs them (strings are borrowed). */
typedef struct W2SummaryCell {
  const char *task, *weak, *strong, *method;
  double weak_acc, ceiling_acc, student_acc, pgr;
} W2SummaryCell;

#define W2_SUMMARY_NAME 32
typedef struct W2SummaryRow {
  char task[W2_SUMMARY_NAME], weak_size[W2_SUMMARY_NAME], strong_size[W2_SUMMARY_NAME],
      method[W2_SUMMARY_NAME];
  int32_t n_seeds, n_pgr; /* cells behind the row; those with a defined PGR */
  int32_t oracle;         /* 1: the method reads the test split (es_gt_oracle) */
  /* accuracies are fractions in [0, 1], like /summary; each with its 95 % interval */
  double weak_acc, weak_acc_lo, weak_acc_hi;
  double ceiling_acc, ceiling_acc_lo, ceiling_acc_hi;
  double student_acc, student_acc_lo, student_acc_hi;
  double pgr, pgr_lo, pgr_hi;
} W2SummaryRow;

/* The table of n cells, one row per distinct (task, weak, strong, method) in the order of
 * first appearance (assembly is in plan order, so the table is too). *rows is allocated
 * (free it); n = 0 gives no rows. O(n log n). s names the oracle methods. */
W2Err w2_summary_compute(const W2Sweep *s, const W2SummaryCell *cells, int n,
                         W2SummaryRow **rows, int *nrows);
/* Writes /intervals (a table of W2SummaryRow) into the open file f. */
W2Err w2_summary_write(hid_t f, const char *file, const W2SummaryRow *rows, int n);
/* The table as text (accuracies in %, ± the interval's half-width). */
void w2_summary_print(FILE *out, const W2SummaryRow *rows, int n);
/* Reads /intervals of a results file and prints it; nothing when the file has none. */
W2Err w2_summary_print_file(FILE *out, const char *h5path);
/* Reads /intervals: *rows allocated (free it), *n = 0 when the file has none. */
W2Err w2_summary_read(const char *h5path, W2SummaryRow **rows, int *n);

#endif
