"""skntk.linalg on plain arrays, without an estimator: the jitter schedule
shared by the host and device factorisations, the chunked 1-norm, the blocked
Cholesky path and the spectral filters."""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose

import skntk.linalg.cholesky as cholesky
from skntk.linalg import (
    JITTER,
    cho_solve_upper,
    cholesky_upper_inplace,
    factor_with_jitter,
    solve_triangular_lower,
    spectral_filter,
    sym_norm1_from_lower,
)


def test_factor_with_jitter_schedule_and_warning():
    tried = []

    def works_from(k):
        def try_factor(jitter):
            tried.append(jitter)
            return "factor" if len(tried) > k else None
        return try_factor

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the first attempt: no warning
        assert factor_with_jitter(works_from(0), 0.5, 3.0) == ("factor", 0.0)
    assert tried == [0.0]
    tried.clear()
    with pytest.warns(UserWarning, match=r"alpha=0\.5.*jitter=3e-08"):
        factor, jitter = factor_with_jitter(works_from(3), 0.5, 3.0)
    assert (factor, jitter) == ("factor", JITTER[2] * 3.0)
    assert tried == [0.0, JITTER[0] * 3.0, JITTER[1] * 3.0, JITTER[2] * 3.0]
    tried.clear()
    assert factor_with_jitter(works_from(99), 0.5, 3.0) == (None, None)
    assert len(tried) == 1 + len(JITTER)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sym_norm1_from_lower_reads_the_lower_triangle_in_chunks(dtype):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((37, 37))
    S = (A + A.T).astype(dtype)
    K = np.tril(S) + np.triu(np.full_like(S, np.nan), 1)  # upper: never read
    ref = np.linalg.norm(S.astype(np.float64), 1)
    assert_allclose(sym_norm1_from_lower(K), ref, rtol=1e-12)
    with sklearn.config_context(working_memory=1e-4):  # one row per chunk
        assert_allclose(sym_norm1_from_lower(K), ref, rtol=1e-12)


def test_blocked_cholesky_and_solves_equal_lapack(monkeypatch):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((300, 300))
    M = A @ A.T + 300 * np.eye(300)
    B = rng.standard_normal((300, 2))
    U_ref = cholesky_upper_inplace(np.asfortranarray(M.copy()))
    monkeypatch.setattr(cholesky, "LARGE", 1000)
    monkeypatch.setattr(cholesky, "_BLOCK", 64)
    monkeypatch.setattr(cholesky, "_PANEL", 100)
    assert cholesky.is_large(300)
    U = cholesky_upper_inplace(np.asfortranarray(M.copy()))
    assert_allclose(U, U_ref, rtol=1e-10, atol=1e-12)
    assert np.all(np.tril(U, -1) == 0)
    assert_allclose(cho_solve_upper(U, B), np.linalg.solve(M, B), rtol=1e-9)
    assert_allclose(solve_triangular_lower(np.ascontiguousarray(U.T), B),
                    np.linalg.solve(U.T, B), rtol=1e-9)
    with pytest.raises(np.linalg.LinAlgError):
        cholesky_upper_inplace(np.asfortranarray(-M))


def test_spectral_filter_limits():
    lam = np.array([-1e-12, 0.0, 0.5, 2.0, 10.0])
    ridge = spectral_filter(lam, 0.1, None, 4)
    assert_allclose(ridge, 1.0 / (np.maximum(lam, 0) + 0.1))
    assert_allclose(spectral_filter(lam, 0.1, np.inf, 4), ridge)
    assert_allclose(spectral_filter(lam, 0.1, 1e6, 4), ridge, rtol=1e-12)
    # t -> 0: g_t -> t / N
    assert_allclose(spectral_filter(lam, 0.0, 1e-9, 4), 1e-9 / 4, rtol=1e-6)
    # no floor for an indefinite matrix
    assert spectral_filter(np.array([-2.0, 1.0]), 0.5, None, 1, clamp=False)[0] == -1 / 1.5
