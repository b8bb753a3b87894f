# The runner under injected faults, stage by stage: read-only output, cache, cells and results
# file, allocation failure (tests/test_faultinject.sh; issue 14).
w2_add_script_test(NAME test_faultinject COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_faultinject.sh
  LABELS io TIMEOUT 300)
set_tests_properties(test_faultinject PROPERTIES SKIP_RETURN_CODE 77)
