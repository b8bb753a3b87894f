# The synthetic world, task splits, synthetic supervisors and pretraining (world.h,
# supervisor.h, pretrain.h).
w2_add_test(NAME test_world SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_world.c LABELS unit)

# A bounded gap study (bench/gap_study.c, bench/GAP_STUDY.md): the ground-truth ceiling of
# a width-128 model must beat width 8 on every built-in task. One seed, ~15 s.
if(TARGET gap_study)
  w2_add_script_test(NAME gap_study_smoke
    COMMAND sh -c "$<TARGET_FILE:gap_study> --widths 8,128 --seeds 1 --no-w2s --ntest 2000 | tee gap_study_smoke.log | grep -q 'all tasks monotone: yes'"
    LABELS heavy TIMEOUT 300)
endif()
