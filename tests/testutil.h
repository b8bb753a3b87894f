/* testutil.h — minimal assertions for w2sweep's C tests.
 * W2T_CHECK(cond, fmt, ...) counts a pass or prints "NOT OK file:line message" and counts a
 * failure; w2t_summary() prints "N passed, M failed" (the line CI reads) and returns the
 * process exit status. Under MPI each rank counts its own checks; rank 0 prints the
 * summary of the sum (w2t_summary_mpi). */
#ifndef W2_TESTUTIL_H
#define W2_TESTUTIL_H

#include <stdio.h>

extern int w2t_pass, w2t_fail;

#define W2T_CHECK(cond, ...)                                        \
  do {                                                              \
    if (cond) {                                                     \
      w2t_pass++;                                                   \
    } else {                                                        \
      w2t_fail++;                                                   \
      fprintf(stderr, "NOT OK %s:%d: ", __FILE__, __LINE__);        \
      fprintf(stderr, __VA_ARGS__);                                 \
      fputc('\n', stderr);                                          \
    }                                                               \
  } while (0)

/* Fails the test (and prints the w2sweep error) when a W2Err call fails. */
#define W2T_OK(expr)                                                \
  do {                                                              \
    int w2t_e_ = (expr);                                            \
    W2T_CHECK(w2t_e_ == 0, "%s returned %d: %s", #expr, w2t_e_,     \
              w2_error_message());                                  \
  } while (0)

struct W2Sweep;
/* A sweep on the tiniest world (4 latent causes, 8 inputs, render depth 2, 16 pretraining
 * targets), one linear task "lin" and nsizes depth-1 sizes w4, w8, w16, ... (width 4 << i,
 * one rank each), the rest at their defaults: the tests set their splits and stages. */
void w2t_tiny_world(struct W2Sweep *s, int nsizes);

int w2t_summary(void);
/* MPI version: sums counts over MPI_COMM_WORLD; call before MPI_Finalize. */
int w2t_summary_mpi(void);

#endif
