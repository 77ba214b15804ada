"""Nothing overwrites a result page: test.py on the user's own label maps writes label_<folder>_<epoch>,
beside the test set's <phase>_<epoch>; a second run whose folder exists writes <folder>_2 (and so on)
unless --replace_results, which removes the old folder first."""
import numpy as np
import pytest
from PIL import Image

from tests.training.helpers import synthesize_run, train_run

pytestmark = pytest.mark.slow

DATA = ['--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '32']


def test_result_pages_are_never_replaced(tmp_path, capsys):
    train_run(tmp_path, 'r', *DATA)
    results = tmp_path / 'results' / 'r'
    _, page = synthesize_run(tmp_path, 'r', *DATA)
    assert page == str(results / 'test_latest' / 'index.html')
    first = (results / 'test_latest' / 'index.html').read_bytes()

    labels = tmp_path / 'maps'
    labels.mkdir()
    Image.fromarray(np.full((32, 32), 2, np.uint8)).save(labels / 'a.png')
    _, page = synthesize_run(tmp_path, 'r', *DATA, '--label_dir', str(labels))
    assert page == str(results / 'label_maps_latest' / 'index.html')
    assert (results / 'test_latest' / 'index.html').read_bytes() == first  # the test set's page stays

    capsys.readouterr()
    _, page = synthesize_run(tmp_path, 'r', *DATA)
    assert page == str(results / 'test_latest_2' / 'index.html')
    assert f'{results / "test_latest"} holds earlier results; writing {results / "test_latest_2"}' in \
        capsys.readouterr().out
    assert (results / 'test_latest' / 'index.html').read_bytes() == first

    (results / 'test_latest' / 'stale.txt').write_text('from before')
    _, page = synthesize_run(tmp_path, 'r', *DATA, '--replace_results')
    assert page == str(results / 'test_latest' / 'index.html')
    assert not (results / 'test_latest' / 'stale.txt').exists()
