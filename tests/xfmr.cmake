# The byte-level transformer family (transformer.h): gradients, masks, determinism,
# checkpoints; the same model on 1x1, 1x2, 2x1 and 2x2 grids.
w2_add_test(NAME test_xfmr_grad SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_xfmr_grad.c LABELS unit)
