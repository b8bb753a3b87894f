#include "testutil.h"

#include <mpi.h>
#include <stdio.h>

#include "sweepcfg.h"

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

void w2t_tiny_world(W2Sweep *s, int nsizes) {
  w2_sweep_defaults(s);
  s->world.latent_dim = 4;
  s->world.input_dim = 8;
  s->world.render_depth = 2;
  s->world.pretrain_targets = 16;
  s->nsizes = nsizes;
  for (int i = 0; i < nsizes; i++) {
    snprintf(s->sizes[i].name, W2_NAME_MAX, "w%d", 4 << i);
    s->sizes[i].width = 4 << i;
    s->sizes[i].depth = 1;
    s->sizes[i].ranks = 1;
  }
  s->ntasks = 1;
  snprintf(s->tasks[0].name, W2_NAME_MAX, "lin");
  s->tasks[0].kind = W2_TASK_LINEAR;
}
