/* transformer.h — the byte-level transformer family (issue 15), written against W2Mat.
 *
 * A decoder-only GPT-2-style transformer over bytes (vocabulary V = 256, no tokenizer):
 * token + learned position embeddings, `depth` pre-LayerNorm blocks of causal multi-head
 * self-attention and a GELU (tanh approximation) MLP of 4C units, a final LayerNorm, then
 * one of two heads on the final hidden states:
 *   LM head   logits (BT, V) = lnf (BT, C) @ wte^T — tied to the token embedding; softmax
 *             cross entropy of next-byte prediction, mean over the positions whose next
 *             byte is real (t + 1 < len[b]). Pretraining.
 *   CLS head  one logit per sequence, cls_w . h + cls_b, reading h = the final hidden
 *             state of the LAST REAL token of each (padded) input, row b*T + len[b] - 1
 *             (never a fixed position); soft-target BCE with row weights, as model.h's
 *             W2_LOSS_BCE. Binary tasks.
 *
 * Shapes (B sequences of T = ctx bytes, BT = B*T rows, row r = b*T + t; C = width,
 * NH = heads, hs = C / NH, L = depth):
 *   wte (V, C), wpe (T, C)                          W2Mat, distributed
 *   per block: qkv_w (C, 3C), proj_w (C, C), fc_w (C, 4C), fcproj_w (4C, C)   W2Mat
 *              ln1_w, ln1_b, ln2_w, ln2_b (C), qkv_b (3C), proj_b (C), fc_b (4C),
 *              fcproj_b (C)                        replicated on every rank
 *   lnf_w, lnf_b (C), cls_w (C), cls_b (1)          replicated
 *   activations (BT, x) W2Mat: x_in[l] (the residual stream entering block l; x_in[L]
 *   leaves the last block), ln1, qkv (3C: q | k | v, head h in columns h*hs..), atty,
 *   res1 (residual after attention), ln2, fch (4C, before GELU), fcg (after GELU), lnf.
 *
 * Distribution. Every weight GEMM (the four per block and the tied LM head) is
 * w2_mat_gemm on the (BT, x) activations, so a model on an nprow x npcol grid splits its
 * weights and activations block-cyclically like the MLPs. What is not a weight GEMM:
 *   - LayerNorm and the LM softmax need row statistics over columns that several process
 *     columns own: local partial sums, then one MPI_Allreduce over the grid's row_comm.
 *   - Attention mixes rows of one sequence: on a 1x1 grid it runs on the local blocks; on
 *     larger grids qkv is allgathered (BT x 3C), each rank computes the (sequence, head)
 *     pairs k with k % size == rank and the outputs are summed into every rank
 *     (MPI_Allreduce), so attention FLOPs are split but each rank holds BT x 4C floats of
 *     scratch. Within a pair, Q K^T, P V and their backward are SGEMMs on strided blocks.
 *   - Embedding lookup and its backward use the full wte / wpe (V x C, T x C: small).
 *   - The CLS head gathers the B last-token rows (B x C) to every rank.
 * The results equal the 1x1 grid's to rounding (tests/test_xfmr_dist.c).
 *
 * Lifecycle: w2_xf_create -> w2_xf_init (or w2_xf_load) -> w2_xf_set_batch ->
 * [w2_xf_load_tokens, forward, lm_loss | cls_loss, backward, adamw]* -> w2_xf_destroy.
 * No allocation happens in forward, the losses, backward or the optimizer.
 */
#ifndef W2_TRANSFORMER_H
#define W2_TRANSFORMER_H

#include <stdint.h>

#include "dmat.h"
#include "model.h" /* W2AdamW */

#define W2_XF_VOCAB 256

typedef struct W2XfArch {
  int width; /* C, a multiple of heads */
  int depth; /* L blocks, >= 1 */
  int heads; /* NH */
  int ctx;   /* T, the context length in bytes */
} W2XfArch;

/* One parameter tensor: a distributed W2Mat (weight matrices, the embeddings) or a
 * replicated vector (LayerNorm, biases, the CLS head), with its gradient and AdamW moments. */
typedef struct W2XfTensor {
  char name[32];      /* e.g. "h0.qkv_w"; the checkpoint's dataset name */
  int rows, cols;     /* global shape; vectors are (1, n) */
  int dist;           /* 1: W, dW, mW, vW; 0: p, g, mo, ve of rows*cols floats */
  int decay;          /* AdamW weight decay applies (weight matrices and embeddings) */
  W2Mat W, dW, mW, vW;
  float *p, *g, *mo, *ve;
} W2XfTensor;

/* tensor indices: globals first, then XF_NPER per block (w2_xf_tensor_index) */
enum { XF_WTE, XF_WPE, XF_LNFW, XF_LNFB, XF_CLSW, XF_CLSB, XF_NGLOBAL };
enum { XF_LN1W, XF_LN1B, XF_QKVW, XF_QKVB, XF_PROJW, XF_PROJB,
       XF_LN2W, XF_LN2B, XF_FCW, XF_FCB, XF_FCPW, XF_FCPB, XF_NPER };

typedef struct W2XfLayerAct {
  W2Mat ln1, qkv, atty, res1, ln2, fch, fcg; /* (BT, C|3C|C|C|C|4C|4C) */
  float *ln1_mean, *ln1_rstd, *ln2_mean, *ln2_rstd; /* (local rows) */
  float *att;                                /* (B, NH, T, T) softmax, pairs this rank owns */
} W2XfLayerAct;

typedef struct W2Xf {
  W2XfArch arch;
  const W2Grid *grid;
  int ntensors;
  W2XfTensor *t;       /* XF_NGLOBAL + XF_NPER * depth */
  long adam_t;
  double flops;        /* training FLOPs spent on this model so far (w2_xf_step_flops) */
  /* workspace for B sequences (w2_xf_set_batch) */
  int B, BT, ml;       /* ml: local rows of every (BT, x) matrix */
  int *tok, *len;      /* (B*T), (B) the loaded batch, replicated */
  int *tgt;            /* (B*T) next byte at each row, -1 where none (LM loss) */
  float *row_weight;   /* (B) CLS loss weights, 0 for padding sequences */
  float *target;       /* (B) CLS soft targets */
  W2Mat *x_in;         /* (L + 1) residual stream, (BT, C) */
  W2XfLayerAct *la;    /* (L) */
  W2Mat lnf, logits, dlogits;       /* (BT, C), (BT, V), (BT, V) */
  float *lnf_mean, *lnf_rstd;
  W2Mat dres, dC, dqkv, dfc;        /* backward: (BT, C), (BT, C), (BT, 3C), (BT, 4C) */
  float *hlast, *cls_logit, *dcls;  /* (B, C) row-major, (B), (B) */
  int lm_mode;                      /* which loss ran last: backward starts from it */
  double *rowbuf;                   /* (4 * ml) row reductions and per-row scratch */
  float *attbuf;                    /* (T, T) attention backward scratch */
  float *full, *full2;              /* grids > 1x1: (BT, 4C) and max(BT*3C, (V+T)*C) */
} W2Xf;

W2Err w2_xf_create(const W2Grid *grid, const W2XfArch *arch, W2Xf **model);
void w2_xf_destroy(W2Xf **model);
/* GPT-2 initialisation from key: weights N(0, 0.02), the two residual projections
 * N(0, 0.02 / sqrt(2L)), LayerNorm gains 1, biases 0, cls_w N(0, 0.02); same values on
 * every grid shape. Resets the optimizer. */
void w2_xf_init(W2Xf *m, uint64_t key);
/* Allocates the workspace for B sequences (frees a previous one). */
W2Err w2_xf_set_batch(W2Xf *m, int B);
void w2_xf_reset_optimizer(W2Xf *m);
/* Index into m->t of tensor k (XF_LN1W ...) of block l; l = -1: a global (XF_WTE ...). */
static inline int w2_xf_tensor_index(int l, int k) { return l < 0 ? k : XF_NGLOBAL + XF_NPER * l + k; }

/* Parameter count (embeddings, tied head and CLS head included). */
double w2_xf_params(const W2XfArch *a);
/* FLOPs of a forward pass over n_seq sequences of T bytes: 2 per multiply-add of every
 * product actually executed — 24 L C^2 per token in the blocks' weights, 2 C V per token in
 * the LM head (lm = 1; the CLS head's 2C per sequence otherwise), 4 L T C per token in
 * attention (Q K^T and P V over the full T x T square, as executed); elementwise work
 * (LayerNorm, GELU, softmax, AdamW: O(C) per token) is not counted. */
double w2_xf_forward_flops(const W2XfArch *a, double n_seq, int lm);
/* One training step at B sequences: 3 x forward (backward = 2 x forward), i.e.
 * 6 N tokens + attention, N the parameters in weight products. */
double w2_xf_step_flops(const W2XfArch *a, int B, int lm);
/* Analytic memory of training at B sequences, bytes per rank on p ranks: weights, grads,
 * two AdamW moments, the activations kept for backward, the backward buffers. */
double w2_xf_train_bytes(const W2XfArch *a, int B, int p);

/* Loads nrows <= B sequences: tok (nrows x T bytes, row-major), len (nrows, 1 <= len <= T):
 * bytes at t >= len[b] are padding (their values are ignored). Sequences nrows..B-1 are
 * padding (CLS row weight 0, no LM targets); real ones get CLS row weight 1 (CLS targets are
 * left alone: load them after the tokens). W2_ERR_ARG on a bad length. */
W2Err w2_xf_load_tokens(W2Xf *m, const uint8_t *tok, const int *len, int nrows);
/* CLS targets (nrows soft labels in [0,1]) and row weights (NULL = 1). */
void w2_xf_load_target(W2Xf *m, const float *target, const float *weight, int nrows);

/* Forward pass of the loaded tokens up to lnf. Collective. */
W2Err w2_xf_forward(W2Xf *m);
/* LM head and next-byte cross entropy (mean over real targets, nats); writes dlogits.
 * Collective; the loss on every rank. */
W2Err w2_xf_lm_loss(W2Xf *m, double *loss);
/* CLS head and weighted soft-target BCE; logits in cls_logit (every rank). Collective. */
W2Err w2_xf_cls_loss(W2Xf *m, double *loss);
/* Backward from the last loss into every parameter gradient. Collective. */
W2Err w2_xf_backward(W2Xf *m);
/* One AdamW step (decoupled weight decay on tensors with decay set; opt->anchor_decay and
 * body_lr_scale are not used here). */
void w2_xf_adamw(W2Xf *m, const W2AdamW *opt, float lr);

/* Full copy of a tensor's parameters / gradients, row-major rows x cols, on every rank.
 * Collective. */
W2Err w2_xf_tensor_get(const W2XfTensor *t, int grad, float *out);
/* Sets a tensor's parameters from a full row-major array present on every rank. */
void w2_xf_tensor_set(W2XfTensor *t, const float *in);

/* Checkpoint: an HDF5 file, attrs format "w2sweep-transformer", version 1, width, depth,
 * heads, ctx, vocab (int32); one float32 dataset per tensor, named as the tensor, row-major
 * (rows, cols) for matrices and (n,) for vectors, so in Python
 *   x = f['wte'][:][tok] + f['wpe'][:][:T]
 * Save and load are collective and work on any grid shape (rank 0 does the I/O; save writes
 * PATH.tmp.<pid> then renames). Load refuses another format, version or shape, a missing
 * or mis-shaped tensor, or non-finite values (W2_ERR_DATA naming the file and the field)
 * and then leaves the parameters untouched; a missing file is W2_ERR_IO. */
W2Err w2_xf_save(const W2Xf *m, const char *path);
W2Err w2_xf_load(W2Xf *m, const char *path);

#endif
