/* procmem.h — resident memory of this process from /proc (Linux), for the benchmarks. */
#ifndef W2_BENCH_PROCMEM_H
#define W2_BENCH_PROCMEM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of the line starting with `key` (e.g. "VmHWM:") in a /proc file of kB fields,
 * in bytes; -1 if unreadable. */
static inline double proc_kb_field(const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  double kb = -1;
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0) {
      kb = atof(line + n);
      break;
    }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024.0;
}

/* VmHWM (peak) or VmRSS (current) from /proc/self/status: the kernel keeps them in per-CPU
 * counters that may lag by ~0.1-0.3 MiB. */
static inline double vm_status(const char *key) { return proc_kb_field("/proc/self/status", key); }

/* The resident set counted exactly, by walking the page tables. */
static inline double rss_exact(void) { return proc_kb_field("/proc/self/smaps_rollup", "Rss:"); }

/* Resets VmHWM to the current RSS (Linux >= 4.0); 0 on success. */
static inline int reset_hwm(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f) return -1;
  int ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
