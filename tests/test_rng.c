/* test_rng.c — counter-based RNG: purity, distribution moments, permutations. */
#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "testutil.h"

int main(void) {
  uint64_t k = w2_key(42, "test", 1, 2);
  W2T_CHECK(k != w2_key(42, "test", 1, 3), "keys differ by argument");
  W2T_CHECK(k != w2_key(43, "test", 1, 2), "keys differ by seed");
  W2T_CHECK(k != w2_key(42, "tesu", 1, 2), "keys differ by purpose");
  /* purity: any index can be regenerated in any order */
  double a = w2_normal(k, 3, 1000), b = w2_normal(k, 3, 999);
  W2T_CHECK(w2_normal(k, 3, 1000) == a && w2_normal(k, 3, 999) == b, "pure function of index");
  /* moments of 200k normals and uniforms */
  int n = 200000;
  double s = 0, s2 = 0, u = 0, umin = 1, umax = 0;
  for (int i = 0; i < n; i++) {
    double x = w2_normal(k, 0, (uint64_t)i);
    s += x;
    s2 += x * x;
    double v = w2_uniform(k, 1, (uint64_t)i);
    u += v;
    if (v < umin) umin = v;
    if (v > umax) umax = v;
  }
  W2T_CHECK(fabs(s / n) < 0.01, "normal mean %g", s / n);
  W2T_CHECK(fabs(s2 / n - 1) < 0.02, "normal variance %g", s2 / n);
  W2T_CHECK(fabs(u / n - 0.5) < 0.005, "uniform mean %g", u / n);
  W2T_CHECK(umin > 0 && umax < 1, "uniform open interval [%g, %g]", umin, umax);
  /* permutations are permutations, differ by stream, and every position is mixed */
  int m = 1000, *p = malloc(sizeof(int) * m), *q = malloc(sizeof(int) * m),
      *seen = calloc(m, sizeof(int));
  w2_permutation(k, 0, m, p);
  w2_permutation(k, 1, m, q);
  int same = 0, fixed = 0;
  for (int i = 0; i < m; i++) {
    seen[p[i]]++;
    same += p[i] == q[i];
    fixed += p[i] == i;
  }
  int ok = 1;
  for (int i = 0; i < m; i++) ok &= seen[i] == 1;
  W2T_CHECK(ok, "permutation covers 0..n-1 once");
  W2T_CHECK(same < 10 && fixed < 10, "streams independent (%d equal, %d fixed)", same, fixed);
  free(p);
  free(q);
  free(seen);
  return w2t_summary();
}
