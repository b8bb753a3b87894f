# Sweep files: parsing and defaults (C), and `w2sweep check` on the broken-file corpus
# tests/configs/bad_*.cfg (expectations in tests/configs/expected.txt) and the shipped sweeps.
w2_add_test(NAME test_sweepcfg SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sweepcfg.c LABELS unit)
w2_add_script_test(NAME check_configs
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check_configs.sh
  LABELS unit TIMEOUT 120)
