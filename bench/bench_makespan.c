/* bench_makespan.c — how close did a finished sweep's schedule come to the best possible?
 *
 *   bench_makespan SWEEP.cfg RESULTS.h5 NRANKS
 *
 * Reads the per-job start times and durations that the runner recorded in
 * RESULTS.h5.parts/status/ and compares the measured makespan (first start to last end)
 * with the lower bound max(sum of job times x ranks / N, longest dependency chain of job
 * times). The target: makespan within 15 % of that bound. Only jobs that ran in
 * the measured run are counted (run on an empty cache and work directory). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "plan.h"
#include "results.h"
#include "sweepcfg.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_makespan SWEEP.cfg RESULTS.h5 NRANKS\n");
    return 2;
  }
  int n = atoi(argv[3]);
  W2Sweep s;
  W2Plan *p = NULL;
  if (w2_sweep_load(argv[1], &s) || w2_plan_build(&s, &p)) {
    w2_error_report();
    return 2;
  }
  char workdir[W2_PATH_MAX + 16];
  snprintf(workdir, sizeof workdir, "%s.parts", argv[2]);
  double *t = calloc((size_t)p->njobs, sizeof(double)), *cp = calloc((size_t)p->njobs, sizeof(double));
  double first = INFINITY, last = 0, work = 0, crit = 0;
  int counted = 0;
  for (int i = 0; i < p->njobs; i++) {
    W2Status st;
    w2_status_read(workdir, p->jobs[i].id, &st);
    if (st.state != W2_ST_DONE || st.started <= 0) continue;
    t[i] = st.seconds;
    counted++;
    work += st.seconds * p->jobs[i].ranks;
    if (st.started < first) first = st.started;
    if (st.started + st.seconds > last) last = st.started + st.seconds;
  }
  /* longest chain of measured times (dependencies come first in the plan) */
  for (int i = 0; i < p->njobs; i++) {
    double before = 0;
    for (int d = 0; d < p->jobs[i].ndeps; d++)
      if (cp[p->jobs[i].deps[d]] > before) before = cp[p->jobs[i].deps[d]];
    cp[i] = before + t[i];
    if (cp[i] > crit) crit = cp[i];
  }
  double makespan = last - first, bound = fmax(work / n, crit);
  printf("jobs timed            %d of %d\n", counted, p->njobs);
  printf("sum of job times      %.2f s (x ranks per job)\n", work);
  printf("work / %d ranks        %.2f s\n", n, work / n);
  printf("critical path         %.2f s\n", crit);
  printf("lower bound           %.2f s\n", bound);
  printf("measured makespan     %.2f s  (%.1f %% above the bound; target <= 15 %%)\n", makespan,
         100 * (makespan / bound - 1));
  free(t);
  free(cp);
  w2_plan_destroy(&p);
  w2_sweep_free(&s);
  return 0;
}
