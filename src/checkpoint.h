/* checkpoint.h — trained models as HDF5 files that h5py can read.
 *
 * A checkpoint is a pretrained or finetuned model artifact (no optimizer state). Layout,
 * version 1 (every attribute on the root group):
 *
 *   attrs  format       "w2sweep-checkpoint"        (variable-length UTF-8 string)
 *          version      1                           (int32)
 *          d_in, width, depth, d_out                (int32)
 *          act          "relu" | "tanh"
 *          size_name    e.g. "s3"                   (the size ladder entry)
 *          kind         e.g. "pretrained", "weak"   (the role of the model)
 *          seed         uint64
 *          config_hash  uint64: hash of exactly the settings that determine the model
 *          flops        float64: training FLOPs spent to produce it (pretraining included)
 *          params       float64: parameter count (checked against the shape on load)
 *          created      ISO 8601 UTC time of writing
 *   /layer00 ... /layerNN   (NN = depth; the last one is the head)
 *          W            float32 (K, N): W[i, j] is the weight from input i to unit j
 *          b            float32 (N,)
 *
 * so in Python  h = relu(x @ f['layer00/W'][:] + f['layer00/b'][:])  is the first layer.
 *
 * Save and load are collective over the model's grid and work for any grid shape: a model
 * saved on a 2x2 grid loads on 1x1 and vice versa (rank 0 of the grid does the file I/O on
 * the full matrices and broadcasts; errors are agreed so that every rank returns the same
 * code and message and none waits on a failed one). Save writes PATH.tmp.<pid> and renames
 * it, so a killed job never leaves a half-written file under the real name. Load refuses a
 * file that is not a checkpoint, of another version, of another shape, size, seed or
 * config, truncated, or holding non-finite weights, with W2_ERR_DATA and one line naming
 * the file and the field; a missing or unreadable file is W2_ERR_IO. A refused load leaves
 * the model's parameters untouched.
 */
#ifndef W2_CHECKPOINT_H
#define W2_CHECKPOINT_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define W2_CHECKPOINT_FORMAT "w2sweep-checkpoint"
#define W2_CHECKPOINT_VERSION 1
#define W2_CHECKPOINT_NAME_MAX 64

typedef struct W2CheckpointMeta {
  int version;            /* file format version (set by save; read by peek) */
  char size_name[W2_CHECKPOINT_NAME_MAX]; /* size ladder name ("" = not checked on load) */
  char kind[W2_CHECKPOINT_NAME_MAX];      /* role, e.g. "pretrained" ("" = not checked) */
  uint64_t seed;
  uint64_t config_hash;   /* hash of exactly the settings that determine the model */
  double flops;           /* training FLOPs that produced the model */
  double params;          /* parameter count (set by save from the arch) */
  char created[32];       /* ISO 8601 UTC (set by save) */
} W2CheckpointMeta;

/* A model of another family (m->ops, model.h "Families") is saved and loaded in its own
 * format by its ops (the transformer's: transformer.h w2_xf_save); meta is then not
 * written or checked (the artifact cache's file names carry the config hash). */
/* Writes m's parameters and meta (size_name, kind, seed, config_hash, flops) to path,
 * atomically. Collective over m->grid; only grid rank 0 touches the file. */
W2Err w2_checkpoint_save(const W2Model *m, const char *path, const W2CheckpointMeta *meta);

/* Reads path into m, which must already be created (on any grid) with the file's arch.
 * When expect is non-NULL its seed and config_hash must match, and so must its size_name
 * and kind where they are non-empty. m->flops is left alone (peek gives the file's flops).
 * Collective over m->grid; only grid rank 0 reads the file. */
W2Err w2_checkpoint_load(W2Model *m, const char *path, const W2CheckpointMeta *expect);

/* Reads only the attributes: the architecture and the metadata. Not collective. Either
 * output may be NULL. */
W2Err w2_checkpoint_peek(const char *path, W2Arch *arch, W2CheckpointMeta *meta);

/* ---- HDF5 helpers shared with the other modules that read or write HDF5 files --------
 * Every helper closes every id it opens, checks every HDF5 call, and names `path` (the
 * file as the user knows it, not a temporary name) and the object in its message. */

/* A file-access property list (caller closes it with H5Pclose) with HDF5 file locking
 * on (1) or off (0); -1 uses the process default set by w2_h5_set_file_locking, which
 * starts as the library default (locking on). Locking must be off on file systems
 * without flock (Lustre, GPFS, often NFS). Env HDF5_USE_FILE_LOCKING=FALSE/TRUE, when
 * set, overrides both (HDF5 >= 1.10.7 gives the variable precedence). Returns a negative
 * id on failure (after raising W2_ERR_IO). */
/* The temporary name a writer uses before renaming onto `path`: "<path>.tmp.<host>.<pid>",
 * unique across the nodes of a cluster that share a file system (cache, results). */
void w2_tmp_path(const char *path, char *tmp, size_t cap);

hid_t w2_h5_fapl(int file_locking);
/* Sets the process default used by w2_h5_fapl(-1) (the sweep's file_locking setting);
 * -1 restores the library default. */
void w2_h5_set_file_locking(int file_locking);
/* Turns off HDF5's own error-stack printing so users see only our one-line message.
 * Idempotent; every function of this module and of dataset.h calls it. */
void w2_h5_silence(void);

/* Opens path read-only. Missing or unreadable: W2_ERR_IO; not an HDF5 file, truncated or
 * corrupt: W2_ERR_DATA. */
W2Err w2_h5_open_read(const char *path, int file_locking, hid_t *file);
/* Creates (truncating) the temporary file tmp = "<path>.tmp.<pid>" (cap bytes) for an
 * atomic write of path. W2_ERR_IO when it cannot be created. The HDF5 file is built in
 * memory and written by w2_h5_commit, so a full disk is an error there, never a file left
 * half-open inside HDF5 (see checkpoint.c). */
W2Err w2_h5_create_tmp(const char *path, int file_locking, char *tmp, size_t cap, hid_t *file);
/* Finishes an atomic write: closes *file (sets it negative); if err == W2_OK, syncs tmp
 * to disk and renames it to path, otherwise removes tmp. Returns err, or W2_ERR_IO when
 * closing or renaming failed (tmp is then removed as well). */
W2Err w2_h5_commit(hid_t *file, const char *tmp, const char *path, W2Err err);

/* 1 when every component of the link path name ("/a/b") exists in file, else 0. */
int w2_h5_exists(hid_t file, const char *name);
/* Describes dataset name: its type class and element size, and its ndims dimensions in
 * dims (ndims <= 8). W2_ERR_DATA when it is missing, not a dataset, or has another
 * number of dimensions. */
W2Err w2_h5_inspect(hid_t file, const char *path, const char *name, int ndims, hsize_t *dims,
                    H5T_class_t *cls, size_t *size);
/* Reads all of dataset name, converted to the memory type memtype (e.g. H5T_NATIVE_FLOAT). */
W2Err w2_h5_read(hid_t file, const char *path, const char *name, hid_t memtype, void *buf);
/* Creates dataset name under loc as float32 of C-order shape dims and writes data to it. */
W2Err w2_h5_write_f32(hid_t loc, const char *path, const char *name, int ndims,
                      const hsize_t *dims, const float *data);
/* Creates 1-D dataset name under loc as float64 of length n and writes v to it. With
 * deflate > 0 (and n > 0) it is stored as one chunk compressed at that level (the curves of
 * results/SCHEMA.md); with 0, contiguous. */
W2Err w2_h5_write_f64_1d(hid_t loc, const char *path, const char *name, int n, const double *v,
                         int deflate);
/* Reads 1-D dataset name of exactly n elements into buf, converted to memtype. W2_ERR_DATA
 * when it is missing, not 1-D, of another length, or does not convert. */
W2Err w2_h5_read_1d(hid_t loc, const char *path, const char *name, hid_t memtype, hsize_t n,
                    void *buf);

/* Scalar attributes. Writers store int32, uint64, float64 and variable-length UTF-8 (or,
 * with _str_fixed, fixed-length) strings. */
W2Err w2_h5_attr_write_int(hid_t obj, const char *path, const char *name, int v);
W2Err w2_h5_attr_write_u64(hid_t obj, const char *path, const char *name, uint64_t v);
W2Err w2_h5_attr_write_double(hid_t obj, const char *path, const char *name, double v);
W2Err w2_h5_attr_write_str(hid_t obj, const char *path, const char *name, const char *v);
/* A fixed-length string of strlen(v) + 1 bytes, null-terminated, in character set cset:
 * what the results, cell and result-artifact files hold (h5py reads it as bytes). */
W2Err w2_h5_attr_write_str_fixed(hid_t obj, const char *path, const char *name, const char *v,
                                 H5T_cset_t cset);
/* Readers raise W2_ERR_DATA when the attribute is missing, not scalar, or of another
 * class: the integer readers need an integer attribute (exact; uint64 for hashes), the
 * double reader an integer or float one, the string reader a fixed- or variable-length
 * string (truncated to cap - 1 bytes). */
W2Err w2_h5_attr_read_int(hid_t obj, const char *path, const char *name, int *v);
W2Err w2_h5_attr_read_u64(hid_t obj, const char *path, const char *name, uint64_t *v);
W2Err w2_h5_attr_read_double(hid_t obj, const char *path, const char *name, double *v);
W2Err w2_h5_attr_read_str(hid_t obj, const char *path, const char *name, char *buf,
                          size_t cap);

#endif
