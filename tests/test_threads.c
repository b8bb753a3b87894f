/* test_threads.c — `run` needs MPI_THREAD_MULTIPLE (scheduler.h): the check refuses a lower
 * level with a clear message, the scheduler refuses to start under it, and the MPI library
 * this was built with provides MULTIPLE when asked (as main.c asks).
 *   test_threads multiple   initialize as main.c does; the level must be provided
 *   test_threads funneled   initialize as main.c once did; the run must be refused */
#include <mpi.h>
#include <string.h>

#include "error.h"
#include "scheduler.h"
#include "testutil.h"

int main(int argc, char **argv) {
  int funneled = argc > 1 && !strcmp(argv[1], "funneled");
  int provided = -1;
  MPI_Init_thread(&argc, &argv, funneled ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE, &provided);
  if (!funneled) {
    W2T_CHECK(provided == MPI_THREAD_MULTIPLE, "MPI provides MULTIPLE when asked (got %d)", provided);
    W2T_OK(w2_mpi_threads_check());
  } else {
    W2T_CHECK(provided < MPI_THREAD_MULTIPLE, "asked FUNNELED, got %d", provided);
    W2Err e = w2_mpi_threads_check();
    W2T_CHECK(e == W2_ERR_MPI, "check refuses FUNNELED (returned %d)", e);
    const char *msg = w2_error_message();
    W2T_CHECK(strstr(msg, "MPI_THREAD_FUNNELED") && strstr(msg, "needs MPI_THREAD_MULTIPLE") &&
                  !strchr(msg, '\n'),
              "one line naming both levels: '%s'", msg);
    w2_error_clear();
    /* the scheduler checks before it touches its arguments or calls MPI */
    W2RunSummary sum;
    e = w2_schedule_run(NULL, NULL, MPI_COMM_WORLD, NULL, &sum);
    W2T_CHECK(e == W2_ERR_MPI, "w2_schedule_run refuses to start under FUNNELED (returned %d)", e);
  }
  int rc = w2t_summary_mpi();
  MPI_Finalize();
  return rc;
}
