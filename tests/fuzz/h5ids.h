/* h5ids.h — for the HDF5 fuzz harnesses: that no HDF5 id is left open by any input.
 * LeakSanitizer cannot see an unclosed id (HDF5 keeps it reachable until exit), and HDF5's
 * own leaks on corrupt files are suppressed (lsan.supp), so this is the check of w2sweep's
 * side: the ids of every kind (files, groups, datasets, attributes, datatypes, dataspaces,
 * property lists) are as many after an input as after the first one (HDF5 registers some
 * predefined types and property lists lazily, on first use). */
#ifndef W2_FUZZ_H5IDS_H
#define W2_FUZZ_H5IDS_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

static inline long long w2fuzz_h5_ids(void) {
  static const H5I_type_t kinds[] = {H5I_FILE,      H5I_GROUP,    H5I_DATASET,    H5I_ATTR,
                                     H5I_DATATYPE,  H5I_DATASPACE, H5I_GENPROP_LST};
  long long total = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    hsize_t n = 0;
    if (H5Inmembers(kinds[i], &n) >= 0) total += (long long)n;
  }
  return total;
}

/* Call at the end of every input: aborts (a crash libFuzzer reports) when ids grew.
 *
 * Every W2FUZZ_H5_RECYCLE inputs it then closes the library (H5close; the next HDF5 call
 * opens it again): HDF5 keeps a type-conversion path for every distinct (file type, memory
 * type) pair it has converted, for the life of the library (H5T_path_find), and the fuzzed
 * files bring a new compound type on most inputs, so one fuzzing process grew by ~25 KB an
 * input until its RSS limit (out-of-memory after 81,344 inputs of fuzz_results, 2026-11-28;
 * heap profile: H5Dread -> H5T_path_find -> H5T_copy under w2_cmd_export). A reader run once
 * per file, as w2sweep's are, never sees that growth. The input after a recycle sets the new
 * baseline of ids (HDF5 registers some predefined ones lazily), so it is not checked itself. */
#ifndef W2FUZZ_H5_RECYCLE
#define W2FUZZ_H5_RECYCLE 256
#endif
static inline void w2fuzz_h5_ids_check(void) {
  static long long base = -1;
  static long inputs = 0;
  long long n = w2fuzz_h5_ids();
  if (base < 0) base = n;
  if (n > base) {
    fprintf(stderr, "fuzz: %lld HDF5 ids left open by this input (%lld before)\n", n - base, base);
    abort();
  }
  if (++inputs % W2FUZZ_H5_RECYCLE == 0) {
    H5close();
    base = -1;
  }
}

#endif
