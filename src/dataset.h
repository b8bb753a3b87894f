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

#include <stdint.h>

#include "error.h"
#include "spec.h"

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

/* What a sweep must know about a data file before any work: its shapes and the content
 * hashes that key every cached artifact and cell computed from it. Hashes are FNV-1a over
 * the values as loaded (float32 inputs, labels as float 0/1), so they change exactly when
 * what w2sweep reads changes, whatever the file's storage layout, chunking or mtime. */
typedef struct W2DataInfo {
  int n, d;           /* rows and columns of /X */
  int m, k;           /* rows of /pretrain/X, columns of /pretrain/Y (0 when absent) */
  uint64_t hash_x;    /* /X */
  uint64_t hash_pre;  /* /pretrain/X and /pretrain/Y (a constant when absent) */
  uint64_t hash;      /* everything above and /y: what a task of this file reads */
} W2DataInfo;

/* Loads and validates path (w2_dataset_load) and fills info. Cached per process by path,
 * device, inode, size and modification time, so a large file is read and hashed once per
 * process, and again only if it changes. */
W2Err w2_dataset_info(const char *path, W2DataInfo *info);
/* info of an already loaded dataset (no caching). */
void w2_dataset_info_of(const W2Dataset *ds, W2DataInfo *info);

/* The held-out test pool of a file task (data/FORMAT.md): a seed-independent set of
 * w2_dataset_test_pool(n, sp) rows, min(2 n_test, n - n_a - n_b), that every seed's test
 * split is drawn from and that pretraining never sees. perm (n) receives the file's rows
 * in the fixed order whose first `pool` entries are the pool; the rest, in this order, are
 * the pretraining rows when the file has no /pretrain/X. Requires n >= n_a + n_b + n_test. */
int w2_dataset_test_pool(int n, const W2SplitSpec *sp);
void w2_dataset_pool_order(int n, int *perm);

/* Text tasks (texttask.h): draws every seed's splits and refuses a split with too few
 * words, the same way. */
/* Opens every file task's data file of s and checks it against the sweep: the format
 * (w2_dataset_load), enough rows for the splits, generative finetuning (needs a world
 * task). The error is W2_ERR_CONFIG "SWEEPFILE:LINE: tasks[i] ('name'): message" at the
 * task's line. `check` and `run` call it before any work is scheduled or written. */
W2Err w2_sweep_check_data(const W2Sweep *s);

#endif
