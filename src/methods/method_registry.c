/* method_registry.c — the one list of methods (method.h). A new method is one file under
 * src/methods/ and one line here. The built-in kinds are listed in W2MethodKind's order
 * (spec.h; test_sweepcfg checks it); a test build (W2SWEEP_TEST_METHODS) appends its
 * test-only kinds after them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../rng.h"
#include "method.h"

#ifdef W2SWEEP_TEST_METHODS
extern const W2MethodOps w2_method_test_hard;
#endif

static const W2MethodOps *const registry[] = {
    &w2_method_naive,       &w2_method_conf,         &w2_method_lp_weak,
    &w2_method_lp_gt,       &w2_method_ftweak_lpgt,  &w2_method_es_weak,
    &w2_method_es_gt_oracle, &w2_method_bootstrap,   &w2_method_poe,
    &w2_method_kl,          &w2_method_window,       &w2_method_selftrain,
    &w2_method_clean_knn,   &w2_method_clean_lr,
#ifdef W2SWEEP_TEST_METHODS
    &w2_method_test_hard,
#endif
};

int w2_method_count(void) { return (int)(sizeof registry / sizeof registry[0]); }

const W2MethodOps *w2_method_ops(int k) {
  return k >= 0 && k < w2_method_count() ? registry[k] : NULL;
}

int w2_method_kind_from_name(const char *name) {
  for (int k = 0; k < w2_method_count(); k++)
    if (!strcmp(name, registry[k]->kind)) return k;
  return -1;
}

const char *w2_method_kind_name(W2MethodKind k) {
  const W2MethodOps *o = w2_method_ops((int)k);
  return o ? o->kind : "?";
}

const W2MethodSetting *w2_method_setting(int k, const char *key) {
  const W2MethodOps *o = w2_method_ops(k);
  for (int i = 0; o && i < o->nsettings; i++)
    if (!strcmp(o->settings[i].key, key)) return &o->settings[i];
  return NULL;
}

double w2_method_setting_value(const W2MethodSpec *m, const W2MethodSetting *st) {
  const char *f = (const char *)m + st->offset;
  switch (st->type) {
  case W2_SET_NUM: return *(const double *)(const void *)f;
  case W2_SET_INT:
  case W2_SET_BOOL: return *(const int *)(const void *)f;
  case W2_SET_NAMES: return m->nchain;
  }
  return 0;
}

void w2_method_setting_set(W2MethodSpec *m, const W2MethodSetting *st, double v) {
  char *f = (char *)m + st->offset;
  switch (st->type) {
  case W2_SET_NUM: *(double *)(void *)f = v; break;
  case W2_SET_INT:
  case W2_SET_BOOL: *(int *)(void *)f = (int)v; break;
  case W2_SET_NAMES: break;
  }
}

/* Every kind's settings at their defaults (a field shared by two kinds, like folds, has one
 * default: test_sweepcfg checks that they agree). */
void w2_method_defaults(W2MethodSpec *m, W2MethodKind k) {
  m->kind = k;
  m->unsup = 0;
  m->nchain = 0;
  for (int q = 0; q < w2_method_count(); q++)
    for (int i = 0; i < registry[q]->nsettings; i++)
      w2_method_setting_set(m, &registry[q]->settings[i], registry[q]->settings[i].def);
}

/* appends to buf (capacity len, *used bytes so far, counted past len like snprintf) */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t at = *used < len ? *used : len - 1;
  int w = vsnprintf(buf + at, len - at, fmt, ap);
  va_end(ap);
  *used += w > 0 ? (size_t)w : 0;
}
#define APPEND(...) append(buf, len, &used, __VA_ARGS__)

int w2_method_json(const W2MethodSpec *m, char *buf, size_t len) {
  size_t used = 0;
  if (!len) return 0;
  buf[0] = '\0';
  const W2MethodOps *o = w2_method_ops((int)m->kind);
  APPEND("{\"kind\":\"%s\",\"unsup\":%d", o ? o->kind : "?", m->unsup ? 1 : 0);
  for (int i = 0; o && i < o->nsettings; i++) {
    const W2MethodSetting *st = &o->settings[i];
    if (st->type == W2_SET_NAMES) {
      APPEND(",\"%s\":[", st->key);
      for (int q = 0; q < m->nchain; q++) APPEND("%s\"%s\"", q ? "," : "", m->chain[q]);
      APPEND("]");
    } else if (st->type == W2_SET_NUM) {
      APPEND(",\"%s\":%.17g", st->key, w2_method_setting_value(m, st));
    } else {
      APPEND(",\"%s\":%d", st->key, (int)w2_method_setting_value(m, st));
    }
  }
  APPEND("}");
  return (int)(used < len ? used : len - 1);
}

uint64_t w2_method_hash(uint64_t h, const W2MethodSpec *m) {
  char buf[1024];
  int n = w2_method_json(m, buf, sizeof buf);
  return w2_fnv1a(h, buf, (size_t)n + 1);
}
