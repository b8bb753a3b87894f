/* test_hard.c — a TEST-ONLY method (compiled only with W2SWEEP_TEST_METHODS, the test
 * build): finetuning on the weak labels hardened at `threshold` (1 above it, else 0). It
 * exists to show that a method is one file: tests/test_registry.sh runs it through check,
 * plan, run, export and the figures with no other edit. */
#include "method.h"

static const W2MethodSetting settings[] = {
    {"threshold", W2_SET_NUM, offsetof(W2MethodSpec, extra[0]), 0, 1, 1, 1, 0.5,
     "weak labels above it become 1, the others 0, in (0, 1)"}};

static void targets(const W2MethodTargets *tg, int nrows, const float *prob, double progress,
                    float *target, float *weight) {
  (void)prob, (void)progress, (void)weight;
  for (int i = 0; i < nrows; i++) target[i] = target[i] > tg->m->extra[0] ? 1.f : 0.f;
}

const W2MethodOps w2_method_test_hard = {
    .kind = "test_hard",
    .doc = "test only: finetune on weak labels hardened at threshold",
    .settings = settings,
    .nsettings = 1,
    .targets = targets};
