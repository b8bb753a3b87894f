# HDF5 storage: model checkpoints (src/checkpoint.c) and user datasets (src/dataset.c).

w2_add_test(NAME test_checkpoint SOURCES test_checkpoint.c LABELS unit)
w2_add_test(NAME test_checkpoint SOURCES test_checkpoint.c NP 4 LABELS mpi)
w2_add_test(NAME test_dataset SOURCES test_dataset.c LABELS unit)

# test_checkpoint (1 rank) writes ckpt_h5py.h5; the h5py test reads it.
set_tests_properties(test_checkpoint PROPERTIES FIXTURES_SETUP w2_ckpt_h5py)

# h5py reads a checkpoint: attributes, layer shapes (K, N) and W[i, j] = input i -> unit j.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/check_checkpoint_h5py.py [=[
import sys
try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(77)
with h5py.File(sys.argv[1], "r") as f:
    a = f.attrs
    assert a["format"] == "w2sweep-checkpoint", a["format"]
    assert a["version"] == 1
    assert (a["d_in"], a["width"], a["depth"], a["d_out"]) == (7, 10, 2, 3)
    assert a["act"] == "relu" and a["size_name"] == "s1" and a["kind"] == "pretrained"
    assert a["seed"] == 42
    assert a["config_hash"].dtype == np.uint64 and int(a["config_hash"]) == 0xfedcba9876543210
    assert a["flops"] == 1.5e9 and a["params"] == 7*10+10 + 10*10+10 + 10*3+3
    shapes = {0: (7, 10), 1: (10, 10), 2: (10, 3)}
    for l, (K, N) in shapes.items():
        W, b = f["layer%02d/W" % l], f["layer%02d/b" % l]
        assert W.shape == (K, N) and W.dtype == np.float32, (l, W.shape, W.dtype)
        assert b.shape == (N,) and b.dtype == np.float32, (l, b.shape)
        i, j = np.meshgrid(np.arange(K), np.arange(N), indexing="ij")
        want = ((l * 1000 + i * 10 + j) / 1024.0).astype(np.float32)
        assert np.array_equal(W[:], want), "layer%02d/W values or orientation" % l
        assert np.array_equal(b[:], -want[0]), "layer%02d/b" % l
    # the forward pass a user would write
    x = np.ones((2, 7), np.float32)
    h = x
    for l in range(3):
        h = h @ f["layer%02d/W" % l][:] + f["layer%02d/b" % l][:]
        if l < 2:
            h = np.maximum(h, 0)
    assert h.shape == (2, 3) and np.all(np.isfinite(h))
print("h5py read ckpt_h5py.h5: OK")
]=])
# (The commands are scripts because CMake would split a ';' inside a COMMAND argument.)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/check_checkpoint_h5py.sh [=[
[ -x /usr/bin/python3 ] || exit 77
exec /usr/bin/python3 check_checkpoint_h5py.py ckpt_h5py.h5
]=])
w2_add_script_test(NAME test_checkpoint_h5py COMMAND sh check_checkpoint_h5py.sh LABELS unit)
set_tests_properties(test_checkpoint_h5py PROPERTIES FIXTURES_REQUIRED w2_ckpt_h5py
  SKIP_RETURN_CODE 77)

# The data/FORMAT.md recipe, run through h5py, gives files that w2sweep loads: one as the
# recipe writes it (float32, int8 labels, a pretraining block, a name), one with numpy's
# defaults (float64 inputs, bool labels, no pretraining block).
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/make_dataset_h5py.py [=[
import sys
try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(77)
N, D, M, K = 50, 6, 30, 4
X = (np.arange(N * D).reshape(N, D) / 8).astype(np.float32)
y = (np.arange(N) % 2 == 0).astype(np.int8)
PX = (-np.arange(M * D).reshape(M, D) / 8).astype(np.float32)
PY = ((np.arange(M)[:, None] + np.arange(K)[None, :]) % 2).astype(np.float32)
with h5py.File("ds_h5py.h5", "w") as f:
    f.create_dataset("X", data=X)
    f.create_dataset("y", data=y)
    f.create_dataset("pretrain/X", data=PX)
    f.create_dataset("pretrain/Y", data=PY)
    f.attrs["name"] = "h5py-recipe"
with h5py.File("ds_h5py_defaults.h5", "w") as f:
    f["X"] = np.arange(N * D).reshape(N, D) / 8
    f["y"] = np.arange(N) % 2 == 0
]=])
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/check_dataset_h5py.sh [=[
# $1: the test_dataset program
[ -x /usr/bin/python3 ] || exit 77
rm -f ds_h5py.h5 ds_h5py_defaults.h5
/usr/bin/python3 make_dataset_h5py.py || exit $?
"$1" --check ds_h5py.h5 50 6 30 4 h5py-recipe || exit 1
"$1" --check ds_h5py_defaults.h5 50 6 0 0 "" || exit 1
]=])
w2_add_script_test(NAME test_dataset_h5py
  COMMAND sh check_dataset_h5py.sh $<TARGET_FILE:test_dataset> LABELS unit)
set_tests_properties(test_dataset_h5py PROPERTIES SKIP_RETURN_CODE 77)
# One definition of the result columns: results/SCHEMA.md's /summary table vs columns.c.
w2_add_test(NAME test_columns SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_columns.c LABELS unit)
