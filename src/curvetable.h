/* curvetable.h — every cell's curves over training as one flat table, /curves in the results
 * file (results/SCHEMA.md): one row per (cell, evaluation point) with the cell's key and one
 * column per curve field (pipeline.h w2_curve_names). The same numbers as the datasets under
 * /cells/..., laid out so that a reader gets all of them with one read (h5py + pandas:
 * `pd.DataFrame(f["curves"][:])`) instead of a walk over thousands of small groups
 * (bench/RESULTS.md, "Reading the results": 2.9 s -> a few ms for the quickstart).
 *
 * Written while the results file is assembled, one append per cell (the table never has to
 * fit in memory at once). */
#ifndef W2_CURVETABLE_H
#define W2_CURVETABLE_H

#include <hdf5.h>
#include <stdint.h>

#include "pipeline.h"

#define W2_CURVETABLE_NAME 32
typedef struct W2CurveRow {
  char task[W2_CURVETABLE_NAME];
  uint64_t seed;
  char weak_size[W2_CURVETABLE_NAME], strong_size[W2_CURVETABLE_NAME],
      method[W2_CURVETABLE_NAME];
  int32_t point; /* 0-based evaluation point of the cell */
  double v[W2_CURVE_NFIELDS]; /* columns named w2_curve_names */
} W2CurveRow;

typedef struct W2CurveTable {
  hid_t d, type;     /* the dataset and its row type */
  hsize_t n;         /* rows written */
  W2CurveRow *buf;   /* one cell's rows, reused */
  int cap;
  const char *file;  /* for messages */
} W2CurveTable;

/* Creates the empty, extendible /curves in the open file f (file names it in messages). */
W2Err w2_curvetable_open(hid_t f, const char *file, W2CurveTable *t);
/* Appends cell c's curve (c->curve.n rows). */
W2Err w2_curvetable_add(W2CurveTable *t, const W2CellResult *c);
/* Closes the dataset and frees the buffer; safe on a table never opened (zeroed). */
void w2_curvetable_close(W2CurveTable *t);

#endif
