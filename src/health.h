/* health.h — the known-answer checks of a sweep (spec.h W2CheckSpec), computed from its
 * cells: numbers that must come out right before any other number of the sweep is read
 * as a result.
 *
 * With `checks` in the sweep file the runner adds synthetic supervisors check_gt (ground
 * truth: the same labels the ceiling trains on) and check_uNN (ground truth with NN % of
 * the labels flipped uniformly at random), trained into the largest strong size L with the
 * first naive and the first conf method. Per task, over seeds (95 % t-intervals):
 *   (a) a_gt_pgr          PGR of the check_gt student measured against every trained weak
 *                         size w of the sweep: (student_gt - weak_w) / (ceiling - weak_w),
 *                         only where that PGR is defined as everywhere else
 *                         (w2_pgr_guarded: a gap of at least max(1 point, 2 paired SE),
 *                         the SE from the (w, L) naive cell). Passes when the mean is
 *                         within pgr_tol of 1.
 *   (b) b_gt_minus_ceil   student_gt - ceiling, in points: the student code path on ground
 *                         truth reproduces the ceiling. Passes when |mean| <= max(1 point,
 *                         the interval's half-width).
 *   (c) c_margin          student - supervisor (test accuracy, points) for each check_uNN,
 *                         naive and conf: the sweep's noise-robustness figure; reported
 *                         whatever it is (pass = -1), `beaten` = interval above 0.
 *   (d) d_conf_minus_naive conf - naive student accuracy on each check_uNN (points).
 *   (e) e_ceiling_rise    ceiling of L minus the ceiling of the smallest strong size S (by
 *                         parameters), points, per seed (seeds with both): does the ladder
 *                         give a weak supervisor anything to elicit? `supervisor` holds S's
 *                         name and `method` L's; ref is checks.min_ceiling_rise. Passes when
 *                         the mean is at least that; reported only (pass = -1, ref NaN)
 *                         without it. No row when S is L (one strong size).
 *   (f) f_pretrain_gain   ceiling of L minus L's ceiling trained the same way from its
 *                         initialisation, untrained (checks.pretrain_control; the job
 *                         ceiling/<task>/s<seed>/<L>/init), points, per seed: how much of the
 *                         ceiling pretraining gave. A rise along the ladder (e) can come
 *                         from width alone (bench/TEXT_GAP.md); (f) says whether the strong
 *                         model knows anything its architecture does not. `supervisor` is
 *                         "init", `method` L's name, ref checks.min_pretrain_gain; passes
 *                         when the mean is at least that, reported only without it. No row
 *                         without checks.pretrain_control.
 * A sweep "passes" when every (a) and (b) row passes, every (e) row where
 * checks.min_ceiling_rise is set and every (f) row where checks.min_pretrain_gain is set;
 * figures and tables of a sweep that does not are flagged (results/SCHEMA.md,
 * /health@passed). */
#ifndef W2_HEALTH_H
#define W2_HEALTH_H

#include <hdf5.h>
#include <stdio.h>

#include "error.h"
#include "spec.h"

/* One cell's numbers, as the health table needs them. */
typedef struct W2HealthCell {
  const char *task, *weak, *strong, *method;
  unsigned long long seed;
  double weak_acc, ceiling_acc, student_acc;
  double gap_se; /* paired SE of ceiling - weak, as a fraction (NaN: unknown) */
  double ceiling_init_acc; /* (f): the ceiling of `strong` trained from initialisation
                              (NaN or absent: none; read only with checks.pretrain_control) */
} W2HealthCell;

#define W2_HEALTH_NAME 32
typedef struct W2HealthRow {
  char task[W2_HEALTH_NAME], check[W2_HEALTH_NAME], supervisor[W2_HEALTH_NAME],
      method[W2_HEALTH_NAME];
  double mean, lo, hi;   /* value and its 95 % t-interval over the values (points or PGR) */
  int n;                 /* values (seeds x weak sizes for a, seeds otherwise) */
  int pass;              /* 1 pass, 0 fail, -1 reported only (c, d, or no data) */
  double ref;            /* c: supervisor's test accuracy below the ceiling (points);
                            e: checks.min_ceiling_rise, f: checks.min_pretrain_gain
                            (NaN: not set) */
  int beaten;            /* c: interval above 0 */
} W2HealthRow;

/* Computes the table from n cells. *rows is allocated (free it); *passed = 1 when every
 * (a) and (b) row with data passes, and every (e) and (f) row with data and a bar; 0 rows
 * and *passed = -1 without checks. */
W2Err w2_health_compute(const W2Sweep *s, const W2HealthCell *cells, int n, W2HealthRow **rows,
                        int *nrows, int *passed);
/* Writes /health (a table of W2HealthRow) with attribute passed into the open file f. */
W2Err w2_health_write(hid_t f, const char *file, const W2HealthRow *rows, int n, int passed);
/* The table as text (the end of `run` and `merge`). */
void w2_health_print(FILE *out, const W2HealthRow *rows, int n, int passed);
/* Reads /health of a results file and prints it; nothing when the file has none. */
W2Err w2_health_print_file(FILE *out, const char *h5path);

/* Mean and 95 % t-interval half-width of the finite values of v[0..n) (half = NaN with
 * fewer than 2); returns how many were finite. */
int w2_mean_ci95(const double *v, int n, double *mean, double *half);

#endif
