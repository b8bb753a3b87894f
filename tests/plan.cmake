# plan's time model (src/throughput.h): structure, fit, calibration files (tests/test_plan.c).
w2_add_test(NAME test_plan SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_plan.c LABELS unit)
