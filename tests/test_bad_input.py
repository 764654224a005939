"""Bad input to the kernel functions gets a clear error naming the argument;
user arrays are never modified; odd but valid layouts work."""

import numpy as np
import pytest

from skntk import ReluNTK, relu_kernel, relu_kernel_diag

X = np.random.default_rng(0).standard_normal((6, 3))


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=0), "depth"),
    (dict(depth=1.5), "depth"),
    (dict(depth=True), "depth"),
    (dict(w_std=-1.0), "w_std"),
    (dict(w_std=np.inf), "w_std"),
    (dict(b_std=-0.1), "b_std"),
    (dict(b_std=np.nan), "b_std"),
    (dict(kernel="rbf"), "kernel"),
    (dict(dtype=np.int32), "dtype"),
    (dict(working_memory=0), "working_memory"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        relu_kernel(X, **kwargs)
    if "working_memory" not in kwargs:
        with pytest.raises(ValueError, match=match):
            relu_kernel_diag(X, **kwargs)


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, np.nan, 0.0]]), "NaN"),
    (np.array([[1.0, np.inf, 0.0]]), "infinity"),
    (np.ones(3), "2D array"),
    (np.ones((0, 3)), "0 sample"),
    (np.ones((3, 0)), "0 feature"),
])
def test_bad_arrays_name_x_or_y(bad, match):
    with pytest.raises(ValueError, match=match):
        relu_kernel(bad)
    with pytest.raises(ValueError, match=match):
        relu_kernel(X[:, : bad.shape[-1]] if bad.ndim == 2 and bad.shape[1] else X, bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [4, 1000])  # serial and parallel row norms
@pytest.mark.parametrize("value, match", [(np.nan, "NaN"), (np.inf, "infinity"),
                                          (-np.inf, "infinity")])
def test_non_finite_entry_anywhere_is_found(dtype, n_rows, value, match):
    """Plain float arrays skip check_array; their NaN and inf are found in the
    row norms, with scikit-learn's message, wherever they sit, in X or in Y,
    while finite entries whose squares overflow are accepted."""
    A = np.random.default_rng(0).standard_normal((n_rows, 784)).astype(dtype)
    for i, k in ((0, 0), (n_rows - 1, 783), (n_rows // 2, 391)):
        B = A.copy()
        B[i, k] = value
        with pytest.raises(ValueError, match=f"Input X contains {match}"):
            relu_kernel(B, depth=2)
        with pytest.raises(ValueError, match=f"Input X contains {match}"):
            relu_kernel_diag(B)
        with pytest.raises(ValueError, match=f"Input Y contains {match}"):
            relu_kernel(A[:3], B)
    if dtype is np.float64:
        H = A[:3] * 1e160  # squares overflow float64; with a small w_std the
        K = relu_kernel(H, depth=2, w_std=1e-10)  # kernel itself does not
        assert np.all(np.isfinite(K)) and np.all(np.diag(K) > 1e250)


def test_mismatched_features():
    with pytest.raises(ValueError, match="X has 3 features but Y has 2"):
        relu_kernel(X, X[:, :2])


def test_inputs_not_modified_and_layouts_accepted():
    A = np.asfortranarray(X.copy())
    B = X[::2, :].copy()
    before = (A.tobytes(), B.tobytes())
    ref = relu_kernel(np.ascontiguousarray(A), np.ascontiguousarray(B), depth=2)
    np.testing.assert_array_equal(relu_kernel(A, B, depth=2), ref)
    assert (A.tobytes(), B.tobytes()) == before
    ro = X.copy()
    ro.setflags(write=False)
    np.testing.assert_array_equal(relu_kernel(ro), relu_kernel(X))
    np.testing.assert_array_equal(relu_kernel(X[:, ::-1][:, ::-1]), relu_kernel(X))
    np.testing.assert_allclose(relu_kernel(X.tolist()), relu_kernel(X))
    Xi = np.arange(12).reshape(4, 3)
    assert relu_kernel(Xi).dtype == np.float64
    assert relu_kernel(Xi.astype(np.float16)).dtype == np.float64
    assert relu_kernel(X.astype(np.float32)).dtype == np.float32
    assert relu_kernel(X.astype(np.float32), X).dtype == np.float64
    assert relu_kernel(X, dtype=np.float32).dtype == np.float32


def test_sparse_input_is_refused_clearly():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="[Ss]parse"):
        relu_kernel(scipy_sparse.csr_matrix(X))


def test_relu_ntk_kernel_validates_too():
    with pytest.raises(ValueError, match="depth"):
        ReluNTK(depth=0)(X)
    with pytest.raises(ValueError, match="NaN"):
        ReluNTK()(np.array([[np.nan, 1.0]]))
