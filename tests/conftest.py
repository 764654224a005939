import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"

settings.register_profile(
    "default", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
# CI: the same examples every run, so a red CI is reproducible.
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def nt_fixture():
    """neural-tangents 0.6.5 reference values (see tests/fixtures/README.md)."""
    with np.load(FIXTURES / "nt_relu.npz") as data:
        return {k: data[k] for k in data.files}


# (tag in the fixture keys) -> (w_std, b_std)
NT_WB = {
    "w1_b0": (1.0, 0.0),
    "wsqrt2_b0": (2**0.5, 0.0),
    "w1_b0p1": (1.0, 0.1),
    "wsqrt2_b0p05": (2**0.5, 0.05),
}
