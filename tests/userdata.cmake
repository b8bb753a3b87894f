# Users' own data end to end (tests/test_userdata.sh): data files of 1, 16, 57 and 784
# columns against shuffled-label controls, /pretrain used and keyed by content, `check`
# catching a short file at its line, and cells recomputed when a file's labels change.
w2_add_script_test(NAME test_userdata COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_userdata.sh
  LABELS unit TIMEOUT 600)
set_tests_properties(test_userdata PROPERTIES SKIP_RETURN_CODE 77)
