# Numerical core: RNG, distributed matrices, layer gradients, training determinism.
w2_add_test(NAME test_rng SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_rng.c LABELS unit)
w2_add_test(NAME test_grad SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_grad.c LABELS unit)
w2_add_test(NAME test_train SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_train.c LABELS unit)
# Linear probes: gradient, known answers, cross-validation, determinism (probe.h).
w2_add_test(NAME test_probe SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_probe.c LABELS unit)
# Distributed vs local: grids 1x1, 1x2, 2x1, 2x2 on 4 ranks.
w2_add_test(NAME test_dmat SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_dmat.c NP 4 LABELS mpi)
