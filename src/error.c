/* error.c — the error record behind W2_CHECK / W2_CALL (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W2_TRACE_MAX 32

static char g_msg[1024];
static char g_trace[W2_TRACE_MAX][160];
static int g_ntrace;
static int g_verbose = -1;

W2Err w2_error_raise(const char *file, int line, const char *func, W2Err code,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  va_end(ap);
  /* keep the user-facing message on one line */
  for (char *c = g_msg; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  g_ntrace = 0;
  return w2_error_push(file, line, func, code);
}

W2Err w2_error_push(const char *file, int line, const char *func, W2Err code) {
  if (g_ntrace < W2_TRACE_MAX) {
    const char *base = strrchr(file, '/');
    snprintf(g_trace[g_ntrace++], sizeof g_trace[0], "%s:%d %s()", base ? base + 1 : file,
             line, func);
  }
  return code;
}

const char *w2_error_message(void) { return g_msg; }

void w2_error_set_verbose(int on) { g_verbose = on; }

void w2_error_clear(void) {
  g_msg[0] = '\0';
  g_ntrace = 0;
}

void w2_error_report(void) {
  if (g_verbose < 0) {
    const char *e = getenv("W2SWEEP_TRACE");
    g_verbose = e && e[0] && strcmp(e, "0") != 0;
  }
  fprintf(stderr, "w2sweep: error: %s\n", g_msg[0] ? g_msg : "unknown error");
  if (g_verbose)
    for (int i = 0; i < g_ntrace; i++) fprintf(stderr, "  at %s\n", g_trace[i]);
}

W2Err w2_aligned_alloc(size_t bytes, void **out) {
  size_t sz = (bytes + 63) & ~(size_t)63;
  if (sz == 0) sz = 64;
  void *p = aligned_alloc(64, sz);
  W2_CHECK(p != NULL, W2_ERR_MEM, "out of memory allocating %zu bytes", bytes);
  memset(p, 0, sz);
  *out = p;
  return W2_OK;
}
