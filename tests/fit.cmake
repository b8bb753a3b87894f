# Analysis (issue 6): scaling-law / PGR fitting maths (src/fit.c), `w2sweep fit`
# (src/cmd_fit.c) and the figures (analysis/plots.py), all on synthetic data drawn from
# known parameters (analysis/make_synthetic_results.py).

# Recovery of known parameters, interval coverage over repeated draws, Huber robustness,
# backtests, the convergence flag, and errors for data that cannot determine a fit.
w2_add_test(NAME test_fit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_fit.c LABELS unit)

# The command on results files: /fits contents vs the truth, rewrite, --no-write, partial
# sweeps, malformed files (exit 2, one line, /fits untouched). Skips (77) without h5py.
w2_add_script_test(NAME test_analysis_fit
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_analysis_fit.sh LABELS unit)
# Every figure type as a readable PNG; skip notes for absent methods; bad inputs exit 2.
w2_add_script_test(NAME test_analysis_plots
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_analysis_plots.sh LABELS unit)
set_tests_properties(test_analysis_fit test_analysis_plots PROPERTIES SKIP_RETURN_CODE 77)
