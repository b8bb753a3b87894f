/* store.h — artifact files for finetuned-model results (weak labels, ceilings).
 *
 * Layout (all plain HDF5): root attributes format="w2sweep-result", version, config_hash
 * (uint64), flops, params, best_acc and the final metrics (acc, auroc, ece, loss, ...);
 * datasets prob_b (n_b) and prob_test (n_test) float32; group curve/ with one float64
 * dataset per curve field. Written to a temporary name and renamed, so a reader never sees
 * half a file. */
#ifndef W2_STORE_H
#define W2_STORE_H

#include "pipeline.h"

W2Err w2_store_result_save(const char *path, const W2RunResult *r, uint64_t hash);
/* Loads path into a new result; W2_ERR_DATA naming the file and field when the file is not
 * a result file or its hash differs from `hash`. */
W2Err w2_store_result_load(const char *path, uint64_t hash, W2RunResult **out);
/* 1 when path exists as a regular file. */
int w2_file_exists(const char *path);
/* 1 when path is there and opens as a complete HDF5 file: the test of "this artifact, cell or
 * checkpoint is done". Writers only ever rename whole files into place, so a file that does
 * not open (cut short by a full disk, a copy or a crashed file system) is removed and 0 is
 * returned: the job that makes it runs again, instead of every rerun failing on it. */
int w2_artifact_ok(const char *path);
/* 1 when a and b both exist and are the same file (same device and inode: catches
 * "./x", symlinks and hard links), so an output can be refused before it overwrites an input. */
int w2_same_file(const char *a, const char *b);
/* mkdir -p */
W2Err w2_mkdirs(const char *path);

/* Curve allocation (one block for all fields). */
W2Err w2_curve_alloc(W2Curve *c, int n);
void w2_curve_free(W2Curve *c);

#endif
