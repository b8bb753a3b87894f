/* error.h — one error path for all of w2sweep (PETSc style).
 *
 * Every fallible function returns W2Err (0 = success). Every call to one goes through
 * W2_CALL, which on failure appends "file:line func" to a per-process trace and returns
 * the same code to its caller, so the place where an error was raised and the path it
 * took up the stack are both known. W2_CHECK(cond, code, fmt, ...) raises.
 *
 * What the user sees is ONE line: "w2sweep: error: <message>" (the message names the
 * file, line or field at fault). The trace is printed only when W2SWEEP_TRACE=1 is set or
 * the command line has -v, because a researcher reading a config error needs the config
 * line, not our stack.
 */
#ifndef W2_ERROR_H
#define W2_ERROR_H

#include <stddef.h>

typedef int W2Err;

enum {
  W2_OK = 0,
  W2_ERR_ARG = 1,   /* bad command line or argument value */
  W2_ERR_MEM,       /* allocation failed */
  W2_ERR_IO,        /* file could not be opened, read or written */
  W2_ERR_CONFIG,    /* sweep / config file invalid (also used by `check`, exit 2) */
  W2_ERR_DATA,      /* dataset or checkpoint malformed or mismatched */
  W2_ERR_MPI,       /* MPI / BLACS failure */
  W2_ERR_NUM,       /* numerical failure (NaN loss, divergence) */
  W2_ERR_INTERNAL,  /* a bug: an invariant of ours does not hold */
  W2_ERR_INTERRUPTED /* a signal asked us to stop */
};

/* Records the message (printf-style) as the current error and starts a new trace. */
W2Err w2_error_raise(const char *file, int line, const char *func, W2Err code,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Appends a frame to the current trace; returns code unchanged. */
W2Err w2_error_push(const char *file, int line, const char *func, W2Err code);
/* The message of the last raised error ("" if none). */
const char *w2_error_message(void);
/* Prints "w2sweep: error: <message>" to stderr, plus the trace when verbose. */
void w2_error_report(void);
/* Forget the current error (after it was handled, e.g. a failed cell that the sweep records). */
void w2_error_clear(void);
/* Enable the trace in w2_error_report (also enabled by env W2SWEEP_TRACE=1). */
void w2_error_set_verbose(int on);

#define W2_CHECK(cond, code, ...)                                          \
  do {                                                                     \
    if (!(cond)) return w2_error_raise(__FILE__, __LINE__, __func__, (code), __VA_ARGS__); \
  } while (0)

#define W2_RAISE(code, ...) return w2_error_raise(__FILE__, __LINE__, __func__, (code), __VA_ARGS__)

#define W2_CALL(expr)                                                      \
  do {                                                                     \
    W2Err w2_e_ = (expr);                                                  \
    if (w2_e_) return w2_error_push(__FILE__, __LINE__, __func__, w2_e_);  \
  } while (0)

/* For cleanup paths: records the error into a local `err` and jumps to `label`. */
#define W2_CALL_GOTO(err, label, expr)                                     \
  do {                                                                     \
    (err) = (expr);                                                        \
    if (err) { w2_error_push(__FILE__, __LINE__, __func__, (err)); goto label; } \
  } while (0)

#define W2_CALL_MPI(expr)                                                  \
  do {                                                                     \
    int w2_rc_ = (expr);                                                   \
    if (w2_rc_ != 0)                                                       \
      return w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MPI,      \
                            "MPI call failed (code %d): %s", w2_rc_, #expr); \
  } while (0)

/* Checked allocation: p = calloc(n, sizeof *p) or raise W2_ERR_MEM naming the size. */
#define W2_CALLOC(p, n)                                                    \
  do {                                                                     \
    size_t w2_n_ = (size_t)(n);                                            \
    (p) = calloc(w2_n_ ? w2_n_ : 1, sizeof *(p));                          \
    W2_CHECK((p) != NULL, W2_ERR_MEM, "out of memory allocating %zu bytes", \
             w2_n_ * sizeof *(p));                                         \
  } while (0)

/* 64-byte aligned allocation for matrices (zeroed). */
W2Err w2_aligned_alloc(size_t bytes, void **out);
#define W2_ALLOC_ALIGNED(p, n)                                             \
  W2_CALL(w2_aligned_alloc((size_t)(n) * sizeof *(p), (void **)&(p)))

#endif
