/* xfmodel.c — the transformer family behind W2Model's ops table (see xfmodel.h). */
#include "xfmodel.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

typedef struct XfImpl {
  W2Xf *xf;
  uint8_t *tok; /* (B, ctx) bytes of the loaded rows */
  int *len;     /* (B) */
} XfImpl;

static XfImpl *impl(const W2Model *m) { return (XfImpl *)m->impl; }

int w2_text_row_tokens(const float *row, int d, int ctx, uint8_t *tok) {
  int len = 0;
  while (len < d && row[len] >= 0) len++;
  if (len == 0) {
    tok[0] = 0;
    return 1;
  }
  int first = len > ctx ? len - ctx : 0;
  for (int t = first; t < len; t++) tok[t - first] = (uint8_t)row[t];
  return len - first;
}

static void xm_destroy(W2Model *m) {
  XfImpl *x = impl(m);
  if (x) {
    w2_xf_destroy(&x->xf);
    free(x->tok);
    free(x->len);
    free(x);
  }
  m->impl = NULL;
  free(m->rows);
  free(m->host_logits);
  m->rows = NULL;
  m->host_logits = NULL;
  m->B = 0;
  m->nlayers = 0;
}

static W2Err xm_create_like(const W2Model *src, W2Model **out) {
  W2_CALL(w2_xfmodel_create(src->grid, &impl(src)->xf->arch, src->arch.d_in, 0, out));
  return W2_OK;
}

static W2Err xm_set_batch(W2Model *m, int B) {
  XfImpl *x = impl(m);
  W2_CALL(w2_xf_set_batch(x->xf, B));
  free(m->rows);
  free(m->host_logits);
  free(x->tok);
  free(x->len);
  m->rows = NULL;
  m->host_logits = NULL;
  x->tok = NULL;
  x->len = NULL;
  m->B = 0;
  W2_ALLOC_ALIGNED(m->rows, B);
  W2_ALLOC_ALIGNED(m->host_logits, B);
  W2_ALLOC_ALIGNED(x->tok, (size_t)B * x->xf->arch.ctx);
  W2_ALLOC_ALIGNED(x->len, B);
  m->B = B;
  return W2_OK;
}

/* the CLS head as w2_xf_init draws it (cls_w N(0, 0.02), cls_b 0), from key; its AdamW
 * moments reset: a new head for a new task */
static W2Err xm_reset_head(W2Model *m, int d_out, uint64_t key) {
  W2_CHECK(d_out == 1, W2_ERR_INTERNAL, "the transformer's classification head has 1 output, "
           "not %d", d_out);
  W2Xf *xf = impl(m)->xf;
  W2XfTensor *w = &xf->t[XF_CLSW], *b = &xf->t[XF_CLSB];
  for (int j = 0; j < w->cols; j++) w->p[j] = (float)(0.02 * w2_normal(key, XF_CLSW, (uint64_t)j));
  b->p[0] = 0.f;
  memset(w->mo, 0, sizeof(float) * (size_t)w->cols);
  memset(w->ve, 0, sizeof(float) * (size_t)w->cols);
  b->mo[0] = b->ve[0] = 0.f;
  return W2_OK;
}

static W2Err xm_set_head(W2Model *m, const float *w, float b) {
  W2Xf *xf = impl(m)->xf;
  memcpy(xf->t[XF_CLSW].p, w, sizeof(float) * (size_t)xf->arch.width);
  xf->t[XF_CLSB].p[0] = b;
  return W2_OK;
}

static void xm_reset_optimizer(W2Model *m) { w2_xf_reset_optimizer(impl(m)->xf); }

static void xm_copy_params(const W2Model *src, W2Model *dst) {
  const W2Xf *a = impl(src)->xf;
  W2Xf *b = impl(dst)->xf;
  for (int i = 0; i < a->ntensors; i++) {
    if (a->t[i].dist) w2_mat_copy(&a->t[i].W, &b->t[i].W);
    else memcpy(b->t[i].p, a->t[i].p, sizeof(float) * (size_t)a->t[i].rows * a->t[i].cols);
  }
}

static void xm_load_batch(W2Model *m, const float *X, const int *rows, int nrows) {
  XfImpl *x = impl(m);
  int T = x->xf->arch.ctx, d = m->arch.d_in;
  for (int i = 0; i < nrows; i++)
    x->len[i] = w2_text_row_tokens(X + (size_t)rows[i] * d, d, T, x->tok + (size_t)i * T);
  /* lengths are in [1, T] by construction, the only thing load_tokens refuses */
  (void)w2_xf_load_tokens(x->xf, x->tok, x->len, nrows);
}

static void xm_load_target(W2Model *m, const float *target, const float *weight, int nrows) {
  w2_xf_load_target(impl(m)->xf, target, weight, nrows);
}

/* the forward pass up to the CLS logits (the head runs inside w2_xf_cls_loss; its loss
 * against whatever targets are loaded is not used here) */
static W2Err xm_forward(W2Model *m) {
  W2Xf *xf = impl(m)->xf;
  double unused;
  W2_CALL(w2_xf_forward(xf));
  W2_CALL(w2_xf_cls_loss(xf, &unused));
  return W2_OK;
}

static W2Err xm_gather_logits(W2Model *m) {
  memcpy(m->host_logits, impl(m)->xf->cls_logit, sizeof(float) * (size_t)m->B);
  return W2_OK;
}

static W2Err xm_loss(W2Model *m, double *loss) {
  W2_CHECK(m->loss == W2_LOSS_BCE, W2_ERR_CONFIG,
           "the transformer family trains only with soft-label cross entropy (loss %d asked)",
           (int)m->loss);
  W2_CALL(w2_xf_cls_loss(impl(m)->xf, loss));
  return W2_OK;
}

static W2Err xm_backward(W2Model *m) {
  W2_CALL(w2_xf_backward(impl(m)->xf));
  return W2_OK;
}

static void xm_adamw(W2Model *m, const W2AdamW *opt, float lr) { w2_xf_adamw(impl(m)->xf, opt, lr); }

static W2Err xm_features(W2Model *m, const float *X, int n, int d, float *feat) {
  (void)d; /* = m->arch.d_in, checked by w2_model_features */
  W2Xf *xf = impl(m)->xf;
  int B = m->B, C = xf->arch.width;
  for (int r0 = 0; r0 < n; r0 += B) {
    int nr = n - r0 < B ? n - r0 : B;
    for (int i = 0; i < nr; i++) m->rows[i] = r0 + i;
    xm_load_batch(m, X, m->rows, nr);
    W2_CALL(xm_forward(m)); /* fills hlast (B, C) on every rank */
    memcpy(feat + (size_t)r0 * C, xf->hlast, sizeof(float) * (size_t)nr * C);
  }
  return W2_OK;
}

static double xm_params(const W2Model *m) { return w2_xf_params(&impl(m)->xf->arch); }
static double xm_step_flops(const W2Model *m, int B) {
  return w2_xf_step_flops(&impl(m)->xf->arch, B, 0);
}
static double xm_forward_flops(const W2Model *m, double n) {
  return w2_xf_forward_flops(&impl(m)->xf->arch, n, 0);
}

static W2Err xm_save(const W2Model *m, const char *path) {
  W2_CALL(w2_xf_save(impl(m)->xf, path));
  return W2_OK;
}

static W2Err xm_load(W2Model *m, const char *path) {
  W2_CALL(w2_xf_load(impl(m)->xf, path));
  return W2_OK;
}

static const W2ModelOps xf_ops = {
    .family = "transformer", .destroy = xm_destroy, .create_like = xm_create_like,
    .set_batch = xm_set_batch,
    .reset_head = xm_reset_head, .set_head = xm_set_head,
    .reset_optimizer = xm_reset_optimizer, .copy_params = xm_copy_params,
    .load_batch = xm_load_batch, .load_target = xm_load_target, .forward = xm_forward,
    .gather_logits = xm_gather_logits, .loss = xm_loss, .backward = xm_backward,
    .adamw = xm_adamw, .features = xm_features, .params = xm_params,
    .step_flops = xm_step_flops, .forward_flops = xm_forward_flops, .save = xm_save,
    .load = xm_load};

W2Err w2_xfmodel_create(const W2Grid *grid, const W2XfArch *a, int d_in, uint64_t key,
                        W2Model **out) {
  *out = NULL;
  W2_CHECK(d_in >= 1, W2_ERR_ARG, "text rows of %d columns", d_in);
  W2Model *m;
  W2_CALLOC(m, 1);
  m->ops = &xf_ops;
  m->grid = grid;
  m->arch = (W2Arch){.d_in = d_in, .width = a->width, .depth = a->depth, .d_out = 1};
  XfImpl *x = calloc(1, sizeof *x);
  W2Err e = x ? W2_OK : w2_error_raise(__FILE__, __LINE__, __func__, W2_ERR_MEM, "out of memory");
  m->impl = x;
  if (!e) e = w2_xf_create(grid, a, &x->xf);
  if (e) {
    w2_model_destroy(&m);
    return w2_error_push(__FILE__, __LINE__, __func__, e);
  }
  w2_xf_init(x->xf, key);
  *out = m;
  return W2_OK;
}

W2Xf *w2_xfmodel_xf(W2Model *m) { return m && m->ops == &xf_ops ? impl(m)->xf : NULL; }
