/* fuzz_results.c — libFuzzer harness for the results-file readers: `status`, `export --csv`
 * and `fit` (which also writes /fits into the file) as the commands run them, and what
 * `merge` reads (a results file it would replace: w2_results_check_output; a cell file:
 * w2_cellfile_read; /health: w2_health_print_file). The input is a recipe for an HDF5 file
 * of the names and fields these readers look for, or the file's bytes (h5build.h).
 * Every reader must succeed or fail with one error line and exit status 1 or 2, never crash,
 * hang, leak, leave an HDF5 id open or trip a sanitizer. Raw-bytes seeds: a real results file
 * and cell file of a tiny sweep and odd results-like files from tests/fuzz/make_seeds.py. Built by W2SWEEP_FUZZ with clang
 * (tests/test_fuzz.sh; bench/RESULTS.md: long runs); run it with -close_fd_mask=3 (the
 * commands print). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "error.h"
#include "h5build.h"
#include "h5ids.h"
#include "health.h"
#include "results.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* main.c's mapping (main.c itself is not linked: libFuzzer has the main) */
int w2_exit_status(int err) {
  return err == W2_OK ? 0
         : err == W2_ERR_ARG || err == W2_ERR_CONFIG || err == W2_ERR_DATA ? W2_EXIT_INPUT
                                                                          : W2_EXIT_RUNTIME;
}

/* the names status, export, fit, merge and the cell-file reader look for */
static const char *const names[] = {
    "schema_version", "complete", "cells_expected", "cells_present", "sweep_name", "sweep_hash",
    "health_passed", "summary", "models", "health", "sizes", "provenance", "provenance/end_time",
    "end_time", "passed", "config_text", "fits", "grid", "task", "weak_size", "strong_size",
    "method", "seed", "pgr_status", "selected_point", "rank", "attempts", "chain", "chain_acc",
    "step", "flops", "test_acc", "test_auroc", "test_ece", "test_loss", "agree",
    "agree_weak_right", "agree_weak_wrong", "weak_fit", "weak_acc", "ceiling_acc", "student_acc",
    "student_best_acc", "pgr", "pgr_best", "gap", "gap_se", "student_auroc", "student_ece",
    "weak_flops", "strong_flops", "weak_params", "strong_params", "wall_s", "ceiling_ft_acc",
    "ceiling_lp_acc", "ceiling_is_probe", "recipe_lr", "recipe_epochs", "recipe_anchor_decay",
    "recipe_body_lr_scale", "recipe_head_init", "weak_recipe_lr", "weak_recipe_epochs"};
/* /summary, /models and /health columns */
static const char *const fields[] = {
    "task", "seed", "weak_size", "strong_size", "method", "weak_acc", "ceiling_acc",
    "student_acc", "student_best_acc", "pgr", "pgr_best", "gap", "gap_se", "pgr_status",
    "agree_weak_wrong", "weak_flops", "strong_flops", "agree", "agree_weak_right",
    "student_auroc", "student_ece", "weak_params", "strong_params", "wall_s", "ceiling_ft_acc",
    "ceiling_lp_acc", "ceiling_is_probe", "recipe_lr", "recipe_epochs", "recipe_anchor_decay",
    "recipe_body_lr_scale", "recipe_head_init", "weak_recipe_lr", "weak_recipe_epochs", "size",
    "role", "test_acc", "test_auroc", "test_loss", "flops", "params", "check", "supervisor",
    "mean", "lo", "hi", "n", "pass", "ref", "beaten"};

/* a results file's tables and root attributes (results/SCHEMA.md), with the input's types,
 * rows and values */
static void preset(W2FuzzIn *in, hid_t f) {
  unsigned which = w2fuzz_u8(in) % 4;
  if (which == 0) { /* /summary: the export columns (fields[0..33]) */
    char kinds[34];
    for (int i = 0; i < 34; i++)
      kinds[i] = i == 0 || i == 2 || i == 3 || i == 4 || i == 13 ? 'S' : i == 1 ? 'U' : 'D';
    w2fuzz_table(in, f, "summary", fields, kinds, 34 - (int)(w2fuzz_u8(in) % 3 == 0));
  } else if (which == 1) { /* /models */
    static const char *const m[] = {"task",      "size",       "role",  "seed",  "test_acc",
                                    "test_auroc", "test_loss", "flops", "params"};
    w2fuzz_table(in, f, "models", m, "SSSUDDDDD", 9);
  } else if (which == 2) { /* /health */
    static const char *const h[] = {"task", "check", "supervisor", "method", "mean", "lo",
                                    "hi", "n", "pass", "ref", "beaten"};
    w2fuzz_table(in, f, "health", h, "SSSSDDDIIDI", 11);
  } else { /* root attributes */
    int32_t one = 1, v = (int32_t)(w2fuzz_u8(in) % 5);
    uint64_t hash = w2fuzz_u8(in);
    w2fuzz_attr(f, "schema_version", H5T_STD_I32LE, w2fuzz_u8(in) & 1 ? &one : &v);
    w2fuzz_attr(f, "complete", H5T_STD_I32LE, &v);
    w2fuzz_attr(f, "cells_expected", H5T_STD_I32LE, &v);
    w2fuzz_attr(f, "cells_present", H5T_STD_I32LE, &one);
    w2fuzz_attr(f, "sweep_hash", H5T_STD_U64LE, &hash);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 5);
    w2fuzz_attr(f, "sweep_name", st, "tiny");
    H5Tclose(st);
  }
}

static const W2FuzzDict dict = {names, sizeof names / sizeof names[0], fields,
                                sizeof fields / sizeof fields[0], preset};

/* a command's exit status is 0, 1 or 2 (commands.h) */
static void command(int argc, char **argv) {
  int rc = argv[0][0] == 's' ? w2_cmd_status(argc, argv)
           : argv[0][0] == 'e' ? w2_cmd_export(argc, argv)
                               : w2_cmd_fit(argc, argv);
  if (rc < 0 || rc > 2) abort();
  w2_error_clear();
  fflush(stdout);
  clearerr(stdout);
}

/* a library reader: OK, or an error whose message is one line */
static void one_line(W2Err e) {
  if (e && (!w2_error_message()[0] || strchr(w2_error_message(), '\n'))) abort();
  w2_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "w2fuzz-%ld.h5", (long)getpid()); /* in the cwd */
  w2fuzz_input_file(data, size, &dict, path);
  command(2, (char *[]){"status", path, NULL});
  command(3, (char *[]){"export", path, "--csv", NULL});
  W2CellResult c;
  memset(&c, 0, sizeof c);
  W2Err e = w2_cellfile_read(path, &c);
  if (!e) w2_curve_free(&c.curve);
  one_line(e);
  static W2Sweep s; /* large: fixed-size tables; only name, output and config_text are read */
  snprintf(s.name, sizeof s.name, "tiny");
  snprintf(s.output, sizeof s.output, "%s", path);
  snprintf(s.source_path, sizeof s.source_path, "tiny.cfg");
  s.config_text = (char *)"name = \"tiny\";\n";
  one_line(w2_results_check_output(&s));
  one_line(w2_health_print_file(stdout, path));
  /* last: fit writes /fits into the file (--boot 0: no bootstrap, the fits themselves) */
  command(4, (char *[]){"fit", path, "--boot", "0", NULL});
  w2fuzz_h5_ids_check(); /* every HDF5 id opened was closed, on every path */
  return 0;
}
