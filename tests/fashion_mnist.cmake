# The Fashion-MNIST converter (data/fashion_mnist.py) on tiny synthetic idx files
# (tests/test_fashion_mnist.sh): the documented task files, `check` on the shipped
# sweeps/fashion_mnist.cfg, one shared pretraining for the four tasks, a tiny run, and a
# truncated idx file refused. CI never installs dataset-fashion-mnist.
w2_add_script_test(NAME test_fashion_mnist
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_fashion_mnist.sh LABELS unit TIMEOUT 600)
set_tests_properties(test_fashion_mnist PROPERTIES SKIP_RETURN_CODE 77)
