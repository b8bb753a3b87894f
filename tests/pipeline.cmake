# The weak-to-strong pipeline on a tiny world: every method runs and keeps its properties.
w2_add_test(NAME test_pipeline SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_pipeline.c LABELS unit
  TIMEOUT 600)
w2_add_test(NAME test_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_metrics.c LABELS unit)
# PGR guard (gap below noise / negative: NaN with the reason) and stages shorter than
# eval_points (evaluated after every step, real accuracies).
w2_add_test(NAME test_pgr_guard SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_pgr_guard.c LABELS unit)
# Known-answer check (a) counts only weak sizes whose PGR is defined (the cells' rule).
w2_add_test(NAME test_health SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_health.c LABELS unit)
# The method registry: kinds, shared settings, canonical JSON, and allocation failure at
# every cell allocation (W2_ERR_MEM, no leak under LeakSanitizer).
w2_add_test(NAME test_registry SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_registry.c LABELS unit)
set_tests_properties(test_registry PROPERTIES ENVIRONMENT
  "${W2_TEST_ENV};ASAN_OPTIONS=detect_leaks=1:leak_check_at_exit=0;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan_mpi.supp")
# A method is one file: the test-only kind test_hard through check, plan, run, export and
# the figures; figures pick methods by kind (tests/test_registry.sh).
w2_add_script_test(NAME test_registry_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_registry.sh LABELS runner)
set_tests_properties(test_registry_e2e PROPERTIES SKIP_RETURN_CODE 77)
