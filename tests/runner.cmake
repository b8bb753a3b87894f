# The sweep runner: rank invariance, kill -9 and resume, cache reuse (tests/test_runner.sh).
w2_add_script_test(NAME test_runner COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_runner.sh
  LABELS mpi heavy TIMEOUT 900)
set_tests_properties(test_runner PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
# The README's default path (run -> fit -> figures) on the tiny sweep.
w2_add_script_test(NAME test_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_e2e.sh
  LABELS heavy TIMEOUT 600)
set_tests_properties(test_e2e PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
# MPI threading: `run` needs MPI_THREAD_MULTIPLE and refuses less (tests/test_threads.c).
w2_add_test(NAME test_threads SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_threads.c NP 2
  LABELS unit mpi ARGS multiple)
w2_add_test(NAME test_threads SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_threads.c
  LABELS unit ARGS funneled)
