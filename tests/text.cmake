# The transformer family in the sweep runner (src/texttask.h, tests/test_text_sweep.sh):
# `check` refusals at their lines; the tiny text sweep end to end on 2 ranks, rank
# groups, cache keys, kill -9 and resume (skips without Debian's wordnet-base).
w2_add_script_test(NAME test_text_check COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_text_sweep.sh check
  LABELS unit)
w2_add_script_test(NAME test_text_sweep COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_text_sweep.sh run
  LABELS mpi heavy TIMEOUT 600)
set_tests_properties(test_text_sweep PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
