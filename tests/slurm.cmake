# Slurm tests: a real one-node Slurm on localhost (slurm/localslurm.sh), started by the test.
# Exit code 77 = skipped (no Slurm binaries, not root, or Slurm could not start); set
# W2SWEEP_SLURM_INSTALL=1 to let the test apt-get install the packages when missing, and
# W2SWEEP_SLURM_REQUIRED=1 to make a skip fail. RUN_SERIAL: the daemons use the 2 cores.
w2_add_script_test(NAME slurm_smoke COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm_smoke.sh LABELS slurm TIMEOUT 300)
set_tests_properties(slurm_smoke PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
