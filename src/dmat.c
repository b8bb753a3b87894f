/* dmat.c — block-cyclic fp32 matrices over a BLACS grid (see dmat.h). */
#include "dmat.h"

#include <stdlib.h>
#include <string.h>

#include "blacs.h"
#include "rng.h"

#define W2_MIN_BLOCK 64
#define W2_MAX_BLOCK 1024
#define W2_MIN_PANEL 256

/* PBLAS's logical block size. PBLAS asks pilaenv_ for the k-width kb of every local product
 * inside PSGEMM (`for (k = 0; k < K; k += kb)`); the reference answer, 32, turns each local
 * GEMM into rank-32 updates that re-read C K/32 times (at p = 2 the large products ran at
 * 48-65 % parallel efficiency with it, 86-94 % with 1024: bench/RESULTS.md). PBLAS has no setter, so w2sweep defines the Fortran symbol itself: the
 * executable's definition is found before the library's (CP2K does the same). The answer is
 * per BLACS context, registered by w2_grid_create; a context w2sweep did not make gets the
 * minimum panel. Only threads that create grids and run PSGEMM touch the table (one per
 * process: the scheduler's worker). */
#define W2_MAX_CONTEXTS 64
static struct {
  int ctxt, panel;
} g_panels[W2_MAX_CONTEXTS];
static int g_npanels;

int pilaenv_(int *ictxt, char *prec);
int pilaenv_(int *ictxt, char *prec) {
  (void)prec;
  for (int i = 0; i < g_npanels; i++)
    if (g_panels[i].ctxt == *ictxt) return g_panels[i].panel;
  return W2_MIN_PANEL;
}

static int env_int(const char *name) {
  const char *e = getenv(name);
  return e ? atoi(e) : 0;
}

static W2Err env_check(const char *name) {
  const char *e = getenv(name);
  if (!e) return W2_OK;
  char *end;
  long v = strtol(e, &end, 10);
  W2_CHECK(end != e && *end == '\0' && v >= 1 && v <= (1L << 20), W2_ERR_ARG,
           "environment variable %s='%s' must be a whole number from 1 to %ld", name, e,
           1L << 20);
  return W2_OK;
}

/* PSGEMM's panel width on a grid with this block: env W2SWEEP_PBLAS_NB, or max(block, 256) */
static int default_panel(int block) {
  int panel = env_int("W2SWEEP_PBLAS_NB");
  if (panel > 0) return panel;
  return block > W2_MIN_PANEL ? block : W2_MIN_PANEL;
}

W2Err w2_grid_check_env(void) {
  W2_CALL(env_check("W2SWEEP_BLOCK"));
  W2_CALL(env_check("W2SWEEP_PBLAS_NB"));
  return W2_OK;
}

int w2_grid_block(int width, int nprow, int npcol) {
  int b = env_int("W2SWEEP_BLOCK");
  if (b > 0) return b;
  int pmax = nprow > npcol ? nprow : npcol;
  b = width > 0 ? width / (pmax > 0 ? pmax : 1) : W2_MIN_BLOCK;
  if (b > W2_MAX_BLOCK) b = W2_MAX_BLOCK;
  b -= b % W2_MIN_BLOCK;
  return b < W2_MIN_BLOCK ? W2_MIN_BLOCK : b;
}

double w2_grid_gemm_workspace_bytes(int width, int p) {
  if (p <= 1 || width <= 0) return 0;
  int pr, pc;
  w2_grid_shape(p, &pr, &pc);
  int panel = default_panel(w2_grid_block(width, pr, pc));
  if (panel > width) panel = width;
  return 2.0 * sizeof(float) * panel * ((double)width / (pr < pc ? pr : pc));
}

void w2_grid_shape(int size, int *nprow, int *npcol) {
  int pr = 1;
  for (int r = 1; r * r <= size; r++)
    if (size % r == 0) pr = r;
  *nprow = pr;
  *npcol = size / pr;
}

W2Err w2_grid_create(MPI_Comm comm, int nprow, int npcol, int block, W2Grid **out) {
  int size, rank;
  W2_CALL_MPI(MPI_Comm_size(comm, &size));
  W2_CALL_MPI(MPI_Comm_rank(comm, &rank));
  W2_CHECK(nprow >= 1 && npcol >= 1 && nprow * npcol == size, W2_ERR_ARG,
           "grid %dx%d does not match %d ranks", nprow, npcol, size);
  W2_CALL(w2_grid_check_env());
  W2Grid *g;
  W2_CALLOC(g, 1);
  W2_CALL_MPI(MPI_Comm_dup(comm, &g->comm));
  g->nprow = nprow;
  g->npcol = npcol;
  g->rank = rank;
  g->size = size;
  g->myrow = rank / npcol;
  g->mycol = rank % npcol;
  g->ctxt = -1;
  g->block = block > 0 ? block : w2_grid_block(0, nprow, npcol);
  g->panel = default_panel(g->block);
  W2_CALL_MPI(MPI_Comm_split(g->comm, g->myrow, g->mycol, &g->row_comm));
  W2_CALL_MPI(MPI_Comm_split(g->comm, g->mycol, g->myrow, &g->col_comm));
  if (size > 1) {
    g->sys = Csys2blacs_handle(g->comm);
    g->ctxt = g->sys;
    Cblacs_gridinit(&g->ctxt, "Row", nprow, npcol);
    int pr, pc, r, c;
    Cblacs_gridinfo(g->ctxt, &pr, &pc, &r, &c);
    W2_CHECK(pr == nprow && pc == npcol && r == g->myrow && c == g->mycol, W2_ERR_MPI,
             "BLACS grid %dx%d at (%d,%d) disagrees with MPI rank %d", pr, pc, r, c, rank);
    W2_CHECK(g_npanels < W2_MAX_CONTEXTS, W2_ERR_INTERNAL, "more than %d live BLACS grids",
             W2_MAX_CONTEXTS);
    g_panels[g_npanels].ctxt = g->ctxt;
    g_panels[g_npanels++].panel = g->panel;
  }
  *out = g;
  return W2_OK;
}

W2Err w2_grid_destroy(W2Grid **grid) {
  W2Grid *g = *grid;
  if (!g) return W2_OK;
  if (g->ctxt >= 0) {
    for (int i = 0; i < g_npanels; i++)
      if (g_panels[i].ctxt == g->ctxt) {
        g_panels[i] = g_panels[--g_npanels];
        break;
      }
    Cblacs_gridexit(g->ctxt);
    Cfree_blacs_system_handle(g->sys);
  }
  MPI_Comm_free(&g->row_comm);
  MPI_Comm_free(&g->col_comm);
  MPI_Comm_free(&g->comm);
  free(g);
  *grid = NULL;
  return W2_OK;
}

W2Err w2_mat_create(const W2Grid *g, int m, int n, W2Mat *A) {
  memset(A, 0, sizeof *A);
  W2_CHECK(m >= 1 && n >= 1, W2_ERR_INTERNAL, "matrix shape %dx%d", m, n);
  A->grid = g;
  A->m = m;
  A->n = n;
  if (g->size == 1) {
    A->mb = m;
    A->nb = n;
    A->ml = m;
    A->nl = n;
  } else {
    int zero = 0;
    A->mb = A->nb = g->block;
    A->ml = numroc_(&m, &A->mb, &g->myrow, &zero, &g->nprow);
    A->nl = numroc_(&n, &A->nb, &g->mycol, &zero, &g->npcol);
  }
  A->lld = A->ml > 1 ? A->ml : 1;
  if (g->size > 1) {
    int zero = 0, info = 0;
    descinit_(A->desc, &m, &n, &A->mb, &A->nb, &zero, &zero, &g->ctxt, &A->lld, &info);
    W2_CHECK(info == 0, W2_ERR_INTERNAL, "descinit failed (info %d) for %dx%d", info, m, n);
  }
  W2_ALLOC_ALIGNED(A->a, (size_t)A->lld * (A->nl > 0 ? A->nl : 1));
  return W2_OK;
}

void w2_mat_destroy(W2Mat *A) {
  free(A->a);
  A->a = NULL;
}

size_t w2_mat_local_bytes(const W2Mat *A) { return (size_t)A->lld * A->nl * sizeof(float); }

W2Err w2_mat_gemm(char ta, char tb, float alpha, const W2Mat *A, const W2Mat *B, float beta,
                  W2Mat *C) {
  int m = C->m, n = C->n;
  int k = (ta == 'N') ? A->n : A->m;
  int am = (ta == 'N') ? A->m : A->n, bk = (tb == 'N') ? B->m : B->n;
  int bn = (tb == 'N') ? B->n : B->m;
  W2_CHECK(am == m && bk == k && bn == n, W2_ERR_INTERNAL,
           "gemm %c%c shape mismatch: A %dx%d, B %dx%d, C %dx%d", ta, tb, A->m, A->n, B->m,
           B->n, C->m, C->n);
  if (C->grid->size == 1) {
    /* a one-output head makes matrix-vector products and outer products, which SGEMM runs
     * at a tenth of its speed: SGEMV and a plain loop run them at memory speed */
    int one = 1;
    if (n == 1) { /* C (m) = alpha op(A) (m,k) b (k) + beta C; b is a column or a row of B */
      int incb = tb == 'N' ? 1 : B->lld;
      sgemv_(&ta, &A->m, &A->n, &alpha, A->a, &A->lld, B->a, &incb, &beta, C->a, &one);
    } else if (k == 1 && ta == 'N' && beta == 0.f) { /* C (m,n) = alpha a (m) b^T (n) */
      size_t incb = tb == 'N' ? (size_t)B->lld : 1;
      for (int j = 0; j < n; j++) {
        float bj = alpha * B->a[j * incb], *c = C->a + (size_t)j * C->lld;
        for (int i = 0; i < m; i++) c[i] = A->a[i] * bj;
      }
    } else {
      sgemm_(&ta, &tb, &m, &n, &k, &alpha, A->a, &A->lld, B->a, &B->lld, &beta, C->a, &C->lld);
    }
  } else {
    int one = 1;
    psgemm_(&ta, &tb, &m, &n, &k, &alpha, A->a, &one, &one, A->desc, B->a, &one, &one,
            B->desc, &beta, C->a, &one, &one, C->desc);
  }
  return W2_OK;
}

void w2_mat_fill_normal(W2Mat *A, float std, uint64_t key, uint64_t stream) {
  for (int jl = 0; jl < A->nl; jl++) {
    uint64_t j = (uint64_t)w2_mat_gcol(A, jl);
    for (int il = 0; il < A->ml; il++) {
      uint64_t i = (uint64_t)w2_mat_grow(A, il);
      A->a[il + (size_t)jl * A->lld] = (float)(std * w2_normal(key, stream, i * A->n + j));
    }
  }
}

void w2_mat_zero(W2Mat *A) { memset(A->a, 0, w2_mat_local_bytes(A)); }

void w2_mat_copy(const W2Mat *A, W2Mat *B) { memcpy(B->a, A->a, w2_mat_local_bytes(A)); }

W2Err w2_mat_allgather(const W2Mat *A, float *full) {
  size_t mn = (size_t)A->m * A->n;
  if (A->grid->size == 1) {
    for (int j = 0; j < A->n; j++)
      memcpy(full + (size_t)j * A->m, A->a + (size_t)j * A->lld, (size_t)A->m * sizeof(float));
    return W2_OK;
  }
  /* Each element is owned by exactly one rank: a sum of zero-filled copies assembles it. */
  memset(full, 0, mn * sizeof(float));
  for (int jl = 0; jl < A->nl; jl++) {
    int j = w2_mat_gcol(A, jl);
    for (int il = 0; il < A->ml; il++)
      full[w2_mat_grow(A, il) + (size_t)j * A->m] = A->a[il + (size_t)jl * A->lld];
  }
  W2_CHECK(mn <= (size_t)0x7fffffff, W2_ERR_INTERNAL, "allgather of %zu elements", mn);
  W2_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, full, (int)mn, MPI_FLOAT, MPI_SUM, A->grid->comm));
  return W2_OK;
}

void w2_mat_set_from_full(W2Mat *A, const float *full) {
  for (int jl = 0; jl < A->nl; jl++) {
    int j = w2_mat_gcol(A, jl);
    for (int il = 0; il < A->ml; il++)
      A->a[il + (size_t)jl * A->lld] = full[w2_mat_grow(A, il) + (size_t)j * A->m];
  }
}

W2Err w2_mat_colsum(const W2Mat *A, float *sums) {
  memset(sums, 0, (size_t)A->n * sizeof(float));
  for (int jl = 0; jl < A->nl; jl++) {
    const float *col = A->a + (size_t)jl * A->lld;
    /* 16 independent partial sums: vectorizes without reassociation flags */
    float part[16] = {0};
    int il = 0;
    for (; il + 16 <= A->ml; il += 16)
      for (int k = 0; k < 16; k++) part[k] += col[il + k];
    float s = 0.f;
    for (int k = 0; k < 16; k++) s += part[k];
    for (; il < A->ml; il++) s += col[il];
    sums[w2_mat_gcol(A, jl)] = s;
  }
  if (A->grid->size > 1)
    W2_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, A->n, MPI_FLOAT, MPI_SUM, A->grid->comm));
  return W2_OK;
}

W2Err w2_grid_sum(const W2Grid *g, double *vals, int n) {
  if (g->size > 1)
    W2_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, vals, n, MPI_DOUBLE, MPI_SUM, g->comm));
  return W2_OK;
}
