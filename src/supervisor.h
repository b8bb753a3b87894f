/* supervisor.h — synthetic weak supervisors: ground truth with errors of a chosen
 * structure at an exact error rate (Burns et al. 2023, Appendix E), usable in a sweep in
 * place of a trained weak model.
 *
 * In each split (B and test) exactly round(error_rate * n) rows get the wrong label;
 * which rows depends on the kind:
 *   uniform      a random subset, keyed by (seed, supervisor name, split);
 *   latent       the rows where latent cause z_0 is largest (file tasks, which have no
 *                latents: the rows with the largest projection a . x on a random
 *                direction a keyed by the supervisor name) — errors a student can
 *                predict from a feature it has, i.e. easy to imitate;
 *   unlearnable  the rows whose row identity (index in the world stream / data file)
 *                hashes lowest under a key of the supervisor name: a fixed property of
 *                the example that no input feature predicts — hard to imitate.
 * Ties are broken by row index, so the choice is a pure function of its inputs.
 * The soft label is the supervisor's confidence for the label it states:
 *   p(y = 1) = confidence if it states 1, 1 - confidence if it states 0.
 */
#ifndef W2_SUPERVISOR_H
#define W2_SUPERVISOR_H

#include <stdint.h>

#include "error.h"
#include "spec.h"
#include "world.h"

/* Number of rows a supervisor gets wrong in a split of n rows: round(rate * n). */
int w2_supervisor_errors(double error_rate, int n);

/* soft_b (td->n_b) and soft_test (td->n_test): the supervisor's p(y = 1) on split B and on
 * the test split (either may be NULL). Raises W2_ERR_CONFIG for an error rate outside
 * [0, 0.5) or a confidence outside [0.5, 1]. */
W2Err w2_supervisor_labels(const W2SupervisorSpec *sup, const W2TaskData *td, uint64_t seed,
                           float *soft_b, float *soft_test);

/* Which rows of one split are flipped: flip (n) 0/1. X (n, d) inputs, Z (n, dz) latents
 * or NULL, y (n) ground truth, id (n) row identities, split = 0 for B, 1 for test. */
W2Err w2_supervisor_flips(const W2SupervisorSpec *sup, uint64_t seed, int split, int n,
                          int d, int dz, const float *X, const float *Z, const long *id,
                          unsigned char *flip);

const char *w2_supervisor_kind_name(W2SupervisorKind k);

#endif
