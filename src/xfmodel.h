/* xfmodel.h — the byte-level transformer (transformer.h) as a W2Model of the sweep runner
 * (model.h "Families"), so the pipeline, w2_train and the methods drive it exactly like an
 * MLP: set_batch, rows in, forward, one logit per row, BCE, backward, AdamW, features.
 *
 * Rows. The runner's data are float rows; a text row (texttask.h) holds W2_TEXT_ROW floats:
 * the input's bytes as the values 0..255, then -1 for every unused position. A row of
 * length len is fed as its LAST min(len, ctx) bytes, so the classification head, which
 * reads the final hidden state of the last real byte (transformer.h CLS head), always reads
 * the row's last byte whatever the context. Features (probes, LP-FT) are that hidden
 * state (width C). The logit of a row is the CLS head's; the loss is its soft-target BCE
 * (W2_LOSS_BCE only: a method with another loss is refused by the sweep parser).
 *
 * Checkpoints are transformer.h's format (w2_xf_save / w2_xf_load): the optimizer state is
 * not saved, the parameters load on any grid shape. */
#ifndef W2_XFMODEL_H
#define W2_XFMODEL_H

#include "model.h"
#include "transformer.h"

/* A transformer of arch a on grid reading rows of d_in floats (W2_TEXT_ROW), its CLS
 * head as the 1 output, initialised from key (w2_xf_init). */
W2Err w2_xfmodel_create(const W2Grid *grid, const W2XfArch *a, int d_in, uint64_t key,
                        W2Model **out);
/* The transformer behind m (NULL when m is not one). */
W2Xf *w2_xfmodel_xf(W2Model *m);

/* Bytes and length of one text row (the bytes kept for a context of ctx): writes
 * min(len, ctx) bytes to tok and returns that length (at least 1: an empty row is one
 * padding byte 0). */
int w2_text_row_tokens(const float *row, int d, int ctx, uint8_t *tok);

#endif
