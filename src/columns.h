/* columns.h — the one definition of a cell's result columns: the /summary table of the
 * results file, the attributes of each cell file and /cells group, and `w2sweep export
 * --csv` are all written from this table (results.c, cmd_export.c), and test_columns
 * checks results/SCHEMA.md's /summary table against it (a test fails when they drift).
 *
 * Besides these, /summary has one float64 column m_<key> per setting key of the method
 * registry (src/methods/method.h: NaN where the key is not a setting of the row's kind);
 * they are made from the registry, not listed here. */
#ifndef W2_COLUMNS_H
#define W2_COLUMNS_H

#include <stddef.h>

typedef enum {
  W2_COL_STR = 0,  /* fixed-length, NUL-padded UTF-8 string of `width` bytes */
  W2_COL_U64,      /* uint64 */
  W2_COL_F64       /* float64 */
} W2ColType;

typedef struct W2Column {
  const char *name;
  W2ColType type;
  size_t width;    /* bytes stored (strings: 32 or 256; numbers: 8) */
  size_t off;      /* offset of its field in W2CellResult (pipeline.h) */
  size_t cap;      /* that field's size in bytes (strings: its capacity) */
  int since13;     /* 1: added by issue 13 (absent from older cell files: read as missing) */
  const char *unit;/* "fraction", "points", "FLOPs", "s", "" */
  const char *doc;
} W2Column;

int w2_column_count(void);
const W2Column *w2_column(int i);
/* Index of the column named name; -1 when there is none. */
int w2_column_find(const char *name);
/* "S32", "S256", "uint64" or "float64": the type as results/SCHEMA.md writes it. */
const char *w2_column_type_name(const W2Column *c, char *buf, size_t len);

#endif
