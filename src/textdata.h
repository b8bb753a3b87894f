/* textdata.h — real English text and knowledge tasks for the transformer family (issue 15),
 * from Debian's wordnet-base (/usr/share/wordnet; `.ci/deps.sh --data` installs it).
 *
 * Corpus. One line per synset of data.noun, data.verb, data.adj, data.adv (in that order,
 * file order within each): the synset's words, '_' shown as ' ', adjective markers such as
 * "(a)" dropped, joined by ", ", then ": " and the gloss (trailing blanks trimmed):
 *     cat, true cat: feline mammal usually having thick soft fur and no ability to roar...
 * so every word's gloss follows the word itself; the lexicographer class (noun.animal ...)
 * is never written. The corpus is cached as CACHE/wordnet-<16 hex>.txt, named by the
 * FNV-1a 64 hash of its content: a rebuild that finds the file with the right content
 * reuses it, and a changed WordNet makes another name.
 *
 * Tasks. For each of the noun lexicographer classes animal (05), artifact (06), food (13),
 * person (18), plant (20) (lexnames(5WN)): a binary task "is <word> a <class>?" over the
 * noun words (ASCII letters, spaces, hyphens, apostrophes and dots; at most 24 bytes):
 * positives are the words EVERY noun sense of which is in the class, negatives words no
 * noun sense of which is; words with senses both in and out are left out (no ambiguous
 * labels). Negatives are sampled to as many as positives (balanced), both capped at
 * max_per_class, by a hash of (seed, task, word). Each word's split is a function of the
 * word alone (hash: 40 % A, 40 % B, 20 % test), the same in every task: no word is in two
 * splits of any task. Input to a model is the word alone (the gap study adds ':', where the
 * corpus puts the gloss).
 */
#ifndef W2_TEXTDATA_H
#define W2_TEXTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define W2_WN_NTASKS 5
#define W2_WN_WORD_MAX 24

enum { W2_SPLIT_A = 0, W2_SPLIT_B = 1, W2_SPLIT_TEST = 2 };

typedef struct W2TextTask {
  char name[32];   /* "animal", "artifact", "food", "person", "plant" */
  int n;           /* words */
  char (*word)[W2_WN_WORD_MAX + 1];
  float *label;    /* 1 = in the class, 0 = not */
  int *split;      /* W2_SPLIT_A / _B / _TEST */
  char **gloss;    /* the gloss of the word's first noun sense (file order): the input of
                      the "gloss instead of the word" variant of the gap study */
} W2TextTask;

/* Builds (or finds) the cached corpus of the WordNet database in wndir under cache_dir
 * (created if missing). path (cap bytes) receives the file name, *hash its content hash,
 * *bytes its size. W2_ERR_IO when a data file is missing or unreadable (naming it);
 * W2_ERR_DATA naming file:line for a line that is not a WordNet data line. */
W2Err w2_wordnet_corpus(const char *wndir, const char *cache_dir, char *path, size_t cap,
                        uint64_t *hash, size_t *bytes);

/* The five tasks from wndir/data.noun (see above). tasks[W2_WN_NTASKS] are filled; free
 * each with w2_text_task_free. */
W2Err w2_wordnet_tasks(const char *wndir, uint64_t seed, int max_per_class,
                       W2TextTask *tasks);
void w2_text_task_free(W2TextTask *t);

/* The dictionary of a set of tasks: one line "word: gloss\n" per distinct word of the tasks
 * whose bit is set in task_mask (bit k: tasks[k]), the gloss of the word's first noun sense,
 * in byte order of the words. A much smaller corpus than the whole of WordNet, in which
 * every task word's gloss follows the word at a line start: what a small pretraining budget
 * can memorise (bench/TEXT_GAP.md). *out is malloc'ed and NUL-terminated, *n its length. */
W2Err w2_text_dictionary(const W2TextTask *tasks, unsigned task_mask, char **out, size_t *n);

/* The offsets of the line starts of text[0..n) that have at least T bytes after them (a
 * window of T bytes from a line start stays inside the text). *starts is malloc'ed. */
W2Err w2_text_line_starts(const char *text, size_t n, int T, size_t **starts, size_t *nstarts);

/* Reads a whole file into memory (*n bytes, NUL-terminated). W2_ERR_IO naming path. */
W2Err w2_read_file(const char *path, char **buf, size_t *n);

#endif
