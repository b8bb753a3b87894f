/* dmat.h — the one distributed-matrix type of w2sweep.
 *
 * Every weight, gradient, optimizer-state and activation matrix is a W2Mat: an m x n fp32
 * matrix distributed block-cyclically (ScaLAPACK layout, column-major local blocks) over a
 * W2Grid, a BLACS process grid of nprow x npcol ranks. Products go through ScaLAPACK
 * PSGEMM; on a 1x1 grid the matrix is one local block and products call SGEMM directly
 * (no BLACS context is even created: sweeps run thousands of single-rank cells).
 *
 * Layers, losses and the optimizer are written once against this type: elementwise work
 * loops over the local block (ml x nl, leading dimension lld) and translates local to
 * global indices with w2_mat_grow / w2_mat_gcol where the global position matters (bias,
 * initialisation, data loading). Larger students just get a larger grid.
 */
#ifndef W2_DMAT_H
#define W2_DMAT_H

#include <mpi.h>
#include <stdint.h>

#include "error.h"

typedef struct W2Grid {
  MPI_Comm comm;       /* the grid's ranks (duplicated; owned by the grid) */
  int ctxt;            /* BLACS context, -1 on a 1x1 grid */
  int sys;             /* BLACS system handle of comm (freed with the grid) */
  int nprow, npcol;    /* grid shape */
  int myrow, mycol;    /* my coordinates; rank = myrow * npcol + mycol ("Row" order) */
  int rank, size;
  int block;           /* block size for distributed matrices (mb = nb = block) */
  int panel;           /* PBLAS's logical block: the k-width of PSGEMM's local products */
  MPI_Comm row_comm;   /* ranks of my process row (vary mycol) */
  MPI_Comm col_comm;   /* ranks of my process column (vary myrow) */
} W2Grid;

/* Creates an nprow x npcol grid over all ranks of comm (size must equal nprow*npcol).
 * block <= 0 picks w2_grid_block(0, nprow, npcol). The PBLAS panel width is env
 * W2SWEEP_PBLAS_NB, or max(block, 256). Collective over comm. */
W2Err w2_grid_create(MPI_Comm comm, int nprow, int npcol, int block, W2Grid **grid);
/* The distribution block for a model whose largest dimension is `width` on an nprow x npcol
 * grid: env W2SWEEP_BLOCK when set; else the largest multiple of 64 <= min(1024,
 * width / max(nprow, npcol)), at least 64 (64 when width <= 0, i.e. unknown). Large blocks
 * and panels keep PSGEMM's local GEMMs near SGEMM speed (86-87 % parallel efficiency at p = 2
 * with 1024 against 50-66 % with 64 and the reference panel of 32: bench/RESULTS.md); the cap by
 * width / max(nprow, npcol) leaves every process row and column at least one block. */
int w2_grid_block(int width, int nprow, int npcol);
/* W2SWEEP_BLOCK and W2SWEEP_PBLAS_NB, when set, must be whole numbers from 1 to 2^20: a typo
 * is an error naming the variable, not a silent fallback to the default. w2_grid_create
 * checks this too; commands call it before they write anything. */
W2Err w2_grid_check_env(void);
/* Bytes per rank of PSGEMM's panel buffers when a model whose matrices are up to `width`
 * wide trains on p ranks with the default blocking (w2_grid_shape, w2_grid_block, panel
 * max(block, 256)): an upper bound of two panels of min(panel, width) x width / min(pr, pc)
 * floats (measured 22-38 MiB at width 8192 against 32-64 here, bench/RESULTS.md); 0 for
 * p = 1, where products call the BLAS directly. */
double w2_grid_gemm_workspace_bytes(int width, int p);
/* Picks a near-square shape pr x pc = size with pr <= pc. */
void w2_grid_shape(int size, int *nprow, int *npcol);
W2Err w2_grid_destroy(W2Grid **grid);

typedef struct W2Mat {
  const W2Grid *grid;
  int m, n;      /* global shape */
  int mb, nb;    /* block shape (m, n on a 1x1 grid) */
  int ml, nl;    /* local shape */
  int lld;       /* local leading dimension, max(1, ml) */
  int desc[9];   /* ScaLAPACK descriptor (unused on 1x1) */
  float *a;      /* local block, column-major: element (il, jl) at a[il + jl*lld] */
} W2Mat;

/* Allocates a zeroed m x n matrix on grid. */
W2Err w2_mat_create(const W2Grid *grid, int m, int n, W2Mat *A);
void w2_mat_destroy(W2Mat *A);
/* Bytes of local storage (for memory accounting). */
size_t w2_mat_local_bytes(const W2Mat *A);

/* Global row of local row il / global column of local column jl. */
static inline int w2_mat_grow(const W2Mat *A, int il) {
  return ((il / A->mb) * A->grid->nprow + A->grid->myrow) * A->mb + il % A->mb;
}
static inline int w2_mat_gcol(const W2Mat *A, int jl) {
  return ((jl / A->nb) * A->grid->npcol + A->grid->mycol) * A->nb + jl % A->nb;
}
/* The inverse: local column of global column j, or -1 when another process column holds it. */
static inline int w2_mat_lcol(const W2Mat *A, int j) {
  int blk = j / A->nb;
  if (blk % A->grid->npcol != A->grid->mycol) return -1;
  return (blk / A->grid->npcol) * A->nb + j % A->nb;
}

/* C = alpha * op(A) * op(B) + beta * C, op = 'N' or 'T'. Collective. On a 1x1 grid: SGEMM,
 * except SGEMV when n = 1 and a direct loop for the outer product (k = 1, op(A) = A,
 * beta = 0), the shapes of a one-output head, which SGEMM runs at a tenth of its speed. */
W2Err w2_mat_gemm(char transa, char transb, float alpha, const W2Mat *A, const W2Mat *B,
                  float beta, W2Mat *C);

/* A(i,j) = std * N(0,1) drawn from index i*n + j of (key, stream): the same values on
 * every grid shape. */
void w2_mat_fill_normal(W2Mat *A, float std, uint64_t key, uint64_t stream);
void w2_mat_zero(W2Mat *A);
/* B = A (same shape and grid). */
void w2_mat_copy(const W2Mat *A, W2Mat *B);

/* Every rank receives the full matrix, column-major m x n (full[i + j*m]). Collective. */
W2Err w2_mat_allgather(const W2Mat *A, float *full);
/* Sets the local part of A from a full column-major m x n array present on every rank. */
void w2_mat_set_from_full(W2Mat *A, const float *full);
/* Column sums over all rows: sums[j], j < n, on every rank. Collective. */
W2Err w2_mat_colsum(const W2Mat *A, float *sums);
/* Sum of local values, reduced over the grid (double accumulation). Collective. */
W2Err w2_grid_sum(const W2Grid *g, double *vals, int n);

#endif
