# mpilaunch.sh — the MPI launcher of the shell tests, as CMake configured it: tests/CMakeLists.txt
# exports MPIEXEC, MPIEXEC_NUMPROC_FLAG and MPIEXEC_PREFLAGS (CMake's standard variables;
# INSTALL.md "The MPI launcher"). Source it; then `$(w2_mpi NP) PROGRAM ARGS...` starts NP
# ranks of PROGRAM (also inside `sh -c "..."` strings). Outside ctest: `mpiexec -n NP`.
w2_mpi() { echo "${MPIEXEC:-mpiexec} ${MPIEXEC_NUMPROC_FLAG:--n} $1 ${MPIEXEC_PREFLAGS:-}"; }
