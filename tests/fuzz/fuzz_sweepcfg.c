/* fuzz_sweepcfg.c — libFuzzer harness for the sweep-file parser (w2_sweep_load: libconfig,
 * the key tables, every range and cross-field check). Any input must give W2_OK or one error,
 * never a crash, a hang, a leak or a sanitizer report. Built by the W2SWEEP_FUZZ option with
 * clang (tests/test_fuzz.sh, which CI runs for a bounded time; bench/RESULTS.md: long runs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "sweepcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the parser reads a path (it names errors by FILE:LINE and resolves data files next to
   * it): one file per fuzzing process, rewritten for every input */
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "w2fuzz-%ld.cfg", (long)getpid()); /* in the cwd */
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  if (fclose(f) != 0) abort();
  W2Sweep *s = calloc(1, sizeof *s); /* large: fixed-size tables */
  if (!s) abort();
  if (w2_sweep_load(path, s) == W2_OK) w2_sweep_free(s);
  w2_error_clear();
  free(s);
  return 0;
}
