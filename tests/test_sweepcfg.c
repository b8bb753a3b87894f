/* test_sweepcfg.c — sweep file loading: the shipped sweeps parse to the values they state,
 * omitted keys take their defaults, shorthands and derived values are right, warnings and
 * errors carry the file and line. (The broken-file corpus is tests/check_configs.sh.) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pretrain.h"
#include "sweepcfg.h"
#include "testutil.h"

static W2Sweep sw; /* large: keep off the stack */

/* The repository: from ctest's environment, else from where this file was compiled. */
static const char *src_dir(void) {
  static char dir[1024];
  const char *d = getenv("W2SWEEP_SOURCE_DIR");
  if (d && d[0]) return d;
  snprintf(dir, sizeof dir, "%s", __FILE__);
  char *t = strstr(dir, "/tests/test_sweepcfg.c");
  if (t) *t = '\0';
  return dir;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  W2T_CHECK(f != NULL, "cannot write %s: %s", path, strerror(errno));
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void test_defaults(void) {
  w2_sweep_defaults(&sw);
  W2T_CHECK(!strcmp(sw.cache_dir, "results/cache"), "cache default %s", sw.cache_dir);
  W2T_CHECK(sw.nseeds == 3 && sw.seeds[2] == 2, "seeds default");
  W2T_CHECK(sw.world.latent_dim == 16 && sw.world.input_dim == 64 && sw.world.render_depth == 3,
            "world defaults");
  W2T_CHECK(sw.world.render_gain == 2.0 && sw.world.pretrain_targets == 256, "world defaults");
  W2T_CHECK(sw.split.n_a == 2000 && sw.split.n_b == 2000 && sw.split.n_test == 2000, "split");
  W2T_CHECK(sw.finetune.epochs == 2.0 && sw.finetune.batch == 32 && sw.finetune.lr == 1e-3f,
            "finetune defaults");
  W2T_CHECK(sw.finetune.weight_decay == 0.0f && sw.finetune.warmup_frac == 0.05f, "finetune");
  W2T_CHECK(sw.eval_points == 10 && sw.max_attempts == 2 && sw.progress_interval == 10.0,
            "eval_points / runner defaults");
  W2T_CHECK(sw.file_locking == 0 && sw.rank_memory_gb == 0, "runner defaults");
  W2T_CHECK(sw.ntasks == 3 && sw.tasks[1].kind == W2_TASK_NONLINEAR, "default tasks");
  W2T_CHECK(sw.nmethods == 1 && sw.methods[0].kind == W2_M_NAIVE, "default methods");
  W2T_CHECK(sw.config_text == NULL && sw.nsizes == 0, "no file yet");
}

static void test_names(void) {
  for (int k = 0; k < W2_M_COUNT; k++)
    W2T_CHECK(w2_method_kind_from_name(w2_method_kind_name((W2MethodKind)k)) == k,
              "method kind %d round trip", k);
  W2T_CHECK(w2_method_kind_from_name("bootstrp") == -1, "unknown method kind");
  W2T_CHECK(!strcmp(w2_method_kind_name(W2_M_ES_GT_ORACLE), "es_gt_oracle"), "oracle name");
  W2T_CHECK(w2_spec_sched_from_name("linear") == W2_SCHED_LINEAR, "sched names");
  W2T_CHECK(w2_spec_act_from_name("tanh") == W2_ACT_TANH, "act names");
  W2T_CHECK(w2_spec_task_kind_from_name("file") == W2_TASK_FILE, "task kind names");
  W2T_CHECK(w2_spec_supervisor_kind_from_name("unlearnable") == W2_SUP_UNLEARNABLE, "sup names");
}

static void test_quickstart(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/sweeps/quickstart.cfg", src_dir());
  W2T_OK(w2_sweep_load(path, &sw));
  W2T_CHECK(!strcmp(sw.name, "quickstart"), "name %s", sw.name);
  W2T_CHECK(!strcmp(sw.output, "results/quickstart.h5"), "output default %s", sw.output);
  W2T_CHECK(!strcmp(sw.source_path, path), "source_path %s", sw.source_path);
  W2T_CHECK(sw.config_text && strstr(sw.config_text, "name = \"quickstart\""), "config_text kept");
  W2T_CHECK(sw.ntasks == 3 && sw.tasks[0].kind == W2_TASK_LINEAR &&
                sw.tasks[1].kind == W2_TASK_NONLINEAR && sw.tasks[2].kind == W2_TASK_SPARSE,
            "three built-in tasks");
  W2T_CHECK(sw.nsizes >= 4, "at least 4 sizes (%d)", sw.nsizes);
  W2T_CHECK(sw.nseeds == 3, "3 seeds");
  W2T_CHECK(sw.nmethods >= 3 && sw.methods[0].kind == W2_M_NAIVE && sw.methods[1].kind == W2_M_CONF,
            "naive and conf first");
  W2T_CHECK(sw.methods[1].alpha_max == 0.75 && sw.methods[1].alpha_warmup == 0.2, "conf settings");
  /* keys the file leaves out keep their defaults */
  W2T_CHECK(!strcmp(sw.cache_dir, "results/cache"), "cache default");
  W2T_CHECK(sw.unsup.epochs == 1.0 && sw.unsup.batch == 32, "unsup defaults");
  W2T_CHECK(sw.max_attempts == 2 && sw.file_locking == 0, "runner defaults");
  W2T_CHECK(sw.world.input_noise == 0.0, "input_noise default");
  /* every weak / strong name resolves (a size, or a known-answer check supervisor), every
   * pair the file lists runs; the checks add a ground-truth supervisor and one per noise
   * rate, trained only into the largest strong size with naive and conf */
  int nchk = 0;
  for (int i = 0; i < sw.nweak; i++) {
    const W2SupervisorSpec *v = w2_sweep_supervisor(&sw, sw.weak[i]);
    nchk += v && v->check;
    W2T_CHECK(w2_sweep_size(&sw, sw.weak[i]) != NULL || (v && v->check), "weak %s is a size",
              sw.weak[i]);
  }
  W2T_CHECK(sw.checks.enabled && nchk == 1 + sw.checks.nnoise, "checks add %d supervisors", nchk);
  /* every (weak, strong) pair runs except a size paired with itself (w16 is both) */
  int self = 0;
  for (int i = 0; i < sw.nweak; i++)
    for (int j = 0; j < sw.nstrong; j++) self += !strcmp(sw.weak[i], sw.strong[j]);
  W2T_CHECK(w2_sweep_npairs(&sw) == (sw.nweak - nchk) * sw.nstrong - self,
            "no skipped pair but a size with itself (%d pairs)", w2_sweep_npairs(&sw));
  W2T_CHECK(w2_sweep_ncheck_cells(&sw) == (long)sw.ntasks * sw.nseeds * nchk * 2,
            "known-answer cells: naive and conf of each check supervisor");
  W2T_CHECK(w2_sweep_ncells(&sw) == (long)sw.ntasks * sw.nseeds * w2_sweep_npairs(&sw) *
                                            sw.nmethods + w2_sweep_ncheck_cells(&sw),
            "cell count");
  /* the ladder spans >= 3 orders of magnitude of pretraining compute */
  double lo = INFINITY, hi = 0;
  for (int i = 0; i < sw.nsizes; i++) {
    double f = w2_pretrain_flops(&sw, &sw.sizes[i]);
    lo = fmin(lo, f);
    hi = fmax(hi, f);
  }
  W2T_CHECK(hi / lo >= 1e3, "quickstart compute span %.2g..%.2g", lo, hi);
  /* derived quantities */
  const W2SizeSpec *z = &sw.sizes[0];
  W2Arch a = w2_sweep_arch(&sw, z, sw.world.pretrain_targets);
  double n = w2_arch_params(&a) * sw.pretrain.examples_per_param;
  int want = n < sw.pretrain.min_examples ? sw.pretrain.min_examples : (int)floor(n + 0.5);
  W2T_CHECK(w2_pretrain_examples(&sw, z) == want, "pretrain examples %ld != %d",
            w2_pretrain_examples(&sw, z), want);
  W2T_CHECK(w2_sweep_pair_runs(&sw, sw.weak[0], sw.strong[0]) == 1, "small -> large runs");
  W2T_CHECK(w2_sweep_pair_runs(&sw, sw.strong[0], sw.weak[0]) == 0, "large -> small skipped");
  W2T_CHECK(w2_sweep_pair_runs(&sw, sw.weak[0], sw.weak[0]) == 0, "same size skipped");
  w2_sweep_free(&sw);
  W2T_CHECK(sw.config_text == NULL, "free clears config_text");
}

static void test_paper(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/sweeps/paper.cfg", src_dir());
  W2T_OK(w2_sweep_load(path, &sw));
  int seen[W2_M_COUNT] = {0}, unsup = 0;
  for (int i = 0; i < sw.nmethods; i++) {
    seen[sw.methods[i].kind] = 1;
    unsup += sw.methods[i].unsup;
  }
  /* every kind but bootstrap: a chain must lie strictly between every weak and strong size
   * it runs with, which paper.cfg's full triangle of pairs leaves no room for (see
   * test_bootstrap_and_probe for a sweep that runs it) */
  for (int k = 0; k < W2_M_COUNT; k++)
    W2T_CHECK(seen[k] || k == W2_M_BOOTSTRAP, "paper.cfg lacks method kind %s",
              w2_method_kind_name((W2MethodKind)k));
  W2T_CHECK(unsup >= 1, "paper.cfg has an unsup method");
  W2T_CHECK(sw.nsizes >= 8 && sw.nsupervisors >= 1, "paper ladder and supervisors");
  double lo = INFINITY, hi = 0;
  for (int i = 0; i < sw.nsizes; i++) {
    double f = w2_pretrain_flops(&sw, &sw.sizes[i]);
    lo = fmin(lo, f);
    hi = fmax(hi, f);
  }
  W2T_CHECK(hi / lo >= 1e6, "paper compute span %.2g..%.2g", lo, hi);
  const W2SupervisorSpec *v = w2_sweep_supervisor(&sw, "uniform20");
  W2T_CHECK(v && v->kind == W2_SUP_UNIFORM && fabs(v->confidence - 0.8) < 1e-12,
            "supervisor confidence defaults to 1 - error_rate");
  W2T_CHECK(w2_sweep_pair_runs(&sw, "uniform20", sw.strong[0]) == 1, "supervisors pair with all");
  w2_sweep_free(&sw);
}

/* A sweep in a subdirectory: relative task files resolve against it; shorthands; L ints. */
static void test_file_task_and_shorthands(void) {
  mkdir("cfgtest", 0755);
  mkdir("cfgtest/sub", 0755);
  write_file("cfgtest/sub/data.h5", "not really HDF5: check only needs a readable file\n");
  write_file("cfgtest/my-sweep.cfg",
             "world = { seed = 5000000000L; render_gain = 3; };\n"
             "tasks = ( \"sparse\", { name = \"mine\"; kind = \"file\"; file = \"sub/data.h5\"; } );\n"
             "sizes = ( { name = \"a\"; width = 4; }, { name = \"b\"; width = 64; depth = 3; ranks = 2; } );\n"
             "weak = [\"a\"];\nstrong = [\"b\"];\n"
             "methods = ( \"window\", { name = \"u\"; kind = \"naive\"; unsup = true; },\n"
             "  { name = \"c\"; kind = \"clean_knn\"; drop = true; k = 5; } );\n"
             "finetune = { lr = 1; schedule = \"linear\"; };\n");
  W2T_OK(w2_sweep_load("cfgtest/my-sweep.cfg", &sw));
  W2T_CHECK(!strcmp(sw.name, "my-sweep"), "name from file name: %s", sw.name);
  W2T_CHECK(!strcmp(sw.output, "results/my-sweep.h5"), "output %s", sw.output);
  W2T_CHECK(sw.world.seed == 5000000000ULL, "64-bit seed %llu", (unsigned long long)sw.world.seed);
  W2T_CHECK(sw.world.render_gain == 3.0, "int accepted for a float");
  W2T_CHECK(sw.ntasks == 2 && sw.tasks[0].kind == W2_TASK_SPARSE && sw.tasks[1].kind == W2_TASK_FILE,
            "task kinds");
  W2T_CHECK(!strcmp(sw.tasks[1].file, "cfgtest/sub/data.h5"), "file resolved: %s", sw.tasks[1].file);
  W2T_CHECK(sw.sizes[0].depth == 2 && sw.sizes[0].ranks == 0, "size defaults");
  W2T_CHECK(sw.sizes[1].depth == 3 && sw.sizes[1].ranks == 2, "size values");
  W2T_CHECK(sw.methods[0].kind == W2_M_WINDOW && sw.methods[0].window_radius < 0, "window default");
  W2T_CHECK(sw.methods[1].kind == W2_M_NAIVE && sw.methods[1].unsup == 1, "unsup naive");
  W2T_CHECK(sw.methods[2].clean_drop == 1 && sw.methods[2].knn_k == 5 &&
                fabs(sw.methods[2].clean_frac - 0.1) < 1e-12,
            "clean_knn settings and default fraction");
  W2T_CHECK(sw.finetune.lr == 1.0f && sw.finetune.sched == W2_SCHED_LINEAR &&
                sw.finetune.batch == 32,
            "finetune: given values and the default batch");
  W2T_CHECK(sw.nseeds == 3, "default seeds");
  w2_sweep_free(&sw);
}

/* A valid bootstrap chain (strictly between every running pair, increasing; a synthetic
 * supervisor and a weak size larger than the strong one, whose pair does not run, are
 * fine), its cross-fitting folds, and the probe group's settings. */
static void test_bootstrap_and_probe(void) {
  write_file("cfgtest/boot.cfg",
             "sizes = ( { name = \"s8\"; width = 8; }, { name = \"s16\"; width = 16; },\n"
             "  { name = \"s32\"; width = 32; }, { name = \"s64\"; width = 64; },\n"
             "  { name = \"s128\"; width = 128; }, { name = \"s512\"; width = 512; } );\n"
             "supervisors = ( { name = \"noise\"; kind = \"uniform\"; error_rate = 0.2; } );\n"
             "weak = [\"s8\", \"s16\", \"noise\"];\nstrong = [\"s128\", \"s512\"];\n"
             "methods = ( { name = \"b\"; kind = \"bootstrap\"; chain = [\"s32\", \"s64\"]; folds = 4; },\n"
             "  { name = \"b2\"; kind = \"bootstrap\"; chain = [\"s64\"]; }, \"selftrain\", \"kl\" );\n"
             "probe = { folds = 3; lambdas = 7; lambda_min = 1e-3; lambda_max = 10.0; criterion = \"accuracy\"; };\n");
  W2T_OK(w2_sweep_load("cfgtest/boot.cfg", &sw));
  W2T_CHECK(sw.nmethods == 4 && sw.methods[0].nchain == 2 && sw.methods[0].folds == 4 &&
                sw.methods[1].folds == 5 && sw.methods[2].folds == 5,
            "bootstrap chains and folds (default 5)");
  W2T_CHECK(sw.probe.folds == 3 && sw.probe.nlambda == 7 && sw.probe.lambda_min == 1e-3 &&
                sw.probe.lambda_max == 10.0 && sw.probe.criterion == 1,
            "probe settings parsed");
  w2_sweep_free(&sw);
}

static void test_warnings_and_errors(void) {
  write_file("cfgtest/warn.cfg",
             "sizes = ( { name = \"s8\"; width = 8; }, { name = \"s64\"; width = 64; },\n"
             "          { name = \"s512\"; width = 512; } );\n"
             "weak = [\"s8\",\n        \"s512\"];\nstrong = [\"s64\"];\n");
  FILE *w = tmpfile();
  W2T_CHECK(w != NULL, "tmpfile");
  if (!w) return;
  W2T_OK(w2_sweep_load_ex("cfgtest/warn.cfg", &sw, w));
  W2T_CHECK(w2_sweep_npairs(&sw) == 1, "one pair runs");
  char buf[512] = "";
  rewind(w);
  size_t n = fread(buf, 1, sizeof buf - 1, w);
  buf[n] = '\0';
  fclose(w);
  W2T_CHECK(strstr(buf, "cfgtest/warn.cfg:4: warning: weak 's512' is not smaller") != NULL,
            "warning names file, line and size: %s", buf);
  w2_sweep_free(&sw);

  write_file("cfgtest/err.cfg",
             "sizes = ( { name = \"s8\"; width = 8; },\n"
             "          { name = \"s64\"; width = 64; } );\n"
             "weak = [\"s8\"];\nstrong = [\"s64\"];\n"
             "finetune = {\n  batch = 32;\n  lr = 0.0;\n};\n");
  W2Err e = w2_sweep_load("cfgtest/err.cfg", &sw);
  W2T_CHECK(e == W2_ERR_CONFIG, "config error code %d", e);
  W2T_CHECK(!strcmp(w2_error_message(), "cfgtest/err.cfg:7: finetune.lr must be > 0 (got 0)"),
            "message: %s", w2_error_message());
  W2T_CHECK(sw.config_text == NULL, "failed load leaves the sweep freed");
  w2_error_clear();

  /* libconfig reports a list string followed by a newline at the next token's line */
  write_file("cfgtest/err2.cfg",
             "sizes = ( { name = \"s8\"; width = 8; }, { name = \"s64\"; width = 64; } );\n"
             "weak = [\n  \"s8\",\n  \"s9\"\n\n];\nstrong = [\"s64\"];\n");
  e = w2_sweep_load("cfgtest/err2.cfg", &sw);
  W2T_CHECK(e == W2_ERR_CONFIG && !strncmp(w2_error_message(), "cfgtest/err2.cfg:4: weak[1]", 27),
            "string item line: %s", w2_error_message());
  w2_error_clear();

  e = w2_sweep_load("cfgtest/no_such_file.cfg", &sw);
  W2T_CHECK(e == W2_ERR_CONFIG && strstr(w2_error_message(), "no_such_file.cfg: cannot open"),
            "missing file: %d %s", e, w2_error_message());
  w2_error_clear();
}

int main(void) {
  test_defaults();
  test_names();
  test_quickstart();
  test_paper();
  test_file_task_and_shorthands();
  test_bootstrap_and_probe();
  test_warnings_and_errors();
  return w2t_summary();
}
