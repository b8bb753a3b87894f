# Faults a hostile user or a bad day can cause, each refused or survived (issue 14):
# colliding job-file names, truncated cells and checkpoints, shards of another sweep,
# concurrent runs, signals, ... (tests/test_faults.sh).
w2_add_script_test(NAME test_faults COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_faults.sh
  LABELS io mpi TIMEOUT 600)
set_tests_properties(test_faults PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
# Sweeps that extend: cells reused by their own settings hash (issue 13).
w2_add_script_test(NAME test_extend COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_extend.sh LABELS runner)
set_tests_properties(test_extend PROPERTIES SKIP_RETURN_CODE 77)
