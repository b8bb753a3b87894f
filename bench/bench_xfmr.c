/* bench_xfmr.c — training-step time of the byte-level transformer (transformer.h), to set
 * against bench/torch_xfmr.py (the same model in PyTorch, same threads and BLAS).
 *
 * For each size: B sequences of T random bytes, LM loss, forward + backward + AdamW; after
 * 3 warm-up steps, the minimum over --repeats of the mean CPU time (CLOCK_PROCESS_CPUTIME_ID,
 * robust to other jobs on a shared machine as long as threads = 1) and wall time of
 * --steps steps. Also, per size:
 *   - the phases of the step (forward, LM loss, backward, AdamW; CPU ms, mean over the
 *     measured steps);
 *   - gemm_ms: exactly the SGEMM calls one step makes (src/transformer.c on a 1x1 grid: the
 *     four weight products per block forward and their eight backward, the tied LM head's
 *     three, and attention's 2 forward + 4 backward per (sequence, head) pair), replayed
 *     alone through the same sgemm_ on the model's own buffers (same shapes, leading
 *     dimensions, strides and transposes), timed like the step; share = gemm_ms / step_ms;
 *   - peak memory: VmHWM (reset before the model is created) minus the RSS then, over the
 *     measured run, against w2_xf_train_bytes(a, B, 1). A throwaway 1-step run of the same
 *     model comes first and is freed (malloc_trim), so OpenBLAS's packing buffers, which the
 *     first GEMM of a process allocates and keeps, are not counted as the model's.
 *
 *   OPENBLAS_NUM_THREADS=1 ./bench_xfmr [--sizes W:D:H,...] [--batch B] [--ctx T]
 *        [--steps N] [--repeats R]
 */
#include <malloc.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blacs.h"
#include "procmem.h"
#include "rng.h"
#include "transformer.h"

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void die(W2Err e) {
  if (e) {
    w2_error_report();
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* C = alpha op(A) op(B) + beta C on the local blocks (1x1 grid), as w2_mat_gemm calls it */
static void gm(char ta, char tb, float alpha, const W2Mat *A, const W2Mat *B, float beta,
               W2Mat *C) {
  int k = ta == 'N' ? A->n : A->m;
  sgemm_(&ta, &tb, &C->m, &C->n, &k, &alpha, A->a, &A->lld, B->a, &B->lld, &beta, C->a,
         &C->lld);
}

#define PW(l, k) (&m->t[w2_xf_tensor_index((l), (k))].W)
#define PG(l, k) (&m->t[w2_xf_tensor_index((l), (k))].dW)

/* The SGEMMs of one LM training step, in the step's order, with its arguments (transformer.c
 * w2_xf_forward, attn_pair_forward, w2_xf_lm_loss, w2_xf_backward, attn_pair_backward),
 * and nothing else. */
static void gemm_step(W2Xf *m) {
  int T = m->arch.ctx, C = m->arch.width, NH = m->arch.heads, hs = C / NH, L = m->arch.depth;
  int ld = m->BT;
  float scale = 1.f / sqrtf((float)hs), zero = 0.f, one = 1.f;
  size_t cl = (size_t)C * ld;
  for (int l = 0; l < L; l++) {
    W2XfLayerAct *a = &m->la[l];
    gm('N', 'N', 1.f, &a->ln1, PW(l, XF_QKVW), 0.f, &a->qkv);
    for (int p = 0; p < m->B * NH; p++) {
      int b = p / NH, h = p % NH;
      const float *Q = a->qkv.a + (size_t)b * T + (size_t)h * hs * ld, *K = Q + cl, *V = K + cl;
      float *Pt = a->att + (size_t)p * T * T;
      sgemm_("N", "T", &T, &T, &hs, &scale, K, &ld, Q, &ld, &zero, Pt, &T);
      sgemm_("T", "N", &T, &hs, &T, &one, Pt, &T, V, &ld, &zero,
             a->atty.a + (size_t)b * T + (size_t)h * hs * ld, &ld);
    }
    gm('N', 'N', 1.f, &a->atty, PW(l, XF_PROJW), 1.f, &a->res1);
    gm('N', 'N', 1.f, &a->ln2, PW(l, XF_FCW), 0.f, &a->fch);
    gm('N', 'N', 1.f, &a->fcg, PW(l, XF_FCPW), 1.f, &m->x_in[l + 1]);
  }
  gm('N', 'T', 1.f, &m->lnf, &m->t[XF_WTE].W, 0.f, &m->logits);
  gm('N', 'N', 1.f, &m->dlogits, &m->t[XF_WTE].W, 0.f, &m->dC);
  gm('T', 'N', 1.f, &m->dlogits, &m->lnf, 0.f, &m->t[XF_WTE].dW);
  for (int l = L - 1; l >= 0; l--) {
    W2XfLayerAct *a = &m->la[l];
    gm('N', 'T', 1.f, &m->dres, PW(l, XF_FCPW), 0.f, &m->dfc);
    gm('T', 'N', 1.f, &a->fcg, &m->dres, 0.f, PG(l, XF_FCPW));
    gm('N', 'T', 1.f, &m->dfc, PW(l, XF_FCW), 0.f, &m->dC);
    gm('T', 'N', 1.f, &a->ln2, &m->dfc, 0.f, PG(l, XF_FCW));
    gm('N', 'T', 1.f, &m->dres, PW(l, XF_PROJW), 0.f, &m->dC);
    gm('T', 'N', 1.f, &a->atty, &m->dres, 0.f, PG(l, XF_PROJW));
    for (int p = 0; p < m->B * NH; p++) {
      int b = p / NH, h = p % NH;
      size_t off = (size_t)b * T + (size_t)h * hs * ld;
      const float *Q = a->qkv.a + off, *K = Q + cl, *V = K + cl, *dO = m->dC.a + off;
      float *dQ = m->dqkv.a + off, *dK = dQ + cl, *dV = dK + cl, *dPt = m->attbuf;
      const float *Pt = a->att + (size_t)p * T * T;
      sgemm_("N", "T", &T, &T, &hs, &one, V, &ld, dO, &ld, &zero, dPt, &T);
      sgemm_("N", "N", &T, &hs, &T, &one, Pt, &T, dO, &ld, &zero, dV, &ld);
      sgemm_("T", "N", &T, &hs, &T, &scale, dPt, &T, K, &ld, &zero, dQ, &ld);
      sgemm_("N", "N", &T, &hs, &T, &scale, dPt, &T, Q, &ld, &zero, dK, &ld);
    }
    gm('N', 'T', 1.f, &m->dqkv, PW(l, XF_QKVW), 0.f, &m->dC);
    gm('T', 'N', 1.f, &a->ln1, &m->dqkv, 0.f, PG(l, XF_QKVW));
  }
}

/* A model of arch a at batch B with tok loaded, initialised from key 1 */
static W2Xf *make_model(W2Grid *g, const W2XfArch *a, int B, const uint8_t *tok, const int *len) {
  W2Xf *m;
  die(w2_xf_create(g, a, &m));
  w2_xf_init(m, 1);
  die(w2_xf_set_batch(m, B));
  die(w2_xf_load_tokens(m, tok, len, B));
  return m;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *sizes = "64:2:4,128:4:4,256:4:8";
  int B = 16, T = 64, steps = 10, repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sizes")) sizes = argv[i + 1];
    else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--ctx")) T = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "bench_xfmr: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  W2Grid *g;
  die(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &g));
  uint8_t *tok = malloc((size_t)B * T);
  int *len = malloc(sizeof(int) * B);
  for (int i = 0; i < B * T; i++) tok[i] = (uint8_t)w2_below(1, 0, (uint64_t)i, 256);
  for (int b = 0; b < B; b++) len[b] = T;
  printf("# bench_xfmr: batch %d x ctx %d, LM loss, AdamW; min over %d repeats of %d steps; "
         "CPU ms\n",
         B, T, repeats, steps);
  printf("%-12s %10s %8s %8s %8s %8s %8s %8s %8s %6s %7s %7s %6s %8s\n", "size", "params",
         "step_ms", "wall_ms", "GFLOP/s", "fwd_ms", "loss_ms", "bwd_ms", "adam_ms", "gemm_ms",
         "share", "peakMiB", "anaMiB", "ratio");
  for (const char *s = sizes; s && *s;) {
    W2XfArch a = {.ctx = T};
    if (sscanf(s, "%d:%d:%d", &a.width, &a.depth, &a.heads) != 3) {
      fprintf(stderr, "bench_xfmr: --sizes wants W:D:H,...\n");
      return 2;
    }
    s = strchr(s, ',');
    if (s) s++;
    W2AdamW opt = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f};
    double loss;
    /* throwaway 1-step run: BLAS buffers and allocator state, then freed (see the header) */
    W2Xf *m = make_model(g, &a, B, tok, len);
    die(w2_xf_forward(m));
    die(w2_xf_lm_loss(m, &loss));
    die(w2_xf_backward(m));
    w2_xf_adamw(m, &opt, opt.lr);
    w2_xf_destroy(&m);
    malloc_trim(0);
    if (reset_hwm()) {
      fprintf(stderr, "bench_xfmr: cannot reset VmHWM through /proc/self/clear_refs\n");
      return 1;
    }
    double rss0 = vm_status("VmRSS:");
    m = make_model(g, &a, B, tok, len);
    double best_cpu = 1e30, best_wall = 1e30, ph[4] = {0, 0, 0, 0};
    for (int r = -1; r < repeats; r++) {
      int n = r < 0 ? 3 : steps; /* r = -1: warm-up */
      double c0 = clk(CLOCK_PROCESS_CPUTIME_ID), w0 = clk(CLOCK_MONOTONIC);
      for (int k = 0; k < n; k++) {
        double t0 = clk(CLOCK_PROCESS_CPUTIME_ID);
        die(w2_xf_forward(m));
        double t1 = clk(CLOCK_PROCESS_CPUTIME_ID);
        die(w2_xf_lm_loss(m, &loss));
        double t2 = clk(CLOCK_PROCESS_CPUTIME_ID);
        die(w2_xf_backward(m));
        double t3 = clk(CLOCK_PROCESS_CPUTIME_ID);
        w2_xf_adamw(m, &opt, opt.lr);
        double t4 = clk(CLOCK_PROCESS_CPUTIME_ID);
        if (r >= 0) {
          ph[0] += t1 - t0;
          ph[1] += t2 - t1;
          ph[2] += t3 - t2;
          ph[3] += t4 - t3;
        }
      }
      double c = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / n, w = (clk(CLOCK_MONOTONIC) - w0) / n;
      if (r >= 0 && c < best_cpu) best_cpu = c;
      if (r >= 0 && w < best_wall) best_wall = w;
    }
    double peak = vm_status("VmHWM:") - rss0, ana = w2_xf_train_bytes(&a, B, 1);
    /* the step's GEMMs alone, timed the same way (after the memory reading: no new buffers) */
    double best_gemm = 1e30;
    for (int r = -1; r < repeats; r++) {
      int n = r < 0 ? 1 : steps;
      double c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
      for (int k = 0; k < n; k++) gemm_step(m);
      double c = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
      if (r >= 0 && c < best_gemm) best_gemm = c;
    }
    char name[32];
    snprintf(name, sizeof name, "w%dd%dh%d", a.width, a.depth, a.heads);
    double ns = (double)steps * repeats;
    printf("%-12s %10.0f %8.3f %8.3f %8.2f %8.3f %8.3f %8.3f %8.3f %8.3f %5.0f%% %7.2f %7.2f "
           "%6.2f\n",
           name, w2_xf_params(&a), 1e3 * best_cpu, 1e3 * best_wall,
           w2_xf_step_flops(&a, B, 1) / best_cpu * 1e-9, 1e3 * ph[0] / ns, 1e3 * ph[1] / ns,
           1e3 * ph[2] / ns, 1e3 * ph[3] / ns, 1e3 * best_gemm, 100 * best_gemm / best_cpu,
           peak / 1048576, ana / 1048576, peak / ana);
    fflush(stdout);
    w2_xf_destroy(&m);
    malloc_trim(0);
  }
  free(tok);
  free(len);
  w2_grid_destroy(&g);
  MPI_Finalize();
  return 0;
}
