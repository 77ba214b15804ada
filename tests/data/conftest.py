"""Guard for the data tests: nothing may be written into the shared sample datasets."""
import pytest

from tests.data.helpers import SHARED


def _snapshot(root):
    return sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob('*')) if root.is_dir() else []


@pytest.fixture(scope='package', autouse=True)
def shared_stays_untouched():
    """Fails the run if any test wrote into the shared datasets (e.g. a files.list cache)."""
    before = _snapshot(SHARED)
    yield
    assert _snapshot(SHARED) == before, f'a test modified {SHARED}'
