"""Fixtures shared by the fast-path operation tests."""
import pytest

from semsyn.kernels import conv3x3


@pytest.fixture(params=[2, 3])
def training_tile(request, monkeypatch):
    """Training's Winograd as F(2x2) or F(3x3) on every map (train_tile's size gate moved out of the
    way); the tile, for the test's assertions."""
    monkeypatch.setattr(conv3x3, 'TRAIN_F3_MIN_PIXELS', 1 if request.param == 3 else 10**9)
    return request.param
