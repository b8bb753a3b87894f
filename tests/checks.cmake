# Known-answer checks, recipe selection, ceiling choice and the saliency knob (test_checks.sh).
w2_add_script_test(NAME test_checks COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_checks.sh
  LABELS heavy TIMEOUT 900)
