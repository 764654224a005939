"""torch runs on one intra-op thread in each module of tests/nets (restored
afterwards): the results do not depend on it, and CI's two cores are shared
with joblib workers."""

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
