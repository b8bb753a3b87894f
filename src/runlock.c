/* runlock.c — the results file's run lock and the stop message (see runlock.h). */
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spec.h"

static char g_lock[W2_PATH_MAX + 16], g_workdir[W2_PATH_MAX + 16];
static volatile sig_atomic_t g_done = -1, g_total = -1;
static time_t g_touched;

/* 1 when the lock's owner is certainly gone. */
static int stale(const char *lock, const struct stat *st, long pid, const char *host) {
  char me[256] = "";
  gethostname(me, sizeof me - 1);
  if (!strcmp(host, me)) {
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) return 1;
    /* a reused pid (alive, but not a w2sweep), or a killed run not yet reaped (a zombie:
     * kill() still finds it, its cmdline is empty) */
    char path[64], cmd[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
      if (!cmd[i]) cmd[i] = ' '; /* arguments are NUL-separated */
    cmd[n] = '\0';
    return n == 0 || !strstr(cmd, "w2sweep");
  }
  (void)lock;
  return time(NULL) - st->st_mtime > W2_LOCK_STALE_S;
}

W2Err w2_runlock_acquire(const char *output, char *lock, size_t cap) {
  int len = snprintf(lock, cap, "%s.lock", output);
  W2_CHECK(len > 0 && (size_t)len < cap, W2_ERR_ARG, "%s: path too long", output);
  char host[256] = "", line[512];
  gethostname(host, sizeof host - 1);
  for (int tries = 0; tries < 3; tries++) {
    int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      char when[32];
      time_t t = time(NULL);
      struct tm tm;
      gmtime_r(&t, &tm);
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      int n = snprintf(line, sizeof line, "%ld %s %s\n", (long)getpid(), host, when);
      int bad = write(fd, line, (size_t)n) != n;
      bad |= close(fd) != 0;
      if (bad) {
        unlink(lock);
        W2_RAISE(W2_ERR_IO, "%s: cannot write the run lock", lock);
      }
      g_touched = t;
      snprintf(g_lock, sizeof g_lock, "%s", lock);
      return W2_OK;
    }
    W2_CHECK(errno == EEXIST, W2_ERR_IO, "%s: cannot create the run lock: %s", lock,
             strerror(errno));
    /* held: by a live run (refuse) or a gone one (take over) */
    long pid = 0;
    char ohost[256] = "?", owhen[64] = "?";
    struct stat st;
    FILE *f = fopen(lock, "r");
    if (!f) continue; /* released meanwhile */
    int got = fscanf(f, "%ld %255s %63s", &pid, ohost, owhen);
    fclose(f);
    if (stat(lock, &st) != 0) continue;
    if (got >= 2 && !stale(lock, &st, pid, ohost))
      W2_RAISE(W2_ERR_ARG,
               "%s is in use by another run (pid %ld on %s, started %s): wait for it to finish, "
               "or remove %s if that run is gone", output, pid, ohost, owhen, lock);
    if (got < 2 && time(NULL) - st.st_mtime <= 2) continue; /* being written right now */
    unlink(lock); /* stale: its run was killed */
  }
  W2_RAISE(W2_ERR_IO, "%s: cannot take the run lock", lock);
}

void w2_runlock_release(const char *lock) {
  if (lock && lock[0]) unlink(lock);
  g_lock[0] = '\0';
}

void w2_runlock_touch(void) {
  time_t t = time(NULL);
  if (!g_lock[0] || t - g_touched < 10) return;
  g_touched = t;
  utimensat(AT_FDCWD, g_lock, NULL, 0);
}

void w2_runlock_progress(int cells_done, int cells_total) {
  g_done = cells_done;
  g_total = cells_total;
}

/* async-signal-safe appends */
static size_t put(char *buf, size_t at, size_t cap, const char *s) {
  while (*s && at + 1 < cap) buf[at++] = *s++;
  return at;
}
static size_t put_int(char *buf, size_t at, size_t cap, long v) {
  char d[24];
  int n = 0;
  if (v < 0) v = 0;
  do d[n++] = (char)('0' + v % 10); while ((v /= 10) && n < 23);
  while (n && at + 1 < cap) buf[at++] = d[--n];
  return at;
}

static void on_signal(int sig) {
  char buf[2 * W2_PATH_MAX + 256];
  size_t k = 0, cap = sizeof buf;
  k = put(buf, k, cap, "\nw2sweep: interrupted by ");
  k = put(buf, k, cap, sig == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
  if (g_total >= 0) {
    k = put(buf, k, cap, ": ");
    k = put_int(buf, k, cap, g_done);
    k = put(buf, k, cap, " of ");
    k = put_int(buf, k, cap, g_total);
    k = put(buf, k, cap, " cells finished");
  } else {
    k = put(buf, k, cap, " before any cell ran");
  }
  k = put(buf, k, cap, "; finished cells and models are kept (");
  k = put(buf, k, cap, g_workdir);
  k = put(buf, k, cap, "): run the same command to resume\n");
  ssize_t w = write(STDERR_FILENO, buf, k);
  (void)w;
  if (g_lock[0]) unlink(g_lock);
  signal(sig, SIG_DFL);
  raise(sig);
}

void w2_runlock_signals(const char *workdir) {
  snprintf(g_workdir, sizeof g_workdir, "%s", workdir ? workdir : "");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}
