/* cmd_status.c — `w2sweep status RESULTS.h5`: progress of a sweep, running or interrupted
 * (from RESULTS.h5.parts/), and what its results file holds. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "commands.h"
#include "results.h"
#include "store.h"

static W2Err run(int argc, char **argv) {
  const char *file = NULL;
  int list = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("usage: w2sweep status RESULTS.h5 [--list]\n"
             "Counts done / running / failed / pending jobs of the sweep whose results file is\n"
             "RESULTS.h5 (from RESULTS.h5.parts, also while it runs or after a kill), prints\n"
             "the error of each failed job, and says whether RESULTS.h5 is complete.\n"
             "--list prints every job with its state.\n");
      return W2_OK;
    } else if (!strcmp(argv[i], "--list")) {
      list = 1;
    } else if (argv[i][0] == '-') {
      W2_RAISE(W2_ERR_ARG, "status: unknown option '%s'", argv[i]);
    } else {
      W2_CHECK(!file, W2_ERR_ARG, "status: more than one results file");
      file = argv[i];
    }
  }
  W2_CHECK(file, W2_ERR_ARG, "status: no results file given (see w2sweep status --help)");
  char workdir[W2_PATH_MAX + 16], jobs[W2_PATH_MAX + 32], line[W2_JOB_ID_MAX + 8];
  snprintf(workdir, sizeof workdir, "%s.parts", file);
  snprintf(jobs, sizeof jobs, "%s/jobs.txt", workdir);
  FILE *f = fopen(jobs, "r");
  int has_results = w2_file_exists(file);
  W2_CHECK(f || has_results, W2_ERR_ARG,
           "%s: no such results file and no sweep in progress (%s missing)", file, jobs);
  if (f) {
    static const char *types[4] = {"pretrain", "weak", "ceiling", "cell"};
    int count[4][4] = {{0}}; /* [type][state] */
    int nfail = 0;
    while (fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = '\0';
      if (!line[0]) continue;
      int t = 3;
      for (int k = 0; k < 4; k++)
        if (!strncmp(line, types[k], strlen(types[k]))) t = k;
      W2Status st;
      w2_status_read(workdir, line, &st);
      if (t == 3) {
        char path[W2_PATH_MAX + 512];
        w2_results_cell_path(workdir, line, path, sizeof path);
        if (w2_file_exists(path)) st.state = W2_ST_DONE;
        else if (st.state == W2_ST_DONE) st.state = W2_ST_PENDING;
      }
      count[t][st.state]++;
      if (st.state == W2_ST_FAILED) {
        if (nfail++ < 20) printf("failed  %s (attempts %d): %s\n", line, st.attempts, st.error);
      } else if (list) {
        static const char *sn[4] = {"pending", "running", "done", "failed"};
        printf("%-8s %s\n", sn[st.state], line);
      }
    }
    fclose(f);
    if (nfail > 20) printf("... and %d more failed jobs\n", nfail - 20);
    printf("%-9s %8s %8s %8s %8s\n", "jobs", "done", "running", "failed", "pending");
    for (int t = 0; t < 4; t++)
      printf("%-9s %8d %8d %8d %8d\n", types[t], count[t][W2_ST_DONE], count[t][W2_ST_RUNNING],
             count[t][W2_ST_FAILED], count[t][W2_ST_PENDING]);
    printf("(a job shown running whose run was killed is retried by the next `w2sweep run`)\n");
  }
  if (has_results) {
    w2_h5_silence();
    hid_t h = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    W2_CHECK(h >= 0, W2_ERR_DATA, "%s: cannot open as HDF5 (corrupt or not HDF5)", file);
    int complete = -1, expected = -1, present = -1;
    const char *names[3] = {"complete", "cells_expected", "cells_present"};
    int *vals[3] = {&complete, &expected, &present};
    W2Err e = W2_OK;
    /* checked reads: an attribute of another shape or class is an error, never a read of
     * its bytes into one int */
    for (int k = 0; k < 3 && !e; k++)
      if (H5Aexists(h, names[k]) > 0) e = w2_h5_attr_read_int(h, file, names[k], vals[k]);
    H5Fclose(h);
    if (e) return w2_error_push(__FILE__, __LINE__, __func__, e);
    W2_CHECK(expected >= 0, W2_ERR_DATA, "%s: not a w2sweep results file (no cells_expected)", file);
    printf("results file %s: %d of %d cells%s\n", file, present, expected,
           complete == 1 ? ", complete" : ", PARTIAL");
  } else {
    printf("results file %s: not assembled yet\n", file);
  }
  return W2_OK;
}

int w2_cmd_status(int argc, char **argv) {
  W2Err e = run(argc, argv);
  if (e) w2_error_report();
  return w2_exit_status(e);
}
