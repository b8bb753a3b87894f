# The synthetic world, task splits, synthetic supervisors and pretraining (world.h,
# supervisor.h, pretrain.h).
w2_add_test(NAME test_world SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_world.c LABELS unit)
