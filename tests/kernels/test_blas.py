"""``_blas.syrk_lower``: numpy's bundled BLAS ``syrk`` called directly,
against the product in float64 (numpy's GEMM of the float64 inputs), into
blocks of larger arrays, with numpy's ``B @ B.T`` as the fallback."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skntk.kernels import _blas


def _bound(B):
    """Rounding bound of a float product of B's rows: k eps (|B| |B|^T)."""
    A = np.abs(B.astype(np.float64))
    return (B.shape[1] + 2) * np.finfo(B.dtype).eps * (A @ A.T)


def _check_block(B, big, r0, c0, before):
    n = len(B)
    ref = B.astype(np.float64) @ B.astype(np.float64).T
    block = big[r0:r0 + n, c0:c0 + n].astype(np.float64)
    low = np.tril_indices(n)
    assert np.all(np.abs(block[low] - ref[low]) <= _bound(B)[low])
    # nothing outside the block is touched
    mask = np.ones(big.shape, bool)
    mask[r0:r0 + n, c0:c0 + n] = False
    np.testing.assert_array_equal(big[mask], before[mask])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 70), k=st.integers(0, 40), pad=st.integers(0, 5),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_syrk_lower_into_a_block_of_a_larger_array(n, k, pad, dtype, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, k)).astype(dtype)
    big = np.full((n + 2 * pad, n + 3 * pad), -7.0, dtype)
    before = big.copy()
    out = big[pad:pad + n, 2 * pad:2 * pad + n]
    _blas.syrk_lower(B, out)
    _check_block(B, big, pad, 2 * pad, before)
    if _blas.numpy_syrk(dtype) and n > 1 and k:
        # the direct call writes the lower triangle only
        up = np.triu_indices(n, 1)
        np.testing.assert_array_equal(out[up], -7.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fallback_is_numpys_product(monkeypatch, dtype):
    B = np.random.default_rng(0).standard_normal((50, 9)).astype(dtype)
    monkeypatch.setattr(_blas, "_FUNCS", {})
    assert not _blas.numpy_syrk(dtype)
    out = np.empty((50, 50), dtype)
    _blas.syrk_lower(B, out)
    np.testing.assert_array_equal(out, B @ B.T)


def test_inputs_it_cannot_pass_to_blas_go_to_numpy():
    B = np.random.default_rng(1).standard_normal((30, 8))
    for b, out in ((np.asfortranarray(B), np.empty((30, 30))),      # B not C order
                   (B, np.empty((30, 30)).T),                        # out's rows strided
                   (B, np.empty((30, 30), np.float32))):            # other dtype
        _blas.syrk_lower(b, out)
        low = np.tril_indices(30)
        np.testing.assert_allclose(out[low], (B @ B.T)[low], rtol=1e-6)


def test_numpys_own_openblas_is_found_where_numpy_bundles_it():
    """On numpy's wheels (scipy-openblas, 64-bit integers) the direct call
    must be found: otherwise every symmetric Gram silently pays numpy's
    triangle copy again."""
    blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    bundled = blas.get("name") == "scipy-openblas" and "USE64BITINT" in str(
        blas.get("openblas configuration", ""))
    assert _blas.numpy_syrk(np.float32) == bundled
    assert _blas.numpy_syrk(np.float64) == bundled


def test_concurrent_calls_from_threads():
    rng = np.random.default_rng(2)
    Bs = [rng.standard_normal((200, 64)).astype(np.float32) for _ in range(4)]
    outs = [np.zeros((200, 200), np.float32) for _ in Bs]
    threads = [threading.Thread(target=_blas.syrk_lower, args=(B, o))
               for B, o in zip(Bs, outs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for B, o in zip(Bs, outs):
        low = np.tril_indices(200)
        assert np.all(np.abs(o[low] - (B.astype(np.float64) @ B.T.astype(np.float64))[low])
                      <= _bound(B)[low])
