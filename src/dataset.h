/* dataset.h — users' own data as HDF5 files (the format is documented in data/FORMAT.md).
 *
 *   /X             float32 (N, d)   inputs, one row per example (float64 is converted)
 *   /y             (N,)             ground-truth labels, exactly 0 or 1: any integer type,
 *                                   bool, or float holding 0.0 / 1.0
 *   /pretrain/X    float32 (M, d)   optional unlabeled inputs for pretraining
 *   /pretrain/Y    float32 (M, K)   optional pretraining targets in [0, 1] (needs /pretrain/X)
 *   attribute name                  optional display name (string)
 *
 * w2_dataset_load refuses a malformed file with W2_ERR_DATA and one line naming the file
 * and the dataset, row or column at fault ("data/x.h5: /y[17] = 0.3 is not a 0/1 label");
 * a missing or unreadable file is W2_ERR_IO. Loading is not collective: a rank that needs
 * the data loads it (or one rank loads and broadcasts).
 */
#ifndef W2_DATASET_H
#define W2_DATASET_H

#include "error.h"

#define W2_DATASET_FORMAT "w2sweep-dataset"

typedef struct W2Dataset {
  int n, d;        /* labelled examples, input features */
  float *X;        /* (n, d) row-major */
  float *y;        /* (n) labels, 0 or 1 */
  int m, k;        /* pretraining examples (0 if none), pretraining targets (0 if none) */
  float *PX;       /* (m, d) row-major, NULL when m == 0 */
  float *PY;       /* (m, k) row-major, NULL when k == 0 */
  char name[64];   /* the file's name attribute, "" if absent */
} W2Dataset;

/* Reads and validates path into ds (zeroed first; free with w2_dataset_free). On failure
 * ds holds nothing. */
W2Err w2_dataset_load(const char *path, W2Dataset *ds);
/* Frees the arrays and zeroes ds. Safe on a zeroed or already freed ds. */
void w2_dataset_free(W2Dataset *ds);
/* Writes ds to path atomically (temporary file + rename): /X, /y as float32, /pretrain/X
 * and /pretrain/Y when present, attribute name when non-empty. It does not check the
 * labels, so it can also export soft labels for other tools; w2_dataset_load accepts only
 * 0/1 labels. */
W2Err w2_dataset_save(const char *path, const W2Dataset *ds);

#endif
