/* test_columns.c — one definition of the result columns (columns.h): results/SCHEMA.md's
 * /summary table documents exactly the columns of the table, each with its type (S32,
 * S256, uint64, float64), plus the pattern m_<key> of the registry's settings; a column
 * added to one and not the other fails here. Also: every column is a field of W2CellResult
 * of the right size, and names are unique. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "pipeline.h"
#include "testutil.h"

#define MAXDOC 128
static char doc_name[MAXDOC][64], doc_type[MAXDOC][16];
static int ndoc;

/* the rows of the table under "## `/summary`": | `a`, `b` / `c` | TYPE | ... | */
static void read_schema(const char *path) {
  FILE *f = fopen(path, "r");
  W2T_CHECK(f != NULL, "open %s", path);
  if (!f) return;
  char line[4096];
  int in = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "## ", 3)) in = strstr(line, "`/summary`") != NULL;
    if (!in || line[0] != '|' || line[1] != ' ' || line[2] != '`') continue;
    char *bar2 = strchr(line + 1, '|');
    if (!bar2) continue;
    char *bar3 = strchr(bar2 + 1, '|');
    if (!bar3) continue;
    char type[16];
    size_t tl = (size_t)(bar3 - bar2 - 1);
    if (tl >= sizeof type) tl = sizeof type - 1;
    memcpy(type, bar2 + 1, tl);
    type[tl] = '\0';
    char t[16];
    if (sscanf(type, "%15s", t) != 1) continue;
    for (char *p = line + 1; p < bar2;) {
      char *a = strchr(p, '`');
      if (!a || a >= bar2) break;
      char *b = strchr(a + 1, '`');
      if (!b || b >= bar2) break;
      if (ndoc < MAXDOC && (size_t)(b - a - 1) < sizeof doc_name[0]) {
        memcpy(doc_name[ndoc], a + 1, (size_t)(b - a - 1));
        doc_name[ndoc][b - a - 1] = '\0';
        snprintf(doc_type[ndoc], sizeof doc_type[0], "%s", t);
        ndoc++;
      }
      p = b + 1;
    }
  }
  fclose(f);
}

int main(void) {
  const char *src = getenv("W2SWEEP_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/results/SCHEMA.md", src ? src : "..");
  read_schema(path);
  W2T_CHECK(ndoc >= 30, "SCHEMA.md /summary table: %d names found", ndoc);
  int n = w2_column_count();
  for (int i = 0; i < n; i++) {
    const W2Column *c = w2_column(i);
    char tb[16];
    w2_column_type_name(c, tb, sizeof tb);
    W2T_CHECK(w2_column_find(c->name) == i, "column '%s' is listed twice", c->name);
    W2T_CHECK(c->off + c->cap <= sizeof(W2CellResult), "column '%s' is a field of W2CellResult", c->name);
    W2T_CHECK(c->type != W2_COL_STR || c->cap <= c->width, "column '%s': field of %zu bytes fits S%zu",
              c->name, c->cap, c->width);
    W2T_CHECK(c->type == W2_COL_STR || c->cap == 8, "column '%s' is an 8-byte number", c->name);
    int found = -1;
    for (int k = 0; k < ndoc; k++)
      if (!strcmp(doc_name[k], c->name)) found = k;
    W2T_CHECK(found >= 0, "column '%s' (columns.c) is not documented in results/SCHEMA.md", c->name);
    if (found >= 0)
      W2T_CHECK(!strcmp(doc_type[found], tb), "column '%s': SCHEMA.md says %s, columns.c %s",
                c->name, doc_type[found], tb);
  }
  for (int k = 0; k < ndoc; k++)
    W2T_CHECK(w2_column_find(doc_name[k]) >= 0 || !strcmp(doc_name[k], "m_<key>"),
              "results/SCHEMA.md documents '%s', which is not a column (columns.c)", doc_name[k]);
  return w2t_summary();
}
