/* naive.c — naive finetuning: cross-entropy against the soft weak labels (Burns et al. 2023
 * §4.2). Everything is the driver's default. */
#include "method.h"

const W2MethodOps w2_method_naive = {
    .kind = "naive", .doc = "finetune the strong model on the soft weak labels (CE)"};
