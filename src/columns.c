/* columns.c — the per-cell result columns (columns.h), in /summary's order. The docs here
 * are the short form; results/SCHEMA.md says more (test_columns keeps the two in step). */
#include "columns.h"

#include <stdio.h>
#include <string.h>

#include "pipeline.h"

#define FIELD_SIZE(f) sizeof(((W2CellResult *)0)->f)
#define STR(n, f, w, s, d) {n, W2_COL_STR, w, offsetof(W2CellResult, f), FIELD_SIZE(f), s, "", d}
#define U64(n, f, s, d) {n, W2_COL_U64, 8, offsetof(W2CellResult, f), FIELD_SIZE(f), s, "", d}
#define F64(n, f, u, s, d) {n, W2_COL_F64, 8, offsetof(W2CellResult, f), FIELD_SIZE(f), s, u, d}

static const W2Column columns[] = {
    STR("task", task, 32, 0, "task name"),
    U64("seed", seed, 0, "seed"),
    STR("weak_size", weak, 32, 0, "size name of the weak supervisor, or a synthetic supervisor's name"),
    STR("strong_size", strong, 32, 0, "size name of the student"),
    STR("method", method, 32, 0, "method name (a display name; its kind is method_kind)"),
    F64("weak_acc", weak_acc, "fraction", 0, "test accuracy of the weak supervisor"),
    F64("ceiling_acc", ceiling_acc, "fraction", 0, "test accuracy of the strong ceiling"),
    F64("student_acc", student_acc, "fraction", 0, "final test accuracy of the student"),
    F64("student_best_acc", student_best_acc, "fraction", 0, "best test accuracy over the evaluation points (oracle)"),
    F64("pgr", pgr, "", 0, "performance gap recovered; NaN when the gap is below noise"),
    F64("pgr_best", pgr_best, "", 0, "the same with student_best_acc"),
    F64("gap", gap, "points", 0, "ceiling_acc - weak_acc"),
    F64("gap_se", gap_se, "points", 0, "standard error of the gap"),
    F64("agree", agree, "fraction", 0, "student-supervisor agreement on test"),
    F64("agree_weak_right", agree_weak_right, "fraction", 0, "... where the supervisor is right"),
    F64("agree_weak_wrong", agree_weak_wrong, "fraction", 0, "... where the supervisor is wrong"),
    F64("student_auroc", student_auroc, "", 0, "final test AUROC"),
    F64("student_ece", student_ece, "fraction", 0, "final expected calibration error"),
    F64("weak_flops", weak_flops, "FLOPs", 0, "training FLOPs of the weak supervisor"),
    F64("strong_flops", strong_flops, "FLOPs", 0, "training FLOPs of the strong model"),
    F64("weak_params", weak_params, "", 0, "parameters of the weak supervisor"),
    F64("strong_params", strong_params, "", 0, "parameters of the student"),
    F64("wall_s", wall_s, "s", 0, "seconds the cell took"),
    F64("ceiling_ft_acc", ceiling_ft_acc, "fraction", 0, "test accuracy of the finetuned ceiling"),
    F64("ceiling_lp_acc", ceiling_lp_acc, "fraction", 0, "test accuracy of the ground-truth probe"),
    F64("ceiling_is_probe", ceiling_is_probe, "", 0, "1 when ceiling_acc is the probe's"),
    F64("recipe_lr", recipe_lr, "", 0, "the student's recipe: learning rate"),
    F64("recipe_epochs", recipe_epochs, "", 0, "... epochs"),
    F64("recipe_anchor_decay", recipe_anchor_decay, "", 0, "... anchor decay"),
    F64("recipe_body_lr_scale", recipe_body_lr_scale, "", 0, "... body lr scale"),
    F64("recipe_head_init", recipe_head_init, "", 0, "... head init (1 = LP-FT)"),
    F64("weak_recipe_lr", weak_recipe_lr, "", 0, "the weak supervisor's recipe: learning rate"),
    F64("weak_recipe_epochs", weak_recipe_epochs, "", 0, "... epochs"),
    STR("pgr_status", pgr_status, 32, 0, "why pgr is NaN; empty when defined"),
    STR("method_kind", method_kind, 32, 1, "the method's kind (the registry's name)"),
    STR("supervisor_kind", supervisor_kind, 32, 1, "trained, or the synthetic supervisor's kind"),
    STR("method_settings", method_settings, 256, 1, "kind and settings as canonical JSON"),
    F64("unsup", unsup, "", 1, "1: generative finetuning before the student and its ceiling"),
    F64("oracle", oracle, "", 1, "1: the method reads the test split to choose what it reports"),
    U64("config_hash", config_hash, 1, "the cell's settings hash (resume reuses on a match)"),
};

int w2_column_count(void) { return (int)(sizeof columns / sizeof columns[0]); }

const W2Column *w2_column(int i) { return i >= 0 && i < w2_column_count() ? &columns[i] : NULL; }

int w2_column_find(const char *name) {
  for (int i = 0; i < w2_column_count(); i++)
    if (!strcmp(columns[i].name, name)) return i;
  return -1;
}

const char *w2_column_type_name(const W2Column *c, char *buf, size_t len) {
  switch (c->type) {
  case W2_COL_STR: snprintf(buf, len, "S%zu", c->width); break;
  case W2_COL_U64: snprintf(buf, len, "uint64"); break;
  case W2_COL_F64: snprintf(buf, len, "float64"); break;
  }
  return buf;
}
