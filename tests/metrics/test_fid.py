"""FID equals pytorch-fid's (same folders, same weights), KID equals torch-fidelity's, small-sample rules."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from semsyn.errors import UserError
from semsyn.metrics.fid import (
    FeatureExtractor,
    Stats,
    build_inception,
    compare,
    folder_features,
    frechet_distance,
    load_reference,
    statistics,
)
from semsyn.metrics.kid import kernel_inception_distance
from tests.fid_material import random_fid_inception_state_dict, write_images


def pytorch_fid_value(a, b, env):
    proc = subprocess.run([sys.executable, '-m', 'pytorch_fid', str(a), str(b), '--device', 'cpu',
                           '--batch-size', '5', '--num-workers', '0'], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout.strip().split('FID:')[-1])


def test_fid_equals_pytorch_fid(fid_env, fid_extractor, tmp_path):
    a = write_images(tmp_path / 'a', 7, seed=1)
    b = write_images(tmp_path / 'b', 6, seed=2, shift=0.2)
    reference = pytorch_fid_value(a, b, dict(os.environ))
    extractor = fid_extractor
    with pytest.warns(UserWarning, match='rank-deficient'):
        ours = compare(Stats.from_features(folder_features(extractor, a, batch_size=4)),
                       Stats.from_features(folder_features(extractor, b, batch_size=3)))
    print(f"FID parity: semsyn {ours['fid']:.10f}, pytorch-fid {reference:.10f}, "
          f"relative difference {abs(ours['fid'] - reference) / reference:.2e}")
    assert reference > 0
    assert abs(ours['fid'] - reference) <= 1e-3 * abs(reference)
    assert np.isfinite(ours['kid'])


def test_command_line_and_cached_statistics(fid_env, fid_extractor, tmp_path):
    a = write_images(tmp_path / 'a', 4, seed=3)
    b = write_images(tmp_path / 'b', 4, seed=4, shift=0.3)
    out = tmp_path / 'a.npz'
    proc = subprocess.run([sys.executable, '-m', 'semsyn.metrics.fid', str(a), str(b), '--save-stats', str(out),
                           '--num-workers', '0', '--device', 'cpu'], capture_output=True, text=True,
                          env=dict(os.environ), timeout=600)
    assert proc.returncode == 0, proc.stderr
    fid_cli = float(proc.stdout.split('FID:')[1].split()[0])
    assert 'KID:' in proc.stdout
    saved = Stats.load(out)
    assert saved.mu.shape == (2048,) and saved.features.shape == (4, 2048)

    extractor = fid_extractor
    with pytest.warns(UserWarning):
        first = load_reference(b, extractor)  # computed and cached
    cache = list((tmp_path / 'cache' / 'semsyn' / 'fid_stats').glob('*.npz'))
    assert len(cache) == 1
    again = load_reference(b, extractor)  # from the cache: same numbers, no warning from recomputing
    assert np.array_equal(first.sigma, again.sigma) and np.array_equal(first.features, again.features)
    # an npz in pytorch-fid's format (mu, sigma only) is a valid reference: FID without KID
    np.savez(tmp_path / 'pf.npz', mu=again.mu, sigma=again.sigma)
    result = compare(saved, load_reference(tmp_path / 'pf.npz', extractor))
    assert result['fid'] == pytest.approx(fid_cli, rel=1e-6) and 'kid' not in result
    # changing the folder changes the key
    write_images(tmp_path / 'b', 5, seed=5)
    with pytest.warns(UserWarning):
        load_reference(b, extractor)
    assert len(list((tmp_path / 'cache' / 'semsyn' / 'fid_stats').glob('*.npz'))) == 2


def test_kid_equals_torch_fidelity():
    from torch_fidelity.metric_kid import kid_features_to_metric
    rng = np.random.RandomState(0)
    a, b = rng.rand(30, 64), rng.rand(40, 64) + 0.2
    ref = kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subset_size=30, verbose=False)
    mean, std = kernel_inception_distance(a, b)
    assert mean == pytest.approx(ref['kernel_inception_distance_mean'], rel=1e-9)
    assert std == pytest.approx(ref['kernel_inception_distance_std'], rel=1e-9)
    same_distribution = kernel_inception_distance(a, rng.rand(40, 64))
    assert abs(same_distribution[0]) < mean / 3


@pytest.mark.parametrize('n_a, n_b', [(400, 300), (5, 7), (2, 2)])  # full-rank covariances, rank-deficient ones
def test_frechet_distance_equals_pytorch_fids(n_a, n_b):
    """By eigenvalues, the value of pytorch-fid's sqrtm formula (its eps fallback never needed here)."""
    from pytorch_fid.fid_score import calculate_frechet_distance
    rng = np.random.RandomState(n_a)
    a, b = rng.randn(n_a, 64) @ rng.randn(64, 64), rng.randn(n_b, 64) * 1.3 + 0.2
    stats = [a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)]
    ours, theirs = frechet_distance(*stats), calculate_frechet_distance(*stats)
    assert ours == pytest.approx(theirs, rel=1e-7)  # rank-deficient: the two roundings differ by ~3e-9
    # a set against itself: 0 to rounding (the sum of square roots of its covariance's rounding-size eigenvalues)
    assert abs(frechet_distance(stats[0], stats[1], stats[0], stats[1])) < 1e-6 * np.trace(stats[1])
    with pytest.raises(ValueError, match='different sizes'):
        frechet_distance(stats[0][:8], stats[1][:8, :8], stats[2], stats[3])
    broken = stats[3].copy()
    broken[0, 0] = np.nan
    with pytest.raises(UserError, match='NaN or infinite'):
        frechet_distance(stats[0], stats[1], stats[2], broken)


def test_small_samples():
    with pytest.raises(UserError, match='at least 2 images'):
        statistics(np.zeros((1, 2048)))
    with pytest.warns(UserWarning, match='rank-deficient'):
        statistics(np.random.rand(5, 2048))


def test_missing_weights_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    with pytest.raises(UserError) as exc:
        FeatureExtractor()
    msg = str(exc.value)
    assert 'pt_inception-2015-12-05-6726825d.pth' in msg and str(tmp_path) in msg and '--fid_weights' in msg
    with pytest.raises(UserError, match='not found'):
        FeatureExtractor(str(tmp_path / 'missing.pth'))


def test_bad_reference_files(fid_env, fid_extractor, tmp_path):
    extractor = fid_extractor
    (tmp_path / 'bad.npz').write_bytes(b'not an npz')
    with pytest.raises(UserError, match='mu and sigma'):
        load_reference(tmp_path / 'bad.npz', extractor)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UserError, match='no images'):
        load_reference(tmp_path / 'empty', extractor)
    (tmp_path / 'broken').mkdir()
    (tmp_path / 'broken' / 'x.png').write_bytes(b'not a png')
    with pytest.raises(UserError, match='x.png'):
        load_reference(tmp_path / 'broken', extractor)


class _Payload:
    def __reduce__(self):
        return (os.system, ('echo should-never-run',))


def test_weights_elsewhere_are_handed_to_pytorch_fid_weights_only(fid_torch_home, tmp_path, monkeypatch):
    """--fid_weights PATH reaches pytorch-fid's own constructor through a temporary hub cache; the hub
    cache of the user is untouched, and a file with executable objects is refused, not run."""
    from tests.fid_material import FID_FILE
    custom = tmp_path / 'inception.pth'
    custom.write_bytes((fid_torch_home / 'hub' / 'checkpoints' / FID_FILE).read_bytes())
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty_home'))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    net = build_inception(custom)
    expected = random_fid_inception_state_dict()
    assert torch.equal(net.blocks[0][0].conv.weight, expected['Conv2d_1a_3x3.conv.weight'])
    assert os.environ['TORCH_HOME'] == str(tmp_path / 'empty_home')
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ
    evil = tmp_path / 'evil.pth'
    torch.save({**expected, 'payload': _Payload()}, evil)
    with pytest.raises(UserError) as exc:
        build_inception(evil)
    assert 'executable objects' in str(exc.value) and 'weights_only' not in str(exc.value)
