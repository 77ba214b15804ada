"""Shared test helpers: where the reference material and sample datasets live (skip when absent)."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
REFERENCE = SHARED / 'reference'
DATASETS = SHARED / 'datasets'


def require(path, what):
    """Skip the calling test when `path` is missing (users cloning the project don't have ../shared)."""
    if not Path(path).exists():
        pytest.skip(f'{what} not found at {path} (it ships with the project\'s shared material only)')
    return Path(path)
