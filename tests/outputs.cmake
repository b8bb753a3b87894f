# Outputs are right and inputs are never destroyed: 64-bit seeds, outputs
# that would overwrite an input, failed writes to stdout (tests/test_outputs.sh).
w2_add_script_test(NAME test_outputs COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_outputs.sh
  LABELS io TIMEOUT 300)
set_tests_properties(test_outputs PROPERTIES SKIP_RETURN_CODE 77)
