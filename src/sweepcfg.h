/* sweepcfg.h — sweep files (libconfig syntax) beyond what spec.h declares: loading with
 * warnings, the human summary that `check` and `plan` print, and the small derived
 * quantities (parameter counts, pretraining set sizes, which weak/strong pairs run) that
 * must be computed the same way everywhere they are used.
 *
 * The sweep file format (every key, its type, default and meaning) is documented in
 * sweeps/README.md. Loading is strict: an unknown key, a value of the wrong type or out
 * of range, a name that refers to nothing, or a duplicate is an error "FILE:LINE: message"
 * (W2_ERR_CONFIG) naming the sweep file line, so that a typo never silently falls back to
 * a default and costs a cluster allocation. */
#ifndef W2_SWEEPCFG_H
#define W2_SWEEPCFG_H

#include <stdio.h>

#include "error.h"
#include "spec.h"

/* w2_sweep_load, plus warnings (things that are legal but probably not meant, e.g. a weak
 * size that is not smaller than any strong size) written to warn as
 * "FILE:LINE: warning: message" lines; warn may be NULL. */
W2Err w2_sweep_load_ex(const char *path, W2Sweep *s, FILE *warn);

/* Human summary of a loaded sweep: every setting, the size ladder with parameter counts,
 * pretraining set sizes and FLOPs, pairs and cell count. */
void w2_sweep_print(const W2Sweep *s, FILE *out);

/* Defaults of a method's settings for kind k (name and chain left empty). */
void w2_method_defaults(W2MethodSpec *m, W2MethodKind k);

/* The architecture of size z in this sweep, with a head of d_out outputs (1 for finetuning a
 * task, world.pretrain_targets for pretraining) and the sweep's activation. */
W2Arch w2_sweep_arch(const W2Sweep *s, const W2SizeSpec *z, int d_out);
/* Parameters of size z as a finetuned task model (d_out = 1): the number that decides
 * whether a weak model is smaller than a strong one. */
double w2_sweep_size_params(const W2Sweep *s, const W2SizeSpec *z);
/* (Pretraining set sizes and FLOPs: w2_pretrain_examples / w2_pretrain_flops, pretrain.h.) */

/* 1 when the (weak, strong) pair is run: weak names a synthetic supervisor, or a size with
 * fewer parameters than strong. Pairs with weak >= strong are skipped by the planner. */
int w2_sweep_pair_runs(const W2Sweep *s, const char *weak, const char *strong);
/* Number of (weak, strong) pairs that run. */
int w2_sweep_npairs(const W2Sweep *s);
/* Cells of the sweep: tasks x seeds x pairs that run x methods. */
long w2_sweep_ncells(const W2Sweep *s);
/* The known-answer cells among them (spec.h W2CheckSpec). */
long w2_sweep_ncheck_cells(const W2Sweep *s);

/* Names of the enum values used in sweep files ("?" when out of range), and the reverse
 * lookups (-1 when unknown). */
const char *w2_spec_task_kind_name(W2TaskKind k);
int w2_spec_task_kind_from_name(const char *name);
const char *w2_spec_supervisor_kind_name(W2SupervisorKind k);
int w2_spec_supervisor_kind_from_name(const char *name);
const char *w2_spec_sched_name(W2Sched s);
int w2_spec_sched_from_name(const char *name);
const char *w2_spec_act_name(W2Act a);
int w2_spec_act_from_name(const char *name);

#endif
