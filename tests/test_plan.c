/* test_plan.c — plan's time model, deterministically (its accuracy is a benchmark,
 * bench/RESULTS.md "plan vs measured"; no test here times anything):
 *   - the shipped calibrations parse, with a machine and a date: bench/throughput.cfg
 *     (family mlp, also a file without the key) and bench/throughput_text.cfg (transformer);
 *   - job seconds grow with width, depth, input columns, epochs and evaluation points;
 *   - the simulated makespan: one rank = the sum, N ranks between the lower bound and the
 *     sum, jobs already done take no time, more ranks never take longer;
 *   - the fit recovers known coefficients, refuses too few jobs; save/load round trip;
 *   - bad calibration files (syntax, missing key, negative, not a number, a family that is
 *     neither mlp nor transformer) are refused
 *     with one line naming the file (and the line);
 *   - transformer sizes (texttask.h) are priced with the transformer's own accounting:
 *     pretraining w2_xf_step_flops (LM head) x steps, finetuning w2_xf_step_flops (CLS
 *     head) x steps + evaluation forwards, memory w2_xf_train_bytes;
 *   - check (f)'s control ceilings: appended, independent, priced, sharded. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "plan.h"
#include "pipeline.h" /* W2Start */
#include "pretrain.h"
#include "scheduler.h" /* w2_plan_shard */
#include "sweepcfg.h"
#include "testutil.h"
#include "texttask.h"
#include "throughput.h"

#define DIR "plantest"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  W2T_CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A small built-in sweep: sizes w<a> and w<b> (depth), `epochs` of finetuning, input_dim d,
 * eval_points ev; weak w<a>, strong w<b>. */
static int build(int a, int b, int depth, double epochs, int d, int ev, W2Sweep *s, W2Plan **p) {
  char text[2048], path[64];
  snprintf(path, sizeof path, DIR "/s.cfg");
  snprintf(text, sizeof text,
           "name = \"t\"; seeds = [0, 1];\n"
           "world = { latent_dim = 4; input_dim = %d; pretrain_targets = 16; };\n"
           "data = { n_a = 200; n_b = 300; n_test = 400; };\n"
           "tasks = ( \"linear\" );\n"
           "sizes = ( { name = \"wa\"; width = %d; depth = %d; },"
           " { name = \"wb\"; width = %d; depth = %d; } );\n"
           "weak = [\"wa\"]; strong = [\"wb\"];\n"
           "methods = ( \"naive\", \"lp_weak\" );\n"
           "pretrain = { epochs = 2.0; batch = 32; min_examples = 500; max_examples = 5000; };\n"
           "finetune = { epochs = %g; batch = 16; head_init = \"probe\"; };\n"
           "eval_points = %d;\n",
           d, a, depth, b, depth, epochs, ev);
  write_file(path, text);
  *p = NULL;
  int e = w2_sweep_load(path, s);
  W2T_CHECK(e == 0, "load: %s", w2_error_message());
  if (e) return e;
  e = w2_plan_build(s, p);
  W2T_CHECK(e == 0, "plan: %s", w2_error_message());
  if (e) w2_sweep_free(s);
  return e;
}

/* the sum of the seconds of the jobs of one type (all types for -1) */
static double seconds_of(const W2Throughput *t, const W2Plan *p, int type) {
  double s = 0;
  for (int i = 0; i < p->njobs; i++)
    if (type < 0 || (int)p->jobs[i].type == type) s += w2_throughput_seconds(t, &p->jobs[i]);
  return s;
}

typedef struct Variant {
  const char *what;
  int a, b, depth;
  double epochs;
  int d, ev;
  int types; /* bit mask of the job types that must take longer */
} Variant;

static void test_monotone(const W2Throughput *t) {
  const Variant base = {"base", 4, 16, 1, 2.0, 8, 2, 0};
  const Variant more[] = {
      {"wider strong size", 4, 32, 1, 2.0, 8, 2, 1 << W2_JOB_PRETRAIN | 1 << W2_JOB_CEILING | 1 << W2_JOB_CELL},
      {"deeper", 4, 16, 2, 2.0, 8, 2, 1 << W2_JOB_PRETRAIN | 1 << W2_JOB_CEILING | 1 << W2_JOB_CELL},
      {"more finetuning epochs", 4, 16, 1, 6.0, 8, 2, 1 << W2_JOB_WEAK | 1 << W2_JOB_CEILING | 1 << W2_JOB_CELL},
      {"more input columns", 4, 16, 1, 2.0, 64, 2, 0xf},
      {"more evaluation points", 4, 16, 1, 2.0, 8, 8, 1 << W2_JOB_WEAK | 1 << W2_JOB_CEILING | 1 << W2_JOB_CELL},
  };
  W2Sweep s0;
  W2Plan *p0;
  if (build(base.a, base.b, base.depth, base.epochs, base.d, base.ev, &s0, &p0)) return;
  for (size_t v = 0; v < sizeof more / sizeof more[0]; v++) {
    const Variant *m = &more[v];
    W2Sweep s1;
    W2Plan *p1;
    if (build(m->a, m->b, m->depth, m->epochs, m->d, m->ev, &s1, &p1)) continue;
    W2T_CHECK(p1->njobs == p0->njobs, "%s: %d jobs, base %d", m->what, p1->njobs, p0->njobs);
    for (int k = 0; k < 4; k++) {
      double s_0 = seconds_of(t, p0, k), s_1 = seconds_of(t, p1, k);
      if (m->types >> k & 1)
        W2T_CHECK(s_1 > s_0, "%s: job type %d takes %g s, base %g s", m->what, k, s_1, s_0);
      else
        W2T_CHECK(s_1 >= s_0 * (1 - 1e-12), "%s: job type %d takes %g s < base %g s", m->what, k,
                  s_1, s_0);
    }
    w2_plan_destroy(&p1);
    w2_sweep_free(&s1);
  }
  w2_plan_destroy(&p0);
  w2_sweep_free(&s0);
}

static void test_simulate(const W2Throughput *t) {
  W2Sweep s;
  W2Plan *p;
  if (build(4, 16, 2, 2.0, 8, 2, &s, &p)) return;
  double *sec = calloc((size_t)p->njobs, sizeof(double)), sum = 0, chain_max = 0;
  double *chain = calloc((size_t)p->njobs, sizeof(double));
  for (int i = 0; i < p->njobs; i++) {
    sec[i] = w2_throughput_seconds(t, &p->jobs[i]);
    W2T_CHECK(sec[i] > 0 && isfinite(sec[i]), "job %s: %g s", p->jobs[i].id, sec[i]);
    sum += sec[i];
    double before = 0;
    for (int d = 0; d < p->jobs[i].ndeps; d++) before = fmax(before, chain[p->jobs[i].deps[d]]);
    chain[i] = before + sec[i];
    chain_max = fmax(chain_max, chain[i]);
  }
  double one = w2_plan_simulate(p, 1, sec), prev = one;
  W2T_CHECK(fabs(one - sum) <= 1e-9 * sum, "one rank: makespan %g, sum %g", one, sum);
  for (int n = 2; n <= 8; n *= 2) {
    double m = w2_plan_simulate(p, n, sec);
    W2T_CHECK(m >= fmax(sum / n, chain_max) * (1 - 1e-12), "%d ranks: %g below the bound", n, m);
    W2T_CHECK(m <= prev * (1 + 1e-12), "%d ranks: %g s, more than %g on fewer", n, m, prev);
    prev = m;
  }
  /* pretraining already done (a warm cache): those jobs take no time */
  double cold = w2_plan_simulate(p, 2, sec), rest = 0;
  for (int i = 0; i < p->njobs; i++)
    if (p->jobs[i].type == W2_JOB_PRETRAIN) sec[i] = 0;
  for (int i = 0; i < p->njobs; i++) rest += sec[i];
  double warm = w2_plan_simulate(p, 2, sec);
  W2T_CHECK(warm < cold && warm >= rest / 2 * (1 - 1e-12),
            "warm cache: %g s on 2 ranks (cold %g, the rest's bound %g)", warm, cold, rest / 2);
  free(sec);
  free(chain);
  w2_plan_destroy(&p);
  w2_sweep_free(&s);
}

static void test_fit(void) {
  W2Sweep s[3];
  W2Plan *p[3];
  /* three sweeps of different widths, input columns and epochs, pooled as one plan's jobs */
  if (build(4, 16, 1, 2.0, 8, 2, &s[0], &p[0])) return;
  if (build(8, 64, 2, 5.0, 32, 4, &s[1], &p[1])) return;
  if (build(4, 128, 1, 3.0, 100, 3, &s[2], &p[2])) return;
  W2Plan all = {0};
  for (int k = 0; k < 3; k++) all.njobs += p[k]->njobs;
  all.jobs = calloc((size_t)all.njobs, sizeof(W2Job));
  double *sec = calloc((size_t)all.njobs, sizeof(double));
  for (int k = 0, n = 0; k < 3; k++)
    for (int i = 0; i < p[k]->njobs; i++) all.jobs[n++] = p[k]->jobs[i];
  W2Throughput truth = {.job = {0.5, 0.05, 0.1, 0.02}, .flop = 2e-10, .step = 3e-5, .act = 1e-8,
                        .fit = 5e-10};
  for (int i = 0; i < all.njobs; i++) sec[i] = w2_throughput_seconds(&truth, &all.jobs[i]);
  W2Throughput got;
  memset(&got, 0, sizeof got);
  W2T_OK(w2_throughput_fit(&all, sec, &got));
  double tc[8] = {truth.job[0], truth.job[1], truth.job[2], truth.job[3], truth.flop, truth.step,
                  truth.act, truth.fit};
  double gc[8] = {got.job[0], got.job[1], got.job[2], got.job[3], got.flop, got.step, got.act, got.fit};
  for (int k = 0; k < 8; k++)
    W2T_CHECK(fabs(gc[k] - tc[k]) <= 1e-6 * tc[k], "coefficient %d: fitted %g, true %g", k, gc[k], tc[k]);
  W2T_CHECK(got.njobs == all.njobs, "fitted %d jobs of %d", got.njobs, all.njobs);
  /* a coefficient that would come out negative is zero, the rest still fit the data */
  for (int i = 0; i < all.njobs; i++)
    sec[i] = w2_throughput_seconds(&truth, &all.jobs[i]) - 1e-9 * all.jobs[i].work.act;
  W2T_OK(w2_throughput_fit(&all, sec, &got));
  W2T_CHECK(got.flop >= 0 && got.step >= 0 && got.act >= 0 && got.fit >= 0 && got.job[0] >= 0,
            "negative coefficient: flop %g step %g act %g fit %g", got.flop, got.step, got.act, got.fit);
  /* too few measured jobs */
  for (int i = 0; i < all.njobs; i++) sec[i] = i < 5 ? 1.0 : -1;
  W2T_CHECK(w2_throughput_fit(&all, sec, &got) == W2_ERR_DATA, "5 jobs must be refused");
  W2T_CHECK(strstr(w2_error_message(), "5 jobs measured") != NULL, "message: %s", w2_error_message());
  w2_error_clear();
  /* save and load give the same model */
  snprintf(truth.machine, sizeof truth.machine, "test host: some CPU, 2 cores");
  snprintf(truth.date, sizeof truth.date, "2026-01-02");
  snprintf(truth.source, sizeof truth.source, "test_plan");
  truth.njobs = 77;
  truth.family = W2_FAMILY_TRANSFORMER;
  truth.assembly = 0.004;
  W2T_OK(w2_throughput_save(DIR "/rt.cfg", &truth));
  W2Throughput back;
  W2T_OK(w2_throughput_load(DIR "/rt.cfg", &back));
  W2T_CHECK(!strcmp(back.machine, truth.machine) && !strcmp(back.date, truth.date) &&
                back.njobs == 77 && back.family == W2_FAMILY_TRANSFORMER &&
                fabs(back.assembly - 0.004) < 1e-12,
            "round trip: [%s] [%s] %d", back.machine, back.date, back.njobs);
  for (int i = 0; i < all.njobs; i++) {
    double a = w2_throughput_seconds(&truth, &all.jobs[i]), b = w2_throughput_seconds(&back, &all.jobs[i]);
    if (fabs(a - b) > 1e-5 * a) {
      W2T_CHECK(0, "round trip: job %s %g s, saved model %g s", all.jobs[i].id, a, b);
      break;
    }
  }
  free(sec);
  free(all.jobs);
  for (int k = 0; k < 3; k++) {
    w2_plan_destroy(&p[k]);
    w2_sweep_free(&s[k]);
  }
}

static const char *GOOD =
    "machine = \"m\";\ndate = \"2026-01-01\";\nsource = \"s\";\njobs = 10;\n"
    "seconds_per_job = { pretrain = 0.1; weak = 0.1; ceiling = 0.1; cell = 0.1; };\n"
    "seconds_per_gflop = 1.0;\nseconds_per_kstep = 0.1;\nseconds_per_mact = 0.01;\n"
    "seconds_per_probe_gflop = 0.5;\nseconds_per_cell_assembled = 0.002;\n";

/* GOOD with `from` replaced by `to`, must fail naming `want` */
static void bad(const char *from, const char *to, const char *want) {
  char text[2048];
  const char *at = strstr(GOOD, from);
  W2T_CHECK(at != NULL, "test bug: %s", from);
  if (!at) return;
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
  write_file(DIR "/bad.cfg", text);
  W2Throughput t;
  W2Err e = w2_throughput_load(DIR "/bad.cfg", &t);
  W2T_CHECK(e == W2_ERR_CONFIG, "[%s] -> [%s]: error %d, want W2_ERR_CONFIG", from, to, e);
  W2T_CHECK(strstr(w2_error_message(), want) != NULL && strchr(w2_error_message(), '\n') == NULL,
            "[%s] -> [%s]: message '%s' should name '%s' on one line", from, to, w2_error_message(), want);
  w2_error_clear();
}

static void test_bad_files(void) {
  write_file(DIR "/good.cfg", GOOD);
  W2Throughput t;
  W2T_OK(w2_throughput_load(DIR "/good.cfg", &t));
  W2T_CHECK(fabs(t.flop - 1e-9) < 1e-20 && fabs(t.step - 1e-4) < 1e-15 && fabs(t.act - 1e-8) < 1e-18,
            "units: flop %g step %g act %g", t.flop, t.step, t.act);
  W2T_CHECK(t.family == W2_FAMILY_MLP, "a file without 'family' is an MLP model (%d)", t.family);
  bad("jobs = 10;", "jobs = 10; family = \"gpt\";", DIR "/bad.cfg:4: 'family' must be \"mlp\" or \"transformer\"");
  bad("jobs = 10;", "jobs = 10; family = 1;", DIR "/bad.cfg:4: 'family'");
  bad("seconds_per_gflop = 1.0;", "seconds_per_gflop = -1.0;", DIR "/bad.cfg:6: 'seconds_per_gflop'");
  bad("seconds_per_gflop = 1.0;", "", "'seconds_per_gflop' is missing");
  bad("cell = 0.1;", "cell = \"fast\";", DIR "/bad.cfg:5: 'cell' must be a number");
  bad("weak = 0.1;", "", "'weak' is missing");
  bad("seconds_per_kstep = 0.1;", "seconds_per_kstep = = 0.1;", DIR "/bad.cfg:7: syntax error");
  bad("machine = \"m\";", "", "'machine' is missing");
  bad("seconds_per_cell_assembled = 0.002;", "seconds_per_cell_assembled = 1e999;", DIR "/bad.cfg:");
  W2T_CHECK(w2_throughput_load(DIR "/none.cfg", &t) == W2_ERR_IO, "a missing file is W2_ERR_IO");
  W2T_CHECK(strstr(w2_error_message(), DIR "/none.cfg") != NULL, "message: %s", w2_error_message());
  w2_error_clear();
}

static void test_shipped(W2Throughput *t) {
  const char *src = getenv("W2SWEEP_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/bench/throughput.cfg", src ? src : "..");
  W2T_OK(w2_throughput_load(path, t));
  W2T_CHECK(t->machine[0] && strlen(t->date) == 10 && t->njobs > 0, "machine [%s] date [%s] jobs %d",
            t->machine, t->date, t->njobs);
  W2T_CHECK(t->flop > 0, "the shipped model must price FLOPs (%g s/FLOP)", t->flop);
  W2T_CHECK(t->family == W2_FAMILY_MLP, "bench/throughput.cfg is the MLP model (%d)", t->family);
  /* the transformer family's, fitted on a text sweep (INSTALL.md, 'Calibrating plan') */
  W2Throughput x;
  snprintf(path, sizeof path, "%s/bench/throughput_text.cfg", src ? src : "..");
  W2T_OK(w2_throughput_load(path, &x));
  W2T_CHECK(x.family == W2_FAMILY_TRANSFORMER && x.machine[0] && strlen(x.date) == 10 &&
                x.njobs > 0 && x.flop > 0,
            "throughput_text.cfg: family %d machine [%s] date [%s] jobs %d flop %g", x.family,
            x.machine, x.date, x.njobs, x.flop);
}

/* A text sweep (transformer sizes) on a stand-in WordNet directory: the planner reads only
 * the files' content hash, so four small files do. */
static void test_transformer(void) {
  mkdir(DIR "/wn", 0755);
  static const char *const files[] = {"data.noun", "data.verb", "data.adj", "data.adv"};
  for (int i = 0; i < 4; i++) {
    char path[64];
    snprintf(path, sizeof path, DIR "/wn/%s", files[i]);
    write_file(path, "00000001 05 n 01 cat 0 000 | a feline\n");
  }
  write_file(DIR "/x.cfg",
             "name = \"x\"; seeds = [0];\n"
             "data = { n_a = 200; n_b = 300; n_test = 400; };\n"
             "text = { wordnet = \"wn\"; };\n"
             "tasks = ( { name = \"animal\"; kind = \"text\"; class = \"animal\"; } );\n"
             "sizes = ( { name = \"x16\"; family = \"transformer\"; width = 16; depth = 1; heads = 2; ctx = 32; },\n"
             "          { name = \"x64\"; family = \"transformer\"; width = 64; depth = 2; heads = 4; ctx = 32; } );\n"
             "weak = [\"x16\"]; strong = [\"x64\"];\n"
             "methods = ( \"naive\" );\n"
             "pretrain = { epochs = 1.0; batch = 8; examples_per_param = 0.01; min_examples = 64; max_examples = 100000; };\n"
             "finetune = { epochs = 2.0; batch = 16; };\n"
             "eval_points = 3;\n");
  W2Sweep s;
  W2Plan *p = NULL;
  int e = w2_sweep_load(DIR "/x.cfg", &s);
  W2T_CHECK(e == 0, "load: %s", w2_error_message());
  if (e) return;
  e = w2_plan_build(&s, &p);
  W2T_CHECK(e == 0, "plan: %s", w2_error_message());
  if (!e) {
    const W2SizeSpec *z16 = w2_sweep_size(&s, "x16"), *z64 = w2_sweep_size(&s, "x64");
    W2XfArch a16, a64;
    w2_text_arch(z16, &a16);
    w2_text_arch(z64, &a64);
    /* pretraining: steps x the LM step at the pretraining batch */
    int k = w2_plan_find(p, "pretrain/x64/s0/animal");
    W2T_CHECK(k >= 0, "no pretraining job of x64");
    double want = (double)w2_text_pretrain_steps(&s, z64) * w2_xf_step_flops(&a64, 8, 1);
    if (k >= 0)
      W2T_CHECK(fabs(p->jobs[k].work.flops - want) <= 1e-9 * want,
                "x64 pretraining priced %.6g FLOPs, transformer accounting %.6g",
                p->jobs[k].work.flops, want);
    W2T_CHECK(fabs(w2_pretrain_flops(&s, z64) - want) <= 1e-9 * want, "w2_pretrain_flops %.6g != %.6g",
              w2_pretrain_flops(&s, z64), want);
    /* the weak supervisor: CLS steps on A + evaluation forwards on test and A */
    k = w2_plan_find(p, "weak/animal/s0/x16");
    W2T_CHECK(k >= 0, "no weak job of x16");
    want = (double)w2_train_steps_for_epochs(200, 16, 2.0) * w2_xf_step_flops(&a16, 16, 0) +
           w2_xf_forward_flops(&a16, 3.0 * (400 + 200), 0);
    if (k >= 0)
      W2T_CHECK(fabs(p->jobs[k].work.flops - want) <= 1e-9 * want,
                "x16 weak supervisor priced %.6g FLOPs, transformer accounting %.6g",
                p->jobs[k].work.flops, want);
    /* memory: the transformer's analytic estimate (pretraining batch, LM logits) */
    double bytes = w2_xf_train_bytes(&a64, 8, 1) + w2_grid_gemm_workspace_bytes(256, 1);
    W2T_CHECK(w2_plan_size_rank_bytes(&s, z64, 1) == bytes, "x64 memory %.6g, want %.6g",
              w2_plan_size_rank_bytes(&s, z64, 1), bytes);
  }
  w2_plan_destroy(&p);
  w2_sweep_free(&s);
}

/* The FLOPs a plan counts are the work, not the work times the ranks of the group that does
 * it (regression: `plan` printed 30x the FLOPs of text_paper.cfg once its largest sizes were
 * given 16- and 64-rank groups). */
static void test_group_flops(void) {
  W2Sweep s;
  W2Plan *p1 = NULL, *p4 = NULL;
  if (build(8, 16, 1, 1.0, 6, 4, &s, &p1)) return;
  double c1 = p1->total_cost;
  s.sizes[1].ranks = 4;
  W2T_OK(w2_plan_build(&s, &p4));
  if (p4) {
    int grouped = 0;
    for (int i = 0; i < p4->njobs; i++) grouped |= p4->jobs[i].ranks == 4;
    W2T_CHECK(grouped, "some job runs on the 4-rank group");
    W2T_CHECK(fabs(p4->total_cost - c1) <= 1e-9 * c1,
              "a 4-rank group for wb leaves the FLOPs alone (%g vs %g)", p4->total_cost, c1);
  }
  w2_plan_destroy(&p1);
  w2_plan_destroy(&p4);
  w2_sweep_free(&s);
}

/* Check (f)'s control (health.h): checks.pretrain_control adds one ceiling from
 * initialisation per task and seed for the largest strong size, after every other job (whose
 * ids and order stay), waiting for nothing, priced as the pretrained ceiling's finetuning,
 * and each in exactly one shard of a sharded run. */
static void test_pretrain_control(void) {
  W2Sweep s;
  W2Plan *p1 = NULL, *p2 = NULL;
  if (build(8, 16, 1, 1.0, 6, 4, &s, &p1)) return;
  s.checks.enabled = 1;
  s.checks.pretrain_control = 1;
  W2T_OK(w2_plan_build(&s, &p2));
  if (p2) {
    W2T_CHECK(p2->njobs == p1->njobs + 2, "2 control ceilings (1 task x 2 seeds): %d -> %d jobs",
              p1->njobs, p2->njobs);
    int same = 1;
    for (int i = 0; i < p1->njobs; i++) same &= !strcmp(p1->jobs[i].id, p2->jobs[i].id);
    W2T_CHECK(same, "every other job keeps its id and place");
    for (int i = p1->njobs; i < p2->njobs; i++) {
      const W2Job *j = &p2->jobs[i];
      char want[64];
      snprintf(want, sizeof want, "ceiling/linear/s%d/wb/init", i - p1->njobs);
      W2T_CHECK(!strcmp(j->id, want) && j->type == W2_JOB_CEILING && j->start == W2_START_INIT &&
                    j->ndeps == 0,
                "job %d is %s from init with no dependency (%s, %d deps)", i, want, j->id,
                j->ndeps);
      want[strlen(want) - strlen("/init")] = '\0';
      int k = w2_plan_find(p2, want);
      W2T_CHECK(k >= 0 && fabs(p2->jobs[k].cost - j->cost) <= 1e-9 * j->cost && j->cost > 0,
                "%s costs what %s costs (%g)", j->id, want, j->cost);
      int in = 0;
      char need[256];
      for (int sh = 0; sh < 2 && p2->njobs <= (int)sizeof need; sh++) {
        w2_plan_shard(p2, sh, 2, need);
        in += need[i];
      }
      W2T_CHECK(in == 1, "%s is in exactly one of 2 shards (%d)", j->id, in);
    }
  }
  w2_plan_destroy(&p1);
  w2_plan_destroy(&p2);
  w2_sweep_free(&s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  mkdir(DIR, 0755);
  W2Throughput t;
  memset(&t, 0, sizeof t);
  test_shipped(&t);
  /* the structure must hold for any calibration: the shipped one and a made-up one with
   * every coefficient positive */
  W2Throughput all = {.job = {1, 1, 1, 1}, .flop = 1e-9, .step = 1e-4, .act = 1e-8, .fit = 5e-10};
  test_monotone(&t);
  test_monotone(&all);
  test_simulate(&t);
  test_simulate(&all);
  test_fit();
  test_bad_files();
  test_transformer();
  test_group_flops();
  test_pretrain_control();
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
