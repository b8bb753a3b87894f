#include "testutil.h"

#include <mpi.h>

int w2t_pass, w2t_fail;

int w2t_summary(void) {
  printf("%d passed, %d failed\n", w2t_pass, w2t_fail);
  return w2t_fail ? 1 : 0;
}

int w2t_summary_mpi(void) {
  int loc[2] = {w2t_pass, w2t_fail}, tot[2];
  MPI_Allreduce(loc, tot, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) printf("%d passed, %d failed\n", tot[0], tot[1]);
  return tot[1] ? 1 : 0;
}
