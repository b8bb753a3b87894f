/* blasenv.c — describing the BLAS a run uses (see blasenv.h). */
#include "blasenv.h"

#include <stdio.h>
#include <stdlib.h>

/* OpenBLAS introspection, weak so that any BLAS links */
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

void w2_blas_describe(char *buf, size_t len) {
  if (!openblas_get_config || !openblas_get_corename) {
    snprintf(buf, len, "unknown BLAS (not OpenBLAS)");
    return;
  }
  const char *env = getenv("OPENBLAS_CORETYPE");
  snprintf(buf, len, "%s; core %s%s%s%s", openblas_get_config(), openblas_get_corename(),
           env ? " (OPENBLAS_CORETYPE=" : "", env ? env : "", env ? ")" : "");
}
