/* texttask.h — text tasks and transformer pretraining in the sweep runner (issue 15).
 *
 * A sweep of the transformer family (every size `family = "transformer"`, every task
 * `kind = "text"`; sweeps/README.md) runs the weak-to-strong pipeline on WordNet
 * (textdata.h):
 *
 * Tasks. Task `class = "animal"` is textdata.h's task of that lexicographer class, drawn
 * for the seed with text.max_per_class words per label. Its words keep their textdata split
 * (a function of the word: no word in two splits, the same in every task); the runner's
 * split A / B / test take data.n_a / n_b / n_test words of textdata's A / B / test words
 * in the order w2_permutation(w2_key(seed, "text-split", fnv(class), split)), with balanced
 * classes: n/2 (rounded down) words in the class and the rest not, each class's first ones
 * in that order; W2_ERR_CONFIG when a split has fewer words of a class. A row is the input
 * as W2_TEXT_ROW floats, bytes 0..255 then -1 (xfmodel.h "Rows"): input = "word" is
 * "<word>:" (where the corpus puts the gloss), input = "gloss" the first W2_TEXT_GLOSS_BYTES
 * bytes of the gloss of the word's first noun sense (the word itself is not shown; `check`
 * wants ctx >= 32 of every size); labels 1 = in the class. Row ids are the words' indices
 * in the task.
 * There is no generative finetuning (n_u = 0) and no latent (Z NULL).
 *
 * Pretraining (pretrain.h source W2_PRE_TEXT): next-byte prediction (the LM head) on the
 * WordNet corpus, built once into CACHE/text/wordnet-<hash>.txt. The pretrain = {} keys
 * mean what they mean for MLPs: n = clamp(round(params * examples_per_param), min_examples,
 * max_examples) sequences of ctx bytes, ceil(epochs * n / batch) AdamW steps (beta 0.9,
 * 0.999) at lr with warmup and schedule, weight_decay on the matrices and embeddings. Step
 * s reads `batch` windows of ctx bytes at offsets w2_below(w2_key(seed, "xf-pretrain-data",
 * 0, 0), s, k, bytes - ctx + 1), k = 0..batch-1, so a run is a pure function of the corpus,
 * the recipe, the size and the seed (not of ranks). The initialisation is w2_xf_init from
 * w2_key(seed, "xf-init", width, depth << 32 | heads << 16 | ctx). FLOPs are
 * w2_xf_step_flops(lm = 1) per step. The cache hash covers the WordNet files' content
 * (w2_text_source_hash), the recipe, the size's width, depth, heads, ctx and the seed; one
 * pretrained model serves every text task.
 */
#ifndef W2_TEXTTASK_H
#define W2_TEXTTASK_H

#include <stdint.h>

#include "dmat.h"
#include "model.h"
#include "spec.h"
#include "textdata.h"
#include "transformer.h"
#include "world.h"

#define W2_TEXT_GLOSS_BYTES 32 /* input = "gloss": the gloss's first 32 bytes */
#define W2_TEXT_ROW 32          /* floats per row: "<word>:" (<= 25 bytes) or a gloss's head */
#define W2_TEXT_WORDNET_DEFAULT "/usr/share/wordnet"

/* The classes a text task may name ("animal", ...; textdata.h), NULL-terminated. */
extern const char *const w2_text_class_names[];
/* Index of class name in w2_text_class_names, -1 if none. */
int w2_text_class_index(const char *name);

/* The transformer of a size. */
void w2_text_arch(const W2SizeSpec *z, W2XfArch *a);
/* Pretraining of a transformer size (see above). */
long w2_text_pretrain_examples(const W2Sweep *s, const W2SizeSpec *z);
long w2_text_pretrain_steps(const W2Sweep *s, const W2SizeSpec *z);
double w2_text_pretrain_flops(const W2Sweep *s, const W2SizeSpec *z);
/* FNV-1a of the WordNet data files the corpus and tasks are made of, and of the corpus
 * code's version; once per process and directory. W2_ERR_IO naming a file it cannot read. */
W2Err w2_text_source_hash(const W2Sweep *s, uint64_t *hash);
/* The classes of the sweep's text tasks, bit k for w2_text_class_names[k]. */
unsigned w2_text_class_mask(const W2Sweep *s);
/* What a transformer's pretraining reads: w2_text_source_hash, and for text.corpus =
 * "dictionary" the corpus kind, text.max_per_class and w2_text_class_mask. */
W2Err w2_text_pretrain_hash(const W2Sweep *s, uint64_t *hash);
/* Pretrains size z for seed on grid (collective over it); the corpus is built in (or
 * found under) cache_dir/text (a temporary directory when cache_dir is NULL or ""). */
W2Err w2_text_pretrain(const W2Sweep *s, const W2SizeSpec *z, uint64_t seed, const W2Grid *grid,
                       const char *cache_dir, W2Model **out, double *flops);
/* The text model of size z on grid, as pretraining initialises it (a checkpoint loads
 * into it). */
W2Err w2_text_model_create(const W2SizeSpec *z, uint64_t seed, const W2Grid *grid,
                           W2Model **out);

/* Fills td (zeroed) with the splits of text task t for seed (see above). */
W2Err w2_text_task_fill(const W2Sweep *s, const W2TaskSpec *t, uint64_t seed, W2TaskData *td);

#endif
