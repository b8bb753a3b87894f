# Hostile input files, refused with one line or read whole (issue 14; tests/test_readers.sh):
# attributes of the wrong shape, long and variable-length strings in export, an lzf data file,
# a NUL byte and 50,000 keys in a sweep file.
w2_add_script_test(NAME test_readers COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_readers.sh
  LABELS io TIMEOUT 300)
set_tests_properties(test_readers PROPERTIES SKIP_RETURN_CODE 77)
