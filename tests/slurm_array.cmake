# `w2sweep slurm` / `w2sweep merge` (issue 7).
# slurm_array: against a real one-node Slurm (slurm/localslurm.sh): array mode and one-job mode
# of tests/sweeps/tiny.cfg equal mpirun's results; a requeued and a cancelled-then-resubmitted
# cells element resume without recomputing finished cells. Exit 77 = skipped (not root, no
# Slurm binaries, Slurm does not start); W2SWEEP_SLURM_REQUIRED=1 (CI) makes a skip fail.
# RUN_SERIAL: the Slurm daemons and the jobs use both cores.
w2_add_script_test(NAME slurm_array COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_slurm_array.sh
  LABELS slurm TIMEOUT 600)
set_tests_properties(slurm_array PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# slurm_quoting: hostile values from the sweep file and the command line (no Slurm needed).
w2_add_script_test(NAME slurm_quoting COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_slurm_quoting.sh
  LABELS unit TIMEOUT 300)
# slurmgen: quoting, Slurm value checks and artifact slices in C.
w2_add_test(NAME test_slurmgen SOURCES test_slurmgen.c LABELS unit)
# slurm_merge: `w2sweep merge` of three locally run shards (no Slurm): partial, complete,
# idempotent, equal to a plain run.
w2_add_script_test(NAME slurm_merge COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_merge.sh
  LABELS unit TIMEOUT 300)
set_tests_properties(slurm_merge PROPERTIES SKIP_RETURN_CODE 77)
