/* xfmr_ref_dump.c — writes what tests/xfmr_torch_ref.py compares PyTorch against:
 *   OUT/init.h5   a w2sweep transformer checkpoint (w2_xf_save) of a fresh model
 *   OUT/ref.h5    float32 datasets, row-major:
 *     tokens (STEPS, B, T)  byte values of the training batches (batch 0 is the LM batch)
 *     lm_logits (B*T, 256), lm_loss (1), lm_grad.<tensor>   forward/backward of batch 0
 *     cls_len (B), cls_target (B), cls_logit (B), cls_loss (1), cls_grad.<tensor>
 *                           the CLS head on batch 0 cut to cls_len bytes
 *     losses (STEPS)        LM loss before each of STEPS AdamW steps from init.h5
 *     hyper (5)             lr, beta1, beta2, eps, weight_decay
 * Usage: xfmr_ref_dump OUT_DIR. Not a test by itself (no assertions beyond success). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "rng.h"
#include "transformer.h"

#define B 4
#define STEPS 100

static const char TEXT[] =
    "The cat is a small domesticated carnivorous mammal. The dog is a domesticated "
    "descendant of the wolf. An oak is a tree or shrub in the genus Quercus of the beech "
    "family. Bread is a staple food prepared from a dough of flour and water, usually by "
    "baking. A hammer is a tool consisting of a weighted head fixed to a long handle that is "
    "swung to deliver an impact to a small area of an object. A teacher is a person who "
    "helps students to acquire knowledge, competence or virtue. The rose is a woody perennial "
    "flowering plant of the genus Rosa. An apple is an edible fruit produced by an apple "
    "tree. A chair is a type of seat, typically designed for one person and consisting of "
    "one or more legs, a flat seat and a back-rest. The horse is a domesticated, one-toed, "
    "hoofed mammal. ";

static W2Err run(const char *dir) {
  W2Grid *g;
  W2_CALL(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  W2XfArch arch = {.width = 32, .depth = 2, .heads = 4, .ctx = 16};
  int T = arch.ctx, BT = B * T, V = W2_XF_VOCAB;
  W2Xf *m;
  W2_CALL(w2_xf_create(g, &arch, &m));
  w2_xf_init(m, w2_key(1, "xfmr_ref", 0, 0));
  W2_CALL(w2_xf_set_batch(m, B));
  char path[4096], tmp[4096];
  snprintf(path, sizeof path, "%s/init.h5", dir);
  W2_CALL(w2_xf_save(m, path));
  /* batches: B windows of T bytes at random offsets of TEXT */
  int ntext = (int)sizeof TEXT - 1;
  float *tokf = malloc(sizeof(float) * STEPS * BT);
  uint8_t *tok = malloc((size_t)STEPS * BT);
  for (int s = 0; s < STEPS; s++)
    for (int b = 0; b < B; b++) {
      int o = (int)w2_below(w2_key(1, "xfmr_ref_batch", 0, 0), (uint64_t)s, (uint64_t)b,
                            (uint64_t)(ntext - T));
      for (int t = 0; t < T; t++) {
        tok[(size_t)s * BT + b * T + t] = (uint8_t)TEXT[o + t];
        tokf[(size_t)s * BT + b * T + t] = (float)(uint8_t)TEXT[o + t];
      }
    }
  snprintf(path, sizeof path, "%s/ref.h5", dir);
  hid_t f;
  W2_CALL(w2_h5_create_tmp(path, -1, tmp, sizeof tmp, &f));
  W2Err e = W2_OK;
  hsize_t d3[3] = {STEPS, B, (hsize_t)T}, d2[2] = {(hsize_t)BT, (hsize_t)V}, d1 = B, one = 1;
  e = w2_h5_write_f32(f, path, "tokens", 3, d3, tokf);
  /* LM head on batch 0 */
  int full[B];
  for (int b = 0; b < B; b++) full[b] = T;
  double loss = 0;
  float *buf = malloc(sizeof(float) * (size_t)BT * V), lossf;
  if (!e) e = w2_xf_load_tokens(m, tok, full, B);
  if (!e) e = w2_xf_forward(m);
  if (!e) e = w2_xf_lm_loss(m, &loss);
  if (!e) e = w2_xf_backward(m);
  for (int i = 0; i < BT && !e; i++)
    for (int v = 0; v < V; v++) buf[(size_t)i * V + v] = m->logits.a[i + (size_t)v * m->logits.lld];
  lossf = (float)loss;
  if (!e) e = w2_h5_write_f32(f, path, "lm_logits", 2, d2, buf);
  if (!e) e = w2_h5_write_f32(f, path, "lm_loss", 1, &one, &lossf);
  for (int head = 0; head < 2 && !e; head++) {
    if (head == 1) { /* CLS head: lengths cut short, soft targets */
      int len[B] = {T, 9, 5, 1};
      float target[B] = {1.f, 0.f, 0.3f, 0.8f}, lenf[B];
      for (int b = 0; b < B; b++) lenf[b] = (float)len[b];
      e = w2_xf_load_tokens(m, tok, len, B);
      w2_xf_load_target(m, target, NULL, B);
      if (!e) e = w2_xf_forward(m);
      if (!e) e = w2_xf_cls_loss(m, &loss);
      if (!e) e = w2_xf_backward(m);
      lossf = (float)loss;
      if (!e) e = w2_h5_write_f32(f, path, "cls_len", 1, &d1, lenf);
      if (!e) e = w2_h5_write_f32(f, path, "cls_target", 1, &d1, target);
      if (!e) e = w2_h5_write_f32(f, path, "cls_logit", 1, &d1, m->cls_logit);
      if (!e) e = w2_h5_write_f32(f, path, "cls_loss", 1, &one, &lossf);
    }
    for (int i = 0; i < m->ntensors && !e; i++) {
      W2XfTensor *t = &m->t[i];
      char name[64];
      snprintf(name, sizeof name, "%s_grad.%s", head ? "cls" : "lm", t->name);
      hsize_t dims[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
      e = w2_xf_tensor_get(t, 1, buf);
      if (!e) e = w2_h5_write_f32(f, path, name, 2, dims, buf);
    }
  }
  /* STEPS AdamW steps of next-byte prediction from the checkpoint */
  W2AdamW opt = {.lr = 2e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f};
  float losses[STEPS], hyper[5] = {opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay};
  char ipath[4096];
  snprintf(ipath, sizeof ipath, "%s/init.h5", dir);
  if (!e) e = w2_xf_load(m, ipath);
  w2_xf_reset_optimizer(m);
  for (int s = 0; s < STEPS && !e; s++) {
    e = w2_xf_load_tokens(m, tok + (size_t)s * BT, full, B);
    if (!e) e = w2_xf_forward(m);
    if (!e) e = w2_xf_lm_loss(m, &loss);
    if (!e) e = w2_xf_backward(m);
    w2_xf_adamw(m, &opt, opt.lr);
    losses[s] = (float)loss;
  }
  hsize_t ns = STEPS, n5 = 5;
  if (!e) e = w2_h5_write_f32(f, path, "losses", 1, &ns, losses);
  if (!e) e = w2_h5_write_f32(f, path, "hyper", 1, &n5, hyper);
  e = w2_h5_commit(&f, tmp, path, e);
  printf("xfmr_ref_dump: LM loss %.4f -> %.4f over %d steps\n", (double)losses[0],
         (double)losses[STEPS - 1], STEPS);
  free(buf);
  free(tok);
  free(tokf);
  w2_xf_destroy(&m);
  w2_grid_destroy(&g);
  return e;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  W2Err e = argc == 2 ? run(argv[1]) : W2_ERR_ARG;
  if (argc != 2) fprintf(stderr, "usage: xfmr_ref_dump OUT_DIR\n");
  else if (e) w2_error_report();
  MPI_Finalize();
  return e ? 1 : 0;
}
