"""Shared test helpers: where the reference material and sample datasets live (skip when absent)."""
from pathlib import Path

import pytest
import torch

import semsyn.kernels  # noqa: F401  (the CPU kernels, as the entry points register them)
from tests.fid_material import FID_FILE, random_fid_inception_state_dict

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
REFERENCE = SHARED / 'reference'
DATASETS = SHARED / 'datasets'


def require(path, what):
    """Skip the calling test when `path` is missing (users cloning the project don't have ../shared)."""
    if not Path(path).exists():
        pytest.skip(f'{what} not found at {path} (it ships with the project\'s shared material only)')
    return Path(path)


# FID tests without internet: the random FID weights in a temporary TORCH_HOME, where both pytorch-fid
# and semsyn look for pt_inception-2015-12-05-6726825d.pth.
@pytest.fixture(scope='session')
def fid_torch_home(tmp_path_factory):
    home = tmp_path_factory.mktemp('torch_home')
    (home / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.save(random_fid_inception_state_dict(), home / 'hub' / 'checkpoints' / FID_FILE)
    return home


@pytest.fixture(scope='session')
def fid_extractor(fid_torch_home):
    """One FeatureExtractor with the random weights for the whole session (building one takes seconds)."""
    from semsyn.metrics.fid import FeatureExtractor
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('TORCH_HOME', str(fid_torch_home))
        return FeatureExtractor()


@pytest.fixture
def fid_env(fid_torch_home, monkeypatch, tmp_path):
    """TORCH_HOME with the random FID weights, an empty stats cache, no download attempts."""
    monkeypatch.setenv('TORCH_HOME', str(fid_torch_home))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    return fid_torch_home
