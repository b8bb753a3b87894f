# The byte-level transformer family (transformer.h): gradients, masks, determinism,
# checkpoints; the same model on 1x1, 1x2, 2x1 and 2x2 grids.
w2_add_test(NAME test_xfmr_grad SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_xfmr_grad.c LABELS unit)
w2_add_test(NAME test_xfmr_dist SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_xfmr_dist.c NP 4 LABELS mpi)
# PyTorch reference (python3-torch; SKIP when absent): logits and gradients within 1e-4,
# 100 training losses within 2 % (tests/xfmr_torch_ref.py).
add_executable(xfmr_ref_dump ${CMAKE_CURRENT_SOURCE_DIR}/xfmr_ref_dump.c)
target_link_libraries(xfmr_ref_dump PRIVATE w2core)
target_compile_options(xfmr_ref_dump PRIVATE ${W2_WARN})
w2_add_script_test(NAME test_xfmr_torch LABELS unit
  COMMAND sh -c "mkdir -p xfmr_torch && exec /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/xfmr_torch_ref.py $<TARGET_FILE:xfmr_ref_dump> xfmr_torch")
set_tests_properties(test_xfmr_torch PROPERTIES SKIP_RETURN_CODE 77)
# WordNet corpus and tasks (textdata.h): a miniature database, and the real one when
# wordnet-base is installed.
w2_add_test(NAME test_textdata SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_textdata.c LABELS unit)
