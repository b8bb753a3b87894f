/* test_pgr_guard.c — PGR only where it means something, and curves from the first steps
 * (issue 11 items 6-7, issue 14 item 1):
 *   w2_pgr_guarded: NaN with the reason below max(1 point, 2 SE) or for a negative gap;
 *   w2_paired_acc_diff_se: the standard error of a paired accuracy difference;
 *   a cell on a tiny world stores gap, gap_se and pgr_status consistently, and a ground-truth
 *   supervisor (gap < 0) gets no PGR;
 *   regression: stages shorter than eval_points steps are evaluated after every step, with
 *   real accuracies (before: every accuracy stored as 0, PGR NaN, exit 0). */
#include <math.h>
#include <mpi.h>
#include <string.h>

#include "pipeline.h"
#include "testutil.h"

static void test_guard(void) {
  const char *why = "unset";
  double p = w2_pgr_guarded(0.60, 0.70, 0.80, 0.01, &why);
  W2T_CHECK(fabs(p - 0.5) < 1e-12 && !strcmp(why, ""), "20-point gap: PGR 0.5 (%g, '%s')", p, why);
  p = w2_pgr_guarded(0.700, 0.72, 0.708, 0.001, &why);
  W2T_CHECK(isnan(p) && !strcmp(why, "gap_below_noise"), "0.8-point gap < 1 point: NaN (%s)", why);
  p = w2_pgr_guarded(0.70, 0.72, 0.73, 0.02, &why);
  W2T_CHECK(isnan(p) && !strcmp(why, "gap_below_noise"), "3-point gap < 2 SE = 4: NaN (%s)", why);
  p = w2_pgr_guarded(0.70, 0.72, 0.75, 0.02, &why);
  W2T_CHECK(fabs(p - 0.4) < 1e-12 && !strcmp(why, ""), "5-point gap > 2 SE: PGR 0.4 (%g)", p);
  p = w2_pgr_guarded(0.80, 0.85, 0.70, 0.001, &why);
  W2T_CHECK(isnan(p) && !strcmp(why, "negative_gap"), "negative gap: NaN (%s)", why);
  p = w2_pgr_guarded(0.70, 0.71, 0.72, NAN, &why);
  W2T_CHECK(fabs(p - 0.5) < 1e-12, "unknown SE: the 1-point floor alone (%g)", p);
  W2T_CHECK(isnan(w2_pgr_guarded(0.7, 0.7, 0.7, 0.0, &why)) && !strcmp(why, "gap_below_noise"),
            "no gap: NaN");

  /* a right on rows 0-2, b on row 0: d = 0 1 1 0, mean 1/2, sample var 1/3, se sqrt(1/12) */
  const float y[4] = {1, 0, 1, 0}, a[4] = {0.9f, 0.2f, 0.7f, 0.6f}, b[4] = {0.8f, 0.9f, 0.1f, 0.7f};
  double se = w2_paired_acc_diff_se(a, b, y, 4);
  W2T_CHECK(fabs(se - sqrt(1.0 / 12)) < 1e-12, "paired SE %g vs %g", se, sqrt(1.0 / 12));
  W2T_CHECK(w2_paired_acc_diff_se(a, a, y, 4) == 0.0, "a model against itself: SE 0");
  W2T_CHECK(isnan(w2_paired_acc_diff_se(a, b, y, 1)), "one row: SE undefined");
}

static W2Sweep S;

/* A tiny world whose stages are shorter than eval_points: 40 rows at batch 16 for one
 * epoch is 3 steps, with 10 evaluation points asked for. */
static void tiny_sweep(void) {
  w2t_tiny_world(&S, 2);
  S.split.n_a = 40;
  S.split.n_b = 40;
  S.split.n_test = 200;
  S.pretrain.min_examples = 256;
  S.pretrain.max_examples = 512;
  S.pretrain.hyper.epochs = 2;
  S.finetune.epochs = 1;
  S.finetune.batch = 16;
  S.eval_points = 10;
  S.nsupervisors = 1;
  snprintf(S.supervisors[0].name, W2_NAME_MAX, "truth");
  S.supervisors[0].kind = W2_SUP_UNIFORM;
  S.supervisors[0].error_rate = 0.0;
  S.supervisors[0].confidence = 0.9;
}

static void test_cells(void) {
  tiny_sweep();
  W2Grid *g;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2Pipeline *p;
  W2T_OK(w2_pipeline_create(&S, g, "", &p));
  W2TaskData *td;
  W2T_OK(w2_task_data_create(&S, w2_pipeline_world(p), &S.tasks[0], 1, &td));
  W2MethodSpec m;
  memset(&m, 0, sizeof m);
  snprintf(m.name, W2_NAME_MAX, "naive");
  m.kind = W2_M_NAIVE;
  m.window_radius = -1;
  W2CellResult c;
  memset(&c, 0, sizeof c);
  W2T_OK(w2_pipe_cell(p, &S.tasks[0], td, 1, "w4", &S.sizes[1], &m, &c));
  /* 3 steps, 10 points asked: one point per step, each with a real accuracy */
  W2T_CHECK(c.curve.n == 3, "curve of a 3-step stage has 3 points (%d)", c.curve.n);
  int steps_ok = c.curve.n == 3, acc_ok = c.curve.n > 0;
  for (int k = 0; k < c.curve.n && k < 3; k++) {
    steps_ok = steps_ok && c.curve.v[W2_C_STEP][k] == k + 1;
    acc_ok = acc_ok && c.curve.v[W2_C_ACC][k] > 0.2;
  }
  W2T_CHECK(steps_ok, "evaluated after steps 1, 2, 3");
  W2T_CHECK(acc_ok, "every curve point has a measured accuracy");
  W2T_CHECK(c.weak_acc > 0.2 && c.ceiling_acc > 0.2 && c.student_acc > 0.2,
            "weak %g, ceiling %g, student %g are measured, not 0", c.weak_acc, c.ceiling_acc,
            c.student_acc);
  W2T_CHECK(c.selected_point == c.curve.n - 1, "final point is the last one made (%d)",
            c.selected_point);
  /* the stored gap, its SE and the guard agree with w2_pgr_guarded */
  const char *why;
  double want = w2_pgr_guarded(c.weak_acc, c.student_acc, c.ceiling_acc, c.gap_se / 100, &why);
  W2T_CHECK(fabs(c.gap - 100 * (c.ceiling_acc - c.weak_acc)) < 1e-9, "gap in points %g", c.gap);
  W2T_CHECK(c.gap_se > 0 && c.gap_se < 10, "gap SE %g points", c.gap_se);
  W2T_CHECK(!strcmp(c.pgr_status, why) && (isnan(c.pgr) ? isnan(want) : c.pgr == want),
            "PGR %g / status '%s' as the guard says (%g, '%s')", c.pgr, c.pgr_status, want, why);
  w2_cell_result_clear(&c);

  /* a ground-truth supervisor beats any ceiling: negative gap, no PGR */
  W2T_OK(w2_pipe_cell(p, &S.tasks[0], td, 1, "truth", &S.sizes[1], &m, &c));
  W2T_CHECK(c.weak_acc == 1.0 && c.gap < 0, "supervisor = truth: gap %g points", c.gap);
  W2T_CHECK(isnan(c.pgr) && isnan(c.pgr_best) && !strcmp(c.pgr_status, "negative_gap"),
            "negative gap: PGR %g, status '%s'", c.pgr, c.pgr_status);
  w2_cell_result_clear(&c);
  w2_task_data_destroy(&td);
  w2_pipeline_destroy(&p);
  w2_grid_destroy(&g);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  test_guard();
  test_cells();
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
