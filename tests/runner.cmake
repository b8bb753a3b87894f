# The sweep runner: rank invariance, kill -9 and resume, cache reuse (tests/test_runner.sh).
w2_add_script_test(NAME test_runner COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_runner.sh
  LABELS mpi heavy TIMEOUT 900)
set_tests_properties(test_runner PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
