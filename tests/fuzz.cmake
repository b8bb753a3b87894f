# A bounded libFuzzer run of the sweep-file parser (tests/test_fuzz.sh; needs clang, else
# skipped; CI installs it through .ci/deps.sh --test).
w2_add_script_test(NAME test_fuzz COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_fuzz.sh
  ${CMAKE_BINARY_DIR} LABELS fuzz TIMEOUT 300)
set_tests_properties(test_fuzz PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2)
