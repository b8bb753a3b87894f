/* test_xfmr_dist.c — the transformer on rank groups: grids 1x2, 2x1 and 2x2 (block size 4:
 * 18 rows and 12..256 columns split unevenly) give the 1x1 grid's LM and CLS losses and
 * every parameter gradient within 1e-4 relative, and the same parameters after 6 AdamW
 * steps; a checkpoint saved on each grid loads on 1x1 with exactly those parameters.
 * What differs between grids is only the order of sums (row statistics over process
 * columns, PSGEMM's panels, attention pairs summed over ranks), so the agreement is to
 * rounding. Run with 4 ranks. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "testutil.h"
#include "transformer.h"

#define BATCH 3
#define NROWS 3
#define STEPS 6

static const W2XfArch ARCH = {.width = 12, .depth = 2, .heads = 3, .ctx = 6};
static uint8_t tok[BATCH * 6];
static int len[BATCH] = {6, 4, 2};
static float tgt[BATCH] = {1.f, 0.f, 0.7f};

/* everything compared: losses of a forward/backward per head, then the gradients of each
 * head, then the parameters after STEPS steps; full row-major tensors */
typedef struct {
  double loss[2];
  float *grad[2], *param;
  size_t n;
} Snapshot;

static size_t total(const W2Xf *m) {
  size_t n = 0;
  for (int i = 0; i < m->ntensors; i++) n += (size_t)m->t[i].rows * m->t[i].cols;
  return n;
}

static void gather(W2Xf *m, int grad, float *out) {
  for (int i = 0; i < m->ntensors; i++) {
    W2T_OK(w2_xf_tensor_get(&m->t[i], grad, out));
    out += (size_t)m->t[i].rows * m->t[i].cols;
  }
}

static double run_loss(W2Xf *m, int lm) {
  double l = 0;
  W2T_OK(w2_xf_forward(m));
  W2T_OK(lm ? w2_xf_lm_loss(m, &l) : w2_xf_cls_loss(m, &l));
  return l;
}

static void snapshot(W2Grid *g, Snapshot *s, const char *ckpt) {
  W2Xf *m = NULL;
  W2T_OK(w2_xf_create(g, &ARCH, &m));
  w2_xf_init(m, 21);
  /* larger weights than GPT-2's init so that every path carries gradient */
  for (int i = 0; i < m->ntensors; i++)
    if (m->t[i].dist) w2_mat_fill_normal(&m->t[i].W, 0.3f, 22, (uint64_t)i);
  W2T_OK(w2_xf_set_batch(m, BATCH));
  W2T_OK(w2_xf_load_tokens(m, tok, len, NROWS));
  w2_xf_load_target(m, tgt, NULL, NROWS);
  s->n = total(m);
  for (int lm = 0; lm < 2; lm++) {
    s->loss[lm] = run_loss(m, lm);
    W2T_OK(w2_xf_backward(m));
    s->grad[lm] = malloc(sizeof(float) * s->n);
    gather(m, 1, s->grad[lm]);
  }
  /* eps 1e-3, not 1e-8: gradients that are zero in exact arithmetic (the key bias: softmax
   * is shift-invariant) are rounding noise that differs between grids, and AdamW's
   * normalisation would turn that noise into full steps of lr (0.15 relative at 1e-8) */
  W2AdamW opt = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-3f, .weight_decay = 0.1f};
  for (int k = 0; k < STEPS; k++) {
    run_loss(m, k % 2);
    W2T_OK(w2_xf_backward(m));
    w2_xf_adamw(m, &opt, opt.lr);
  }
  s->param = malloc(sizeof(float) * s->n);
  gather(m, 0, s->param);
  if (ckpt) W2T_OK(w2_xf_save(m, ckpt));
  w2_xf_destroy(&m);
}

static double rel_diff(const float *a, const float *b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d = fmax(d, fabs((double)a[i] - b[i]));
    s = fmax(s, fabs((double)b[i]));
  }
  return d / (s > 0 ? s : 1);
}

static void free_snap(Snapshot *s) {
  free(s->grad[0]);
  free(s->grad[1]);
  free(s->param);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 0; i < BATCH * 6; i++) tok[i] = (uint8_t)w2_below(3, 0, (uint64_t)i, 256);
  W2Grid *g1;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g1));
  Snapshot ref;
  snapshot(g1, &ref, NULL);
  int shapes[3][2] = {{1, 2}, {2, 1}, {2, 2}};
  for (int k = 0; k < 3; k++) {
    int p = shapes[k][0] * shapes[k][1];
    if (p > size) continue;
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, rank < p ? 0 : MPI_UNDEFINED, rank, &sub);
    if (rank < p) {
      char path[64];
      int pid = (int)getpid();
      MPI_Bcast(&pid, 1, MPI_INT, 0, sub);
      snprintf(path, sizeof path, "xfmr_dist_%d_%d.h5", pid, k);
      W2Grid *g;
      W2T_OK(w2_grid_create(sub, shapes[k][0], shapes[k][1], 4, &g));
      Snapshot s;
      snapshot(g, &s, path);
      const char *head[2] = {"cls", "lm"};
      for (int lm = 0; lm < 2; lm++) {
        W2T_CHECK(fabs(s.loss[lm] - ref.loss[lm]) <= 1e-5 * fabs(ref.loss[lm]),
                  "%dx%d %s loss %.8f, 1x1 %.8f", shapes[k][0], shapes[k][1], head[lm],
                  s.loss[lm], ref.loss[lm]);
        double r = rel_diff(s.grad[lm], ref.grad[lm], s.n);
        W2T_CHECK(r < 1e-4, "%dx%d %s gradients differ from 1x1 by %.3g", shapes[k][0],
                  shapes[k][1], head[lm], r);
      }
      double r = rel_diff(s.param, ref.param, s.n);
      W2T_CHECK(r < 1e-4, "%dx%d parameters after %d steps differ from 1x1 by %.3g",
                shapes[k][0], shapes[k][1], STEPS, r);
      /* the checkpoint of this grid on a 1x1 grid: exactly its parameters */
      if (rank == 0) {
        W2Xf *m = NULL;
        W2T_OK(w2_xf_create(g1, &ARCH, &m));
        W2T_OK(w2_xf_load(m, path));
        float *got = malloc(sizeof(float) * s.n);
        gather(m, 0, got);
        W2T_CHECK(memcmp(got, s.param, sizeof(float) * s.n) == 0,
                  "a checkpoint saved on %dx%d loads on 1x1 unchanged", shapes[k][0],
                  shapes[k][1]);
        free(got);
        w2_xf_destroy(&m);
        remove(path);
      }
      free_snap(&s);
      w2_grid_destroy(&g);
      MPI_Comm_free(&sub);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  free_snap(&ref);
  w2_grid_destroy(&g1);
  int rc = w2t_summary_mpi();
  MPI_Finalize();
  return rc;
}
