/* rng.c — Philox4x32-10 and the helpers built on it (see rng.h). */
#include "rng.h"

#include <math.h>
#include <string.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void w2_philox(uint64_t key, uint64_t ctr_hi, uint64_t ctr_lo, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)ctr_lo, c1 = (uint32_t)(ctr_lo >> 32);
  uint32_t c2 = (uint32_t)ctr_hi, c3 = (uint32_t)(ctr_hi >> 32);
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int r = 0; r < 10; r++) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(PHILOX_M0, c0, &hi0, &lo0);
    mulhilo(PHILOX_M1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

uint64_t w2_mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t w2_fnv1a(uint64_t h, const void *data, uint64_t len) {
  const unsigned char *p = data;
  for (uint64_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t w2_key(uint64_t seed, const char *purpose, uint64_t a, uint64_t b) {
  uint64_t h = w2_fnv1a(W2_FNV_OFFSET, purpose, strlen(purpose));
  return w2_mix64(w2_mix64(w2_mix64(seed ^ h) ^ a) + b);
}

/* 53 random bits from two words -> (0,1); the +0.5 keeps 0 and 1 out (log in Box-Muller). */
static inline double u53(uint32_t hi, uint32_t lo) {
  uint64_t v = ((uint64_t)(hi >> 6) << 27) | (lo >> 5);
  return ((double)v + 0.5) * (1.0 / 9007199254740992.0);
}

double w2_uniform(uint64_t key, uint64_t stream, uint64_t index) {
  uint32_t r[4];
  w2_philox(key, stream, index, r);
  return u53(r[0], r[1]);
}

double w2_normal(uint64_t key, uint64_t stream, uint64_t index) {
  uint32_t r[4];
  w2_philox(key, stream, index, r);
  double u1 = u53(r[0], r[1]);
  double u2 = u53(r[2], r[3]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t w2_below(uint64_t key, uint64_t stream, uint64_t index, uint64_t n) {
  uint32_t r[4];
  w2_philox(key, stream, index, r);
  uint64_t x = ((uint64_t)r[0] << 32) | r[1];
  /* 64-bit draw modulo n: bias < n / 2^64, negligible for every n we use */
  return n ? x % n : 0;
}

void w2_permutation(uint64_t key, uint64_t stream, int n, int *perm) {
  for (int i = 0; i < n; i++) perm[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)w2_below(key, stream, (uint64_t)i, (uint64_t)i + 1);
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
