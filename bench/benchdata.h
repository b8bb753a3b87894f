/* benchdata.h — the benchmarks' training set: X (rows, d_in) row-major standard normal,
 * Y (rows) = 1[x . u > 0] for a fixed random direction u (a learnable, balanced target).
 * A pure function of the seed, so bench_train, bench_dist and torch_ref.py (through
 * bench_train --dump-data) train on the same data. */
#ifndef W2_BENCH_BENCHDATA_H
#define W2_BENCH_BENCHDATA_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

static inline void bench_make_data(uint64_t seed, int rows, int d_in, float *X, float *Y) {
  uint64_t kx = w2_key(seed, "bench-x", 0, 0), ku = w2_key(seed, "bench-u", 0, 0);
  for (int i = 0; i < rows; i++) {
    double s = 0;
    for (int j = 0; j < d_in; j++) {
      float x = (float)w2_normal(kx, 0, (uint64_t)i * d_in + j);
      X[(size_t)i * d_in + j] = x;
      s += x * w2_normal(ku, 0, (uint64_t)j);
    }
    Y[i] = s > 0 ? 1.f : 0.f;
  }
}

#endif
