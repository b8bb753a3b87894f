/* transformer.c — byte-level transformer forward/backward, LM and CLS losses, AdamW and
 * checkpoints on W2Mat (see transformer.h). Layers are written forward and backward side
 * by side, llm.c style; every (BT, x) activation is a W2Mat whose local block is
 * column-major, so per-column loops are the contiguous ones. */
#include "transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blacs.h"
#include "checkpoint.h"
#include "rng.h"

#define LN_EPS 1e-5f

/* ----------------------------------------------------------------------------------- */
/* shapes and accounting */

double w2_xf_params(const W2XfArch *a) {
  double C = a->width, L = a->depth;
  return W2_XF_VOCAB * C + a->ctx * C + L * (12 * C * C + 13 * C) + 3 * C + 1;
}

double w2_xf_forward_flops(const W2XfArch *a, double n_seq, int lm) {
  double C = a->width, L = a->depth, T = a->ctx, tokens = n_seq * T;
  double f = tokens * (24 * L * C * C + 4 * L * T * C);
  return f + (lm ? tokens * 2 * C * W2_XF_VOCAB : n_seq * 2 * C);
}

double w2_xf_step_flops(const W2XfArch *a, int B, int lm) {
  return 3 * w2_xf_forward_flops(a, B, lm);
}

double w2_xf_train_bytes(const W2XfArch *a, int B, int p) {
  double C = a->width, L = a->depth, T = a->ctx, BT = (double)B * T, V = W2_XF_VOCAB;
  double acts = L * (15 * C * BT + (double)B * a->heads * T * T) + (L + 2) * BT * C + 2 * BT * V;
  double back = 9 * C * BT;
  double full = p > 1 ? 4 * C * BT + fmax(3 * C * BT, (V + T) * C) : 0;
  return 4.0 * ((4 * w2_xf_params(a) + acts + back) / (p > 0 ? p : 1) + full);
}

/* ----------------------------------------------------------------------------------- */
/* lifecycle */

static W2Err tensor_alloc(const W2Grid *g, W2XfTensor *t, const char *name, int rows, int cols,
                          int dist, int decay) {
  snprintf(t->name, sizeof t->name, "%s", name);
  t->rows = rows;
  t->cols = cols;
  t->dist = dist;
  t->decay = decay;
  if (dist) {
    W2_CALL(w2_mat_create(g, rows, cols, &t->W));
    W2_CALL(w2_mat_create(g, rows, cols, &t->dW));
    W2_CALL(w2_mat_create(g, rows, cols, &t->mW));
    W2_CALL(w2_mat_create(g, rows, cols, &t->vW));
  } else {
    size_t n = (size_t)rows * cols;
    W2_ALLOC_ALIGNED(t->p, n);
    W2_ALLOC_ALIGNED(t->g, n);
    W2_ALLOC_ALIGNED(t->mo, n);
    W2_ALLOC_ALIGNED(t->ve, n);
  }
  return W2_OK;
}

static void tensor_free(W2XfTensor *t) {
  w2_mat_destroy(&t->W);
  w2_mat_destroy(&t->dW);
  w2_mat_destroy(&t->mW);
  w2_mat_destroy(&t->vW);
  free(t->p);
  free(t->g);
  free(t->mo);
  free(t->ve);
  t->p = t->g = t->mo = t->ve = NULL;
}

W2Err w2_xf_create(const W2Grid *grid, const W2XfArch *a, W2Xf **out) {
  W2_CHECK(a->width >= 1 && a->depth >= 1 && a->heads >= 1 && a->ctx >= 1, W2_ERR_ARG,
           "transformer shape width=%d depth=%d heads=%d ctx=%d must be positive", a->width,
           a->depth, a->heads, a->ctx);
  W2_CHECK(a->width % a->heads == 0, W2_ERR_ARG,
           "transformer width %d is not a multiple of heads %d", a->width, a->heads);
  W2Xf *m;
  W2_CALLOC(m, 1);
  m->arch = *a;
  m->grid = grid;
  m->ntensors = XF_NGLOBAL + XF_NPER * a->depth;
  W2_CALLOC(m->t, m->ntensors);
  int C = a->width;
  W2_CALL(tensor_alloc(grid, &m->t[XF_WTE], "wte", W2_XF_VOCAB, C, 1, 1));
  W2_CALL(tensor_alloc(grid, &m->t[XF_WPE], "wpe", a->ctx, C, 1, 1));
  W2_CALL(tensor_alloc(grid, &m->t[XF_LNFW], "lnf_w", 1, C, 0, 0));
  W2_CALL(tensor_alloc(grid, &m->t[XF_LNFB], "lnf_b", 1, C, 0, 0));
  W2_CALL(tensor_alloc(grid, &m->t[XF_CLSW], "cls_w", 1, C, 0, 0));
  W2_CALL(tensor_alloc(grid, &m->t[XF_CLSB], "cls_b", 1, 1, 0, 0));
  static const struct { const char *name; int rows, cols, dist; } per[XF_NPER] = {
      [XF_LN1W] = {"ln1_w", 1, 1, 0},  [XF_LN1B] = {"ln1_b", 1, 1, 0},
      [XF_QKVW] = {"qkv_w", 1, 3, 1},  [XF_QKVB] = {"qkv_b", 1, 3, 0},
      [XF_PROJW] = {"proj_w", 1, 1, 1}, [XF_PROJB] = {"proj_b", 1, 1, 0},
      [XF_LN2W] = {"ln2_w", 1, 1, 0},  [XF_LN2B] = {"ln2_b", 1, 1, 0},
      [XF_FCW] = {"fc_w", 1, 4, 1},    [XF_FCB] = {"fc_b", 1, 4, 0},
      [XF_FCPW] = {"fcproj_w", 4, 1, 1}, [XF_FCPB] = {"fcproj_b", 1, 1, 0}};
  for (int l = 0; l < a->depth; l++)
    for (int k = 0; k < XF_NPER; k++) {
      char name[32];
      snprintf(name, sizeof name, "h%d.%s", l, per[k].name);
      /* matrices are (rows*C, cols*C); vectors (1, cols*C) */
      int rows = per[k].dist ? per[k].rows * C : 1;
      W2_CALL(tensor_alloc(grid, &m->t[w2_xf_tensor_index(l, k)], name, rows, per[k].cols * C,
                           per[k].dist, per[k].dist));
    }
  *out = m;
  return W2_OK;
}

static void workspace_free(W2Xf *m) {
  if (m->B == 0) return;
  for (int l = 0; l <= m->arch.depth; l++) w2_mat_destroy(&m->x_in[l]);
  for (int l = 0; l < m->arch.depth; l++) {
    W2XfLayerAct *a = &m->la[l];
    W2Mat *mats[] = {&a->ln1, &a->qkv, &a->atty, &a->res1, &a->ln2, &a->fch, &a->fcg};
    for (size_t i = 0; i < sizeof mats / sizeof *mats; i++) w2_mat_destroy(mats[i]);
    free(a->ln1_mean);
    free(a->ln1_rstd);
    free(a->ln2_mean);
    free(a->ln2_rstd);
    free(a->att);
  }
  free(m->x_in);
  free(m->la);
  m->x_in = NULL;
  m->la = NULL;
  W2Mat *mats[] = {&m->lnf, &m->logits, &m->dlogits, &m->dres, &m->dC, &m->dqkv, &m->dfc};
  for (size_t i = 0; i < sizeof mats / sizeof *mats; i++) w2_mat_destroy(mats[i]);
  void *bufs[] = {m->tok, m->len, m->tgt, m->row_weight, m->target, m->lnf_mean, m->lnf_rstd,
                  m->hlast, m->cls_logit, m->dcls, m->rowbuf, m->attbuf, m->full, m->full2};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
  m->tok = m->len = m->tgt = NULL;
  m->row_weight = m->target = m->lnf_mean = m->lnf_rstd = NULL;
  m->hlast = m->cls_logit = m->dcls = m->attbuf = m->full = m->full2 = NULL;
  m->rowbuf = NULL;
  m->B = 0;
}

void w2_xf_destroy(W2Xf **model) {
  W2Xf *m = *model;
  if (!m) return;
  workspace_free(m);
  for (int i = 0; i < m->ntensors; i++) tensor_free(&m->t[i]);
  free(m->t);
  free(m);
  *model = NULL;
}

W2Err w2_xf_set_batch(W2Xf *m, int B) {
  W2_CHECK(B >= 1, W2_ERR_ARG, "batch size %d must be >= 1", B);
  workspace_free(m);
  const W2XfArch *a = &m->arch;
  const W2Grid *g = m->grid;
  int T = a->ctx, C = a->width, L = a->depth, BT = B * T, V = W2_XF_VOCAB;
  W2_CHECK((double)BT * 4 * C < 2147483647.0, W2_ERR_ARG,
           "batch %d x ctx %d x 4 width %d is too large for one activation", B, T, C);
  m->B = B;
  m->BT = BT;
  W2_CALLOC(m->x_in, L + 1);
  W2_CALLOC(m->la, L);
  for (int l = 0; l <= L; l++) W2_CALL(w2_mat_create(g, BT, C, &m->x_in[l]));
  m->ml = m->x_in[0].ml;
  size_t ml = m->ml > 0 ? (size_t)m->ml : 1;
  for (int l = 0; l < L; l++) {
    W2XfLayerAct *la = &m->la[l];
    W2_CALL(w2_mat_create(g, BT, C, &la->ln1));
    W2_CALL(w2_mat_create(g, BT, 3 * C, &la->qkv));
    W2_CALL(w2_mat_create(g, BT, C, &la->atty));
    W2_CALL(w2_mat_create(g, BT, C, &la->res1));
    W2_CALL(w2_mat_create(g, BT, C, &la->ln2));
    W2_CALL(w2_mat_create(g, BT, 4 * C, &la->fch));
    W2_CALL(w2_mat_create(g, BT, 4 * C, &la->fcg));
    W2_ALLOC_ALIGNED(la->ln1_mean, ml);
    W2_ALLOC_ALIGNED(la->ln1_rstd, ml);
    W2_ALLOC_ALIGNED(la->ln2_mean, ml);
    W2_ALLOC_ALIGNED(la->ln2_rstd, ml);
    W2_ALLOC_ALIGNED(la->att, (size_t)B * a->heads * T * T);
  }
  W2_CALL(w2_mat_create(g, BT, C, &m->lnf));
  W2_CALL(w2_mat_create(g, BT, V, &m->logits));
  W2_CALL(w2_mat_create(g, BT, V, &m->dlogits));
  W2_CALL(w2_mat_create(g, BT, C, &m->dres));
  W2_CALL(w2_mat_create(g, BT, C, &m->dC));
  W2_CALL(w2_mat_create(g, BT, 3 * C, &m->dqkv));
  W2_CALL(w2_mat_create(g, BT, 4 * C, &m->dfc));
  W2_ALLOC_ALIGNED(m->tok, BT);
  W2_ALLOC_ALIGNED(m->len, B);
  W2_ALLOC_ALIGNED(m->tgt, BT);
  W2_ALLOC_ALIGNED(m->row_weight, B);
  W2_ALLOC_ALIGNED(m->target, B);
  W2_ALLOC_ALIGNED(m->lnf_mean, ml);
  W2_ALLOC_ALIGNED(m->lnf_rstd, ml);
  W2_ALLOC_ALIGNED(m->hlast, (size_t)B * C);
  W2_ALLOC_ALIGNED(m->cls_logit, B);
  W2_ALLOC_ALIGNED(m->dcls, B);
  W2_ALLOC_ALIGNED(m->rowbuf, 4 * ml);
  W2_ALLOC_ALIGNED(m->attbuf, (size_t)T * T);
  if (g->size > 1) {
    size_t f2 = (size_t)BT * 3 * C;
    if ((size_t)(V + T) * C > f2) f2 = (size_t)(V + T) * C;
    W2_ALLOC_ALIGNED(m->full, (size_t)BT * 4 * C);
    W2_ALLOC_ALIGNED(m->full2, f2);
  }
  for (int b = 0; b < B; b++) m->len[b] = 1;
  for (int r = 0; r < BT; r++) m->tgt[r] = -1;
  return W2_OK;
}

void w2_xf_reset_optimizer(W2Xf *m) {
  for (int i = 0; i < m->ntensors; i++) {
    W2XfTensor *t = &m->t[i];
    if (t->dist) {
      w2_mat_zero(&t->mW);
      w2_mat_zero(&t->vW);
    } else {
      memset(t->mo, 0, sizeof(float) * t->rows * t->cols);
      memset(t->ve, 0, sizeof(float) * t->rows * t->cols);
    }
  }
  m->adam_t = 0;
}

void w2_xf_init(W2Xf *m, uint64_t key) {
  const W2XfArch *a = &m->arch;
  float std = 0.02f, std_res = 0.02f / sqrtf(2.f * a->depth);
  for (int i = 0; i < m->ntensors; i++) {
    W2XfTensor *t = &m->t[i];
    int k = i < XF_NGLOBAL ? -1 : (i - XF_NGLOBAL) % XF_NPER;
    if (t->dist) {
      w2_mat_fill_normal(&t->W, (k == XF_PROJW || k == XF_FCPW) ? std_res : std, key,
                         (uint64_t)i);
    } else {
      int n = t->rows * t->cols, ones = i == XF_LNFW || k == XF_LN1W || k == XF_LN2W;
      for (int j = 0; j < n; j++)
        t->p[j] = i == XF_CLSW ? (float)(std * w2_normal(key, (uint64_t)i, (uint64_t)j))
                               : (ones ? 1.f : 0.f);
    }
  }
  w2_xf_reset_optimizer(m);
  m->flops = 0;
}

/* ----------------------------------------------------------------------------------- */
/* data in */

W2Err w2_xf_load_tokens(W2Xf *m, const uint8_t *tok, const int *len, int nrows) {
  int T = m->arch.ctx;
  W2_CHECK(nrows >= 0 && nrows <= m->B, W2_ERR_ARG, "%d sequences for a batch of %d", nrows,
           m->B);
  for (int b = 0; b < m->B; b++) {
    int n = b < nrows ? len[b] : 1;
    W2_CHECK(n >= 1 && n <= T, W2_ERR_ARG, "sequence %d has length %d, not in [1, %d]", b, n,
             T);
    m->len[b] = n;
    for (int t = 0; t < T; t++) m->tok[b * T + t] = (b < nrows && t < n) ? tok[(size_t)b * T + t] : 0;
    /* next-byte targets: only real bytes of real sequences */
    for (int t = 0; t < T; t++)
      m->tgt[b * T + t] = (b < nrows && t + 1 < n) ? m->tok[b * T + t + 1] : -1;
    m->row_weight[b] = b < nrows ? 1.f : 0.f;
  }
  return W2_OK;
}

void w2_xf_load_target(W2Xf *m, const float *target, const float *weight, int nrows) {
  for (int b = 0; b < m->B; b++) {
    m->target[b] = b < nrows ? target[b] : 0.f;
    m->row_weight[b] = b < nrows ? (weight ? weight[b] : 1.f) : 0.f;
  }
}

/* ----------------------------------------------------------------------------------- */
/* helpers: row reductions, full views */

/* Sums (or maxes) per-local-row partials over the process row: the columns of a row live
 * on the npcol ranks of a process row. */
static W2Err row_reduce(const W2Xf *m, double *buf, int n, MPI_Op op) {
  if (m->grid->npcol > 1)
    W2_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, op, m->grid->row_comm));
  return W2_OK;
}

static W2Err grid_sum_f(const W2Grid *g, float *buf, size_t n) {
  if (g->size > 1) {
    W2_CHECK(n <= 0x7fffffff, W2_ERR_INTERNAL, "reduction of %zu floats", n);
    W2_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, g->comm));
  }
  return W2_OK;
}

/* The whole column-major m x n matrix on every rank: the local block itself on a 1x1 grid
 * (lld == m there), else an allgather into scratch. */
static W2Err full_view(const W2Mat *A, float *scratch, const float **out) {
  if (A->grid->size == 1) {
    *out = A->a;
    return W2_OK;
  }
  W2_CALL(w2_mat_allgather(A, scratch));
  *out = scratch;
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* layers: forward and backward side by side */

/* The token and position of each local row of a (BT, x) matrix, into rowbuf as ints
 * (tokl, posl: ml each): the embedding loops then do no division per element. */
static void embed_rows(W2Xf *m, const W2Mat *x, int **tokl, int **posl) {
  int T = m->arch.ctx;
  *tokl = (int *)m->rowbuf;
  *posl = *tokl + x->ml;
  for (int il = 0; il < x->ml; il++) {
    int r = w2_mat_grow(x, il);
    (*tokl)[il] = m->tok[r];
    (*posl)[il] = r % T;
  }
}

/* x_in[0] (BT,C) = wte[tok] (BT,C) + wpe[t] (BT,C) */
static W2Err embed_forward(W2Xf *m) {
  int T = m->arch.ctx, V = W2_XF_VOCAB;
  const float *wte = NULL, *wpe = NULL;
  W2Mat *x = &m->x_in[0];
  W2_CALL(full_view(&m->t[XF_WTE].W, m->full2, &wte));
  W2_CALL(full_view(&m->t[XF_WPE].W, m->full2 + (size_t)V * m->arch.width, &wpe));
  int *tokl, *posl;
  embed_rows(m, x, &tokl, &posl);
  for (int jl = 0; jl < x->nl; jl++) {
    size_t c = (size_t)w2_mat_gcol(x, jl);
    const float *te = wte + c * V, *pe = wpe + c * T;
    float *col = x->a + (size_t)jl * x->lld;
    for (int il = 0; il < x->ml; il++) col[il] = te[tokl[il]] + pe[posl[il]];
  }
  return W2_OK;
}

/* dwte (V,C) += scatter of dx (BT,C) by token; dwpe (T,C) = sum of dx by position */
static W2Err embed_backward(W2Xf *m, const W2Mat *dx) {
  int T = m->arch.ctx, V = W2_XF_VOCAB, C = m->arch.width;
  W2Mat *dwte = &m->t[XF_WTE].dW, *dwpe = &m->t[XF_WPE].dW;
  int one = m->grid->size == 1;
  float *fte = one ? dwte->a : m->full2, *fpe = one ? dwpe->a : m->full2 + (size_t)V * C;
  if (one) w2_mat_zero(dwpe);
  else memset(m->full2, 0, sizeof(float) * (size_t)(V + T) * C);
  int *tokl, *posl;
  embed_rows(m, dx, &tokl, &posl);
  for (int jl = 0; jl < dx->nl; jl++) {
    size_t c = (size_t)w2_mat_gcol(dx, jl);
    const float *col = dx->a + (size_t)jl * dx->lld;
    float *te = fte + c * V, *pe = fpe + c * T;
    for (int il = 0; il < dx->ml; il++) {
      te[tokl[il]] += col[il];
      pe[posl[il]] += col[il];
    }
  }
  if (one) return W2_OK;
  W2_CALL(grid_sum_f(m->grid, m->full2, (size_t)(V + T) * C));
  for (int jl = 0; jl < dwte->nl; jl++) {
    size_t c = (size_t)w2_mat_gcol(dwte, jl);
    for (int il = 0; il < dwte->ml; il++)
      dwte->a[il + (size_t)jl * dwte->lld] += fte[w2_mat_grow(dwte, il) + c * V];
  }
  w2_mat_set_from_full(dwpe, fpe);
  return W2_OK;
}

/* out (BT,C) = (inp - mean) * rstd * w + b per row; mean, rstd (local rows) kept */
static W2Err layernorm_forward(W2Xf *m, W2Mat *out, float *mean, float *rstd, const W2Mat *inp,
                               const float *w, const float *b) {
  int ml = inp->ml, C = inp->n;
  double *s = m->rowbuf;
  memset(s, 0, sizeof(double) * 2 * (ml > 0 ? ml : 1));
  for (int jl = 0; jl < inp->nl; jl++) {
    const float *x = inp->a + (size_t)jl * inp->lld;
    for (int il = 0; il < ml; il++) {
      s[il] += x[il];
      s[ml + il] += (double)x[il] * x[il];
    }
  }
  W2_CALL(row_reduce(m, s, 2 * ml, MPI_SUM));
  for (int il = 0; il < ml; il++) {
    double mu = s[il] / C, var = s[ml + il] / C - mu * mu;
    mean[il] = (float)mu;
    rstd[il] = (float)(1.0 / sqrt((var > 0 ? var : 0) + LN_EPS));
  }
  for (int jl = 0; jl < inp->nl; jl++) {
    int c = w2_mat_gcol(inp, jl);
    const float *x = inp->a + (size_t)jl * inp->lld;
    float *o = out->a + (size_t)jl * out->lld, wc = w[c], bc = b[c];
    for (int il = 0; il < ml; il++) o[il] = (x[il] - mean[il]) * rstd[il] * wc + bc;
  }
  return W2_OK;
}

/* dinp (BT,C) += LayerNorm backward of dout (BT,C); dw, db (C) = column sums of
 * dout * xhat and dout over all rows */
static W2Err layernorm_backward(W2Xf *m, W2Mat *dinp, float *dw, float *db, const W2Mat *dout,
                                const W2Mat *inp, const float *mean, const float *rstd,
                                const float *w) {
  int ml = inp->ml, C = inp->n;
  double *s = m->rowbuf;
  memset(s, 0, sizeof(double) * 2 * (ml > 0 ? ml : 1));
  memset(dw, 0, sizeof(float) * C);
  memset(db, 0, sizeof(float) * C);
  for (int jl = 0; jl < inp->nl; jl++) {
    int c = w2_mat_gcol(inp, jl);
    const float *x = inp->a + (size_t)jl * inp->lld, *d = dout->a + (size_t)jl * dout->lld;
    float wc = w[c], sw = 0.f, sb = 0.f;
    for (int il = 0; il < ml; il++) {
      float xhat = (x[il] - mean[il]) * rstd[il];
      s[il] += d[il] * wc;
      s[ml + il] += d[il] * wc * xhat;
      sw += d[il] * xhat;
      sb += d[il];
    }
    dw[c] = sw;
    db[c] = sb;
  }
  W2_CALL(row_reduce(m, s, 2 * ml, MPI_SUM));
  W2_CALL(grid_sum_f(m->grid, dw, (size_t)C));
  W2_CALL(grid_sum_f(m->grid, db, (size_t)C));
  for (int jl = 0; jl < inp->nl; jl++) {
    int c = w2_mat_gcol(inp, jl);
    const float *x = inp->a + (size_t)jl * inp->lld, *d = dout->a + (size_t)jl * dout->lld;
    float *dx = dinp->a + (size_t)jl * dinp->lld, wc = w[c];
    for (int il = 0; il < ml; il++) {
      float xhat = (x[il] - mean[il]) * rstd[il];
      float m1 = (float)(s[il] / C), m2 = (float)(s[ml + il] / C);
      dx[il] += rstd[il] * (d[il] * wc - m1 - xhat * m2);
    }
  }
  return W2_OK;
}

/* out (BT,N) += bias (N), broadcast over rows */
static void bias_forward(W2Mat *out, const float *bias) {
  for (int jl = 0; jl < out->nl; jl++) {
    float b = bias[w2_mat_gcol(out, jl)];
    float *col = out->a + (size_t)jl * out->lld;
    for (int il = 0; il < out->ml; il++) col[il] += b;
  }
}

/* GELU, tanh approximation (GPT-2; torch's approximate='tanh'):
 *   gelu(v) = v (1 + tanh u) / 2 = v sigmoid(2u),  u = k (v + 0.044715 v^3),  k = sqrt(2/pi)
 * written with one expf: glibc's tanhf goes through expm1f and took 18 % of a width-128
 * training step (perf), expf a fraction of that. gelu'(v) = s + 2 v s (1 - s) du/dv. */
#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
static void gelu_forward(W2Mat *out, const W2Mat *inp) {
  for (int jl = 0; jl < inp->nl; jl++) {
    const float *x = inp->a + (size_t)jl * inp->lld;
    float *y = out->a + (size_t)jl * out->lld;
    for (int il = 0; il < inp->ml; il++) {
      float v = x[il], u = GELU_K * (v + 0.044715f * v * v * v);
      y[il] = v / (1.f + expf(-2.f * u));
    }
  }
}

/* d (BT,4C) *= gelu'(inp), with s = sigmoid(2u) read back from the kept output
 * out = v s as out / v (s = 1/2 at v = 0): a division instead of an expf per element, and
 * a loop without calls that the compiler vectorizes (GELU's expf and its serial divide were
 * a fifth of a width-32 step, perf). */
static void gelu_backward(W2Mat *d, const W2Mat *inp, const W2Mat *out) {
  for (int jl = 0; jl < inp->nl; jl++) {
    const float *x = inp->a + (size_t)jl * inp->lld, *y = out->a + (size_t)jl * out->lld;
    float *g = d->a + (size_t)jl * d->lld;
    for (int il = 0; il < inp->ml; il++) {
      float v = x[il], s = v != 0.f ? y[il] / v : 0.5f;
      float du = GELU_K * (1.f + 3.f * 0.044715f * v * v);
      g[il] *= s + 2.f * v * s * (1.f - s) * du;
    }
  }
}

/* One (sequence b, head h) of causal attention on full column-major matrices with leading
 * dimension ld = BT: Q, K, V (T,hs) are the blocks of qkv at rows b*T.., columns h*hs..,
 * C + h*hs.., 2C + h*hs... The probabilities are kept transposed, Pt (T,T) with
 * Pt[s + t*T] = p(query t attends key s), so each query's softmax is one contiguous column. */
static void attn_pair_forward(const float *qkv, float *out, int ld, float *Pt, int b, int h,
                              int T, int C, int hs) {
  const float *Q = qkv + (size_t)b * T + (size_t)h * hs * ld;
  const float *K = Q + (size_t)C * ld, *V = Q + 2 * (size_t)C * ld;
  float scale = 1.f / sqrtf((float)hs), zero = 0.f, one = 1.f;
  /* Pt (T,T) = scale * K (T,hs) @ Q^T (hs,T) */
  sgemm_("N", "T", &T, &T, &hs, &scale, K, &ld, Q, &ld, &zero, Pt, &T);
  for (int t = 0; t < T; t++) {
    float *p = Pt + (size_t)t * T, mx = -INFINITY, sum = 0.f;
    for (int s = 0; s <= t; s++) mx = p[s] > mx ? p[s] : mx;
    for (int s = 0; s <= t; s++) sum += (p[s] = expf(p[s] - mx));
    float inv = 1.f / sum;
    for (int s = 0; s <= t; s++) p[s] *= inv;
    for (int s = t + 1; s < T; s++) p[s] = 0.f; /* causal: keys after the query */
  }
  /* out (T,hs) = P (T,T) @ V (T,hs) = Pt^T @ V */
  sgemm_("T", "N", &T, &hs, &T, &one, Pt, &T, V, &ld, &zero,
         out + (size_t)b * T + (size_t)h * hs * ld, &ld);
}

/* Backward of attn_pair_forward: dout (T,hs) block of (BT,C) -> dQ, dK, dV blocks of dqkv
 * (BT,3C), all with leading dimension ld; dPt (T,T) is scratch. */
static void attn_pair_backward(const float *qkv, const float *dout, float *dqkv, int ld,
                               const float *Pt, float *dPt, int b, int h, int T, int C, int hs) {
  size_t off = (size_t)b * T + (size_t)h * hs * ld, cl = (size_t)C * ld;
  const float *Q = qkv + off, *K = Q + cl, *V = Q + 2 * cl, *dO = dout + off;
  float *dQ = dqkv + off, *dK = dQ + cl, *dV = dQ + 2 * cl;
  float scale = 1.f / sqrtf((float)hs), zero = 0.f, one = 1.f;
  /* dPt (T,T) = V (T,hs) @ dO^T (hs,T);  dV (T,hs) = Pt (T,T) @ dO (T,hs) */
  sgemm_("N", "T", &T, &T, &hs, &one, V, &ld, dO, &ld, &zero, dPt, &T);
  sgemm_("N", "N", &T, &hs, &T, &one, Pt, &T, dO, &ld, &zero, dV, &ld);
  /* softmax backward per query column t: dS = P (dP - sum_s P dP) */
  for (int t = 0; t < T; t++) {
    const float *p = Pt + (size_t)t * T;
    float *d = dPt + (size_t)t * T, dot = 0.f;
    for (int s = 0; s <= t; s++) dot += p[s] * d[s];
    for (int s = 0; s <= t; s++) d[s] = p[s] * (d[s] - dot);
    for (int s = t + 1; s < T; s++) d[s] = 0.f;
  }
  /* dQ (T,hs) = scale dSt^T @ K;  dK (T,hs) = scale dSt @ Q */
  sgemm_("T", "N", &T, &hs, &T, &scale, dPt, &T, K, &ld, &zero, dQ, &ld);
  sgemm_("N", "N", &T, &hs, &T, &scale, dPt, &T, Q, &ld, &zero, dK, &ld);
}

/* atty (BT,C) = causal multi-head attention of qkv (BT,3C) */
static W2Err attention_forward(W2Xf *m, W2XfLayerAct *a) {
  const W2Grid *g = m->grid;
  int T = m->arch.ctx, C = m->arch.width, NH = m->arch.heads, hs = C / NH, BT = m->BT;
  const float *qkv = NULL;
  float *out = g->size == 1 ? a->atty.a : m->full + (size_t)BT * 3 * C;
  W2_CALL(full_view(&a->qkv, m->full, &qkv));
  if (g->size > 1) memset(out, 0, sizeof(float) * (size_t)BT * C);
  for (int k = 0; k < m->B * NH; k++) {
    if (k % g->size != g->rank) continue; /* (sequence, head) pairs split over the ranks */
    attn_pair_forward(qkv, out, BT, a->att + (size_t)k * T * T, k / NH, k % NH, T, C, hs);
  }
  if (g->size > 1) {
    W2_CALL(grid_sum_f(g, out, (size_t)BT * C));
    w2_mat_set_from_full(&a->atty, out);
  }
  return W2_OK;
}

/* dqkv (BT,3C) = attention backward of datty (BT,C) */
static W2Err attention_backward(W2Xf *m, W2XfLayerAct *a, const W2Mat *datty) {
  const W2Grid *g = m->grid;
  int T = m->arch.ctx, C = m->arch.width, NH = m->arch.heads, hs = C / NH, BT = m->BT;
  const float *qkv = NULL, *dout = NULL;
  float *dqkv = g->size == 1 ? m->dqkv.a : m->full2;
  W2_CALL(full_view(&a->qkv, m->full, &qkv));
  W2_CALL(full_view(datty, m->full + (size_t)BT * 3 * C, &dout));
  if (g->size > 1) memset(dqkv, 0, sizeof(float) * (size_t)BT * 3 * C);
  for (int k = 0; k < m->B * NH; k++) {
    if (k % g->size != g->rank) continue;
    attn_pair_backward(qkv, dout, dqkv, BT, a->att + (size_t)k * T * T, m->attbuf, k / NH,
                       k % NH, T, C, hs);
  }
  if (g->size > 1) {
    W2_CALL(grid_sum_f(g, dqkv, (size_t)BT * 3 * C));
    w2_mat_set_from_full(&m->dqkv, dqkv);
  }
  return W2_OK;
}

#define P(l, k) (&m->t[w2_xf_tensor_index((l), (k))])

W2Err w2_xf_forward(W2Xf *m) {
  W2_CHECK(m->B > 0, W2_ERR_INTERNAL, "transformer forward before set_batch");
  W2_CALL(embed_forward(m));
  for (int l = 0; l < m->arch.depth; l++) {
    W2XfLayerAct *a = &m->la[l];
    const W2Mat *x = &m->x_in[l];
    /* ln1 (BT,C) = LN(x);  qkv (BT,3C) = ln1 @ qkv_w (C,3C) + qkv_b */
    W2_CALL(layernorm_forward(m, &a->ln1, a->ln1_mean, a->ln1_rstd, x, P(l, XF_LN1W)->p,
                              P(l, XF_LN1B)->p));
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &a->ln1, &P(l, XF_QKVW)->W, 0.f, &a->qkv));
    bias_forward(&a->qkv, P(l, XF_QKVB)->p);
    W2_CALL(attention_forward(m, a));
    /* res1 (BT,C) = x + atty @ proj_w (C,C) + proj_b */
    w2_mat_copy(x, &a->res1);
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &a->atty, &P(l, XF_PROJW)->W, 1.f, &a->res1));
    bias_forward(&a->res1, P(l, XF_PROJB)->p);
    /* ln2 = LN(res1); fch (BT,4C) = ln2 @ fc_w (C,4C) + fc_b; fcg = gelu(fch) */
    W2_CALL(layernorm_forward(m, &a->ln2, a->ln2_mean, a->ln2_rstd, &a->res1, P(l, XF_LN2W)->p,
                              P(l, XF_LN2B)->p));
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &a->ln2, &P(l, XF_FCW)->W, 0.f, &a->fch));
    bias_forward(&a->fch, P(l, XF_FCB)->p);
    gelu_forward(&a->fcg, &a->fch);
    /* x_in[l+1] (BT,C) = res1 + fcg @ fcproj_w (4C,C) + fcproj_b */
    w2_mat_copy(&a->res1, &m->x_in[l + 1]);
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &a->fcg, &P(l, XF_FCPW)->W, 1.f, &m->x_in[l + 1]));
    bias_forward(&m->x_in[l + 1], P(l, XF_FCPB)->p);
  }
  W2_CALL(layernorm_forward(m, &m->lnf, m->lnf_mean, m->lnf_rstd, &m->x_in[m->arch.depth],
                            m->t[XF_LNFW].p, m->t[XF_LNFB].p));
  return W2_OK;
}

W2Err w2_xf_lm_loss(W2Xf *m, double *loss) {
  W2Mat *Z = &m->logits, *D = &m->dlogits;
  /* logits (BT,V) = lnf (BT,C) @ wte^T (C,V): the tied head */
  W2_CALL(w2_mat_gemm('N', 'T', 1.f, &m->lnf, &m->t[XF_WTE].W, 0.f, Z));
  /* One expf per logit, the per-row factors hoisted out of the (BT x V) loops (no division,
   * no global-row lookup per element): at the quickstart's small widths this loss, with two
   * double exp() per logit, was over half of a training step (bench/RESULTS.md). */
  const W2Grid *g = m->grid;
  int ml = Z->ml, nvalid = 0;
  size_t mls = ml > 0 ? (size_t)ml : 1;
  for (int r = 0; r < m->BT; r++) nvalid += m->tgt[r] >= 0;
  /* rowbuf (4 ml doubles): mx, se (double, reduced over the process row), then the floats
   * mxf (the row max) and f (the row's softmax-and-mean factor), then the int targets */
  double *mx = m->rowbuf, *se = m->rowbuf + mls;
  float *mxf = (float *)(m->rowbuf + 2 * mls), *f = mxf + mls;
  int *tg = (int *)(m->rowbuf + 3 * mls);
  for (int il = 0; il < ml; il++) tg[il] = m->tgt[w2_mat_grow(Z, il)], mxf[il] = -INFINITY;
  for (int jl = 0; jl < Z->nl; jl++) {
    const float *z = Z->a + (size_t)jl * Z->lld;
    for (int il = 0; il < ml; il++) mxf[il] = z[il] > mxf[il] ? z[il] : mxf[il];
  }
  for (int il = 0; il < ml; il++) mx[il] = mxf[il], se[il] = 0;
  W2_CALL(row_reduce(m, mx, ml, MPI_MAX));
  /* D = exp(z - max), its row sums in se */
  for (int il = 0; il < ml; il++) mxf[il] = (float)mx[il];
  for (int jl = 0; jl < Z->nl; jl++) {
    const float *z = Z->a + (size_t)jl * Z->lld;
    float *d = D->a + (size_t)jl * D->lld;
    for (int il = 0; il < ml; il++) se[il] += (d[il] = expf(z[il] - mxf[il]));
  }
  W2_CALL(row_reduce(m, se, ml, MPI_SUM));
  /* loss = sum over real targets of logsumexp - z_target, over nvalid; each row's lse is
   * counted by process column 0, each target logit by the rank that owns it */
  double local = 0, scale = nvalid > 0 ? 1.0 / nvalid : 0.0;
  for (int il = 0; il < ml; il++) {
    if (tg[il] >= 0 && g->mycol == 0) local += mx[il] + log(se[il]);
    f[il] = tg[il] >= 0 ? (float)(scale / se[il]) : 0.f;
  }
  /* dlogits = (softmax - onehot(target)) / nvalid; rows without a target 0 */
  for (int jl = 0; jl < D->nl; jl++) {
    float *d = D->a + (size_t)jl * D->lld;
    for (int il = 0; il < ml; il++) d[il] *= f[il];
  }
  for (int il = 0; il < ml; il++) {
    int jl = tg[il] < 0 ? -1 : w2_mat_lcol(Z, tg[il]);
    if (jl < 0) continue; /* no target, or another process column's */
    size_t at = il + (size_t)jl * Z->lld;
    /* p - 1 in double: in float, a confident row's p ~ 1 would cancel to noise */
    local -= Z->a[at];
    D->a[at] = (float)((exp((double)Z->a[at] - mx[il]) / se[il] - 1.0) * scale);
  }
  W2_CALL(w2_grid_sum(m->grid, &local, 1));
  *loss = local * scale;
  m->lm_mode = 1;
  return W2_OK;
}

W2Err w2_xf_cls_loss(W2Xf *m, double *loss) {
  int B = m->B, T = m->arch.ctx, C = m->arch.width;
  const W2Mat *H = &m->lnf;
  /* hlast (B,C) = the lnf rows of each sequence's last real byte */
  if (m->grid->size == 1) {
    for (int b = 0; b < B; b++)
      for (int c = 0; c < C; c++)
        m->hlast[(size_t)b * C + c] = H->a[b * T + m->len[b] - 1 + (size_t)c * H->lld];
  } else {
    memset(m->hlast, 0, sizeof(float) * (size_t)B * C);
    for (int jl = 0; jl < H->nl; jl++) {
      int c = w2_mat_gcol(H, jl);
      for (int il = 0; il < H->ml; il++) {
        int r = w2_mat_grow(H, il), b = r / T;
        if (r == b * T + m->len[b] - 1) m->hlast[(size_t)b * C + c] = H->a[il + (size_t)jl * H->lld];
      }
    }
    W2_CALL(grid_sum_f(m->grid, m->hlast, (size_t)B * C));
  }
  const float *w = m->t[XF_CLSW].p;
  double wsum = 0, total = 0;
  for (int b = 0; b < B; b++) wsum += m->row_weight[b];
  float scale = wsum > 0 ? (float)(1.0 / wsum) : 0.f;
  for (int b = 0; b < B; b++) {
    float z = m->t[XF_CLSB].p[0];
    for (int c = 0; c < C; c++) z += m->hlast[(size_t)b * C + c] * w[c];
    m->cls_logit[b] = z;
    /* BCE with logits against soft target t, as model.c: max(z,0) - z t + log(1 + e^-|z|) */
    float t = m->target[b], e = expf(-fabsf(z)), s = z >= 0 ? 1.f / (1.f + e) : e / (1.f + e);
    total += (double)m->row_weight[b] * ((z > 0 ? z : 0.f) - z * t + log1pf(e));
    m->dcls[b] = m->row_weight[b] * scale * (s - t);
  }
  *loss = wsum > 0 ? total / wsum : 0.0;
  m->lm_mode = 0;
  return W2_OK;
}

static W2Err bias_backward(float *db, const W2Mat *dout) { return w2_mat_colsum(dout, db); }

W2Err w2_xf_backward(W2Xf *m) {
  int C = m->arch.width, T = m->arch.ctx;
  W2XfTensor *wte = &m->t[XF_WTE];
  W2Mat *dlnf = &m->dC;
  /* heads: d lnf (BT,C) and the head's parameter gradients */
  if (m->lm_mode) {
    /* dlnf = dlogits (BT,V) @ wte (V,C);  dwte (V,C) = dlogits^T @ lnf (the tied half) */
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &m->dlogits, &wte->W, 0.f, dlnf));
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &m->dlogits, &m->lnf, 0.f, &wte->dW));
    memset(m->t[XF_CLSW].g, 0, sizeof(float) * C);
    m->t[XF_CLSB].g[0] = 0.f;
  } else {
    w2_mat_zero(&wte->dW);
    w2_mat_zero(dlnf);
    const float *w = m->t[XF_CLSW].p;
    for (int jl = 0; jl < dlnf->nl; jl++) {
      int c = w2_mat_gcol(dlnf, jl);
      for (int il = 0; il < dlnf->ml; il++) {
        int r = w2_mat_grow(dlnf, il), b = r / T;
        if (r == b * T + m->len[b] - 1) dlnf->a[il + (size_t)jl * dlnf->lld] = m->dcls[b] * w[c];
      }
    }
    float *gw = m->t[XF_CLSW].g, gb = 0.f;
    memset(gw, 0, sizeof(float) * C);
    for (int b = 0; b < m->B; b++) {
      for (int c = 0; c < C; c++) gw[c] += m->dcls[b] * m->hlast[(size_t)b * C + c];
      gb += m->dcls[b];
    }
    m->t[XF_CLSB].g[0] = gb;
  }
  W2Mat *dres = &m->dres;
  w2_mat_zero(dres);
  W2_CALL(layernorm_backward(m, dres, m->t[XF_LNFW].g, m->t[XF_LNFB].g, dlnf,
                             &m->x_in[m->arch.depth], m->lnf_mean, m->lnf_rstd, m->t[XF_LNFW].p));
  /* blocks, last first; dres holds d x_in[l+1] on entry and d x_in[l] on exit */
  for (int l = m->arch.depth - 1; l >= 0; l--) {
    W2XfLayerAct *a = &m->la[l];
    /* MLP: dfc (BT,4C) = dres @ fcproj_w^T; dfcproj_w (4C,C) = fcg^T @ dres */
    W2_CALL(w2_mat_gemm('N', 'T', 1.f, dres, &P(l, XF_FCPW)->W, 0.f, &m->dfc));
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &a->fcg, dres, 0.f, &P(l, XF_FCPW)->dW));
    W2_CALL(bias_backward(P(l, XF_FCPB)->g, dres));
    gelu_backward(&m->dfc, &a->fch, &a->fcg);
    /* dC (BT,C) = dfc @ fc_w^T;  dfc_w (C,4C) = ln2^T @ dfc */
    W2_CALL(w2_mat_gemm('N', 'T', 1.f, &m->dfc, &P(l, XF_FCW)->W, 0.f, &m->dC));
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &a->ln2, &m->dfc, 0.f, &P(l, XF_FCW)->dW));
    W2_CALL(bias_backward(P(l, XF_FCB)->g, &m->dfc));
    W2_CALL(layernorm_backward(m, dres, P(l, XF_LN2W)->g, P(l, XF_LN2B)->g, &m->dC, &a->res1,
                               a->ln2_mean, a->ln2_rstd, P(l, XF_LN2W)->p));
    /* attention: dC (BT,C) = dres @ proj_w^T;  dproj_w (C,C) = atty^T @ dres */
    W2_CALL(w2_mat_gemm('N', 'T', 1.f, dres, &P(l, XF_PROJW)->W, 0.f, &m->dC));
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &a->atty, dres, 0.f, &P(l, XF_PROJW)->dW));
    W2_CALL(bias_backward(P(l, XF_PROJB)->g, dres));
    W2_CALL(attention_backward(m, a, &m->dC));
    /* dC (BT,C) = dqkv @ qkv_w^T;  dqkv_w (C,3C) = ln1^T @ dqkv */
    W2_CALL(w2_mat_gemm('N', 'T', 1.f, &m->dqkv, &P(l, XF_QKVW)->W, 0.f, &m->dC));
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &a->ln1, &m->dqkv, 0.f, &P(l, XF_QKVW)->dW));
    W2_CALL(bias_backward(P(l, XF_QKVB)->g, &m->dqkv));
    W2_CALL(layernorm_backward(m, dres, P(l, XF_LN1W)->g, P(l, XF_LN1B)->g, &m->dC, &m->x_in[l],
                               a->ln1_mean, a->ln1_rstd, P(l, XF_LN1W)->p));
  }
  W2_CALL(embed_backward(m, dres));
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* optimizer */

static void adamw_update(float *p, const float *g, float *mo, float *ve, size_t n, float lr,
                         float b1, float b2, float eps, float wd, float c1, float c2) {
  for (size_t i = 0; i < n; i++) {
    float gi = g[i];
    mo[i] = b1 * mo[i] + (1.f - b1) * gi;
    ve[i] = b2 * ve[i] + (1.f - b2) * gi * gi;
    float mhat = mo[i] * c1, vhat = ve[i] * c2;
    p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * p[i]);
  }
}

void w2_xf_adamw(W2Xf *m, const W2AdamW *o, float lr) {
  m->adam_t++;
  float c1 = (float)(1.0 / (1.0 - pow(o->beta1, (double)m->adam_t)));
  float c2 = (float)(1.0 / (1.0 - pow(o->beta2, (double)m->adam_t)));
  for (int i = 0; i < m->ntensors; i++) {
    W2XfTensor *t = &m->t[i];
    float wd = t->decay ? o->weight_decay : 0.f;
    if (t->dist) {
      size_t n = t->W.ml == 0 ? 0 : (size_t)t->W.lld * t->W.nl;
      adamw_update(t->W.a, t->dW.a, t->mW.a, t->vW.a, n, lr, o->beta1, o->beta2, o->eps, wd, c1,
                   c2);
    } else {
      adamw_update(t->p, t->g, t->mo, t->ve, (size_t)t->rows * t->cols, lr, o->beta1, o->beta2,
                   o->eps, wd, c1, c2);
    }
  }
}

/* ----------------------------------------------------------------------------------- */
/* tensors in and out, checkpoints */

W2Err w2_xf_tensor_get(const W2XfTensor *t, int grad, float *out) {
  size_t n = (size_t)t->rows * t->cols;
  if (!t->dist) {
    memcpy(out, grad ? t->g : t->p, sizeof(float) * n);
    return W2_OK;
  }
  float *cm;
  W2_ALLOC_ALIGNED(cm, n); /* column-major gather; not a hot path */
  W2Err e = w2_mat_allgather(grad ? &t->dW : &t->W, cm);
  for (int i = 0; i < t->rows && !e; i++)
    for (int j = 0; j < t->cols; j++) out[(size_t)i * t->cols + j] = cm[i + (size_t)j * t->rows];
  free(cm);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

void w2_xf_tensor_set(W2XfTensor *t, const float *in) {
  if (!t->dist) {
    memcpy(t->p, in, sizeof(float) * t->rows * t->cols);
    return;
  }
  W2Mat *A = &t->W;
  for (int jl = 0; jl < A->nl; jl++) {
    size_t j = (size_t)w2_mat_gcol(A, jl);
    for (int il = 0; il < A->ml; il++)
      A->a[il + (size_t)jl * A->lld] = in[(size_t)w2_mat_grow(A, il) * t->cols + j];
  }
}

#define XF_FORMAT "w2sweep-transformer"
#define XF_VERSION 1

static double total_floats(const W2Xf *m) {
  double n = 0;
  for (int i = 0; i < m->ntensors; i++) n += (double)m->t[i].rows * m->t[i].cols;
  return n;
}

/* every rank returns rank 0's code and message */
static W2Err agree0(const W2Grid *g, W2Err err) {
  if (g->size == 1) return err;
  int code = err;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", err ? w2_error_message() : "");
  MPI_Bcast(&code, 1, MPI_INT, 0, g->comm);
  MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, 0, g->comm);
  if (!code) return W2_OK;
  if (g->rank == 0) return w2_error_push(__FILE__, __LINE__, __func__, err);
  return w2_error_raise(__FILE__, __LINE__, __func__, code, "%s", msg);
}

static W2Err save_rank0(const W2Xf *m, const char *path, const float *all) {
  char tmp[4096];
  hid_t f;
  W2_CALL(w2_h5_create_tmp(path, -1, tmp, sizeof tmp, &f));
  W2Err e = w2_h5_attr_write_str(f, path, "format", XF_FORMAT);
  const W2XfArch *a = &m->arch;
  if (!e) e = w2_h5_attr_write_int(f, path, "version", XF_VERSION);
  if (!e) e = w2_h5_attr_write_int(f, path, "width", a->width);
  if (!e) e = w2_h5_attr_write_int(f, path, "depth", a->depth);
  if (!e) e = w2_h5_attr_write_int(f, path, "heads", a->heads);
  if (!e) e = w2_h5_attr_write_int(f, path, "ctx", a->ctx);
  if (!e) e = w2_h5_attr_write_int(f, path, "vocab", W2_XF_VOCAB);
  size_t off = 0;
  for (int i = 0; i < m->ntensors && !e; i++) {
    const W2XfTensor *t = &m->t[i];
    hsize_t dims[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
    int vec = !t->dist;
    if (vec) dims[0] = (hsize_t)t->cols;
    e = w2_h5_write_f32(f, path, t->name, vec ? 1 : 2, dims, all + off);
    off += (size_t)t->rows * t->cols;
  }
  return w2_h5_commit(&f, tmp, path, e);
}

W2Err w2_xf_save(const W2Xf *m, const char *path) {
  const W2Grid *g = m->grid;
  float *all;
  W2_ALLOC_ALIGNED(all, (size_t)total_floats(m));
  W2Err e = W2_OK;
  size_t off = 0;
  for (int i = 0; i < m->ntensors && !e; i++) {
    e = w2_xf_tensor_get(&m->t[i], 0, all + off);
    off += (size_t)m->t[i].rows * m->t[i].cols;
  }
  if (!e && g->rank == 0) e = save_rank0(m, path, all);
  free(all);
  return agree0(g, e);
}

static W2Err load_rank0(const W2Xf *m, const char *path, float *all) {
  hid_t f;
  W2_CALL(w2_h5_open_read(path, -1, &f));
  char fmt[64] = "";
  int v[6] = {0};
  const char *names[6] = {"version", "width", "depth", "heads", "ctx", "vocab"};
  const W2XfArch *a = &m->arch;
  int want[6] = {XF_VERSION, a->width, a->depth, a->heads, a->ctx, W2_XF_VOCAB};
  W2Err e = w2_h5_attr_read_str(f, path, "format", fmt, sizeof fmt);
  if (!e && strcmp(fmt, XF_FORMAT) != 0)
    e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                       "%s: format '%s' is not a w2sweep transformer checkpoint", path, fmt);
  for (int k = 0; k < 6 && !e; k++) {
    e = w2_h5_attr_read_int(f, path, names[k], &v[k]);
    if (!e && v[k] != want[k])
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: %s is %d, the model has %d", path, names[k], v[k], want[k]);
  }
  size_t off = 0;
  for (int i = 0; i < m->ntensors && !e; i++) {
    const W2XfTensor *t = &m->t[i];
    hsize_t dims[2];
    H5T_class_t cls;
    size_t sz;
    int vec = !t->dist;
    e = w2_h5_inspect(f, path, t->name, vec ? 1 : 2, dims, &cls, &sz);
    if (!e && (cls != H5T_FLOAT || dims[0] != (hsize_t)(vec ? t->cols : t->rows) ||
               (!vec && dims[1] != (hsize_t)t->cols)))
      e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                         "%s: tensor %s is not float (%d x %d)", path, t->name, t->rows, t->cols);
    if (!e) e = w2_h5_read(f, path, t->name, H5T_NATIVE_FLOAT, all + off);
    size_t n = (size_t)t->rows * t->cols;
    for (size_t j = 0; j < n && !e; j++)
      if (!isfinite(all[off + j]))
        e = w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_DATA,
                           "%s: tensor %s holds a non-finite value at %zu", path, t->name, j);
    off += n;
  }
  H5Fclose(f);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

W2Err w2_xf_load(W2Xf *m, const char *path) {
  const W2Grid *g = m->grid;
  size_t n = (size_t)total_floats(m);
  float *all;
  W2_ALLOC_ALIGNED(all, n);
  W2Err e = g->rank == 0 ? load_rank0(m, path, all) : W2_OK;
  e = agree0(g, e);
  if (!e && g->size > 1) {
    const size_t chunk = (size_t)1 << 28;
    for (size_t off = 0; off < n; off += chunk)
      MPI_Bcast(all + off, (int)(n - off < chunk ? n - off : chunk), MPI_FLOAT, 0, g->comm);
  }
  size_t off = 0;
  for (int i = 0; i < m->ntensors && !e; i++) {
    w2_xf_tensor_set(&m->t[i], all + off);
    off += (size_t)m->t[i].rows * m->t[i].cols;
  }
  free(all);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}
