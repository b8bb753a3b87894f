/* test_health.c — the known-answer checks of health.h.
 * 1. (a) counts a weak size only where its PGR is defined, by the same rule as every cell's
 *    (w2_pgr_guarded: a gap of at least max(1 point, 2 paired SE)). Regression: with 100
 *    labelled rows a weak size 1.5 points below the ceiling with a 1-point SE gave the
 *    ground-truth student a PGR of 0.67 from half a point of finetuning noise, and the
 *    Fashion-MNIST sweep's check failed on it (mean 0.86 here).
 * 2. (e) the ceiling's rise from the smallest strong size (by parameters, not list order) to
 *    the largest, per seed: reported only without checks.min_ceiling_rise, a pass or a
 *    failure of the whole sweep with it, absent with one strong size; and what `run` prints,
 *    including (c)'s note on a supervisor above the ceiling.
 * 3. (f) the pretrained ceiling of the largest strong size minus its untrained control, per
 *    seed: no row without checks.pretrain_control, reported only without
 *    checks.min_pretrain_gain, a pass or a failure of the sweep with it, seeds without a
 *    control left out, and the verdict lines naming (f). */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "spec.h"
#include "sweepcfg.h"
#include "testutil.h"

/* A sweep of sizes w4, w8, ... (nsizes), 3 seeds, weak w4, the given strong sizes, naive,
 * checks without noise supervisors, pgr_tol 0.1, no min_ceiling_rise. */
static void sweep_setup(W2Sweep *S, int nsizes, const char **strong, int nstrong) {
  w2t_tiny_world(S, nsizes);
  S->nseeds = 3;
  for (int i = 0; i < 3; i++) S->seeds[i] = (uint64_t)i;
  S->nweak = 1;
  snprintf(S->weak[0], W2_NAME_MAX, "w4");
  S->nstrong = nstrong;
  for (int i = 0; i < nstrong; i++) snprintf(S->strong[i], W2_NAME_MAX, "%s", strong[i]);
  S->nmethods = 1;
  w2_method_defaults(&S->methods[0], W2_M_NAIVE);
  snprintf(S->methods[0].name, W2_NAME_MAX, "naive");
  S->checks.enabled = 1;
  S->checks.nnoise = 0;
  S->checks.pgr_tol = 0.1;
  S->checks.min_ceiling_rise = NAN;
}

static const W2HealthRow *row_of(const W2HealthRow *r, int n, const char *check) {
  for (int i = 0; i < n; i++)
    if (!strcmp(r[i].check, check)) return &r[i];
  return NULL;
}

static char *printed(const W2HealthRow *rows, int n, int passed) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  w2_health_print(f, rows, n, passed);
  fclose(f);
  return buf;
}

/* With a bar set on S: computes the table of n cells, checks that row `check` and the sweep
 * both get verdict `want` (1 pass, 0 fail) against bar `ref`, and that what `run` prints
 * holds `text` and, unless NULL, `text2`. */
static void expect_verdict(const W2Sweep *S, const W2HealthCell *c, int n, const char *check,
                           double ref, int want, const char *text, const char *text2) {
  W2HealthRow *rows = NULL;
  int nrows = 0, passed = -1;
  W2T_OK(w2_health_compute(S, c, n, &rows, &nrows, &passed));
  const W2HealthRow *r = row_of(rows, nrows, check);
  W2T_CHECK(r && r->pass == want && r->ref == ref && passed == want,
            "%s against %g: row %d, sweep %d, want %d", check, ref, r ? r->pass : -9, passed,
            want);
  char *txt = printed(rows, nrows, passed);
  W2T_CHECK(strstr(txt, text) && (!text2 || strstr(txt, text2)), "%s against %g prints '%s'%s%s",
            check, ref, text, text2 ? " and " : "", text2 ? text2 : "");
  free(txt);
  free(rows);
}

static void test_rise(void) {
  static W2Sweep S;
  /* sizes w4, w8, w16; strong listed largest first: (e) goes by parameters */
  sweep_setup(&S, 3, (const char *[]){"w16", "w8"}, 2);
  /* ceilings w8 0.70 / 0.72 / 0.71, w16 0.85 / 0.80 / 0.84: rises 15, 8, 13 points, mean 12;
   * the GT student reproduces the w16 ceiling, so (a) and (b) pass */
  const double c8[3] = {0.70, 0.72, 0.71}, c16[3] = {0.85, 0.80, 0.84};
  W2HealthCell c[9];
  for (int sd = 0; sd < 3; sd++) {
    unsigned long long u = (unsigned long long)sd;
    c[3 * sd] = (W2HealthCell){"lin", "check_gt", "w16", "naive", u, 1.0, c16[sd], c16[sd], NAN,
                                   NAN};
    c[3 * sd + 1] = (W2HealthCell){"lin", "w4", "w16", "naive", u, 0.60, c16[sd], 0.70, 0.01,
                                   NAN};
    c[3 * sd + 2] = (W2HealthCell){"lin", "w4", "w8", "naive", u, 0.60, c8[sd], 0.65, 0.01,
                                   NAN};
  }
  W2HealthRow *rows = NULL;
  int nrows = 0, passed = -1;
  W2T_OK(w2_health_compute(&S, c, 9, &rows, &nrows, &passed));
  const W2HealthRow *e = row_of(rows, nrows, "e_ceiling_rise");
  W2T_CHECK(e != NULL, "an (e) row with two strong sizes (%d rows)", nrows);
  if (e) {
    W2T_CHECK(!strcmp(e->supervisor, "w8") && !strcmp(e->method, "w16"),
              "(e) is w16 minus w8, the smallest by parameters (%s, %s)", e->supervisor,
              e->method);
    W2T_CHECK(e->n == 3 && fabs(e->mean - 12.0) < 1e-9, "(e) mean 12 points over 3 seeds (%d, %g)",
              e->n, e->mean);
    /* t(0.975, 2) = 4.303, SD of (15, 8, 13) = 3.606: half-width 8.957 */
    W2T_CHECK(fabs(e->hi - e->mean - 8.957) < 1e-3, "(e) 95 %% half-width 8.957 (%g)",
              e->hi - e->mean);
    W2T_CHECK(e->pass == -1 && isnan(e->ref), "(e) reported only without min_ceiling_rise");
  }
  W2T_CHECK(passed == 1, "(a) and (b) pass, (e) does not count (%d)", passed);
  char *txt = printed(rows, nrows, passed);
  W2T_CHECK(strstr(txt, "known-answer checks (a) and (b) pass") != NULL, "prints (a) and (b) pass");
  free(txt);
  free(rows);

  /* 12 >= 10 passes; 12 < 12.5 fails the sweep, and the warning names (e) */
  S.checks.min_ceiling_rise = 10;
  expect_verdict(&S, c, 9, "e_ceiling_rise", 10, 1, "(a), (b) and (e) pass", "pass (want >= 10)");
  S.checks.min_ceiling_rise = 12.5;
  expect_verdict(&S, c, 9, "e_ceiling_rise", 12.5, 0,
                 "WARNING: known-answer checks (a)/(b)/(e) FAILED", NULL);
  /* (c)'s note says where the supervisor is: a 20 %-noise supervisor (80 %) over a 60 %
   * ceiling is 20 points above it, not "-20 points below" */
  W2HealthRow cm[2];
  memset(cm, 0, sizeof cm);
  snprintf(cm[0].task, sizeof cm[0].task, "lin");
  snprintf(cm[0].check, sizeof cm[0].check, "c_margin");
  cm[0].pass = cm[1].pass = -1;
  cm[0].ref = -20.0;
  cm[1] = cm[0];
  cm[1].ref = 12.5;
  txt = printed(cm, 2, -1);
  W2T_CHECK(strstr(txt, "supervisor 20.0 points above the ceiling") &&
                strstr(txt, "supervisor 12.5 points below the ceiling") && !strstr(txt, "-20.0"),
            "(c) says above / below with a positive number");
  free(txt);

  /* a seed without the w8 ceiling (its cell failed) counts only the seeds with both */
  c[5].ceiling_acc = NAN;
  W2T_OK(w2_health_compute(&S, c, 9, &rows, &nrows, &passed));
  e = row_of(rows, nrows, "e_ceiling_rise");
  W2T_CHECK(e && e->n == 2 && fabs(e->mean - 14.0) < 1e-9, "seeds 0 and 2 only: mean 14 (%g)",
            e ? e->mean : NAN);
  W2T_CHECK(passed == 1, "14 >= 12.5 passes (%d)", passed);
  free(rows);
}

static void test_gain(void) {
  static W2Sweep S;
  sweep_setup(&S, 2, (const char *[]){"w8"}, 1); /* sizes w4, w8: no (e) row */
  /* w8's ceiling 0.90 in every seed; trained from init 0.80 / 0.86 / 0.82: gains 10, 4, 8 */
  const double init[3] = {0.80, 0.86, 0.82};
  W2HealthCell c[6];
  for (int sd = 0; sd < 3; sd++) {
    unsigned long long u = (unsigned long long)sd;
    c[2 * sd] = (W2HealthCell){"lin", "check_gt", "w8", "naive", u, 1.0, 0.90, 0.90, NAN, init[sd]};
    c[2 * sd + 1] = (W2HealthCell){"lin", "w4", "w8", "naive", u, 0.60, 0.90, 0.80, 0.01, NAN};
  }
  W2HealthRow *rows = NULL;
  int nrows = 0, passed = -1;
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  W2T_CHECK(!row_of(rows, nrows, "f_pretrain_gain"), "no (f) row without pretrain_control");
  free(rows);

  S.checks.pretrain_control = 1;
  S.checks.min_pretrain_gain = NAN;
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  const W2HealthRow *f = row_of(rows, nrows, "f_pretrain_gain");
  W2T_CHECK(f != NULL, "an (f) row with pretrain_control (%d rows)", nrows);
  if (f) {
    W2T_CHECK(!strcmp(f->supervisor, "init") && !strcmp(f->method, "w8"),
              "(f) is w8 minus its control (%s, %s)", f->supervisor, f->method);
    W2T_CHECK(f->n == 3 && fabs(f->mean - 22.0 / 3) < 1e-9, "(f) mean 22/3 points (%d, %g)",
              f->n, f->mean);
    /* SD of (10, 4, 8) = 3.055, t(0.975, 2) = 4.303: half-width 7.589 */
    W2T_CHECK(fabs(f->hi - f->mean - 7.589) < 1e-3, "(f) 95 %% half-width 7.589 (%g)",
              f->hi - f->mean);
    W2T_CHECK(f->pass == -1 && isnan(f->ref), "(f) reported only without min_pretrain_gain");
  }
  W2T_CHECK(passed == 1, "(a) and (b) pass, (f) does not count (%d)", passed);
  char *txt = printed(rows, nrows, passed);
  W2T_CHECK(strstr(txt, "known-answer checks (a) and (b) pass") &&
                strstr(txt, "f: that ceiling minus the same training from initialisation"),
            "prints (a) and (b) pass and explains (f)");
  free(txt);
  free(rows);

  /* 7.33 >= 7 passes; 7.33 < 8 fails the sweep, and the warning names (f) */
  S.checks.min_pretrain_gain = 7;
  expect_verdict(&S, c, 6, "f_pretrain_gain", 7, 1, "known-answer checks (a), (b) and (f) pass",
                 "pass (want >= 7)");
  S.checks.min_pretrain_gain = 8;
  expect_verdict(&S, c, 6, "f_pretrain_gain", 8, 0,
                 "WARNING: known-answer checks (a)/(b)/(f) FAILED", NULL);

  /* seed 1 without its control (the job failed): seeds 0 and 2, gains 10 and 8 */
  c[2].ceiling_init_acc = NAN;
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  f = row_of(rows, nrows, "f_pretrain_gain");
  W2T_CHECK(f && f->n == 2 && fabs(f->mean - 9.0) < 1e-9 && passed == 1,
            "seeds 0 and 2 only: mean 9 passes 8 (%g, %d)", f ? f->mean : NAN, passed);
  free(rows);
}

int main(void) {
  static W2Sweep S;
  sweep_setup(&S, 2, (const char *[]){"w8"}, 1); /* sizes w4, w8 */

  /* the GT student is half a point below the ceiling (0.90) in every seed; the weak size is
   * 10 points below in seeds 0 and 2 (SE 1 point: PGR 0.95) and 1.5 points below in seed 1
   * (SE 1 point: 2 SE = 2 points > 1.5, undefined; the old 1-point floor gave 0.67) */
  const double weak[3] = {0.80, 0.885, 0.80};
  W2HealthCell c[6];
  for (int sd = 0; sd < 3; sd++) {
    c[2 * sd] = (W2HealthCell){"lin", "check_gt", "w8", "naive", (unsigned long long)sd,
                               1.0, 0.90, 0.895, NAN, NAN};
    c[2 * sd + 1] = (W2HealthCell){"lin", "w4", "w8", "naive", (unsigned long long)sd,
                                   weak[sd], 0.90, 0.87, 0.01, NAN};
  }
  W2HealthRow *rows = NULL;
  int nrows = 0, passed = -1;
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  const W2HealthRow *a = NULL, *b = NULL;
  for (int i = 0; i < nrows; i++) {
    if (!strcmp(rows[i].check, "a_gt_pgr")) a = &rows[i];
    if (!strcmp(rows[i].check, "b_gt_minus_ceiling")) b = &rows[i];
  }
  W2T_CHECK(a && b, "rows (a) and (b) exist (%d rows)", nrows);
  if (a && b) {
    W2T_CHECK(a->n == 2, "(a) counts the 2 defined pairs, not the noise-sized one (n = %d)", a->n);
    W2T_CHECK(fabs(a->mean - 0.95) < 1e-9, "(a) mean 0.95 (%.4f)", a->mean);
    W2T_CHECK(a->pass == 1, "(a) passes (|0.95 - 1| <= 0.1)");
    W2T_CHECK(b->n == 3 && fabs(b->mean + 0.5) < 1e-9 && b->pass == 1,
              "(b) -0.5 points over 3 seeds passes (n %d, mean %.3f)", b->n, b->mean);
    W2T_CHECK(passed == 1, "the sweep passes its checks (%d)", passed);
  }
  free(rows);

  /* an unknown SE (NaN: an older results file) falls back to the 1-point floor */
  for (int sd = 0; sd < 3; sd++) c[2 * sd + 1].gap_se = NAN;
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  for (int i = 0; i < nrows; i++)
    if (!strcmp(rows[i].check, "a_gt_pgr"))
      W2T_CHECK(rows[i].n == 3 && rows[i].pass == 0,
                "with no SE the 1.5-point pair counts (n %d) and (a) fails (mean %.3f)",
                rows[i].n, rows[i].mean);
  free(rows);
  W2T_OK(w2_health_compute(&S, c, 6, &rows, &nrows, &passed));
  for (int i = 0; i < nrows; i++)
    W2T_CHECK(strcmp(rows[i].check, "e_ceiling_rise") != 0, "no (e) row with one strong size");
  free(rows);
  test_rise();
  test_gain();
  return w2t_summary();
}
