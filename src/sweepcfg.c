/* sweepcfg.c — sweep files (libconfig syntax) -> W2Sweep, with strict validation.
 *
 * libconfig parses the syntax; everything else is ours, because libconfig accepts any key
 * anywhere and silently truncates integers wider than 32 bits. The order of work:
 *   1. read the file once (that exact text is parsed and kept for provenance),
 *   2. prescan it for what libconfig would get silently wrong (big integers, @include),
 *   3. parse it with config_read_string,
 *   4. walk every group against a table of its allowed keys and their types (unknown key ->
 *      error with a "did you mean"), read each value with a range check,
 *   5. check names across groups (weak/strong/chain refer to sizes, no duplicates) and
 *      which (weak, strong) pairs run.
 * Every error is "FILE:LINE: message", LINE from config_setting_source_line of the setting
 * at fault (or of its parent group when a key is missing). The format is documented key by
 * key in sweeps/README.md; keep the two in step. */
#include "sweepcfg.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pretrain.h" /* set sizes and FLOPs of the ladder, for the summary */
#include "methods/method.h" /* the method registry: kinds, their settings and checks */
#include "texttask.h" /* text tasks and transformer sizes */
#include "world.h"    /* W2_WORLD_MAX_DIM, W2_WORLD_MAX_DEPTH: the limits world.c enforces */

#define W2_SWEEP_TEXT_MAX (1 << 20) /* a sweep file is settings, not data */
#define W2_MAX_ROWS 100000000       /* world.c and pretrain.c hold at most 1e8 rows */

/* ----------------------------------------------------------------------------------- */
/* enum names */

static const char *const task_kind_names[] = {"linear", "nonlinear", "sparse", "file", "text"};
const char *const w2_family_names[W2_NFAMILIES] = {"mlp", "transformer"}; /* spec.h */
static const char *const text_input_names[] = {"word", "gloss"}; /* W2TaskSpec.text_input */
static const char *const sup_kind_names[] = {"uniform", "latent", "unlearnable"};
static const char *const sched_names[] = {"constant", "cosine", "linear"}; /* W2Sched order */
static const char *const act_names[] = {"relu", "tanh"};                   /* W2Act order */
#define NELEM(a) (int)(sizeof(a) / sizeof((a)[0]))

static int name_index(const char *name, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (!strcmp(name, names[i])) return i;
  return -1;
}

int w2_spec_task_kind_from_name(const char *name) {
  return name_index(name, task_kind_names, NELEM(task_kind_names));
}
const char *w2_spec_task_kind_name(W2TaskKind k) {
  return (int)k >= 0 && (int)k < NELEM(task_kind_names) ? task_kind_names[k] : "?";
}
int w2_spec_supervisor_kind_from_name(const char *name) {
  return name_index(name, sup_kind_names, NELEM(sup_kind_names));
}
const char *w2_spec_supervisor_kind_name(W2SupervisorKind k) {
  return (int)k >= 0 && (int)k < NELEM(sup_kind_names) ? sup_kind_names[k] : "?";
}
int w2_spec_sched_from_name(const char *name) { return name_index(name, sched_names, NELEM(sched_names)); }
const char *w2_spec_sched_name(W2Sched s) {
  return (int)s >= 0 && (int)s < NELEM(sched_names) ? sched_names[s] : "?";
}
int w2_spec_act_from_name(const char *name) { return name_index(name, act_names, NELEM(act_names)); }
const char *w2_spec_act_name(W2Act a) {
  return (int)a >= 0 && (int)a < NELEM(act_names) ? act_names[a] : "?";
}

/* ----------------------------------------------------------------------------------- */
/* defaults (documented in sweeps/README.md) */

static void stage_set(W2StageHyper *h, double epochs, int batch, float lr, float wd, float warmup,
                      W2Sched sched) {
  h->epochs = epochs;
  h->batch = batch;
  h->lr = lr;
  h->weight_decay = wd;
  h->warmup_frac = warmup;
  h->sched = sched;
}

/* w2_method_defaults, w2_method_kind_*: src/methods/method_registry.c */

void w2_sweep_defaults(W2Sweep *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->cache_dir, sizeof s->cache_dir, "results/cache");
  s->file_locking = 0;      /* off: parallel file systems often do not support it */
  s->max_attempts = 2;
  s->progress_interval = 10.0;
  s->rank_memory_gb = 0;

  s->world = (W2WorldSpec){.seed = 0, .latent_dim = 16, .input_dim = 64, .render_depth = 3,
                           .render_gain = 2.0, .pretrain_targets = 256, .input_noise = 0.0};
  s->split = (W2SplitSpec){.n_a = 2000, .n_b = 2000, .n_test = 2000};

  stage_set(&s->pretrain.hyper, 2.0, 64, 1e-3f, 0.01f, 0.05f, W2_SCHED_COSINE);
  s->pretrain.examples_per_param = 2.0; /* data grows with the model (compute ~ params^2) */
  s->pretrain.min_examples = 4096;
  s->pretrain.max_examples = 1 << 21;
  s->pretrain.act = W2_ACT_RELU;
  stage_set(&s->finetune, 2.0, 32, 1e-3f, 0.0f, 0.05f, W2_SCHED_COSINE);
  s->probe = (W2ProbeSpec){.folds = 5, .nlambda = 13, .lambda_min = 1e-4, .lambda_max = 1e2,
                           .criterion = 0};
  stage_set(&s->unsup, 1.0, 32, 1e-4f, 0.0f, 0.05f, W2_SCHED_COSINE);
  s->eval_points = 10;
  s->recipes.val_frac = 0.2;
  s->checks.nnoise = 3;
  s->checks.noise[0] = 0.1;
  s->checks.noise[1] = 0.2;
  s->checks.noise[2] = 0.3;
  s->checks.pgr_tol = 0.1;
  s->checks.min_ceiling_rise = NAN;
  s->checks.min_pretrain_gain = NAN;
  snprintf(s->text.wordnet, sizeof s->text.wordnet, "%s", W2_TEXT_WORDNET_DEFAULT);
  s->text.max_per_class = 1000;

  s->nseeds = 3;
  for (int i = 0; i < 3; i++) s->seeds[i] = (uint64_t)i;
  s->ntasks = 3;
  for (int i = 0; i < 3; i++) {
    snprintf(s->tasks[i].name, W2_NAME_MAX, "%s", task_kind_names[i]);
    s->tasks[i].kind = (W2TaskKind)i;
  }
  s->nmethods = 1;
  snprintf(s->methods[0].name, W2_NAME_MAX, "naive");
  w2_method_defaults(&s->methods[0], W2_M_NAIVE);
}

void w2_sweep_free(W2Sweep *s) {
  if (!s) return;
  free(s->config_text);
  s->config_text = NULL;
}

/* ----------------------------------------------------------------------------------- */
/* lookups and derived quantities */

const W2SizeSpec *w2_sweep_size(const W2Sweep *s, const char *name) {
  for (int i = 0; i < s->nsizes; i++)
    if (!strcmp(s->sizes[i].name, name)) return &s->sizes[i];
  return NULL;
}

const W2SupervisorSpec *w2_sweep_supervisor(const W2Sweep *s, const char *name) {
  for (int i = 0; i < s->nsupervisors; i++)
    if (!strcmp(s->supervisors[i].name, name)) return &s->supervisors[i];
  return NULL;
}

W2Arch w2_sweep_arch(const W2Sweep *s, const W2SizeSpec *z, int d_out) {
  W2Arch a = {.d_in = s->world.input_dim, .width = z->width, .depth = z->depth, .d_out = d_out,
              .act = s->pretrain.act};
  return a;
}

double w2_sweep_size_params(const W2Sweep *s, const W2SizeSpec *z) {
  if (z->family == W2_FAMILY_TRANSFORMER) {
    W2XfArch x;
    w2_text_arch(z, &x);
    return w2_xf_params(&x);
  }
  W2Arch a = w2_sweep_arch(s, z, 1);
  return w2_arch_params(&a);
}

int w2_sweep_pair_runs(const W2Sweep *s, const char *weak, const char *strong) {
  const W2SizeSpec *st = w2_sweep_size(s, strong);
  if (!st) return 0;
  if (w2_sweep_supervisor(s, weak)) return 1;
  const W2SizeSpec *w = w2_sweep_size(s, weak);
  return w && w2_sweep_size_params(s, w) < w2_sweep_size_params(s, st);
}

int w2_recipe_count(const W2Sweep *s) {
  const W2RecipeGrid *g = &s->recipes;
  if (!g->enabled) return 1;
  int c = 1;
  c *= g->nlr ? g->nlr : 1;
  c *= g->nepochs ? g->nepochs : 1;
  c *= g->nanchor ? g->nanchor : 1;
  c *= g->nbody ? g->nbody : 1;
  return c;
}

void w2_recipe_at(const W2Sweep *s, int i, W2StageHyper *h) {
  const W2RecipeGrid *g = &s->recipes;
  *h = s->finetune;
  if (!g->enabled) return;
  /* mixed radix, body_lr_scale fastest: lr is the slowest-varying axis */
  if (g->nbody) { h->body_lr_scale = g->body_lr_scale[i % g->nbody]; i /= g->nbody; }
  if (g->nanchor) { h->anchor_decay = g->anchor[i % g->nanchor]; i /= g->nanchor; }
  if (g->nepochs) { h->epochs = g->epochs[i % g->nepochs]; i /= g->nepochs; }
  if (g->nlr) h->lr = g->lr[i % g->nlr];
}

static int is_check(const W2Sweep *s, const char *weak) {
  const W2SupervisorSpec *v = w2_sweep_supervisor(s, weak);
  return v && v->check;
}

int w2_sweep_npairs(const W2Sweep *s) {
  int n = 0;
  for (int i = 0; i < s->nweak; i++)
    for (int j = 0; j < s->nstrong; j++)
      n += !is_check(s, s->weak[i]) && w2_sweep_pair_runs(s, s->weak[i], s->strong[j]);
  return n;
}

long w2_sweep_ncheck_cells(const W2Sweep *s) {
  long n = 0;
  int z = w2_sweep_largest_strong(s);
  for (int i = 0; i < s->nweak; i++)
    for (int m = 0; m < s->nmethods; m++)
      n += is_check(s, s->weak[i]) && w2_sweep_cell_wanted(s, i, z, m);
  return (long)s->ntasks * s->nseeds * n;
}

long w2_sweep_ncells(const W2Sweep *s) {
  return (long)s->ntasks * s->nseeds * w2_sweep_npairs(s) * s->nmethods +
         w2_sweep_ncheck_cells(s);
}

/* ----------------------------------------------------------------------------------- */
/* error reporting and "did you mean" */

typedef struct Parse {
  const char *path;          /* the sweep file, as the user named it */
  const char *text;          /* its text (for line numbers libconfig gets wrong) */
  char dir[W2_PATH_MAX];     /* its directory: relative task files are resolved from here */
  FILE *warn;                /* NULL: warnings dropped */
} Parse;

/* The line of a setting. libconfig records a setting's line when it reduces the rule, which
 * for an unnamed string (an item of weak = [...], chain, a shorthand in tasks/methods) is
 * after the lookahead for adjacent-string concatenation: "a"<newline>] reports the line of
 * the ']'. Such strings are found again in the text, at or above the reported line. */
static int line_of(const Parse *p, const config_setting_t *set) {
  int l = set ? (int)config_setting_source_line(set) : 0;
  if (l < 1) return 1;
  if (!p->text || config_setting_type(set) != CONFIG_TYPE_STRING || config_setting_name(set))
    return l;
  char needle[W2_PATH_MAX + 2];
  const char *v = config_setting_get_string(set);
  if (strchr(v, '"') || strchr(v, '\\') || strlen(v) > W2_PATH_MAX - 1) return l;
  snprintf(needle, sizeof needle, "\"%s\"", v);
  /* start of each line up to l */
  const char *starts[64];
  int n = 0, line = 1;
  for (const char *c = p->text; *c && line <= l; c++) {
    if (line > l - 64 && (c == p->text || c[-1] == '\n')) starts[n++] = c;
    if (*c == '\n') line++;
  }
  for (int k = n - 1; k >= 0; k--) {
    const char *end = strchr(starts[k], '\n');
    size_t len = end ? (size_t)(end - starts[k]) : strlen(starts[k]);
    const char *hit = strstr(starts[k], needle);
    if (hit && (size_t)(hit - starts[k]) < len) return l - (n - 1 - k);
  }
  return l;
}

static W2Err fail_at(const Parse *p, int line, const char *file, int srcline, const char *func,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static W2Err fail_at(const Parse *p, int line, const char *file, int srcline, const char *func,
                     const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return w2_error_raise(file, srcline, func, W2_ERR_CONFIG, "%s:%d: %s", p->path, line, msg);
}

static void warn_at(const Parse *p, const config_setting_t *set, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn_at(const Parse *p, const config_setting_t *set, const char *fmt, ...) {
  if (!p->warn) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(p->warn, "%s:%d: warning: ", p->path, line_of(p, set));
  vfprintf(p->warn, fmt, ap);
  fputc('\n', p->warn);
  va_end(ap);
}

/* Raise "FILE:LINE: message" at the line of setting `set`. */
#define FAIL(p, set, ...) return fail_at((p), line_of((p), (set)), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define REQUIRE(p, cond, set, ...)        \
  do {                                    \
    if (!(cond)) FAIL(p, set, __VA_ARGS__); \
  } while (0)

/* Levenshtein distance, for suggestions (names are short; longer ones are cut). */
static int edit_distance(const char *a, const char *b) {
  enum { M = 64 };
  int la = (int)strnlen(a, M - 1), lb = (int)strnlen(b, M - 1);
  int prev[M], cur[M];
  for (int j = 0; j <= lb; j++) prev[j] = j;
  for (int i = 1; i <= la; i++) {
    cur[0] = i;
    for (int j = 1; j <= lb; j++) {
      int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
  }
  return prev[lb];
}

/* The closest candidate within edit distance 2 (and closer than the word is long), or NULL. */
static const char *suggest(const char *word, const char *const *cands, int n) {
  const char *best = NULL;
  int bestd = 3, len = (int)strlen(word);
  for (int i = 0; i < n; i++) {
    if (!cands[i]) continue;
    int d = edit_distance(word, cands[i]);
    if (d < bestd && d < len) {
      bestd = d;
      best = cands[i];
    }
  }
  return best;
}

/* " (did you mean 'x'?)" or "". */
static const char *hint(char *buf, size_t cap, const char *word, const char *const *cands, int n) {
  const char *s = suggest(word, cands, n);
  if (s)
    snprintf(buf, cap, " (did you mean '%s'?)", s);
  else
    buf[0] = '\0';
  return buf;
}

/* "a, b, c" */
static const char *join(char *buf, size_t cap, const char *const *names, int n) {
  buf[0] = '\0';
  size_t len = 0;
  for (int i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
  return buf;
}

/* "where.key", or "key" at top level. */
static const char *full(char *buf, size_t cap, const char *where, const char *key) {
  if (where[0])
    snprintf(buf, cap, "%s.%s", where, key);
  else
    snprintf(buf, cap, "%s", key);
  return buf;
}

/* What a setting is, for "(got ...)": its value when scalar. */
static const char *got(char *buf, size_t cap, const config_setting_t *e) {
  switch (config_setting_type(e)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: snprintf(buf, cap, "%lld", config_setting_get_int64(e)); break;
  case CONFIG_TYPE_FLOAT: snprintf(buf, cap, "%g", config_setting_get_float(e)); break;
  case CONFIG_TYPE_STRING: snprintf(buf, cap, "\"%.60s\"", config_setting_get_string(e)); break;
  case CONFIG_TYPE_BOOL: snprintf(buf, cap, "%s", config_setting_get_bool(e) ? "true" : "false"); break;
  case CONFIG_TYPE_GROUP: snprintf(buf, cap, "a group { ... }"); break;
  case CONFIG_TYPE_ARRAY: snprintf(buf, cap, "an array [ ... ]"); break;
  case CONFIG_TYPE_LIST: snprintf(buf, cap, "a list ( ... )"); break;
  default: snprintf(buf, cap, "nothing"); break;
  }
  return buf;
}

/* ----------------------------------------------------------------------------------- */
/* key tables: the allowed keys of every group and their types */

typedef enum {
  K_INT,   /* integer (32- or 64-bit) */
  K_NUM,   /* integer or float */
  K_STR,   /* string */
  K_BOOL,  /* true / false */
  K_STRS,  /* array or list of strings */
  K_INTS,  /* array or list of integers */
  K_NUMS,  /* array or list of numbers */
  K_GROUP, /* { ... } */
  K_ITEMS  /* list ( ... ) of groups (or of strings, where a name alone is enough) */
} KeyType;

typedef struct KeyDef {
  const char *name;
  KeyType type;
  unsigned kinds; /* methods: bit k set = applies to W2MethodKind k; 0 = all kinds */
} KeyDef;

static int type_ok(const config_setting_t *e, KeyType t) {
  int ty = config_setting_type(e);
  switch (t) {
  case K_INT: return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
  case K_NUM: return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64 || ty == CONFIG_TYPE_FLOAT;
  case K_STR: return ty == CONFIG_TYPE_STRING;
  case K_BOOL: return ty == CONFIG_TYPE_BOOL;
  case K_STRS:
  case K_INTS:
  case K_NUMS:
  case K_ITEMS: return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
  case K_GROUP: return ty == CONFIG_TYPE_GROUP;
  }
  return 0;
}

static const char *type_desc(KeyType t) {
  switch (t) {
  case K_INT: return "an integer";
  case K_NUM: return "a number";
  case K_STR: return "a string in double quotes";
  case K_BOOL: return "true or false";
  case K_STRS: return "an array of names like [\"a\", \"b\"]";
  case K_INTS: return "an array of integers like [0, 1, 2]";
  case K_NUMS: return "an array of numbers like [1e-4, 1e-3]";
  case K_GROUP: return "a group { key = value; ... }";
  case K_ITEMS: return "a list ( { ... }, { ... } )";
  }
  return "?";
}

#define MK(k) (1u << (k))

static const KeyDef root_keys[] = {
    {"name", K_STR, 0},      {"output", K_STR, 0},      {"cache", K_STR, 0},
    {"seeds", K_INTS, 0},    {"world", K_GROUP, 0},     {"data", K_GROUP, 0},
    {"tasks", K_ITEMS, 0},   {"sizes", K_ITEMS, 0},     {"supervisors", K_ITEMS, 0},
    {"weak", K_STRS, 0},     {"strong", K_STRS, 0},     {"methods", K_ITEMS, 0},
    {"pretrain", K_GROUP, 0}, {"finetune", K_GROUP, 0}, {"probe", K_GROUP, 0},
    {"unsup", K_GROUP, 0},   {"eval_points", K_INT, 0}, {"runner", K_GROUP, 0},
    {"recipes", K_GROUP, 0}, {"checks", K_GROUP, 0}, {"text", K_GROUP, 0}};
static const KeyDef text_keys[] = {
    {"wordnet", K_STR, 0}, {"max_per_class", K_INT, 0}, {"corpus", K_STR, 0}};
static const char *const text_corpus_names[] = {"wordnet", "dictionary"}; /* W2TextCorpus */
static const KeyDef recipe_keys[] = {
    {"select", K_BOOL, 0},  {"lr", K_NUMS, 0},      {"epochs", K_NUMS, 0},
    {"anchor_decay", K_NUMS, 0}, {"body_lr_scale", K_NUMS, 0}, {"val_frac", K_NUM, 0},
    {"probe_ceiling", K_BOOL, 0}, {"student", K_STR, 0}};
static const char *const student_recipe_names[] = {"ceiling", "weak"};
static const KeyDef check_keys_def[] = {
    {"enabled", K_BOOL, 0}, {"noise", K_NUMS, 0}, {"pgr_tol", K_NUM, 0},
    {"min_ceiling_rise", K_NUM, 0}, {"pretrain_control", K_BOOL, 0},
    {"min_pretrain_gain", K_NUM, 0}};
static const KeyDef world_keys[] = {
    {"seed", K_INT, 0},         {"latent_dim", K_INT, 0},       {"input_dim", K_INT, 0},
    {"render_depth", K_INT, 0}, {"render_gain", K_NUM, 0},      {"pretrain_targets", K_INT, 0},
    {"input_noise", K_NUM, 0},  {"task_dim", K_INT, 0},         {"saliency", K_NUM, 0},
    {"shift_regimes", K_INT, 0}};
static const KeyDef data_keys[] = {{"n_a", K_INT, 0}, {"n_b", K_INT, 0}, {"n_test", K_INT, 0}};
static const KeyDef task_keys[] = {{"name", K_STR, 0}, {"kind", K_STR, 0}, {"file", K_STR, 0},
                                   {"class", K_STR, 0}, {"input", K_STR, 0}};
static const KeyDef size_keys[] = {
    {"name", K_STR, 0}, {"width", K_INT, 0}, {"depth", K_INT, 0}, {"ranks", K_INT, 0},
    {"family", K_STR, 0}, {"heads", K_INT, 0}, {"ctx", K_INT, 0}};
static const KeyDef sup_keys[] = {
    {"name", K_STR, 0}, {"kind", K_STR, 0}, {"error_rate", K_NUM, 0}, {"confidence", K_NUM, 0}};
static const KeyDef stage_keys[] = {
    {"epochs", K_NUM, 0},  {"batch", K_INT, 0},  {"lr", K_NUM, 0},
    {"weight_decay", K_NUM, 0}, {"warmup", K_NUM, 0}, {"schedule", K_STR, 0},
    {"anchor_decay", K_NUM, 0}, {"body_lr_scale", K_NUM, 0}, {"head_init", K_STR, 0}};
static const char *const head_init_names[] = {"random", "probe"};
static const KeyDef probe_keys[] = {
    {"folds", K_INT, 0},      {"lambdas", K_INT, 0},   {"lambda_min", K_NUM, 0},
    {"lambda_max", K_NUM, 0}, {"criterion", K_STR, 0},
    /* the SGD settings of the probes before issue 11: refused with an explanation */
    {"epochs", K_NUM, 0},     {"batch", K_INT, 0},     {"lr", K_NUM, 0},
    {"weight_decay", K_NUM, 0}, {"warmup", K_NUM, 0},  {"schedule", K_STR, 0}};
static const char *const probe_criterion_names[] = {"ce", "accuracy"}; /* W2ProbeCriterion */
static const KeyDef pretrain_keys[] = {
    {"epochs", K_NUM, 0},       {"batch", K_INT, 0},  {"lr", K_NUM, 0},
    {"weight_decay", K_NUM, 0}, {"warmup", K_NUM, 0}, {"schedule", K_STR, 0},
    {"examples_per_param", K_NUM, 0}, {"min_examples", K_INT, 0}, {"max_examples", K_INT, 0},
    {"activation", K_STR, 0}};
static const KeyDef runner_keys[] = {{"max_attempts", K_INT, 0},
                                     {"progress_interval", K_NUM, 0},
                                     {"rank_memory_gb", K_NUM, 0},
                                     {"file_locking", K_BOOL, 0}};
/* keys of every method item; each kind's own settings come from the registry (method.h) */
static const KeyDef method_common_keys[] = {
    {"name", K_STR, 0}, {"kind", K_STR, 0}, {"unsup", K_BOOL, 0}};

/* Every member of group g must be a key of defs with the right type. where names g in
 * messages ("" = top level). */
static W2Err check_keys(const Parse *p, const config_setting_t *g, const KeyDef *defs, int n,
                        const char *where) {
  const char *names[32];
  for (int i = 0; i < n && i < 32; i++) names[i] = defs[i].name;
  int len = config_setting_length(g);
  for (int i = 0; i < len; i++) {
    const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
    const char *key = config_setting_name(e);
    const KeyDef *d = NULL;
    for (int j = 0; j < n; j++)
      if (!strcmp(key, defs[j].name)) d = &defs[j];
    char h[96], fb[160], gb[96];
    if (!d) {
      if (where[0]) FAIL(p, e, "unknown key '%s' in %s%s", key, where, hint(h, sizeof h, key, names, n));
      FAIL(p, e, "unknown key '%s' at top level%s", key, hint(h, sizeof h, key, names, n));
    }
    REQUIRE(p, type_ok(e, d->type), e, "%s must be %s (got %s)", full(fb, sizeof fb, where, key),
            type_desc(d->type), got(gb, sizeof gb, e));
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* typed getters: an absent key leaves *out (the default) untouched */

typedef struct Range {
  double lo, hi;
  int lo_open, hi_open; /* 1: the bound itself is excluded */
} Range;

static const char *range_desc(char *buf, size_t cap, Range r) {
  if (isinf(r.hi))
    snprintf(buf, cap, "must be %s %g", r.lo_open ? ">" : ">=", r.lo);
  else if (isinf(r.lo))
    snprintf(buf, cap, "must be %s %g", r.hi_open ? "<" : "<=", r.hi);
  else
    snprintf(buf, cap, "must be in %c%g, %g%c", r.lo_open ? '(' : '[', r.lo, r.hi,
             r.hi_open ? ')' : ']');
  return buf;
}

static int in_range(double v, Range r) {
  if (r.lo_open ? !(v > r.lo) : !(v >= r.lo)) return 0;
  if (r.hi_open ? !(v < r.hi) : !(v <= r.hi)) return 0;
  return 1;
}

static const config_setting_t *member(const config_setting_t *g, const char *key) {
  return g ? config_setting_get_member(g, key) : NULL;
}

static W2Err get_i64(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                     long long lo, long long hi, long long *out) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96];
  full(fb, sizeof fb, where, key);
  REQUIRE(p, type_ok(e, K_INT), e, "%s must be an integer (got %s)", fb, got(gb, sizeof gb, e));
  long long v = config_setting_get_int64(e);
  if (hi == LLONG_MAX || hi == INT_MAX)
    REQUIRE(p, v >= lo && v <= hi, e, "%s must be >= %lld (got %lld)", fb, lo, v);
  else
    REQUIRE(p, v >= lo && v <= hi, e, "%s must be between %lld and %lld (got %lld)", fb, lo, hi, v);
  *out = v;
  return W2_OK;
}

static W2Err get_int(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                     int lo, int hi, int *out) {
  long long v = *out;
  W2_CALL(get_i64(p, g, key, where, lo, hi, &v));
  *out = (int)v;
  return W2_OK;
}

static W2Err get_num(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                     Range r, double *out) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96], rb[96];
  full(fb, sizeof fb, where, key);
  REQUIRE(p, type_ok(e, K_NUM), e, "%s must be a number (got %s)", fb, got(gb, sizeof gb, e));
  double v = config_setting_type(e) == CONFIG_TYPE_FLOAT ? config_setting_get_float(e)
                                                         : (double)config_setting_get_int64(e);
  REQUIRE(p, isfinite(v), e, "%s must be a finite number (got %g)", fb, v);
  REQUIRE(p, in_range(v, r), e, "%s %s (got %g)", fb, range_desc(rb, sizeof rb, r), v);
  *out = v;
  return W2_OK;
}

static W2Err get_f32(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                     Range r, float *out) {
  double v = *out;
  W2_CALL(get_num(p, g, key, where, r, &v));
  char fb[160];
  REQUIRE(p, fabs(v) <= FLT_MAX, member(g, key), "%s = %g does not fit in a float",
          full(fb, sizeof fb, where, key), v);
  *out = (float)v;
  return W2_OK;
}

static W2Err get_bool(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                      int *out) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96];
  REQUIRE(p, type_ok(e, K_BOOL), e, "%s must be true or false (got %s)",
          full(fb, sizeof fb, where, key), got(gb, sizeof gb, e));
  *out = config_setting_get_bool(e) != 0;
  return W2_OK;
}

/* Names become HDF5 group names, file names and S32 columns: a small safe alphabet. */
static int name_char_ok(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '+';
}

static W2Err check_name(const Parse *p, const config_setting_t *e, const char *what, const char *v,
                        size_t cap) {
  size_t len = strlen(v);
  REQUIRE(p, len > 0, e, "%s must not be empty", what);
  /* a name is echoed at most 40 characters long: a 900 KB one is not a useful error line */
  REQUIRE(p, len < cap, e, "%s '%.40s%s' is too long (%zu characters; at most %zu)", what, v,
          len > 40 ? "..." : "", len, cap - 1);
  for (size_t i = 0; i < len; i++)
    REQUIRE(p, name_char_ok(v[i]), e,
            "%s '%s' may contain only letters, digits and _ - . + (it names HDF5 groups and files)",
            what, v);
  /* "." and ".." name the directory itself or its parent, as files and HDF5 groups */
  REQUIRE(p, strcmp(v, ".") && strcmp(v, ".."), e,
          "%s '%s' is not a usable name (it names HDF5 groups and files)", what, v);
  return W2_OK;
}

typedef enum { S_NAME, S_PATH } StrKind;

static W2Err get_str(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                     StrKind kind, char *out, size_t cap) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96];
  full(fb, sizeof fb, where, key);
  REQUIRE(p, type_ok(e, K_STR), e, "%s must be a string in double quotes (got %s)", fb,
          got(gb, sizeof gb, e));
  const char *v = config_setting_get_string(e);
  if (kind == S_NAME) {
    W2_CALL(check_name(p, e, fb, v, cap));
  } else {
    REQUIRE(p, v[0] != '\0', e, "%s must not be empty", fb);
    REQUIRE(p, strlen(v) < cap, e, "%s is too long (%zu characters; at most %zu)", fb, strlen(v),
            cap - 1);
  }
  snprintf(out, cap, "%s", v);
  return W2_OK;
}

/* A string that must be one of names[0..n); *out = its index. */
static W2Err get_enum(const Parse *p, const config_setting_t *g, const char *key, const char *where,
                      const char *const *names, int n, int *out) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96], lb[256], h[96];
  full(fb, sizeof fb, where, key);
  REQUIRE(p, type_ok(e, K_STR), e, "%s must be a string in double quotes (got %s)", fb,
          got(gb, sizeof gb, e));
  const char *v = config_setting_get_string(e);
  int k = name_index(v, names, n);
  const char *sug = suggest(v, names, n);
  if (sug)
    snprintf(h, sizeof h, "; did you mean \"%s\"?", sug);
  else
    h[0] = '\0';
  REQUIRE(p, k >= 0, e, "%s must be one of %s (got \"%s\"%s)", fb, join(lb, sizeof lb, names, n),
          v, h);
  *out = k;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* prescan: what libconfig would accept but get wrong */

/* libconfig 1.5 silently truncates an integer literal wider than 32 bits unless it has an L
 * suffix (10000000000 reads as 1410065408), and @include would pull in text that the results
 * file's provenance does not record. Both are errors, found here by a small lexer that skips
 * comments and strings. It also counts settings ('=' or ':'): libconfig checks each new
 * setting against every earlier one of its group for a duplicate, so 50,000 keys took 18 s
 * to parse before being refused; the largest sweep the W2_MAX_* limits allow has about 1,500
 * settings. */
#define W2_MAX_SETTINGS 5000
static W2Err prescan(const Parse *p, const char *text) {
  int line = 1, settings = 0;
  const char *c = text;
  while (*c) {
    if (*c == '\n') {
      line++;
      c++;
    } else if (*c == '#' || (c[0] == '/' && c[1] == '/')) {
      while (*c && *c != '\n') c++;
    } else if (c[0] == '/' && c[1] == '*') {
      c += 2;
      while (*c && !(c[0] == '*' && c[1] == '/')) {
        if (*c == '\n') line++;
        c++;
      }
      if (*c) c += 2;
    } else if (*c == '"') {
      c++;
      while (*c && *c != '"') {
        if (*c == '\\' && c[1]) c++;
        if (*c == '\n') line++;
        c++;
      }
      if (*c) c++;
    } else if (*c == '@') {
      if (!strncmp(c, "@include", 8))
        return fail_at(p, line, __FILE__, __LINE__, __func__,
                       "@include is not supported: keep every setting in the sweep file, whose "
                       "text the results file records as provenance");
      c++;
    } else if (isalpha((unsigned char)*c) || *c == '*' || *c == '_') {
      while (isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '*') c++;
    } else if (isdigit((unsigned char)*c) ||
               ((*c == '-' || *c == '+') && (isdigit((unsigned char)c[1]) || c[1] == '.')) ||
               (*c == '.' && isdigit((unsigned char)c[1]))) {
      const char *start = c;
      if (*c == '-' || *c == '+') c++;
      int hex = c[0] == '0' && (c[1] == 'x' || c[1] == 'X');
      int isfloat = 0;
      while (isalnum((unsigned char)*c) || *c == '.' ||
             (!hex && (*c == '-' || *c == '+') && (c[-1] == 'e' || c[-1] == 'E'))) {
        if (!hex && (*c == '.' || *c == 'e' || *c == 'E')) isfloat = 1;
        c++;
      }
      if (isfloat) continue;
      int has_l = c[-1] == 'L' || c[-1] == 'l';
      char tok[64];
      int len = (int)(c - start);
      snprintf(tok, sizeof tok, "%.*s", len < 63 ? len : 63, start);
      errno = 0;
      char *end;
      long long v = hex ? (long long)strtoull(tok, &end, 16) : strtoll(tok, &end, 10);
      if (errno == ERANGE)
        return fail_at(p, line, __FILE__, __LINE__, __func__,
                       "integer %s does not fit in 64 bits", tok);
      int fits32 = hex ? (unsigned long long)v <= 0xffffffffULL : (v >= INT_MIN && v <= INT_MAX);
      if (!has_l && !fits32)
        return fail_at(p, line, __FILE__, __LINE__, __func__,
                       "integer %s does not fit in 32 bits and libconfig would silently truncate "
                       "it; write %sL",
                       tok, tok);
    } else {
      if ((*c == '=' || *c == ':') && ++settings > W2_MAX_SETTINGS)
        return fail_at(p, line, __FILE__, __LINE__, __func__,
                       "more than %d settings: a sweep file is settings, not data",
                       W2_MAX_SETTINGS);
      c++;
    }
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* groups */

static const Range R_POS = {0, INFINITY, 1, 0};    /* > 0 */
static const Range R_NONNEG = {0, INFINITY, 0, 0}; /* >= 0 */
static const Range R_FRAC = {0, 1, 0, 1};          /* [0, 1) */

static W2Err parse_stage(const Parse *p, const config_setting_t *g, const char *where,
                         W2StageHyper *h) {
  if (!g) return W2_OK;
  int sched = (int)h->sched;
  W2_CALL(get_num(p, g, "epochs", where, (Range){0, 1e6, 1, 0}, &h->epochs));
  W2_CALL(get_int(p, g, "batch", where, 1, 1 << 20, &h->batch));
  W2_CALL(get_f32(p, g, "lr", where, R_POS, &h->lr));
  W2_CALL(get_f32(p, g, "weight_decay", where, R_NONNEG, &h->weight_decay));
  W2_CALL(get_f32(p, g, "warmup", where, R_FRAC, &h->warmup_frac));
  W2_CALL(get_enum(p, g, "schedule", where, sched_names, NELEM(sched_names), &sched));
  h->sched = (W2Sched)sched;
  if (config_setting_get_member(g, "anchor_decay"))
    W2_CALL(get_f32(p, g, "anchor_decay", where, (Range){0, 1e4, 0, 0}, &h->anchor_decay));
  if (config_setting_get_member(g, "head_init"))
    W2_CALL(get_enum(p, g, "head_init", where, head_init_names, NELEM(head_init_names),
                     &h->head_init));
  if (config_setting_get_member(g, "body_lr_scale"))
    W2_CALL(get_f32(p, g, "body_lr_scale", where, (Range){0, 1, 1, 0}, &h->body_lr_scale));
  return W2_OK;
}

static W2Err parse_probe(const Parse *p, const config_setting_t *g, W2ProbeSpec *ps) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, probe_keys, NELEM(probe_keys), "probe"));
  static const char *const sgd[] = {"epochs", "batch", "lr", "weight_decay", "warmup", "schedule"};
  for (int i = 0; i < NELEM(sgd); i++)
    REQUIRE(p, !member(g, sgd[i]), member(g, sgd[i]),
            "probe.%s: linear probes are no longer trained by SGD; they are solved to convergence "
            "with a cross-validated L2 penalty (probe settings: folds, lambdas, lambda_min, "
            "lambda_max, criterion; see sweeps/README.md)",
            sgd[i]);
  W2_CALL(get_int(p, g, "folds", "probe", 2, 50, &ps->folds));
  W2_CALL(get_int(p, g, "lambdas", "probe", 1, 64, &ps->nlambda));
  W2_CALL(get_num(p, g, "lambda_min", "probe", R_POS, &ps->lambda_min));
  W2_CALL(get_num(p, g, "lambda_max", "probe", R_POS, &ps->lambda_max));
  W2_CALL(get_enum(p, g, "criterion", "probe", probe_criterion_names,
                   NELEM(probe_criterion_names), &ps->criterion));
  const config_setting_t *e = member(g, "lambda_max");
  REQUIRE(p, ps->lambda_max >= ps->lambda_min, e ? e : member(g, "lambda_min"),
          "probe.lambda_max (%g) must be >= probe.lambda_min (%g)", ps->lambda_max, ps->lambda_min);
  return W2_OK;
}

static W2Err parse_pretrain(const Parse *p, const config_setting_t *g, W2PretrainSpec *ps) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, pretrain_keys, NELEM(pretrain_keys), "pretrain"));
  W2_CALL(parse_stage(p, g, "pretrain", &ps->hyper));
  W2_CALL(get_num(p, g, "examples_per_param", "pretrain", R_POS, &ps->examples_per_param));
  W2_CALL(get_int(p, g, "min_examples", "pretrain", 1, W2_MAX_ROWS, &ps->min_examples));
  W2_CALL(get_int(p, g, "max_examples", "pretrain", 1, W2_MAX_ROWS, &ps->max_examples));
  int act = (int)ps->act;
  W2_CALL(get_enum(p, g, "activation", "pretrain", act_names, NELEM(act_names), &act));
  ps->act = (W2Act)act;
  const config_setting_t *e = member(g, "max_examples");
  if (!e) e = member(g, "min_examples");
  REQUIRE(p, ps->max_examples >= ps->min_examples, e,
          "pretrain.max_examples (%d) must be >= pretrain.min_examples (%d)", ps->max_examples,
          ps->min_examples);
  return W2_OK;
}

static W2Err parse_world(const Parse *p, const config_setting_t *g, W2WorldSpec *w) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, world_keys, NELEM(world_keys), "world"));
  long long seed = (long long)w->seed;
  W2_CALL(get_i64(p, g, "seed", "world", 0, LLONG_MAX, &seed));
  w->seed = (uint64_t)seed;
  W2_CALL(get_int(p, g, "latent_dim", "world", 1, W2_WORLD_MAX_DIM, &w->latent_dim));
  W2_CALL(get_int(p, g, "input_dim", "world", 1, W2_WORLD_MAX_DIM, &w->input_dim));
  W2_CALL(get_int(p, g, "render_depth", "world", 1, W2_WORLD_MAX_DEPTH, &w->render_depth));
  W2_CALL(get_num(p, g, "render_gain", "world", (Range){0, 100, 1, 0}, &w->render_gain));
  W2_CALL(get_int(p, g, "pretrain_targets", "world", 1, 1 << 16, &w->pretrain_targets));
  W2_CALL(get_num(p, g, "input_noise", "world", (Range){0, 100, 0, 0}, &w->input_noise));
  W2_CALL(get_int(p, g, "task_dim", "world", 0, W2_WORLD_MAX_DIM, &w->task_dim));
  W2_CALL(get_num(p, g, "saliency", "world", (Range){0, 1, 0, 0}, &w->saliency));
  W2_CALL(get_int(p, g, "shift_regimes", "world", 0, W2_WORLD_REGIMES - 1, &w->shift_regimes));
  const config_setting_t *td = config_setting_get_member(g, "task_dim");
  REQUIRE(p, w->task_dim <= w->latent_dim, td ? td : g,
          "world.task_dim = %d must be <= world.latent_dim = %d (0 = all)", w->task_dim,
          w->latent_dim);
  return W2_OK;
}

static W2Err parse_data(const Parse *p, const config_setting_t *g, W2SplitSpec *d) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, data_keys, NELEM(data_keys), "data"));
  /* fewer than 10 rows cannot estimate an accuracy; 1e8 keeps row counts in int */
  W2_CALL(get_int(p, g, "n_a", "data", 10, W2_MAX_ROWS, &d->n_a));
  W2_CALL(get_int(p, g, "n_b", "data", 10, W2_MAX_ROWS, &d->n_b));
  W2_CALL(get_int(p, g, "n_test", "data", 10, W2_MAX_ROWS, &d->n_test));
  long total = (long)d->n_a + d->n_b + d->n_test;
  REQUIRE(p, total <= W2_MAX_ROWS, g, "data: n_a + n_b + n_test = %ld exceeds %d rows", total,
          W2_MAX_ROWS);
  return W2_OK;
}

static W2Err parse_runner(const Parse *p, const config_setting_t *g, W2Sweep *s) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, runner_keys, NELEM(runner_keys), "runner"));
  W2_CALL(get_int(p, g, "max_attempts", "runner", 1, 100, &s->max_attempts));
  W2_CALL(get_num(p, g, "progress_interval", "runner", R_POS, &s->progress_interval));
  W2_CALL(get_num(p, g, "rank_memory_gb", "runner", R_NONNEG, &s->rank_memory_gb));
  W2_CALL(get_bool(p, g, "file_locking", "runner", &s->file_locking));
  return W2_OK;
}

/* An array of numbers in range r: out[0..*n), at most max. Absent: *n unchanged. */
static W2Err get_nums(const Parse *p, const config_setting_t *g, const char *key,
                      const char *where, Range r, int max, double *out, int *n) {
  const config_setting_t *e = member(g, key);
  if (!e) return W2_OK;
  char fb[160], gb[96], rb[96];
  full(fb, sizeof fb, where, key);
  REQUIRE(p, type_ok(e, K_NUMS), e, "%s must be %s (got %s)", fb, type_desc(K_NUMS),
          got(gb, sizeof gb, e));
  int len = config_setting_length(e);
  REQUIRE(p, len >= 1 && len <= max, e, "%s lists %d values; 1 to %d allowed", fb, len, max);
  for (int i = 0; i < len; i++) {
    const config_setting_t *x = config_setting_get_elem(e, (unsigned)i);
    REQUIRE(p, type_ok(x, K_NUM), x, "%s[%d] must be a number (got %s)", fb, i,
            got(gb, sizeof gb, x));
    double v = config_setting_type(x) == CONFIG_TYPE_FLOAT ? config_setting_get_float(x)
                                                           : (double)config_setting_get_int64(x);
    REQUIRE(p, isfinite(v) && in_range(v, r), x, "%s[%d] %s (got %g)", fb, i,
            range_desc(rb, sizeof rb, r), v);
    for (int j = 0; j < i; j++)
      REQUIRE(p, out[j] != v, x, "%s[%d] = %g duplicates %s[%d]", fb, i, v, fb, j);
    out[i] = v;
  }
  *n = len;
  return W2_OK;
}

static W2Err parse_recipes(const Parse *p, const config_setting_t *g, W2RecipeGrid *r) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, recipe_keys, NELEM(recipe_keys), "recipes"));
  r->enabled = 1;
  W2_CALL(get_bool(p, g, "select", "recipes", &r->enabled));
  W2_CALL(get_bool(p, g, "probe_ceiling", "recipes", &r->probe_ceiling));
  double v[W2_MAX_GRID];
  int n = 0;
  W2_CALL(get_nums(p, g, "lr", "recipes", (Range){0, 10, 1, 0}, W2_MAX_GRID, v, &n));
  for (int i = 0; i < n; i++) r->lr[i] = (float)v[i];
  r->nlr = n;
  n = 0;
  W2_CALL(get_nums(p, g, "epochs", "recipes", (Range){0, 1e6, 1, 0}, W2_MAX_GRID, r->epochs, &n));
  r->nepochs = n;
  n = 0;
  W2_CALL(get_nums(p, g, "anchor_decay", "recipes", (Range){0, 1e4, 0, 0}, W2_MAX_GRID, v, &n));
  for (int i = 0; i < n; i++) r->anchor[i] = (float)v[i];
  r->nanchor = n;
  n = 0;
  W2_CALL(get_nums(p, g, "body_lr_scale", "recipes", (Range){0, 1, 1, 0}, W2_MAX_GRID, v, &n));
  for (int i = 0; i < n; i++) r->body_lr_scale[i] = (float)v[i];
  r->nbody = n;
  W2_CALL(get_num(p, g, "val_frac", "recipes", (Range){0.05, 0.5, 0, 0}, &r->val_frac));
  W2_CALL(get_enum(p, g, "student", "recipes", student_recipe_names,
                   NELEM(student_recipe_names), &r->student));
  REQUIRE(p, r->student != W2_STUDENT_RECIPE_WEAK || r->enabled, member(g, "student"),
          "recipes.student = \"weak\" chooses among the recipe grid: it needs recipes.select "
          "= true");
  return W2_OK;
}

static W2Err add_checks(const Parse *p, const config_setting_t *root, W2Sweep *s);

static W2Err parse_checks(const Parse *p, const config_setting_t *g, W2CheckSpec *c) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, check_keys_def, NELEM(check_keys_def), "checks"));
  c->enabled = 1;
  W2_CALL(get_bool(p, g, "enabled", "checks", &c->enabled));
  W2_CALL(get_nums(p, g, "noise", "checks", (Range){0, 0.5, 1, 1}, W2_MAX_CHECK_NOISE, c->noise,
                   &c->nnoise));
  W2_CALL(get_num(p, g, "pgr_tol", "checks", (Range){0, 10, 1, 0}, &c->pgr_tol));
  W2_CALL(get_num(p, g, "min_ceiling_rise", "checks", (Range){-100, 100, 0, 0},
                  &c->min_ceiling_rise));
  W2_CALL(get_num(p, g, "min_pretrain_gain", "checks", (Range){-100, 100, 0, 0},
                  &c->min_pretrain_gain));
  c->pretrain_control = isfinite(c->min_pretrain_gain);
  W2_CALL(get_bool(p, g, "pretrain_control", "checks", &c->pretrain_control));
  REQUIRE(p, c->pretrain_control || !isfinite(c->min_pretrain_gain),
          member(g, "pretrain_control"),
          "checks.min_pretrain_gain compares the ceiling with its untrained control: it needs "
          "checks.pretrain_control = true (or leave pretrain_control out)");
  return W2_OK;
}

static W2Err parse_seeds(const Parse *p, const config_setting_t *e, W2Sweep *s) {
  if (!e) return W2_OK;
  int n = config_setting_length(e);
  REQUIRE(p, n >= 1, e, "seeds must list at least one seed");
  REQUIRE(p, n <= W2_MAX_SEEDS, e, "seeds lists %d seeds; at most %d", n, W2_MAX_SEEDS);
  s->nseeds = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *x = config_setting_get_elem(e, (unsigned)i);
    char gb[96];
    REQUIRE(p, type_ok(x, K_INT), x, "seeds[%d] must be an integer (got %s)", i,
            got(gb, sizeof gb, x));
    long long v = config_setting_get_int64(x);
    REQUIRE(p, v >= 0, x, "seeds[%d] must be >= 0 (got %lld)", i, v);
    s->seeds[i] = (uint64_t)v;
    for (int j = 0; j < i; j++)
      REQUIRE(p, s->seeds[j] != s->seeds[i], x, "seeds[%d] = %lld duplicates seeds[%d]", i, v, j);
  }
  return W2_OK;
}

/* The name of item i of a list: a string item is its own name; a group needs name = "...". */
static W2Err item_name(const Parse *p, const config_setting_t *it, const char *where, int allow_str,
                       char *out) {
  if (config_setting_type(it) == CONFIG_TYPE_STRING && allow_str)
    return check_name(p, it, where, config_setting_get_string(it), W2_NAME_MAX);
  REQUIRE(p, member(it, "name") != NULL, it, "%s has no name (add name = \"...\";)", where);
  W2_CALL(get_str(p, it, "name", where, S_NAME, out, W2_NAME_MAX));
  return W2_OK;
}

/* A list whose items are groups (or strings when allow_str). */
static W2Err check_item(const Parse *p, const config_setting_t *it, const char *where,
                        int allow_str) {
  char gb[96];
  int ty = config_setting_type(it);
  if (ty == CONFIG_TYPE_GROUP) return W2_OK;
  if (allow_str && ty == CONFIG_TYPE_STRING) return W2_OK;
  FAIL(p, it, "%s must be a group { name = ...; ... }%s (got %s)", where,
       allow_str ? " or a name in quotes" : "", got(gb, sizeof gb, it));
}

/* Duplicate-name check: names[0..i) against names[i]. */
static W2Err check_unique(const Parse *p, const config_setting_t *it, const char *list, int i,
                          const char *name, const char *prev, int stride, int *lines) {
  for (int j = 0; j < i; j++)
    REQUIRE(p, strcmp(prev + (size_t)j * (size_t)stride, name) != 0, it,
            "%s[%d]: name '%s' is already used by %s[%d] (line %d)", list, i, name, list, j,
            lines[j]);
  return W2_OK;
}

static W2Err parse_tasks(const Parse *p, const config_setting_t *e, W2Sweep *s) {
  if (!e) return W2_OK;
  int n = config_setting_length(e);
  REQUIRE(p, n >= 1, e, "tasks must list at least one task");
  REQUIRE(p, n <= W2_MAX_TASKS, e, "tasks lists %d tasks; at most %d", n, W2_MAX_TASKS);
  int lines[W2_MAX_TASKS];
  s->ntasks = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *it = config_setting_get_elem(e, (unsigned)i);
    W2TaskSpec *t = &s->tasks[i];
    memset(t, 0, sizeof *t);
    char where[48], h[96], lb[128];
    snprintf(where, sizeof where, "tasks[%d]", i);
    lines[i] = line_of(p, it);
    t->line = lines[i];
    W2_CALL(check_item(p, it, where, 1));
    int is_str = config_setting_type(it) == CONFIG_TYPE_STRING;
    if (is_str) snprintf(t->name, W2_NAME_MAX, "%s", config_setting_get_string(it));
    else W2_CALL(check_keys(p, it, task_keys, NELEM(task_keys), where));
    W2_CALL(item_name(p, it, where, 1, t->name));
    W2_CALL(check_unique(p, it, "tasks", i, t->name, s->tasks[0].name, (int)sizeof(W2TaskSpec), lines));
    int kind = -1;
    if (!is_str) W2_CALL(get_enum(p, it, "kind", where, task_kind_names, NELEM(task_kind_names), &kind));
    if (kind < 0) {
      kind = w2_spec_task_kind_from_name(t->name);
      REQUIRE(p, kind >= 0 && kind != W2_TASK_FILE && kind != W2_TASK_TEXT, it,
              "%s ('%s') needs a kind: '%s' is not a built-in task (one of %s)%s", where, t->name,
              t->name, join(lb, sizeof lb, task_kind_names, NELEM(task_kind_names)),
              hint(h, sizeof h, t->name, task_kind_names, 3));
    }
    t->kind = (W2TaskKind)kind;
    const config_setting_t *f = member(it, "file");
    const config_setting_t *cl = member(it, "class"), *in = member(it, "input");
    if (t->kind != W2_TASK_TEXT) {
      REQUIRE(p, cl == NULL && in == NULL, cl ? cl : in,
              "%s.%s applies only to kind = \"text\" (this task is \"%s\")", where,
              cl ? "class" : "input", task_kind_names[kind]);
    } else {
      /* a text task (texttask.h): a WordNet class, the word as input */
      REQUIRE(p, f == NULL, f, "%s.file applies only to kind = \"file\" (this task is \"text\")",
              where);
      REQUIRE(p, cl != NULL, it, "%s ('%s') has kind = \"text\" but no class = \"...\" (one of %s)",
              where, t->name, join(lb, sizeof lb, w2_text_class_names, 5));
      int k = -1, input = 0;
      W2_CALL(get_enum(p, it, "class", where, w2_text_class_names, 5, &k));
      snprintf(t->text_class, sizeof t->text_class, "%s", w2_text_class_names[k]);
      W2_CALL(get_enum(p, it, "input", where, text_input_names, NELEM(text_input_names), &input));
      t->text_input = (W2TextInput)input;
      continue;
    }
    if (t->kind != W2_TASK_FILE) {
      REQUIRE(p, f == NULL, f, "%s.file applies only to kind = \"file\" (this task is \"%s\")",
              where, task_kind_names[kind]);
      continue;
    }
    REQUIRE(p, f != NULL, it, "%s ('%s') has kind = \"file\" but no file = \"...\"", where, t->name);
    char rel[W2_PATH_MAX];
    W2_CALL(get_str(p, it, "file", where, S_PATH, rel, sizeof rel));
    /* relative to the sweep file, so that a sweep and its data move together */
    int len = rel[0] == '/' || !strcmp(p->dir, ".")
                  ? snprintf(t->file, sizeof t->file, "%s", rel)
                  : snprintf(t->file, sizeof t->file, "%s/%s", p->dir, rel);
    REQUIRE(p, len < (int)sizeof t->file, f, "%s.file: path too long", where);
    struct stat st;
    int ok = stat(t->file, &st) == 0;
    int why = errno;
    REQUIRE(p, ok, f, "%s.file '%s' cannot be read: %s (looked for %s)", where, rel,
            strerror(why), t->file);
    REQUIRE(p, S_ISREG(st.st_mode), f, "%s.file '%s' is not a regular file (looked for %s)", where,
            rel, t->file);
    ok = access(t->file, R_OK) == 0;
    why = errno;
    REQUIRE(p, ok, f, "%s.file '%s' cannot be read: %s (looked for %s)", where, rel,
            strerror(why), t->file);
  }
  return W2_OK;
}

static W2Err parse_sizes(const Parse *p, const config_setting_t *root, W2Sweep *s) {
  const config_setting_t *e = member(root, "sizes");
  REQUIRE(p, e != NULL, root,
          "missing required key 'sizes' (the model-size ladder, e.g. sizes = ( { name = \"s16\"; "
          "width = 16; depth = 2; } );)");
  int n = config_setting_length(e);
  REQUIRE(p, n >= 2, e, "sizes must list at least 2 sizes (a weak and a strong one; got %d)", n);
  REQUIRE(p, n <= W2_MAX_SIZES, e, "sizes lists %d sizes; at most %d", n, W2_MAX_SIZES);
  int lines[W2_MAX_SIZES];
  s->nsizes = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *it = config_setting_get_elem(e, (unsigned)i);
    W2SizeSpec *z = &s->sizes[i];
    memset(z, 0, sizeof *z);
    char where[48];
    snprintf(where, sizeof where, "sizes[%d]", i);
    lines[i] = z->line = line_of(p, it);
    W2_CALL(check_item(p, it, where, 0));
    W2_CALL(check_keys(p, it, size_keys, NELEM(size_keys), where));
    W2_CALL(item_name(p, it, where, 0, z->name));
    W2_CALL(check_unique(p, it, "sizes", i, z->name, s->sizes[0].name, (int)sizeof(W2SizeSpec), lines));
    REQUIRE(p, member(it, "width") != NULL, it, "%s ('%s') has no width", where, z->name);
    z->depth = 2;
    z->ranks = 0;
    W2_CALL(get_int(p, it, "width", where, 1, 1 << 16, &z->width));
    /* the head is one more layer and W2Model holds at most W2_MAX_LAYERS */
    W2_CALL(get_int(p, it, "depth", where, 1, W2_MAX_LAYERS - 1, &z->depth));
    W2_CALL(get_int(p, it, "ranks", where, 0, 1 << 16, &z->ranks));
    W2_CALL(get_enum(p, it, "family", where, w2_family_names, W2_NFAMILIES, &z->family));
    const config_setting_t *he = member(it, "heads"), *cx = member(it, "ctx");
    if (z->family != W2_FAMILY_TRANSFORMER) {
      REQUIRE(p, he == NULL && cx == NULL, he ? he : cx,
              "%s.%s applies only to family = \"transformer\" (this size is an mlp)", where,
              he ? "heads" : "ctx");
      continue;
    }
    REQUIRE(p, he != NULL && cx != NULL, it,
            "%s ('%s') is a transformer: give heads = N and ctx = N (context in bytes)", where,
            z->name);
    W2_CALL(get_int(p, it, "heads", where, 1, 1 << 10, &z->heads));
    W2_CALL(get_int(p, it, "ctx", where, 2, 1 << 14, &z->ctx));
    REQUIRE(p, z->width % z->heads == 0, he, "%s.heads = %d does not divide width %d", where,
            z->heads, z->width);
  }
  return W2_OK;
}

/* `text`: where WordNet is (relative to the sweep file) and how many words per label. */
static W2Err parse_text(const Parse *p, const config_setting_t *g, W2Sweep *s) {
  if (!g) return W2_OK;
  W2_CALL(check_keys(p, g, text_keys, NELEM(text_keys), "text"));
  char rel[W2_PATH_MAX] = "";
  W2_CALL(get_str(p, g, "wordnet", "text", S_PATH, rel, sizeof rel));
  if (rel[0]) {
    int len = rel[0] == '/' || !strcmp(p->dir, ".")
                  ? snprintf(s->text.wordnet, sizeof s->text.wordnet, "%s", rel)
                  : snprintf(s->text.wordnet, sizeof s->text.wordnet, "%s/%s", p->dir, rel);
    REQUIRE(p, len < (int)sizeof s->text.wordnet, member(g, "wordnet"), "text.wordnet: path too long");
  }
  W2_CALL(get_int(p, g, "max_per_class", "text", 0, 1 << 24, &s->text.max_per_class));
  int corpus = (int)s->text.corpus;
  W2_CALL(get_enum(p, g, "corpus", "text", text_corpus_names, NELEM(text_corpus_names), &corpus));
  s->text.corpus = (W2TextCorpus)corpus;
  return W2_OK;
}

/* One family per sweep (texttask.h): transformer sizes run text tasks, MLP sizes the
 * others, and a transformer sweep runs only what the family implements. */
static W2Err check_family(const Parse *p, const config_setting_t *root, W2Sweep *s) {
  const config_setting_t *se = member(root, "sizes"), *te = member(root, "tasks");
  int fam = s->sizes[0].family, xf = fam == W2_FAMILY_TRANSFORMER;
  for (int i = 1; i < s->nsizes; i++)
    REQUIRE(p, s->sizes[i].family == fam, config_setting_get_elem(se, (unsigned)i),
            "sizes[%d] ('%s') is %s but sizes[0] ('%s') is %s: a sweep trains one model family",
            i, s->sizes[i].name, s->sizes[i].family ? "a transformer" : "an mlp",
            s->sizes[0].name, fam ? "a transformer" : "an mlp");
  for (int i = 0; i < s->ntasks; i++) {
    const config_setting_t *at = te ? config_setting_get_elem(te, (unsigned)i) : se;
    int text = s->tasks[i].kind == W2_TASK_TEXT;
    REQUIRE(p, text == xf, at,
            text ? "tasks[%d] ('%s') is a text task, which needs transformer sizes (family = "
                   "\"transformer\")"
                 : "tasks[%d] ('%s') is not a text task; transformer sizes run text tasks "
                   "(kind = \"text\")",
            i, s->tasks[i].name);
  }
  if (!xf) return W2_OK;
  /* a gloss input is W2_TEXT_GLOSS_BYTES bytes: a shorter context would read its tail */
  for (int i = 0; i < s->ntasks; i++) {
    if (s->tasks[i].text_input != W2_TEXT_INPUT_GLOSS) continue;
    for (int j = 0; j < s->nsizes; j++)
      REQUIRE(p, s->sizes[j].ctx >= W2_TEXT_GLOSS_BYTES, config_setting_get_elem(se, (unsigned)j),
              "sizes[%d] ('%s') has ctx = %d, but tasks[%d] ('%s') reads input = \"gloss\" "
              "(%d bytes): use ctx >= %d", j, s->sizes[j].name, s->sizes[j].ctx, i,
              s->tasks[i].name, W2_TEXT_GLOSS_BYTES, W2_TEXT_GLOSS_BYTES);
  }
  const config_setting_t *me = member(root, "methods");
  for (int i = 0; i < s->nmethods; i++) {
    const W2MethodSpec *m = &s->methods[i];
    const W2MethodOps *ops = w2_method_ops((int)m->kind);
    const config_setting_t *at = me ? config_setting_get_elem(me, (unsigned)i) : root;
    REQUIRE(p, !m->unsup, at ? at : root,
            "methods[%d] ('%s'): unsup = true (generative finetuning) needs world tasks; the "
            "transformer family does not implement it", i, m->name);
    REQUIRE(p, ops->loss == W2_LOSS_BCE, at ? at : root,
            "methods[%d] ('%s'): kind %s trains with a loss of its own, which the transformer "
            "family does not implement (it trains with soft-label cross entropy)", i, m->name,
            ops->kind);
  }
  /* transformer.h w2_xf_adamw has no anchor or per-layer learning rate */
  const config_setting_t *ft = member(root, "finetune"), *rg = member(root, "recipes");
  REQUIRE(p, s->finetune.anchor_decay == 0, member(ft, "anchor_decay"),
          "finetune.anchor_decay: the transformer family does not implement it (use 0)");
  REQUIRE(p, !(s->finetune.body_lr_scale > 0 && s->finetune.body_lr_scale != 1),
          member(ft, "body_lr_scale"),
          "finetune.body_lr_scale: the transformer family does not implement it (use 1)");
  for (int i = 0; i < s->recipes.nanchor; i++)
    REQUIRE(p, s->recipes.anchor[i] == 0, member(rg, "anchor_decay"),
            "recipes.anchor_decay: the transformer family does not implement it");
  for (int i = 0; i < s->recipes.nbody; i++)
    REQUIRE(p, s->recipes.body_lr_scale[i] == 1, member(rg, "body_lr_scale"),
            "recipes.body_lr_scale: the transformer family does not implement it");
  char probe[W2_PATH_MAX + 16];
  snprintf(probe, sizeof probe, "%s/data.noun", s->text.wordnet);
  const config_setting_t *tg = member(root, "text");
  const config_setting_t *wl = member(tg, "wordnet");
  REQUIRE(p, access(probe, R_OK) == 0, wl ? wl : te ? te : root,
          "text tasks read WordNet from %s, which has no readable data.noun (install "
          "wordnet-base: bash .ci/deps.sh --data, or set text.wordnet)", s->text.wordnet);
  return W2_OK;
}

static W2Err parse_supervisors(const Parse *p, const config_setting_t *e, W2Sweep *s) {
  if (!e) return W2_OK;
  int n = config_setting_length(e);
  REQUIRE(p, n <= W2_MAX_SUPERVISORS, e, "supervisors lists %d supervisors; at most %d", n,
          W2_MAX_SUPERVISORS);
  int lines[W2_MAX_SUPERVISORS];
  s->nsupervisors = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *it = config_setting_get_elem(e, (unsigned)i);
    W2SupervisorSpec *v = &s->supervisors[i];
    memset(v, 0, sizeof *v);
    char where[48];
    snprintf(where, sizeof where, "supervisors[%d]", i);
    lines[i] = line_of(p, it);
    W2_CALL(check_item(p, it, where, 0));
    W2_CALL(check_keys(p, it, sup_keys, NELEM(sup_keys), where));
    W2_CALL(item_name(p, it, where, 0, v->name));
    W2_CALL(check_unique(p, it, "supervisors", i, v->name, s->supervisors[0].name,
                         (int)sizeof(W2SupervisorSpec), lines));
    const W2SizeSpec *z = w2_sweep_size(s, v->name);
    REQUIRE(p, z == NULL, it, "%s: name '%s' is also a size name; weak = [...] could not tell them apart",
            where, v->name);
    char lb[128];
    REQUIRE(p, member(it, "kind") != NULL, it, "%s ('%s') has no kind (one of %s)", where, v->name,
            join(lb, sizeof lb, sup_kind_names, NELEM(sup_kind_names)));
    int kind = 0;
    W2_CALL(get_enum(p, it, "kind", where, sup_kind_names, NELEM(sup_kind_names), &kind));
    v->kind = (W2SupervisorKind)kind;
    REQUIRE(p, member(it, "error_rate") != NULL, it, "%s ('%s') has no error_rate", where, v->name);
    W2_CALL(get_num(p, it, "error_rate", where, (Range){0, 0.5, 0, 1}, &v->error_rate));
    v->confidence = 1.0 - v->error_rate; /* calibrated by default */
    W2_CALL(get_num(p, it, "confidence", where, (Range){0.5, 1, 1, 0}, &v->confidence));
  }
  return W2_OK;
}

static W2Err parse_chain(const Parse *p, const config_setting_t *e, const char *where,
                         const W2Sweep *s, W2MethodSpec *m) {
  int n = config_setting_length(e);
  REQUIRE(p, n <= W2_MAX_CHAIN, e, "%s.chain lists %d sizes; at most %d", where, n, W2_MAX_CHAIN);
  const char *cands[W2_MAX_SIZES];
  for (int j = 0; j < s->nsizes; j++) cands[j] = s->sizes[j].name;
  m->nchain = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *x = config_setting_get_elem(e, (unsigned)i);
    char gb[96], h[96];
    REQUIRE(p, config_setting_type(x) == CONFIG_TYPE_STRING, x,
            "%s.chain[%d] must be a size name in quotes (got %s)", where, i, got(gb, sizeof gb, x));
    const char *v = config_setting_get_string(x);
    REQUIRE(p, w2_sweep_size(s, v) != NULL, x, "%s.chain[%d]: '%s' is not a size name%s", where, i,
            v, hint(h, sizeof h, v, cands, s->nsizes));
    snprintf(m->chain[i], W2_NAME_MAX, "%s", v);
    for (int j = 0; j < i; j++)
      REQUIRE(p, strcmp(m->chain[j], v) != 0, x, "%s.chain[%d]: '%s' appears twice in the chain",
              where, i, v);
  }
  return W2_OK;
}

static KeyType setting_key_type(W2SettingType t) {
  switch (t) {
  case W2_SET_NUM: return K_NUM;
  case W2_SET_INT: return K_INT;
  case W2_SET_BOOL: return K_BOOL;
  case W2_SET_NAMES: return K_STRS;
  }
  return K_NUM;
}

/* The keys a method item may have: the common ones, then every registered kind's settings
 * (a key shared by kinds, like folds, once). */
static int method_keys(KeyDef *defs, int max) {
  int n = 0;
  for (int i = 0; i < NELEM(method_common_keys) && n < max; i++) defs[n++] = method_common_keys[i];
  for (int k = 0; k < w2_method_count(); k++) {
    const W2MethodOps *o = w2_method_ops(k);
    for (int i = 0; i < o->nsettings; i++) {
      int seen = 0;
      for (int q = 0; q < n; q++) seen |= !strcmp(defs[q].name, o->settings[i].key);
      if (!seen && n < max) defs[n++] = (KeyDef){o->settings[i].key, setting_key_type(o->settings[i].type), 0};
    }
  }
  return n;
}

/* One setting of a method item (absent: its default stays). */
static W2Err parse_setting(const Parse *p, const config_setting_t *it, const char *where,
                           const W2Sweep *s, const W2MethodSetting *st, W2MethodSpec *m) {
  const config_setting_t *x = member(it, st->key);
  if (!x) return W2_OK;
  switch (st->type) {
  case W2_SET_NUM: {
    double v = w2_method_setting_value(m, st);
    W2_CALL(get_num(p, it, st->key, where, (Range){st->lo, st->hi, st->lo_open, st->hi_open}, &v));
    w2_method_setting_set(m, st, v);
    break;
  }
  case W2_SET_INT: {
    int v = (int)w2_method_setting_value(m, st);
    W2_CALL(get_int(p, it, st->key, where, (int)st->lo, (int)st->hi, &v));
    w2_method_setting_set(m, st, v);
    break;
  }
  case W2_SET_BOOL: {
    int v = (int)w2_method_setting_value(m, st);
    W2_CALL(get_bool(p, it, st->key, where, &v));
    w2_method_setting_set(m, st, v);
    break;
  }
  case W2_SET_NAMES: W2_CALL(parse_chain(p, x, where, s, m)); break;
  }
  return W2_OK;
}

static W2Err parse_methods(const Parse *p, const config_setting_t *e, W2Sweep *s) {
  if (!e) return W2_OK;
  int n = config_setting_length(e);
  REQUIRE(p, n >= 1, e, "methods must list at least one method");
  REQUIRE(p, n <= W2_MAX_METHODS, e, "methods lists %d methods; at most %d", n, W2_MAX_METHODS);
  int lines[W2_MAX_METHODS];
  KeyDef keys[64];
  int nkeys = method_keys(keys, NELEM(keys));
  int nkinds = w2_method_count();
  const char *kind_names[64];
  for (int k = 0; k < nkinds && k < 64; k++) kind_names[k] = w2_method_ops(k)->kind;
  s->nmethods = n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *it = config_setting_get_elem(e, (unsigned)i);
    W2MethodSpec *m = &s->methods[i];
    memset(m, 0, sizeof *m);
    char where[48], h[96], lb[256];
    snprintf(where, sizeof where, "methods[%d]", i);
    lines[i] = line_of(p, it);
    W2_CALL(check_item(p, it, where, 1));
    int is_str = config_setting_type(it) == CONFIG_TYPE_STRING;
    if (is_str) snprintf(m->name, W2_NAME_MAX, "%s", config_setting_get_string(it));
    else W2_CALL(check_keys(p, it, keys, nkeys, where));
    W2_CALL(item_name(p, it, where, 1, m->name));
    W2_CALL(check_unique(p, it, "methods", i, m->name, s->methods[0].name, (int)sizeof(W2MethodSpec),
                         lines));
    int kind = -1;
    if (!is_str) W2_CALL(get_enum(p, it, "kind", where, kind_names, nkinds, &kind));
    if (kind < 0) {
      kind = w2_method_kind_from_name(m->name);
      REQUIRE(p, kind >= 0, it, "%s ('%s') needs a kind: '%s' is not a method kind (one of %s)%s",
              where, m->name, m->name, join(lb, sizeof lb, kind_names, nkinds),
              hint(h, sizeof h, m->name, kind_names, nkinds));
    }
    w2_method_defaults(m, (W2MethodKind)kind);
    const W2MethodOps *ops = w2_method_ops(kind);
    /* a required list (bootstrap's chain): without it the method would silently be another */
    for (int q = 0; q < ops->nsettings; q++)
      REQUIRE(p, ops->settings[q].type != W2_SET_NAMES || ops->settings[q].def == 0 ||
                     (!is_str && member(it, ops->settings[q].key)),
              it, "%s ('%s') is a %s method without intermediate sizes: give %s = [\"size\", ...]",
              where, m->name, ops->kind, ops->settings[q].key);
    if (!is_str) {
      /* a setting of another kind is a mistake, not something to ignore */
      for (int k = NELEM(method_common_keys); k < nkeys; k++) {
        const config_setting_t *x = member(it, keys[k].name);
        if (!x || w2_method_setting(kind, keys[k].name)) continue;
        const char *owners[64];
        int no = 0;
        for (int q = 0; q < nkinds && q < 64; q++)
          if (w2_method_setting(q, keys[k].name)) owners[no++] = kind_names[q];
        FAIL(p, x, "%s.%s does not apply to method kind '%s' (it is a setting of %s)", where,
             keys[k].name, ops->kind, join(lb, sizeof lb, owners, no));
      }
      W2_CALL(get_bool(p, it, "unsup", where, &m->unsup));
      for (int q = 0; q < ops->nsettings; q++)
        W2_CALL(parse_setting(p, it, where, s, &ops->settings[q], m));
    }
    /* the kind's own checks across settings (and against the sweep), at the setting's line */
    const char *key = NULL;
    char msg[512];
    if (ops->check && ops->check(s, m, where, &key, msg, sizeof msg)) {
      const config_setting_t *x = key && !is_str ? member(it, key) : NULL;
      FAIL(p, x ? x : it, "%s", msg);
    }
  }
  return W2_OK;
}

/* weak = [...] or strong = [...]: names that exist, no duplicates. */
static W2Err parse_names(const Parse *p, const config_setting_t *root, const char *key, int weak,
                         W2Sweep *s) {
  const config_setting_t *e = member(root, key);
  REQUIRE(p, e != NULL, root, "missing required key '%s' (%s)", key,
          weak ? "names of the weak supervisors: sizes or supervisors, e.g. weak = [\"s16\"];"
               : "names of the strong student sizes, e.g. strong = [\"s256\"];");
  int n = config_setting_length(e);
  REQUIRE(p, n >= 1, e, "%s must name at least one %s", key, weak ? "size or supervisor" : "size");
  const char *cands[W2_MAX_SIZES + W2_MAX_SUPERVISORS];
  int nc = 0;
  for (int j = 0; j < s->nsizes; j++) cands[nc++] = s->sizes[j].name;
  if (weak)
    for (int j = 0; j < s->nsupervisors; j++) cands[nc++] = s->supervisors[j].name;
  int cap = weak ? W2_MAX_SIZES + W2_MAX_SUPERVISORS : W2_MAX_SIZES;
  char(*out)[W2_NAME_MAX] = weak ? s->weak : s->strong;
  for (int i = 0; i < n; i++) {
    const config_setting_t *x = config_setting_get_elem(e, (unsigned)i);
    char gb[96], h[96];
    REQUIRE(p, config_setting_type(x) == CONFIG_TYPE_STRING, x,
            "%s[%d] must be a name in quotes (got %s)", key, i, got(gb, sizeof gb, x));
    const char *v = config_setting_get_string(x);
    for (int j = 0; j < i && j < cap; j++)
      REQUIRE(p, strcmp(out[j], v) != 0, x, "%s[%d]: '%s' is listed twice", key, i, v);
    REQUIRE(p, i < cap, x, "%s lists more than %d names", key, cap);
    if (weak) {
      REQUIRE(p, w2_sweep_size(s, v) || w2_sweep_supervisor(s, v), x,
              "weak[%d]: '%s' is not a size or supervisor name%s", i, v, hint(h, sizeof h, v, cands, nc));
    } else {
      REQUIRE(p, !w2_sweep_supervisor(s, v), x,
              "strong[%d]: '%s' is a supervisor; strong students must be sizes", i, v);
      REQUIRE(p, w2_sweep_size(s, v) != NULL, x, "strong[%d]: '%s' is not a size name%s", i, v,
              hint(h, sizeof h, v, cands, nc));
    }
    snprintf(out[i], W2_NAME_MAX, "%s", v);
  }
  if (weak)
    s->nweak = n;
  else
    s->nstrong = n;
  return W2_OK;
}

/* Pairs with weak >= strong are skipped by the planner: legal, but an entry that pairs with
 * nothing is surely a mistake worth a warning, and a sweep with no pair at all an error. */
static W2Err check_pairs(const Parse *p, const config_setting_t *root, const W2Sweep *s) {
  const config_setting_t *we = member(root, "weak"), *se = member(root, "strong");
  REQUIRE(p, w2_sweep_npairs(s) > 0, se,
          "no (weak, strong) pair runs: every weak size has at least as many parameters as "
          "every strong size");
  for (int i = 0; i < s->nweak; i++) {
    int k = 0;
    for (int j = 0; j < s->nstrong; j++) k += w2_sweep_pair_runs(s, s->weak[i], s->strong[j]);
    if (!k)
      warn_at(p, config_setting_get_elem(we, (unsigned)i),
              "weak '%s' is not smaller than any strong size: it is never used", s->weak[i]);
  }
  for (int j = 0; j < s->nstrong; j++) {
    int k = 0;
    for (int i = 0; i < s->nweak; i++) k += w2_sweep_pair_runs(s, s->weak[i], s->strong[j]);
    if (!k)
      warn_at(p, config_setting_get_elem(se, (unsigned)j),
              "strong '%s' is not larger than any weak model: it is never a student",
              s->strong[j]);
  }
  return W2_OK;
}

/* A bootstrap chain must climb: each intermediate size strictly larger (in parameters) than
 * the one before and than every weak model it is used with, and strictly smaller than every
 * strong size it is used with (a synthetic supervisor counts as smaller than every size).
 * Otherwise a step is a model supervising itself or a larger one, and the chain measures a
 * loop, not bootstrapping (issue 11). "Used with" = the (weak, strong) pairs that run. */
static W2Err check_chains(const Parse *p, const config_setting_t *root, const W2Sweep *s) {
  const config_setting_t *me = member(root, "methods");
  for (int i = 0; i < s->nmethods; i++) {
    const W2MethodSpec *m = &s->methods[i];
    if (m->nchain == 0) continue; /* a chain: bootstrap's (method.h W2_SET_NAMES) */
    const config_setting_t *ce = member(config_setting_get_elem(me, (unsigned)i), "chain");
    for (int q = 0; q < m->nchain; q++) {
      const config_setting_t *x = ce ? config_setting_get_elem(ce, (unsigned)q) : NULL;
      const W2SizeSpec *mid = w2_sweep_size(s, m->chain[q]);
      double cp = w2_sweep_size_params(s, mid);
      if (q > 0) {
        double pp = w2_sweep_size_params(s, w2_sweep_size(s, m->chain[q - 1]));
        REQUIRE(p, cp > pp, x,
                "methods[%d].chain[%d]: '%s' (%.4g parameters) is not larger than the size "
                "before it, '%s' (%.4g): a bootstrap chain must increase",
                i, q, m->chain[q], cp, m->chain[q - 1], pp);
      }
      for (int a = 0; a < s->nweak; a++)
        for (int b = 0; b < s->nstrong; b++) {
          if (!w2_sweep_pair_runs(s, s->weak[a], s->strong[b])) continue;
          const W2SizeSpec *wz = w2_sweep_size(s, s->weak[a]), *sz = w2_sweep_size(s, s->strong[b]);
          double wp = wz ? w2_sweep_size_params(s, wz) : -1, sp = w2_sweep_size_params(s, sz);
          char wb[48];
          if (wz) snprintf(wb, sizeof wb, "%.4g", wp);
          else snprintf(wb, sizeof wb, "a synthetic supervisor");
          REQUIRE(p, wp < cp && cp < sp, x,
                  "methods[%d].chain[%d]: '%s' (%.4g parameters) is not strictly between weak '%s' "
                  "(%s) and strong '%s' (%.4g); a bootstrap chain must pass through sizes "
                  "strictly between every weak and every strong size it runs with",
                  i, q, m->chain[q], cp, s->weak[a], wb, s->strong[b], sp);
        }
    }
  }
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* top level */

static W2Err parse_root(const Parse *p, const config_setting_t *root, W2Sweep *s) {
  W2_CALL(check_keys(p, root, root_keys, NELEM(root_keys), ""));

  /* name: defaults to the file name without its extension */
  if (member(root, "name")) {
    W2_CALL(get_str(p, root, "name", "", S_NAME, s->name, sizeof s->name));
  } else {
    const char *base = strrchr(p->path, '/');
    base = base ? base + 1 : p->path;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(s->name, sizeof s->name, "%.*s", len, base);
    for (const char *c = s->name; *c; c++)
      REQUIRE(p, name_char_ok(*c), root,
              "the sweep name '%s' taken from the file name has characters other than letters, "
              "digits and _ - . +; set name = \"...\"",
              s->name);
    REQUIRE(p, s->name[0], root, "the file name gives an empty sweep name; set name = \"...\"");
  }
  W2_CALL(get_str(p, root, "output", "", S_PATH, s->output, sizeof s->output));
  if (!member(root, "output")) snprintf(s->output, sizeof s->output, "results/%s.h5", s->name);
  W2_CALL(get_str(p, root, "cache", "", S_PATH, s->cache_dir, sizeof s->cache_dir));
  W2_CALL(parse_seeds(p, member(root, "seeds"), s));
  W2_CALL(get_int(p, root, "eval_points", "", 1, 10000, &s->eval_points));

  W2_CALL(parse_world(p, member(root, "world"), &s->world));
  W2_CALL(parse_data(p, member(root, "data"), &s->split));
  W2_CALL(parse_pretrain(p, member(root, "pretrain"), &s->pretrain));
  W2_CALL(parse_probe(p, member(root, "probe"), &s->probe));
  static const char *const stages[] = {"finetune", "unsup"};
  W2StageHyper *hs[] = {&s->finetune, &s->unsup};
  for (int i = 0; i < 2; i++) {
    const config_setting_t *g = member(root, stages[i]);
    if (!g) continue;
    W2_CALL(check_keys(p, g, stage_keys, NELEM(stage_keys), stages[i]));
    W2_CALL(parse_stage(p, g, stages[i], hs[i]));
  }
  W2_CALL(parse_runner(p, member(root, "runner"), s));
  W2_CALL(parse_recipes(p, member(root, "recipes"), &s->recipes));
  W2_CALL(parse_checks(p, member(root, "checks"), &s->checks));
  W2_CALL(parse_text(p, member(root, "text"), s));

  W2_CALL(parse_tasks(p, member(root, "tasks"), s));
  for (int i = 0; i < s->ntasks; i++) {
    /* a sparse task is a function of 3 latent coordinates (world.c) */
    const config_setting_t *te = member(root, "tasks");
    const config_setting_t *at = te ? config_setting_get_elem(te, (unsigned)i)
                                    : member(member(root, "world"), "latent_dim");
    REQUIRE(p, s->tasks[i].kind != W2_TASK_SPARSE || w2_world_task_dim(&s->world) >= 3, at,
            "task '%s' is sparse, which needs world.latent_dim >= 3 (and world.task_dim, "
            "when set, >= 3; the task dimension is %d)",
            s->tasks[i].name, w2_world_task_dim(&s->world));
  }
  W2_CALL(parse_sizes(p, root, s));
  W2_CALL(parse_supervisors(p, member(root, "supervisors"), s));
  W2_CALL(parse_methods(p, member(root, "methods"), s));
  W2_CALL(parse_names(p, root, "weak", 1, s));
  W2_CALL(parse_names(p, root, "strong", 0, s));
  W2_CALL(check_pairs(p, root, s));
  W2_CALL(check_chains(p, root, s));
  W2_CALL(check_family(p, root, s));
  W2_CALL(add_checks(p, root, s));
  return W2_OK;
}

static int first_method(const W2Sweep *s, W2MethodKind k) {
  for (int i = 0; i < s->nmethods; i++)
    if (s->methods[i].kind == k && !s->methods[i].unsup) return i;
  return -1;
}

static double size_params_of(const W2Sweep *s, int z) {
  return w2_sweep_size_params(s, &s->sizes[z]); /* the same numbers for MLPs */
}

/* The strong size with the most (sign = 1) or fewest (sign = -1) parameters; the first
 * listed on a tie; -1 without a strong size. */
static int strong_by_params(const W2Sweep *s, int sign) {
  int best = -1;
  for (int i = 0; i < s->nstrong; i++) {
    for (int z = 0; z < s->nsizes; z++)
      if (!strcmp(s->sizes[z].name, s->strong[i]) &&
          (best < 0 || sign * (size_params_of(s, z) - size_params_of(s, best)) > 0))
        best = z;
  }
  return best;
}

int w2_sweep_largest_strong(const W2Sweep *s) { return strong_by_params(s, 1); }
int w2_sweep_smallest_strong(const W2Sweep *s) { return strong_by_params(s, -1); }

int w2_sweep_cell_wanted(const W2Sweep *s, int w, int z, int m) {
  const W2SupervisorSpec *sup = w2_sweep_supervisor(s, s->weak[w]);
  if (!sup || !sup->check) return 1;
  if (z != w2_sweep_largest_strong(s)) return 0;
  return m == first_method(s, W2_M_NAIVE) || m == first_method(s, W2_M_CONF);
}

/* `checks`: the synthetic supervisors of the known-answer cells (spec.h W2CheckSpec). */
static W2Err add_checks(const Parse *p, const config_setting_t *root, W2Sweep *s) {
  if (!s->checks.enabled) return W2_OK;
  const config_setting_t *g = member(root, "checks");
  REQUIRE(p, first_method(s, W2_M_NAIVE) >= 0, g,
          "checks need a method of kind naive (without unsup) to train the check students");
  REQUIRE(p, !isfinite(s->checks.min_ceiling_rise) ||
                 w2_sweep_smallest_strong(s) != w2_sweep_largest_strong(s),
          member(g, "min_ceiling_rise"),
          "checks.min_ceiling_rise compares the ceilings of the smallest and the largest strong "
          "size: it needs two strong sizes of different parameter counts");
  int n = 1 + s->checks.nnoise;
  REQUIRE(p, s->nsupervisors + n <= W2_MAX_SUPERVISORS, g,
          "checks add %d supervisors; with the %d of the sweep that is over %d", n,
          s->nsupervisors, W2_MAX_SUPERVISORS);
  REQUIRE(p, s->nweak + n <= W2_MAX_SIZES + W2_MAX_SUPERVISORS, g,
          "checks add %d weak supervisors: too many weak names", n);
  for (int i = 0; i < n; i++) {
    W2SupervisorSpec v = {.kind = W2_SUP_UNIFORM, .check = 1};
    v.error_rate = i ? s->checks.noise[i - 1] : 0.0;
    v.confidence = 1.0 - v.error_rate;
    if (i)
      snprintf(v.name, sizeof v.name, "check_u%02d", (int)lround(100 * v.error_rate));
    else
      snprintf(v.name, sizeof v.name, "check_gt");
    REQUIRE(p, !w2_sweep_supervisor(s, v.name) && !w2_sweep_size(s, v.name), g,
            "checks add a supervisor named '%s', which the sweep already uses", v.name);
    s->supervisors[s->nsupervisors++] = v;
    snprintf(s->weak[s->nweak++], W2_NAME_MAX, "%s", v.name);
  }
  return W2_OK;
}

static W2Err read_text(const char *path, char **text) {
  struct stat st;
  if (stat(path, &st) != 0)
    W2_RAISE(W2_ERR_CONFIG, "%s: cannot open the sweep file: %s", path, strerror(errno));
  W2_CHECK(S_ISREG(st.st_mode), W2_ERR_CONFIG, "%s: not a regular file", path);
  W2_CHECK(st.st_size <= W2_SWEEP_TEXT_MAX, W2_ERR_CONFIG,
           "%s: %lld bytes is too large for a sweep file (at most %d)", path,
           (long long)st.st_size, W2_SWEEP_TEXT_MAX);
  FILE *f = fopen(path, "rb");
  if (!f) W2_RAISE(W2_ERR_CONFIG, "%s: cannot open the sweep file: %s", path, strerror(errno));
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    W2_RAISE(W2_ERR_MEM, "out of memory reading %s", path);
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  int bad = ferror(f);
  fclose(f);
  buf[n] = '\0';
  if (bad) {
    free(buf);
    W2_RAISE(W2_ERR_CONFIG, "%s: error reading the sweep file", path);
  }
  if (strlen(buf) != n) { /* named by its line, like every error in the file's text */
    int line = 1;
    for (const char *c = buf; *c; c++) line += *c == '\n';
    free(buf);
    W2_RAISE(W2_ERR_CONFIG, "%s:%d: contains a NUL byte; a sweep file is text", path, line);
  }
  *text = buf;
  return W2_OK;
}

W2Err w2_sweep_load_ex(const char *path, W2Sweep *s, FILE *warn) {
  w2_sweep_defaults(s);
  W2_CHECK(strlen(path) < sizeof s->source_path, W2_ERR_CONFIG, "%s: path too long", path);
  snprintf(s->source_path, sizeof s->source_path, "%s", path);

  Parse p = {.path = path, .warn = warn};
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(p.dir, sizeof p.dir, ".");
  else if (slash == path)
    snprintf(p.dir, sizeof p.dir, "/");
  else
    snprintf(p.dir, sizeof p.dir, "%.*s", (int)(slash - path), path);

  W2Err err;
  W2_CALL_GOTO(err, fail, read_text(path, &s->config_text));
  /* a UTF-8 byte-order mark (editors on Windows add one) is not text libconfig reads */
  p.text = s->config_text + (strncmp(s->config_text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
  W2_CALL_GOTO(err, fail, prescan(&p, p.text));
  config_t cfg;
  config_init(&cfg);
  if (!config_read_string(&cfg, p.text)) {
    const char *f = config_error_file(&cfg);
    err = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_CONFIG, "%s:%d: %s", f ? f : path,
                         config_error_line(&cfg) > 0 ? config_error_line(&cfg) : 1,
                         config_error_text(&cfg));
    config_destroy(&cfg);
    goto fail;
  }
  err = parse_root(&p, config_root_setting(&cfg), s);
  config_destroy(&cfg);
  if (err) {
    w2_error_push(__FILE__, __LINE__, __func__, err);
    goto fail;
  }
  return W2_OK;
fail:
  w2_sweep_free(s);
  return err;
}

W2Err w2_sweep_load(const char *path, W2Sweep *s) {
  W2_CALL(w2_sweep_load_ex(path, s, NULL));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* summary */

static void print_stage(FILE *out, const char *label, const W2StageHyper *h) {
  fprintf(out, "  %-9s epochs %g, batch %d, lr %g, weight_decay %g, warmup %g, %s, "
               "anchor_decay %g, body_lr_scale %g, head_init %s\n", label,
          h->epochs, h->batch, (double)h->lr, (double)h->weight_decay, (double)h->warmup_frac,
          w2_spec_sched_name(h->sched), (double)h->anchor_decay,
          h->body_lr_scale > 0 ? (double)h->body_lr_scale : 1.0,
          h->head_init ? "probe" : "random");
}

void w2_sweep_print(const W2Sweep *s, FILE *out) {
  fprintf(out, "sweep %s (%s)\n", s->name, s->source_path[0] ? s->source_path : "-");
  fprintf(out, "  output    %s\n  cache     %s\n", s->output, s->cache_dir);
  fprintf(out, "  seeds    ");
  for (int i = 0; i < s->nseeds; i++) fprintf(out, " %llu", (unsigned long long)s->seeds[i]);
  fprintf(out, "\n  world     seed %llu, latent_dim %d, input_dim %d, render_depth %d, "
               "render_gain %g, pretrain_targets %d, input_noise %g, task_dim %d, "
               "saliency %g, shift_regimes %d\n",
          (unsigned long long)s->world.seed, s->world.latent_dim, s->world.input_dim,
          s->world.render_depth, s->world.render_gain, s->world.pretrain_targets,
          s->world.input_noise, w2_world_task_dim(&s->world), s->world.saliency,
          s->world.shift_regimes);
  fprintf(out, "  data      n_a %d, n_b %d, n_test %d\n", s->split.n_a, s->split.n_b,
          s->split.n_test);
  fprintf(out, "  tasks    ");
  for (int i = 0; i < s->ntasks; i++) {
    const W2TaskSpec *t = &s->tasks[i];
    fprintf(out, " %s (%s%s%s)", t->name, w2_spec_task_kind_name(t->kind),
            t->kind == W2_TASK_FILE ? " " : "", t->kind == W2_TASK_FILE ? t->file : "");
  }
  fprintf(out, "\n  sizes     %-12s %6s %5s %5s %10s %10s %10s\n", "name", "width", "depth", "ranks",
          "params", "pt_rows", "pt_flops");
  for (int i = 0; i < s->nsizes; i++) {
    const W2SizeSpec *z = &s->sizes[i];
    fprintf(out, "            %-12s %6d %5d %5d %10.3g %10ld %10.3g\n", z->name, z->width, z->depth,
            z->ranks, w2_sweep_size_params(s, z), w2_pretrain_examples(s, z),
            w2_pretrain_flops(s, z));
  }
  for (int i = 0; i < s->nsupervisors; i++) {
    const W2SupervisorSpec *v = &s->supervisors[i];
    fprintf(out, "  %-9s %s: %s, error_rate %g, confidence %g\n", i ? "" : "supervisors", v->name,
            w2_spec_supervisor_kind_name(v->kind), v->error_rate, v->confidence);
  }
  fprintf(out, "  weak     ");
  for (int i = 0; i < s->nweak; i++) fprintf(out, " %s", s->weak[i]);
  fprintf(out, "\n  strong   ");
  for (int i = 0; i < s->nstrong; i++) fprintf(out, " %s", s->strong[i]);
  fprintf(out, "\n  pairs     %d run, %d skipped (weak not smaller than strong)\n",
          w2_sweep_npairs(s), s->nweak * s->nstrong - w2_sweep_npairs(s));
  for (int i = 0; i < s->nmethods; i++) {
    const W2MethodSpec *m = &s->methods[i];
    fprintf(out, "  %-9s %s: %s%s", i ? "" : "methods", m->name, w2_method_kind_name(m->kind),
            m->unsup ? ", unsup" : "");
    const W2MethodOps *ops = w2_method_ops((int)m->kind);
    for (int q = 0; ops && q < ops->nsettings; q++) {
      const W2MethodSetting *st = &ops->settings[q];
      fprintf(out, ", %s", st->key);
      if (st->type == W2_SET_NAMES)
        for (int j = 0; j < m->nchain; j++) fprintf(out, " %s", m->chain[j]);
      else if (st->type == W2_SET_BOOL) fprintf(out, " %s", w2_method_setting_value(m, st) ? "true" : "false");
      else fprintf(out, " %g", w2_method_setting_value(m, st));
    }
    fputc('\n', out);
  }
  print_stage(out, "pretrain", &s->pretrain.hyper);
  fprintf(out, "            examples_per_param %g in [%d, %d], activation %s\n",
          s->pretrain.examples_per_param, s->pretrain.min_examples, s->pretrain.max_examples,
          w2_spec_act_name(s->pretrain.act));
  print_stage(out, "finetune", &s->finetune);
  fprintf(out, "  probe     L2 logistic regression, %d-fold CV over %d lambdas in [%g, %g], "
               "criterion %s\n",
          s->probe.folds, s->probe.nlambda, s->probe.lambda_min, s->probe.lambda_max,
          probe_criterion_names[s->probe.criterion]);
  print_stage(out, "unsup", &s->unsup);
  fprintf(out, "  eval_points %d\n", s->eval_points);
  fprintf(out, "  runner    max_attempts %d, progress_interval %g s, rank_memory_gb %g%s, "
               "file_locking %s\n",
          s->max_attempts, s->progress_interval, s->rank_memory_gb,
          s->rank_memory_gb > 0 ? "" : " (no limit)", s->file_locking ? "true" : "false");
  fprintf(out, "  cells     %ld = %d tasks x %d seeds x %d pairs x %d methods\n",
          w2_sweep_ncells(s), s->ntasks, s->nseeds, w2_sweep_npairs(s), s->nmethods);
}
