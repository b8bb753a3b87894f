# Bounded libFuzzer runs (tests/test_fuzz.sh; need clang, else skipped; CI installs it through
# .ci/deps.sh --test): the sweep-file parser, the data-file loader and the results-file
# readers, 40 s each. They share one clang build (BUILD_DIR/fuzz): one at a time.
foreach(h sweepcfg dataset results)
  if(h STREQUAL "sweepcfg")
    set(tname test_fuzz)
  else()
    set(tname test_fuzz_${h})
  endif()
  w2_add_script_test(NAME ${tname} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_fuzz.sh
    ${CMAKE_BINARY_DIR} ${h} LABELS fuzz TIMEOUT 300)
  set_tests_properties(${tname} PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2
    RESOURCE_LOCK w2fuzz_build)
endforeach()
