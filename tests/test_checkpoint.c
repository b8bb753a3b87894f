/* test_checkpoint.c — checkpoint round trips, refusals and grid-shape independence.
 *
 * One rank (label unit): save/peek/load on a 1x1 grid, bitwise; every refusal returns
 * W2_ERR_DATA (W2_ERR_IO for a missing file) with the file and the field in the message
 * and leaves the model untouched; failed saves leave no file behind. It also writes
 * ckpt_h5py.h5 (weights W[l][i, j] = pattern(l, i, j)) that the h5py script test reads.
 * Four ranks (label mpi): saved on 1x1, 1x2 or 2x2 grids (block 4, so the layout really is
 * block-cyclic), loaded on each of the others, gathered weights compared bitwise; refused
 * loads and failed saves return the same error on every rank (none hangs).
 */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "rng.h"
#include "testutil.h"

static const W2Arch ARCH = {7, 10, 2, 3, W2_ACT_TANH};

static int layer_in(const W2Arch *a, int l) { return l == 0 ? a->d_in : a->width; }
static int layer_out(const W2Arch *a, int l) { return l == a->depth ? a->d_out : a->width; }

/* Random weights and (non-zero) biases, the same on every grid shape. */
static void set_params(W2Model *m, uint64_t key) {
  w2_model_init(m, key);
  for (int l = 0; l <= m->arch.depth; l++)
    for (int j = 0; j < layer_out(&m->arch, l); j++)
      m->b[l][j] = (float)w2_normal(key, 100 + (uint64_t)l, (uint64_t)j);
}

/* Every parameter, W column-major then b per layer, on every rank. Collective. */
static float *gather_params(const W2Model *m) {
  size_t n = (size_t)w2_arch_params(&m->arch), off = 0;
  float *p = calloc(n, sizeof *p);
  for (int l = 0; l <= m->arch.depth; l++) {
    int K = layer_in(&m->arch, l), N = layer_out(&m->arch, l);
    W2T_OK(w2_mat_allgather(&m->W[l], p + off));
    memcpy(p + off + (size_t)K * N, m->b[l], (size_t)N * sizeof(float));
    off += (size_t)K * N + N;
  }
  return p;
}

static int same_params(const W2Model *m, const float *ref) {
  float *p = gather_params(m);
  int same = memcmp(p, ref, (size_t)w2_arch_params(&m->arch) * sizeof(float)) == 0;
  free(p);
  return same;
}

/* Reference parameters for key, computed on a private 1x1 grid. */
static float *reference(const W2Arch *a, uint64_t key) {
  W2Grid *g;
  W2Model *m;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2T_OK(w2_model_create(g, a, &m));
  set_params(m, key);
  float *p = gather_params(m);
  w2_model_destroy(&m);
  w2_grid_destroy(&g);
  return p;
}

static W2CheckpointMeta test_meta(void) {
  W2CheckpointMeta meta;
  memset(&meta, 0, sizeof meta);
  snprintf(meta.size_name, sizeof meta.size_name, "s1");
  snprintf(meta.kind, sizeof meta.kind, "pretrained");
  meta.seed = 42;
  meta.config_hash = 0xfedcba9876543210ULL; /* above 2^63: must survive as uint64 */
  meta.flops = 1.5e9;
  return meta;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* ----------------------------------------------------------------------------------- */
/* one rank */

static int copy_file(const char *src, const char *dst, long max_bytes) {
  FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
  if (!in || !out) {
    if (in) fclose(in);
    if (out) fclose(out);
    return -1;
  }
  char buf[4096];
  long total = 0;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
    if (max_bytes >= 0 && total + (long)n > max_bytes) n = (size_t)(max_bytes - total);
    fwrite(buf, 1, n, out);
    total += (long)n;
    if (max_bytes >= 0 && total >= max_bytes) break;
  }
  fclose(in);
  return fclose(out);
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long s = ftell(f);
  fclose(f);
  return s;
}

/* Mutations applied with the HDF5 C API to a copy of a good checkpoint. */
typedef enum {
  MUT_VERSION, MUT_FORMAT, MUT_NO_FORMAT, MUT_DROP_B1, MUT_SHAPE_W0, MUT_TYPE_B2,
  MUT_NAN_W1, MUT_INF_B0, MUT_RANK_W2, MUT_HASH_STRING
} Mutation;

static void replace_dataset(hid_t f, const char *name, hid_t type, int nd, const hsize_t *dims,
                            hid_t memtype, const void *data) {
  W2T_CHECK(H5Ldelete(f, name, H5P_DEFAULT) >= 0, "delete %s", name);
  hid_t s = H5Screate_simple(nd, dims, NULL);
  hid_t d = H5Dcreate2(f, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  W2T_CHECK(d >= 0 && H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
            "rewrite %s", name);
  H5Dclose(d);
  H5Sclose(s);
}

static void mutate(const char *good, const char *path, Mutation mut) {
  W2T_CHECK(copy_file(good, path, -1) == 0, "copy %s", path);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  W2T_CHECK(f >= 0, "open %s", path);
  float buf[200];
  for (int i = 0; i < 200; i++) buf[i] = 0.5f;
  switch (mut) {
    case MUT_VERSION: {
      int v = 2;
      hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
      W2T_CHECK(a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &v) >= 0, "write version");
      H5Aclose(a);
      break;
    }
    case MUT_FORMAT:
      W2T_CHECK(H5Adelete(f, "format") >= 0, "delete format");
      W2T_OK(w2_h5_attr_write_str(f, path, "format", "something-else"));
      break;
    case MUT_NO_FORMAT: W2T_CHECK(H5Adelete(f, "format") >= 0, "delete format"); break;
    case MUT_DROP_B1: W2T_CHECK(H5Ldelete(f, "layer01/b", H5P_DEFAULT) >= 0, "drop"); break;
    case MUT_SHAPE_W0: {
      hsize_t d[2] = {7, 11};
      replace_dataset(f, "layer00/W", H5T_IEEE_F32LE, 2, d, H5T_NATIVE_FLOAT, buf);
      break;
    }
    case MUT_TYPE_B2: {
      int ib[3] = {1, 2, 3};
      hsize_t d[1] = {3};
      replace_dataset(f, "layer02/b", H5T_STD_I32LE, 1, d, H5T_NATIVE_INT, ib);
      break;
    }
    case MUT_NAN_W1: {
      hsize_t d[2] = {10, 10};
      buf[3 * 10 + 4] = NAN; /* file (K, N) C order: [3, 4] */
      replace_dataset(f, "layer01/W", H5T_IEEE_F32LE, 2, d, H5T_NATIVE_FLOAT, buf);
      break;
    }
    case MUT_INF_B0: {
      hsize_t d[1] = {10};
      buf[6] = -INFINITY;
      replace_dataset(f, "layer00/b", H5T_IEEE_F32LE, 1, d, H5T_NATIVE_FLOAT, buf);
      break;
    }
    case MUT_RANK_W2: {
      hsize_t d[1] = {30};
      replace_dataset(f, "layer02/W", H5T_IEEE_F32LE, 1, d, H5T_NATIVE_FLOAT, buf);
      break;
    }
    case MUT_HASH_STRING:
      W2T_CHECK(H5Adelete(f, "config_hash") >= 0, "delete config_hash");
      W2T_OK(w2_h5_attr_write_str(f, path, "config_hash", "fedcba9876543210"));
      break;
  }
  W2T_CHECK(H5Fclose(f) >= 0, "close %s", path);
}

/* A refused load: the code, the file name and each field in the message, and the model's
 * parameters untouched. */
static void expect_refusal(W2Model *m, const float *before, const char *path,
                           const W2CheckpointMeta *expect, W2Err code, const char *field1,
                           const char *field2) {
  w2_error_clear();
  W2Err e = w2_checkpoint_load(m, path, expect);
  const char *msg = w2_error_message();
  W2T_CHECK(e == code, "%s: load returned %d, expected %d (%s)", path, e, code, msg);
  W2T_CHECK(contains(msg, path), "message '%s' does not name the file %s", msg, path);
  W2T_CHECK(!field1 || contains(msg, field1), "message '%s' does not name '%s'", msg, field1);
  W2T_CHECK(!field2 || contains(msg, field2), "message '%s' does not name '%s'", msg, field2);
  W2T_CHECK(same_params(m, before), "%s: a refused load changed the model", path);
}

static float pattern(int l, int i, int j) { return (float)(l * 1000 + i * 10 + j) / 1024.0f; }

static void test_single(void) {
  W2Grid *g;
  W2Model *m, *m2;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2T_OK(w2_model_create(g, &ARCH, &m));
  W2T_OK(w2_model_create(g, &ARCH, &m2));
  set_params(m, 11);
  float *ref = gather_params(m);
  W2CheckpointMeta meta = test_meta();
  const char *good = "ckpt_rt.h5";

  /* save leaves exactly the file, no temporary */
  W2T_OK(w2_checkpoint_save(m, good, &meta));
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", good, (long)getpid());
  W2T_CHECK(access(good, F_OK) == 0 && access(tmp, F_OK) != 0, "save left %s or no file", tmp);

  /* peek */
  W2Arch pa;
  W2CheckpointMeta pm;
  W2T_OK(w2_checkpoint_peek(good, &pa, &pm));
  W2T_CHECK(memcmp(&pa, &ARCH, sizeof pa) == 0, "peek arch %d %d %d %d %d", pa.d_in, pa.width,
            pa.depth, pa.d_out, (int)pa.act);
  W2T_CHECK(pm.version == 1 && pm.seed == 42 && pm.config_hash == 0xfedcba9876543210ULL &&
                pm.flops == 1.5e9 && pm.params == w2_arch_params(&ARCH),
            "peek meta version %d seed %llu hash %llx flops %g params %g", pm.version,
            (unsigned long long)pm.seed, (unsigned long long)pm.config_hash, pm.flops,
            pm.params);
  W2T_CHECK(strcmp(pm.size_name, "s1") == 0 && strcmp(pm.kind, "pretrained") == 0 &&
                strlen(pm.created) == 20,
            "peek strings '%s' '%s' '%s'", pm.size_name, pm.kind, pm.created);

  /* bitwise round trip, with and without expectations */
  set_params(m2, 99);
  W2T_OK(w2_checkpoint_load(m2, good, &meta));
  W2T_CHECK(same_params(m2, ref), "round trip is not bitwise");
  set_params(m2, 99);
  W2T_OK(w2_checkpoint_load(m2, good, NULL));
  W2T_CHECK(same_params(m2, ref), "round trip without expect is not bitwise");
  /* an empty size_name / kind in expect is not checked */
  W2CheckpointMeta loose = meta;
  loose.size_name[0] = loose.kind[0] = '\0';
  W2T_OK(w2_checkpoint_load(m2, good, &loose));

  /* overwriting an existing checkpoint replaces it */
  set_params(m, 12);
  float *ref12 = gather_params(m);
  W2T_OK(w2_checkpoint_save(m, good, &meta));
  W2T_OK(w2_checkpoint_load(m2, good, &meta));
  W2T_CHECK(same_params(m2, ref12), "overwritten checkpoint not loaded");
  free(ref12);
  set_params(m, 11);
  W2T_OK(w2_checkpoint_save(m, good, &meta));

  /* refusals: mismatching expectations */
  set_params(m2, 99);
  float *before = gather_params(m2);
  W2CheckpointMeta bad = meta;
  bad.seed = 43;
  expect_refusal(m2, before, good, &bad, W2_ERR_DATA, "seed", "43");
  bad = meta;
  bad.config_hash ^= 1;
  expect_refusal(m2, before, good, &bad, W2_ERR_DATA, "config_hash", "fedcba9876543211");
  bad = meta;
  snprintf(bad.size_name, sizeof bad.size_name, "s2");
  expect_refusal(m2, before, good, &bad, W2_ERR_DATA, "size_name", "s2");
  bad = meta;
  snprintf(bad.kind, sizeof bad.kind, "weak");
  expect_refusal(m2, before, good, &bad, W2_ERR_DATA, "kind", "weak");

  /* refusals: another architecture */
  const struct { W2Arch a; const char *field; } archs[] = {
      {{8, 10, 2, 3, W2_ACT_TANH}, "d_in"},  {{7, 12, 2, 3, W2_ACT_TANH}, "width"},
      {{7, 10, 3, 3, W2_ACT_TANH}, "depth"}, {{7, 10, 2, 1, W2_ACT_TANH}, "d_out"},
      {{7, 10, 2, 3, W2_ACT_RELU}, "act"}};
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
    W2Model *o;
    W2T_OK(w2_model_create(g, &archs[i].a, &o));
    set_params(o, 5);
    float *ob = gather_params(o);
    expect_refusal(o, ob, good, &meta, W2_ERR_DATA, archs[i].field, NULL);
    free(ob);
    w2_model_destroy(&o);
  }

  /* refusals: broken files */
  expect_refusal(m2, before, "ckpt_missing.h5", &meta, W2_ERR_IO, NULL, NULL);
  FILE *t = fopen("ckpt_text.h5", "w");
  fputs("this is not an HDF5 file\n", t);
  fclose(t);
  expect_refusal(m2, before, "ckpt_text.h5", &meta, W2_ERR_DATA, "HDF5", NULL);
  W2T_CHECK(copy_file(good, "ckpt_trunc.h5", file_size(good) / 2) == 0, "truncate");
  expect_refusal(m2, before, "ckpt_trunc.h5", &meta, W2_ERR_DATA, "truncated", NULL);

  const struct { Mutation mut; const char *file, *f1, *f2; } muts[] = {
      {MUT_VERSION, "ckpt_version.h5", "version 2", NULL},
      {MUT_FORMAT, "ckpt_format.h5", "format", "something-else"},
      {MUT_NO_FORMAT, "ckpt_noformat.h5", "format", "not a w2sweep checkpoint"},
      {MUT_DROP_B1, "ckpt_dropb.h5", "layer01/b", "missing"},
      {MUT_SHAPE_W0, "ckpt_shape.h5", "layer00/W", "(7, 11), expected (7, 10)"},
      {MUT_TYPE_B2, "ckpt_type.h5", "layer02/b", "float32"},
      {MUT_NAN_W1, "ckpt_nan.h5", "layer01/W[3, 4]", "NaN"},
      {MUT_INF_B0, "ckpt_inf.h5", "layer00/b[6]", "Inf"},
      {MUT_RANK_W2, "ckpt_rank.h5", "layer02/W", "1 dimension"},
      {MUT_HASH_STRING, "ckpt_hashstr.h5", "config_hash", "string"},
  };
  for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
    mutate(good, muts[i].file, muts[i].mut);
    expect_refusal(m2, before, muts[i].file, &meta, W2_ERR_DATA, muts[i].f1, muts[i].f2);
  }
  /* peek refuses what is not a checkpoint too */
  w2_error_clear();
  W2T_CHECK(w2_checkpoint_peek("ckpt_noformat.h5", NULL, NULL) == W2_ERR_DATA &&
                contains(w2_error_message(), "ckpt_noformat.h5"),
            "peek of a non-checkpoint: %s", w2_error_message());
  free(before);

  /* failed saves leave nothing under the name */
  w2_error_clear();
  const char *nodir = "no_such_dir/ckpt.h5";
  W2T_CHECK(w2_checkpoint_save(m, nodir, &meta) == W2_ERR_IO &&
                contains(w2_error_message(), nodir),
            "save into a missing directory: %s", w2_error_message());
  remove("ckpt_nan_save.h5");
  m->W[1].a[5] = NAN;
  w2_error_clear();
  W2T_CHECK(w2_checkpoint_save(m, "ckpt_nan_save.h5", &meta) == W2_ERR_NUM &&
                contains(w2_error_message(), "layer01/W"),
            "save of a NaN weight: %s", w2_error_message());
  snprintf(tmp, sizeof tmp, "ckpt_nan_save.h5.tmp.%ld", (long)getpid());
  W2T_CHECK(access("ckpt_nan_save.h5", F_OK) != 0 && access(tmp, F_OK) != 0,
            "a refused save left a file behind");

  /* the file the h5py script test reads: a known pattern with relu */
  W2Arch ha = {7, 10, 2, 3, W2_ACT_RELU};
  W2Model *h;
  W2T_OK(w2_model_create(g, &ha, &h));
  for (int l = 0; l <= ha.depth; l++) {
    W2Mat *W = &h->W[l];
    for (int j = 0; j < W->n; j++)
      for (int i = 0; i < W->m; i++) W->a[i + (size_t)j * W->lld] = pattern(l, i, j);
    for (int j = 0; j < W->n; j++) h->b[l][j] = -pattern(l, 0, j);
  }
  W2T_OK(w2_checkpoint_save(h, "ckpt_h5py.h5", &meta));
  w2_model_destroy(&h);

  /* the fapl helper sets locking both ways */
  for (int lock = 0; lock <= 1; lock++) {
    hid_t fapl = w2_h5_fapl(lock);
    hbool_t use = !lock, ignore = 0;
    W2T_CHECK(fapl >= 0 && H5Pget_file_locking(fapl, &use, &ignore) >= 0 && use == lock,
              "w2_h5_fapl(%d) gives locking %d", lock, (int)use);
    if (fapl >= 0) H5Pclose(fapl);
  }

  /* every file, dataset, group and attribute id opened above was closed */
  W2T_CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "%ld HDF5 objects left open",
            (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
  free(ref);
  w2_model_destroy(&m);
  w2_model_destroy(&m2);
  w2_grid_destroy(&g);
}

/* ----------------------------------------------------------------------------------- */
/* four ranks */

static void test_grids(void) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm half;
  MPI_Comm_split(MPI_COMM_WORLD, rank / 2, rank, &half);
  W2Grid *g11, *g12, *g22;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 4, &g11));
  W2T_OK(w2_grid_create(half, 1, 2, 4, &g12));
  W2T_OK(w2_grid_create(MPI_COMM_WORLD, 2, 2, 4, &g22));
  W2Model *m11, *m12, *m22;
  W2T_OK(w2_model_create(g11, &ARCH, &m11));
  W2T_OK(w2_model_create(g12, &ARCH, &m12));
  W2T_OK(w2_model_create(g22, &ARCH, &m22));
  W2CheckpointMeta meta = test_meta();

  /* 1x1 -> 1x2 and 2x2 */
  float *ref1 = reference(&ARCH, 1);
  if (rank == 0) {
    set_params(m11, 1);
    W2T_OK(w2_checkpoint_save(m11, "mpi_11.h5", &meta));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  set_params(m12, 77);
  W2T_OK(w2_checkpoint_load(m12, "mpi_11.h5", &meta));
  W2T_CHECK(same_params(m12, ref1), "1x1 -> 1x2 not bitwise (rank %d)", rank);
  set_params(m22, 77);
  W2T_OK(w2_checkpoint_load(m22, "mpi_11.h5", &meta));
  W2T_CHECK(same_params(m22, ref1), "1x1 -> 2x2 not bitwise (rank %d)", rank);

  /* 2x2 -> 1x1 (every rank reads) and 1x2 */
  float *ref2 = reference(&ARCH, 2);
  set_params(m22, 2);
  W2T_CHECK(same_params(m22, ref2), "2x2 init differs from 1x1 init");
  W2T_OK(w2_checkpoint_save(m22, "mpi_22.h5", &meta));
  set_params(m11, 77);
  W2T_OK(w2_checkpoint_load(m11, "mpi_22.h5", &meta));
  W2T_CHECK(same_params(m11, ref2), "2x2 -> 1x1 not bitwise (rank %d)", rank);
  set_params(m12, 77);
  W2T_OK(w2_checkpoint_load(m12, "mpi_22.h5", &meta));
  W2T_CHECK(same_params(m12, ref2), "2x2 -> 1x2 not bitwise (rank %d)", rank);

  /* 1x2 (two grids at once, two files) -> 2x2 */
  float *ref3 = reference(&ARCH, 3 + (uint64_t)(rank / 2));
  set_params(m12, 3 + (uint64_t)(rank / 2));
  W2T_OK(w2_checkpoint_save(m12, rank / 2 ? "mpi_12b.h5" : "mpi_12a.h5", &meta));
  MPI_Barrier(MPI_COMM_WORLD);
  for (int h = 0; h < 2; h++) {
    float *r = reference(&ARCH, 3 + (uint64_t)h);
    W2T_OK(w2_checkpoint_load(m22, h ? "mpi_12b.h5" : "mpi_12a.h5", &meta));
    W2T_CHECK(same_params(m22, r), "1x2 (half %d) -> 2x2 not bitwise (rank %d)", h, rank);
    free(r);
  }
  free(ref3);

  /* refusals are agreed: every rank gets the same code and names the file and field */
  W2CheckpointMeta bad = meta;
  bad.config_hash = 7;
  w2_error_clear();
  W2Err e = w2_checkpoint_load(m22, "mpi_22.h5", &bad);
  W2T_CHECK(e == W2_ERR_DATA && contains(w2_error_message(), "mpi_22.h5") &&
                contains(w2_error_message(), "config_hash"),
            "rank %d: refused load returned %d: %s", rank, e, w2_error_message());
  w2_error_clear();
  e = w2_checkpoint_load(m22, "mpi_missing.h5", &meta);
  W2T_CHECK(e == W2_ERR_IO && contains(w2_error_message(), "mpi_missing.h5"),
            "rank %d: missing file returned %d: %s", rank, e, w2_error_message());
  w2_error_clear();
  e = w2_checkpoint_save(m22, "no_such_dir/mpi.h5", &meta);
  W2T_CHECK(e == W2_ERR_IO && contains(w2_error_message(), "no_such_dir/mpi.h5"),
            "rank %d: failed save returned %d: %s", rank, e, w2_error_message());
  /* a NaN held only by the last rank is seen by rank 0 and reported on every rank */
  set_params(m22, 2);
  if (rank == 3) m22->W[0].a[0] = NAN;
  w2_error_clear();
  e = w2_checkpoint_save(m22, "mpi_nan.h5", &meta);
  W2T_CHECK(e == W2_ERR_NUM && contains(w2_error_message(), "layer00/W"),
            "rank %d: NaN save returned %d: %s", rank, e, w2_error_message());
  MPI_Barrier(MPI_COMM_WORLD);
  W2T_CHECK(access("mpi_nan.h5", F_OK) != 0, "refused save left mpi_nan.h5");
  W2T_CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "rank %d: HDF5 objects left open",
            rank);

  free(ref1);
  free(ref2);
  w2_model_destroy(&m11);
  w2_model_destroy(&m12);
  w2_model_destroy(&m22);
  w2_grid_destroy(&g11);
  w2_grid_destroy(&g12);
  w2_grid_destroy(&g22);
  MPI_Comm_free(&half);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1)
    test_single();
  else if (size == 4)
    test_grids();
  else
    W2T_CHECK(0, "run with 1 or 4 ranks, not %d", size);
  int rc = w2t_summary_mpi();
  MPI_Finalize();
  return rc;
}
