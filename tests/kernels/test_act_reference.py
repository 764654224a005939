"""ntk_kernel for every activation against independent references:
neural-tangents' closed forms (tests/fixtures/nt_activations.npz), a 50-digit
mpmath evaluation where neural-tangents loses digits."""

import numpy as np
import pytest
from _reference import augmented_cosine
from _reference_act import mp_act_kernel
from conftest import FIXTURES

from skntk import ntk_kernel, ntk_kernel_diag

WB = {"w1_b0": (1.0, 0.0), "wsqrt2_b0": (2 ** 0.5, 0.0), "w1_b0p1": (1.0, 0.1),
      "wsqrt2_b0p1": (2 ** 0.5, 0.1)}
NT_ACTS = {"identity": ("identity", None), "erf": ("erf", None), "gelu": ("gelu", None),
           "leaky0p01": ("leaky_relu", 0.01), "leaky0p2": ("leaky_relu", 0.2),
           "leakym0p5": ("leaky_relu", -0.5), "abs": ("abs", None)}


@pytest.fixture(scope="module")
def nt_act():
    with np.load(FIXTURES / "nt_activations.npz") as data:
        return {k: data[k] for k in data.files}


def _scale(dx, dy):
    return np.sqrt(np.outer(dx, dy))


def _suspect(A, B, w, b):
    """Entries where neural-tangents' float64 formulas lose digits: nearly
    (anti)parallel first-layer inputs (its angle from sqrt(q11 q22 - q12^2))
    and rows of norm >= 1e3 (the same cancellation in Erf and Gelu)."""
    big = np.linalg.norm(A, axis=1)[:, None] + np.linalg.norm(B, axis=1)[None, :] > 1e3
    return (np.abs(augmented_cosine(A, B, w, b)) > 1 - 1e-6) | big


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("act", list(NT_ACTS))
@pytest.mark.parametrize("name", ["gauss", "edge", "d784"])
def test_closed_forms_match_neural_tangents(nt_act, name, act, depth):
    """Within 1e-12 of neural-tangents on every ordinary entry, within 1e-13
    (relative to sqrt(k(x,x) k(y,y))) of 50-digit mpmath where
    neural-tangents itself is off."""
    activation, slope = NT_ACTS[act]
    X1, X2 = nt_act[f"{name}_X1"], nt_act[f"{name}_X2"]
    for wb, (w, b) in WB.items():
        kw = dict(activation=activation, negative_slope=slope, depth=depth, w_std=w,
                  b_std=b, kernel="both")
        d1, d2 = ntk_kernel_diag(X1, **kw), ntk_kernel_diag(X2, **kw)
        for block, A, B, ours, da in (("train", X1, X1, ntk_kernel(X1, **kw), d1),
                                      ("cross", X2, X1, ntk_kernel(X2, X1, **kw), d2)):
            sus = _suspect(A, B, w, b)
            idx = np.argwhere(sus)
            mp_ref = {}
            if len(idx):
                for i, j in idx:
                    mp_ref[i, j] = mp_act_kernel(A[i:i + 1], B[j:j + 1], activation,
                                                 depth, w, b, slope)
            for k, kind in enumerate(("nngp", "ntk")):
                ref = nt_act[f"{name}_{act}_L{depth}_{wb}_{kind}_{block}"]
                scale = _scale(da[k], d1[k])
                err = np.abs(ours[k] - ref)
                ok = err <= 1e-12 * np.abs(ref) + 1e-14 * scale
                assert ok[~sus].all(), (wb, kind, block, np.argwhere(~ok & ~sus))
                for (i, j), r in mp_ref.items():
                    err = abs(ours[k][i, j] - r[k][0, 0])
                    assert err <= 1e-13 * scale[i, j] + 1e-300, (
                        wb, kind, block, i, j, ours[k][i, j], r[k][0, 0])
            for k, kind in enumerate(("nngp", "ntk")):
                for tag, X, dd in (("1", X1, d1), ("2", X2, d2)):
                    ref = nt_act[f"{name}_{act}_L{depth}_{wb}_{kind}_diag{tag}"]
                    # neural-tangents' diagonal carries its spurious angle
                    # (~1e-8) and loses digits on rows of norm >= 1e3 (checked
                    # against mpmath in the next test instead)
                    small = np.linalg.norm(X, axis=1) < 1e3
                    np.testing.assert_allclose(dd[k][small], ref[small], rtol=1e-7,
                                               atol=1e-300)


@pytest.mark.parametrize("act", ["erf", "gelu", "leaky_relu", "abs", "identity"])
def test_closed_form_diagonal_matches_mpmath(act):
    rng = np.random.default_rng(5)
    X = np.vstack([rng.standard_normal((3, 4)), 1e-8 * rng.standard_normal(4),
                   1e6 * rng.standard_normal(4), np.zeros(4)])
    slope = 0.3 if act == "leaky_relu" else None
    for depth in (1, 3):
        nngp, ntk = ntk_kernel_diag(X, activation=act, negative_slope=slope,
                                    depth=depth, w_std=1.4, b_std=0.1, kernel="both")
        for i in range(len(X)):
            ref = mp_act_kernel(X[i:i + 1], X[i:i + 1], act, depth, 1.4, 0.1, slope)
            assert nngp[i] == pytest.approx(ref[0][0, 0], rel=1e-13)
            assert ntk[i] == pytest.approx(ref[1][0, 0], rel=1e-13)
