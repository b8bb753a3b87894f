/* blasenv.h — which BLAS, and which of its kernels, a run uses (for provenance).
 *
 * OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels when the library loads, from
 * the CPU it recognises or from env OPENBLAS_CORETYPE. The choice matters: on this project's
 * AMD EPYC VM, SGEMM at width 128 runs at 107 GFLOP/s with the Haswell (AVX2) kernels and at
 * 203 with the Cooperlake (AVX-512) kernels that OpenBLAS detects there by itself
 * (bench/RESULTS.md), and results differ in the last bits between kernel sets. */
#ifndef W2_BLASENV_H
#define W2_BLASENV_H

#include <stddef.h>

/* One line: OpenBLAS's configuration and core, plus "(OPENBLAS_CORETYPE=...)" when the
 * environment chose the core; "unknown BLAS (not OpenBLAS)" for other libraries. */
void w2_blas_describe(char *buf, size_t len);

#endif
