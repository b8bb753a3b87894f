/* kl.c — reverse KL(student || weak) against the weak labels: a loss of its own (train.h
 * W2_LOSS_RKL), whose gradient is not naive CE's (mode-seeking: the student may ignore
 * rows where it disagrees with a confident supervisor). */
#include "method.h"

const W2MethodOps w2_method_kl = {
    .kind = "kl", .doc = "reverse KL(student || weak labels)", .loss = W2_LOSS_RKL};
