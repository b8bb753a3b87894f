/* rng.h — counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * Every random number in w2sweep is a pure function of (key, stream, index): there is no
 * generator state to carry between ranks or steps. That is what makes a cell's result
 * independent of which rank runs it, of the rank count, and of the order cells run in:
 * the weight (i,j) of layer l is drawn from index i*n+j of stream l whatever block-cyclic
 * layout holds it, and example k of epoch e is placed by a permutation keyed on e.
 *
 * Keys are derived from a user seed plus a purpose string and up to two integers with
 * w2_key(), so two uses never share numbers by accident. */
#ifndef W2_RNG_H
#define W2_RNG_H

#include <stdint.h>

/* Philox4x32-10 block: 4 x 32 random bits for the 128-bit counter (ctr_hi, ctr_lo). */
void w2_philox(uint64_t key, uint64_t ctr_hi, uint64_t ctr_lo, uint32_t out[4]);

/* A key for (seed, purpose, a, b): FNV-1a of purpose, mixed with splitmix64. */
uint64_t w2_key(uint64_t seed, const char *purpose, uint64_t a, uint64_t b);

/* Uniform in the open interval (0,1), 53-bit resolution. */
double w2_uniform(uint64_t key, uint64_t stream, uint64_t index);
/* Standard normal (Box-Muller on the two halves of one Philox block). */
double w2_normal(uint64_t key, uint64_t stream, uint64_t index);
/* Uniform integer in [0, n). */
uint64_t w2_below(uint64_t key, uint64_t stream, uint64_t index, uint64_t n);
/* perm[0..n) = a uniformly random permutation of 0..n-1 determined by (key, stream). */
void w2_permutation(uint64_t key, uint64_t stream, int n, int *perm);

/* 64-bit mixing (splitmix64 finalizer); also used for config hashes. */
uint64_t w2_mix64(uint64_t x);
/* FNV-1a 64 of a byte string, continuing from h (start with W2_FNV_OFFSET). */
#define W2_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t w2_fnv1a(uint64_t h, const void *data, uint64_t len);

#endif
