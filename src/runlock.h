/* runlock.h — one run per results file at a time, and a word when a run is stopped.
 *
 * Two `run`s of the same sweep (or `merge`s onto the same output) would both do all the work
 * and delete each other's temporary files. The first takes <output>.lock, created with
 * O_EXCL (atomic on local file systems and on NFS v3+) and holding "pid host start-time";
 * a second one refuses with one line naming the first. A lock whose owner is gone is stale
 * and taken over: on the same host when the pid no longer runs w2sweep; on another host (a
 * requeued Slurm element on a new node) when the owner has not refreshed it for
 * W2_LOCK_STALE_S seconds (the coordinator touches it while the sweep runs).
 *
 * w2_runlock_signals installs SIGINT/SIGTERM handlers that release the lock and print what
 * was finished and that the same command resumes, then die of the signal as before. */
#ifndef W2_RUNLOCK_H
#define W2_RUNLOCK_H

#include "error.h"

#define W2_LOCK_STALE_S 120

/* Takes <output>.lock (path written to lock, cap bytes). W2_ERR_ARG with one line naming
 * the running owner when another live run holds it. */
W2Err w2_runlock_acquire(const char *output, char *lock, size_t cap);
/* Removes the lock taken by this process (no-op for ""). */
void w2_runlock_release(const char *lock);
/* Refreshes the held lock's time (at most every 10 s; cheap to call often; any thread). */
void w2_runlock_touch(void);

/* Progress that the signal handler reports: cells finished (this run and earlier) of total.
 * Written by the scheduler's coordinator. */
void w2_runlock_progress(int cells_done, int cells_total);
/* SIGINT/SIGTERM: print "interrupted: N of M cells finished ... (WORKDIR): run the same
 * command to resume", release the held lock, re-raise. workdir is copied. */
void w2_runlock_signals(const char *workdir);

#endif
