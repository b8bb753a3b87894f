/* model.c — MLP forward/backward, BCE loss and AdamW on W2Mat (see model.h).
 *
 * FLOP accounting rules (exact counts of what this file executes, by convention):
 *   2 per multiply-add in a product; 1 per bias add, activation, activation derivative;
 *   5 per loss element (sigmoid, log-sum, gradient); 12 per AdamW parameter update.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* ----------------------------------------------------------------------------------- */
/* shapes and accounting */

static int layer_in(const W2Arch *a, int l) { return l == 0 ? a->d_in : a->width; }
static int layer_out(const W2Arch *a, int l) { return l == a->depth ? a->d_out : a->width; }

double w2_arch_params(const W2Arch *a) {
  double p = 0;
  for (int l = 0; l <= a->depth; l++)
    p += (double)layer_in(a, l) * layer_out(a, l) + layer_out(a, l);
  return p;
}

double w2_arch_forward_flops(const W2Arch *a, double n) {
  double f = 0;
  for (int l = 0; l <= a->depth; l++) {
    double K = layer_in(a, l), N = layer_out(a, l);
    f += n * (2 * K * N + N + (l < a->depth ? N : 0));
  }
  return f;
}

double w2_arch_step_flops(const W2Arch *a, int B, int freeze_body) {
  double f = w2_arch_forward_flops(a, B) + 5.0 * B * a->d_out;
  for (int l = a->depth; l >= 0; l--) {
    if (freeze_body && l < a->depth) break;
    double K = layer_in(a, l), N = layer_out(a, l);
    f += (double)B * (2 * K * N + N);             /* dW, db */
    if (l > 0 && !freeze_body) f += (double)B * (2 * K * N + K); /* dX and act' */
    f += 12.0 * (K * N + N);                      /* AdamW */
  }
  return f;
}

double w2_arch_train_bytes(const W2Arch *a, int B, int p) {
  double params = w2_arch_params(a);
  double acts = (double)B * (a->d_in + (double)a->depth * a->width + a->d_out);
  double work = 2.0 * B * a->width + 2.0 * B * a->d_out;
  return 4.0 * (4.0 * params + acts + work) / (p > 0 ? p : 1);
}

/* ----------------------------------------------------------------------------------- */
/* lifecycle */

static W2Err layer_alloc(W2Model *m, int l) {
  const W2Arch *a = &m->arch;
  int K = layer_in(a, l), N = layer_out(a, l);
  W2_CALL(w2_mat_create(m->grid, K, N, &m->W[l]));
  W2_CALL(w2_mat_create(m->grid, K, N, &m->dW[l]));
  W2_CALL(w2_mat_create(m->grid, K, N, &m->mW[l]));
  W2_CALL(w2_mat_create(m->grid, K, N, &m->vW[l]));
  W2_ALLOC_ALIGNED(m->b[l], N);
  W2_ALLOC_ALIGNED(m->db[l], N);
  W2_ALLOC_ALIGNED(m->mb[l], N);
  W2_ALLOC_ALIGNED(m->vb[l], N);
  return W2_OK;
}

static void layer_free(W2Model *m, int l) {
  w2_mat_destroy(&m->W[l]);
  w2_mat_destroy(&m->dW[l]);
  w2_mat_destroy(&m->mW[l]);
  w2_mat_destroy(&m->vW[l]);
  free(m->b[l]);
  free(m->db[l]);
  free(m->mb[l]);
  free(m->vb[l]);
  m->b[l] = m->db[l] = m->mb[l] = m->vb[l] = NULL;
}

W2Err w2_model_create(const W2Grid *grid, const W2Arch *arch, W2Model **out) {
  W2_CHECK(arch->d_in >= 1 && arch->width >= 1 && arch->d_out >= 1, W2_ERR_ARG,
           "model shape d_in=%d width=%d d_out=%d must be positive", arch->d_in, arch->width,
           arch->d_out);
  W2_CHECK(arch->depth >= 1 && arch->depth < W2_MAX_LAYERS, W2_ERR_ARG,
           "model depth %d must be in [1, %d]", arch->depth, W2_MAX_LAYERS - 1);
  W2Model *m;
  W2_CALLOC(m, 1);
  m->arch = *arch;
  m->grid = grid;
  m->nlayers = arch->depth + 1;
  for (int l = 0; l < m->nlayers; l++) W2_CALL(layer_alloc(m, l));
  *out = m;
  return W2_OK;
}

static void workspace_free(W2Model *m) {
  if (m->B == 0) return;
  for (int l = 0; l <= m->nlayers; l++) w2_mat_destroy(&m->act[l]);
  w2_mat_destroy(&m->g[0]);
  w2_mat_destroy(&m->g[1]);
  w2_mat_destroy(&m->dlogits);
  w2_mat_destroy(&m->target);
  w2_mat_destroy(&m->emask);
  m->has_emask = 0;
  free(m->row_weight);
  free(m->host_logits);
  free(m->host_tmp);
  free(m->rows);
  m->row_weight = m->host_logits = m->host_tmp = NULL;
  m->rows = NULL;
  m->B = 0;
}

void w2_model_destroy(W2Model **model) {
  W2Model *m = *model;
  if (!m) return;
  if (m->ops) m->ops->destroy(m);
  workspace_free(m);
  for (int l = 0; l < m->nlayers; l++) layer_free(m, l);
  w2_model_clear_anchor(m);
  free(m);
  *model = NULL;
}

W2Err w2_model_set_batch(W2Model *m, int B) {
  W2_CHECK(B >= 1, W2_ERR_ARG, "batch size %d must be >= 1", B);
  if (m->ops) return m->ops->set_batch(m, B);
  workspace_free(m);
  const W2Arch *a = &m->arch;
  W2_CALL(w2_mat_create(m->grid, B, a->d_in, &m->act[0]));
  for (int l = 0; l < m->nlayers; l++)
    W2_CALL(w2_mat_create(m->grid, B, layer_out(a, l), &m->act[l + 1]));
  W2_CALL(w2_mat_create(m->grid, B, a->width, &m->g[0]));
  W2_CALL(w2_mat_create(m->grid, B, a->width, &m->g[1]));
  W2_CALL(w2_mat_create(m->grid, B, a->d_out, &m->dlogits));
  W2_CALL(w2_mat_create(m->grid, B, a->d_out, &m->target));
  W2_CALL(w2_mat_create(m->grid, B, a->d_out, &m->emask));
  W2_ALLOC_ALIGNED(m->row_weight, B);
  W2_ALLOC_ALIGNED(m->host_logits, (size_t)B * a->d_out);
  W2_ALLOC_ALIGNED(m->host_tmp, (size_t)B * a->d_out);
  W2_ALLOC_ALIGNED(m->rows, B);
  m->B = B;
  return W2_OK;
}

static void init_layer(W2Model *m, int l, uint64_t key) {
  const W2Arch *a = &m->arch;
  int K = layer_in(a, l);
  /* He init for ReLU hidden layers, LeCun for tanh and for the (linear) head */
  double gain = (l < a->depth && a->act == W2_ACT_RELU) ? 2.0 : 1.0;
  w2_mat_fill_normal(&m->W[l], (float)sqrt(gain / K), key, (uint64_t)l);
  memset(m->b[l], 0, sizeof(float) * layer_out(a, l));
}

void w2_model_init(W2Model *m, uint64_t key) {
  for (int l = 0; l < m->nlayers; l++) init_layer(m, l, key);
  w2_model_reset_optimizer(m);
  m->flops = 0;
}

W2Err w2_model_reset_head(W2Model *m, int d_out, uint64_t key) {
  if (m->ops) return m->ops->reset_head(m, d_out, key);
  int h = m->arch.depth, B = m->B;
  layer_free(m, h);
  workspace_free(m);
  m->arch.d_out = d_out;
  W2_CALL(layer_alloc(m, h));
  init_layer(m, h, key);
  if (B) W2_CALL(w2_model_set_batch(m, B));
  return W2_OK;
}

void w2_model_reset_optimizer(W2Model *m) {
  if (m->ops) {
    m->ops->reset_optimizer(m);
    return;
  }
  for (int l = 0; l < m->nlayers; l++) {
    w2_mat_zero(&m->mW[l]);
    w2_mat_zero(&m->vW[l]);
    memset(m->mb[l], 0, sizeof(float) * layer_out(&m->arch, l));
    memset(m->vb[l], 0, sizeof(float) * layer_out(&m->arch, l));
  }
  m->adam_t = 0;
}

void w2_model_copy_params(const W2Model *src, W2Model *dst) {
  if (src->ops) {
    src->ops->copy_params(src, dst); /* same family, arch and grid: local copies */
    return;
  }
  for (int l = 0; l < src->nlayers; l++) {
    w2_mat_copy(&src->W[l], &dst->W[l]);
    memcpy(dst->b[l], src->b[l], sizeof(float) * layer_out(&src->arch, l));
  }
}

/* ----------------------------------------------------------------------------------- */
/* data in */

void w2_model_load_batch(W2Model *m, const float *X, const int *rows, int nrows) {
  if (m->ops) {
    m->ops->load_batch(m, X, rows, nrows);
    return;
  }
  W2Mat *A = &m->act[0];
  int d = m->arch.d_in;
  if (A->grid->size == 1) {
    /* one local block: a transpose of the gathered rows in tiles of 8 rows, so that reads
     * walk 8 input rows contiguously and writes fill 8 consecutive floats of each column
     * (row by row, every write lands in another cache line: 2.5x slower at d_in = 64) */
    enum { T = 8 };
    for (int i0 = 0; i0 < A->m; i0 += T) {
      float *a = A->a + i0;
      if (i0 + T <= nrows) {
        const float *x[T];
        for (int t = 0; t < T; t++) x[t] = X + (size_t)rows[i0 + t] * d;
        for (int j = 0; j < d; j++, a += A->lld)
          for (int t = 0; t < T; t++) a[t] = x[t][j];
      } else {
        int ni = A->m - i0 < T ? A->m - i0 : T;
        for (int j = 0; j < d; j++, a += A->lld)
          for (int t = 0; t < ni; t++)
            a[t] = i0 + t < nrows ? X[(size_t)rows[i0 + t] * d + j] : 0.f;
      }
    }
    for (int i = 0; i < m->B; i++) m->row_weight[i] = i < nrows ? 1.f : 0.f;
    return;
  }
  for (int jl = 0; jl < A->nl; jl++) {
    int j = w2_mat_gcol(A, jl);
    float *col = A->a + (size_t)jl * A->lld;
    for (int il = 0; il < A->ml; il++) {
      int i = w2_mat_grow(A, il);
      col[il] = i < nrows ? X[(size_t)rows[i] * d + j] : 0.f;
    }
  }
  for (int i = 0; i < m->B; i++) m->row_weight[i] = i < nrows ? 1.f : 0.f;
}

void w2_model_load_target(W2Model *m, const float *target, const float *weight, int nrows) {
  if (m->ops) {
    m->ops->load_target(m, target, weight, nrows);
    return;
  }
  W2Mat *T = &m->target;
  int k = m->arch.d_out;
  if (T->grid->size == 1 && k == 1) { /* (B,1): one contiguous column */
    memcpy(T->a, target, sizeof(float) * (size_t)nrows);
    memset(T->a + nrows, 0, sizeof(float) * (size_t)(T->m - nrows));
  } else {
    for (int jl = 0; jl < T->nl; jl++) {
      int j = w2_mat_gcol(T, jl);
      float *col = T->a + (size_t)jl * T->lld;
      for (int il = 0; il < T->ml; il++) {
        int i = w2_mat_grow(T, il);
        col[il] = i < nrows ? target[(size_t)i * k + j] : 0.f;
      }
    }
  }
  for (int i = 0; i < m->B; i++) m->row_weight[i] = i < nrows ? (weight ? weight[i] : 1.f) : 0.f;
  m->has_emask = 0;
}

void w2_model_load_target_masked(W2Model *m, const float *target, const float *mask,
                                 int nrows) {
  w2_model_load_target(m, target, NULL, nrows);
  W2Mat *M = &m->emask;
  int k = m->arch.d_out;
  for (int jl = 0; jl < M->nl; jl++) {
    int j = w2_mat_gcol(M, jl);
    float *col = M->a + (size_t)jl * M->lld;
    for (int il = 0; il < M->ml; il++) {
      int i = w2_mat_grow(M, il);
      col[il] = i < nrows ? mask[(size_t)i * k + j] : 0.f;
    }
  }
  m->has_emask = 1;
}

/* ----------------------------------------------------------------------------------- */
/* layers: forward and backward side by side */

/* out (B,N) += bias (N), broadcast over rows */
static void bias_forward(W2Mat *out, const float *bias) {
  for (int jl = 0; jl < out->nl; jl++) {
    float b = bias[w2_mat_gcol(out, jl)];
    float *col = out->a + (size_t)jl * out->lld;
    for (int il = 0; il < out->ml; il++) col[il] += b;
  }
}

/* dbias (N) = column sums of dout (B,N) */
static W2Err bias_backward(float *dbias, const W2Mat *dout) { return w2_mat_colsum(dout, dbias); }

/* in place: x (B,N) = act(x) */
static void act_forward(W2Act act, W2Mat *x) {
  for (int jl = 0; jl < x->nl; jl++) {
    float *col = x->a + (size_t)jl * x->lld;
    if (act == W2_ACT_RELU)
      for (int il = 0; il < x->ml; il++) col[il] = col[il] > 0.f ? col[il] : 0.f;
    else
      for (int il = 0; il < x->ml; il++) col[il] = tanhf(col[il]);
  }
}

/* dx (B,N) *= act'(.) expressed through the activation's output y (B,N) */
static void act_backward(W2Act act, W2Mat *dx, const W2Mat *y) {
  for (int jl = 0; jl < dx->nl; jl++) {
    float *d = dx->a + (size_t)jl * dx->lld;
    const float *o = y->a + (size_t)jl * y->lld;
    if (act == W2_ACT_RELU)
      for (int il = 0; il < dx->ml; il++) d[il] = o[il] > 0.f ? d[il] : 0.f;
    else
      for (int il = 0; il < dx->ml; il++) d[il] *= 1.f - o[il] * o[il];
  }
}

W2Err w2_model_forward(W2Model *m) {
  if (m->ops) return m->ops->forward(m);
  for (int l = 0; l < m->nlayers; l++) {
    /* act[l+1] (B,N) = act[l] (B,K) @ W[l] (K,N) + b[l] */
    W2_CALL(w2_mat_gemm('N', 'N', 1.f, &m->act[l], &m->W[l], 0.f, &m->act[l + 1]));
    bias_forward(&m->act[l + 1], m->b[l]);
    if (l < m->arch.depth) act_forward(m->arch.act, &m->act[l + 1]);
  }
  return W2_OK;
}

W2Err w2_model_gather_logits(W2Model *m) {
  if (m->ops) return m->ops->gather_logits(m);
  const W2Mat *Z = &m->act[m->nlayers];
  int B = m->B, k = m->arch.d_out;
  W2_CALL(w2_mat_allgather(Z, m->host_tmp)); /* column-major B x k */
  for (int i = 0; i < B; i++)
    for (int j = 0; j < k; j++) m->host_logits[(size_t)i * k + j] = m->host_tmp[i + (size_t)j * B];
  return W2_OK;
}

/* Half squared error over weighted entries: w (z - t)^2 / 2 / sum(w); d/dz = w (z - t) / sum(w),
 * w = row weight x element mask. */
static W2Err loss_mse(W2Model *m, double *loss) {
  const W2Mat *Z = &m->act[m->nlayers], *T = &m->target, *M = &m->emask;
  W2Mat *D = &m->dlogits;
  double sums[2] = {0, 0}; /* loss, weight */
  for (int jl = 0; jl < Z->nl; jl++) {
    const float *z = Z->a + (size_t)jl * Z->lld, *t = T->a + (size_t)jl * T->lld;
    const float *mk = M->a + (size_t)jl * M->lld;
    for (int il = 0; il < Z->ml; il++) {
      double w = (double)m->row_weight[w2_mat_grow(Z, il)] * (m->has_emask ? mk[il] : 1.f);
      double r = (double)z[il] - t[il];
      sums[0] += 0.5 * w * r * r;
      sums[1] += w;
    }
  }
  /* the normaliser is global: sum first, then scale the local gradient */
  W2_CALL(w2_grid_sum(m->grid, sums, 2));
  float scale = sums[1] > 0 ? (float)(1.0 / sums[1]) : 0.f;
  for (int jl = 0; jl < Z->nl; jl++) {
    const float *z = Z->a + (size_t)jl * Z->lld, *t = T->a + (size_t)jl * T->lld;
    const float *mk = M->a + (size_t)jl * M->lld;
    float *d = D->a + (size_t)jl * D->lld;
    for (int il = 0; il < Z->ml; il++) {
      float w = m->row_weight[w2_mat_grow(Z, il)] * (m->has_emask ? mk[il] : 1.f);
      d[il] = w * scale * (z[il] - t[il]);
    }
  }
  *loss = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
  return W2_OK;
}

/* BCE with logits against soft targets t: max(z,0) - z t + log(1 + e^-|z|); d/dz = s(z) - t */
W2Err w2_model_loss(W2Model *m, double *loss) {
  if (m->ops) return m->ops->loss(m, loss);
  if (m->loss == W2_LOSS_MSE) return loss_mse(m, loss);
  const W2Mat *Z = &m->act[m->nlayers], *T = &m->target;
  W2Mat *D = &m->dlogits;
  double wsum = 0;
  for (int i = 0; i < m->B; i++) wsum += m->row_weight[i];
  double norm = wsum * m->arch.d_out;
  float scale = norm > 0 ? (float)(1.0 / norm) : 0.f;
  double local = 0;
  for (int jl = 0; jl < Z->nl; jl++) {
    const float *z = Z->a + (size_t)jl * Z->lld, *t = T->a + (size_t)jl * T->lld;
    float *d = D->a + (size_t)jl * D->lld;
    for (int il = 0; il < Z->ml; il++) {
      float w = m->row_weight[w2_mat_grow(Z, il)];
      float zi = z[il], az = fabsf(zi);
      float e = expf(-az);
      float s = zi >= 0 ? 1.f / (1.f + e) : e / (1.f + e);
      if (m->loss == W2_LOSS_RKL) {
        /* KL(f || t): log f = -softplus(-z), log(1-f) = -softplus(z) (no cancellation) */
        double tt = fmin(fmax((double)t[il], 1e-6), 1.0 - 1e-6), l1p = log1p((double)e);
        double lf = -((zi < 0 ? -zi : 0.0) + l1p), l1f = -((zi > 0 ? zi : 0.0) + l1p);
        double f = s, kl = f * (lf - log(tt)) + (1 - f) * (l1f - log1p(-tt));
        local += (double)w * kl;
        d[il] = w * scale * (float)(f * (1 - f) * (zi - (log(tt) - log1p(-tt))));
        continue;
      }
      local += (double)w * ((zi > 0 ? zi : 0.f) - zi * t[il] + log1pf(e));
      d[il] = w * scale * (s - t[il]);
    }
  }
  W2_CALL(w2_grid_sum(m->grid, &local, 1));
  *loss = norm > 0 ? local / norm : 0.0;
  return W2_OK;
}

W2Err w2_model_backward(W2Model *m) {
  if (m->ops) return m->ops->backward(m);
  const W2Mat *dy = &m->dlogits;
  int buf = 0;
  for (int l = m->arch.depth; l >= 0; l--) {
    /* dW[l] (K,N) = act[l]^T (K,B) @ dy (B,N);  db[l] = colsum(dy) */
    W2_CALL(w2_mat_gemm('T', 'N', 1.f, &m->act[l], dy, 0.f, &m->dW[l]));
    W2_CALL(bias_backward(m->db[l], dy));
    if (l == 0 || m->freeze_body) break;
    /* dx (B,K) = dy (B,N) @ W[l]^T (N,K), then through the activation that made act[l] */
    W2Mat *dx = &m->g[buf];
    W2_CALL(w2_mat_gemm('N', 'T', 1.f, dy, &m->W[l], 0.f, dx));
    act_backward(m->arch.act, dx, &m->act[l]);
    dy = dx;
    buf ^= 1;
  }
  return W2_OK;
}

static void adamw_update(float *p, const float *g, float *mo, float *ve, size_t n, float lr,
                         float b1, float b2, float eps, float wd, float c1, float c2,
                         const float *anchor, float ad) {
  for (size_t i = 0; i < n; i++) {
    float gi = g[i];
    mo[i] = b1 * mo[i] + (1.f - b1) * gi;
    ve[i] = b2 * ve[i] + (1.f - b2) * gi * gi;
    float mhat = mo[i] * c1, vhat = ve[i] * c2;
    float pull = anchor ? ad * (p[i] - anchor[i]) : 0.f;
    p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * p[i] + pull);
  }
}

W2Err w2_model_set_anchor(W2Model *m) {
  /* sweepcfg.c refuses anchor_decay for other families; never silently unanchored */
  W2_CHECK(!m->ops, W2_ERR_CONFIG, "anchor_decay is not supported by the %s family",
           m->ops ? m->ops->family : "");
  w2_model_clear_anchor(m);
  for (int l = 0; l < m->arch.depth; l++) {
    size_t n = m->W[l].ml == 0 ? 0 : (size_t)m->W[l].lld * m->W[l].nl;
    size_t nb = (size_t)layer_out(&m->arch, l);
    m->anchorW[l] = malloc(sizeof(float) * (n ? n : 1));
    m->anchorb[l] = malloc(sizeof(float) * nb);
    if (!m->anchorW[l] || !m->anchorb[l]) {
      w2_model_clear_anchor(m);
      W2_RAISE(W2_ERR_MEM, "out of memory (anchor of layer %d)", l);
    }
    if (n) memcpy(m->anchorW[l], m->W[l].a, sizeof(float) * n);
    memcpy(m->anchorb[l], m->b[l], sizeof(float) * nb);
  }
  return W2_OK;
}

void w2_model_clear_anchor(W2Model *m) {
  for (int l = 0; l < W2_MAX_LAYERS; l++) {
    free(m->anchorW[l]);
    free(m->anchorb[l]);
    m->anchorW[l] = m->anchorb[l] = NULL;
  }
}

void w2_model_adamw(W2Model *m, const W2AdamW *o, float lr) {
  if (m->ops) {
    m->ops->adamw(m, o, lr);
    return;
  }
  m->adam_t++;
  float c1 = (float)(1.0 / (1.0 - pow(o->beta1, (double)m->adam_t)));
  float c2 = (float)(1.0 / (1.0 - pow(o->beta2, (double)m->adam_t)));
  int first = m->freeze_body ? m->arch.depth : 0;
  float body_lr = o->body_lr_scale > 0 ? lr * o->body_lr_scale : lr;
  for (int l = first; l < m->nlayers; l++) {
    float lr_l = l < m->arch.depth ? body_lr : lr;
    /* padding rows of the local block (lld > ml never happens for ml >= 1) are updated
     * too; they hold zeros in every array, so they stay zero */
    size_t n = (size_t)m->W[l].lld * m->W[l].nl;
    if (m->W[l].ml == 0) n = 0;
    adamw_update(m->W[l].a, m->dW[l].a, m->mW[l].a, m->vW[l].a, n, lr_l, o->beta1, o->beta2,
                 o->eps, o->weight_decay, c1, c2, m->anchorW[l], o->anchor_decay);
    adamw_update(m->b[l], m->db[l], m->mb[l], m->vb[l], (size_t)layer_out(&m->arch, l), lr_l,
                 o->beta1, o->beta2, o->eps, 0.f, c1, c2, m->anchorb[l], o->anchor_decay);
  }
}

/* ----------------------------------------------------------------------------------- */
/* inference */

W2Err w2_model_predict(W2Model *m, const float *X, int n, int d, float *prob) {
  W2_CHECK(m->B > 0, W2_ERR_INTERNAL, "predict before set_batch");
  W2_CHECK(d == m->arch.d_in, W2_ERR_INTERNAL,
           "predict: the data has %d columns but the model takes %d inputs", d, m->arch.d_in);
  int k = m->arch.d_out;
  for (int r0 = 0; r0 < n; r0 += m->B) {
    int nr = n - r0 < m->B ? n - r0 : m->B;
    for (int i = 0; i < nr; i++) m->rows[i] = r0 + i;
    w2_model_load_batch(m, X, m->rows, nr);
    W2_CALL(w2_model_forward(m));
    W2_CALL(w2_model_gather_logits(m));
    for (int i = 0; i < nr * k; i++) {
      float z = m->host_logits[i];
      prob[(size_t)r0 * k + i] = z >= 0 ? 1.f / (1.f + expf(-z)) : expf(z) / (1.f + expf(z));
    }
  }
  return W2_OK;
}

W2Err w2_model_features(W2Model *m, const float *X, int n, int d, float *feat) {
  W2_CHECK(m->B > 0, W2_ERR_INTERNAL, "features before set_batch");
  W2_CHECK(d == m->arch.d_in, W2_ERR_INTERNAL,
           "features: the data has %d columns but the model takes %d inputs", d, m->arch.d_in);
  if (m->ops) return m->ops->features(m, X, n, d, feat);
  int w = m->arch.width, B = m->B;
  const W2Mat *H = &m->act[m->arch.depth];
  float *tmp; /* (B, w) column-major gather buffer; features are not a hot path */
  W2_ALLOC_ALIGNED(tmp, (size_t)B * w);
  W2Err e = W2_OK;
  for (int r0 = 0; r0 < n && !e; r0 += B) {
    int nr = n - r0 < B ? n - r0 : B;
    for (int i = 0; i < nr; i++) m->rows[i] = r0 + i;
    w2_model_load_batch(m, X, m->rows, nr);
    e = w2_model_forward(m);
    if (!e) e = w2_mat_allgather(H, tmp);
    for (int i = 0; i < nr && !e; i++)
      for (int j = 0; j < w; j++) feat[(size_t)(r0 + i) * w + j] = tmp[i + (size_t)j * B];
  }
  free(tmp);
  if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
  return W2_OK;
}

/* ----------------------------------------------------------------------------------- */
/* family-independent numbers (model.h "Families") */

W2Err w2_model_create_like(const W2Model *src, W2Model **out) {
  if (src->ops) return src->ops->create_like(src, out);
  W2_CALL(w2_model_create(src->grid, &src->arch, out));
  return W2_OK;
}

double w2_model_params(const W2Model *m) {
  return m->ops ? m->ops->params(m) : w2_arch_params(&m->arch);
}

double w2_model_step_flops(const W2Model *m, int B) {
  return m->ops ? m->ops->step_flops(m, B) : w2_arch_step_flops(&m->arch, B, m->freeze_body);
}

double w2_model_forward_flops(const W2Model *m, double n) {
  return m->ops ? m->ops->forward_flops(m, n) : w2_arch_forward_flops(&m->arch, n);
}

W2Err w2_model_set_head(W2Model *m, const float *w, float b) {
  W2_CHECK(m->arch.d_out == 1, W2_ERR_INTERNAL, "set_head needs a 1-output head");
  if (m->ops) return m->ops->set_head(m, w, b);
  int h = m->arch.depth;
  w2_mat_set_from_full(&m->W[h], w);
  m->b[h][0] = b;
  return W2_OK;
}
