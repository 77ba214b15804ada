"""FID statistics in float64 exactly as pytorch-fid computes them (np.mean, np.cov), its own Fréchet
distance (scipy's sqrtm with its eps fallback), and KID beside it."""
import json
import os
import warnings
from typing import Dict, Tuple

import numpy as np
from pytorch_fid.fid_score import calculate_frechet_distance

from ...errors import UserError
from ...fileio import atomic_replace, atomic_write_text
from ..kid import kernel_inception_distance
from .inception import FEATURE_DIMS


def statistics(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of [N, 2048] features, float64, as pytorch-fid."""
    features = np.asarray(features, dtype=np.float64)
    n = len(features)
    if n < 2:
        raise UserError(f'FID needs at least 2 images, got {n}')
    if n < features.shape[1]:
        warnings.warn(f'FID from {n} images: fewer than the {features.shape[1]} feature dimensions, so the '
                      f'covariance is rank-deficient and the value is biased (upwards); compare FIDs only at equal '
                      f'numbers of images, and see KID', stacklevel=2)
    return np.mean(features, axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


class Stats:
    """Statistics of one image set: mu, sigma and, where known, the features (for KID)."""

    def __init__(self, mu, sigma, features=None, source=''):
        self.mu, self.sigma, self.features, self.source = mu, sigma, features, source

    @classmethod
    def from_features(cls, features, source=''):
        mu, sigma = statistics(features)
        return cls(mu, sigma, features, source)

    @classmethod
    def load(cls, path, source=None):
        try:
            with np.load(path) as f:
                mu, sigma = f['mu'][:], f['sigma'][:]
                features = f['features'][:] if 'features' in f.files else None
        except (OSError, KeyError, ValueError) as exc:
            raise UserError(f"{path}: expected a .npz with arrays mu and sigma (pytorch-fid's format) "
                            f'({type(exc).__name__})') from None
        if mu.shape != (FEATURE_DIMS,) or sigma.shape != (FEATURE_DIMS, FEATURE_DIMS):
            raise UserError(f'{path}: mu/sigma have shapes {mu.shape}/{sigma.shape}, expected ({FEATURE_DIMS},) '
                            f'and ({FEATURE_DIMS}, {FEATURE_DIMS})')
        return cls(mu, sigma, features, str(path) if source is None else source)

    def save(self, path):
        arrays = {'mu': self.mu, 'sigma': self.sigma}
        if self.features is not None:
            arrays['features'] = self.features.astype(np.float32)
        atomic_replace(str(path), lambda f: np.savez_compressed(f, **arrays))


def compare(fake: 'Stats', real: 'Stats') -> Dict[str, float]:
    """{'fid': ..., 'kid': ..., 'kid_std': ..., 'num_fake': ..., 'num_real': ...} of two Stats."""
    result = {'fid': frechet_distance(fake.mu, fake.sigma, real.mu, real.sigma)}
    if fake.features is not None:
        result['num_fake'] = len(fake.features)
    if real.features is not None:
        result['num_real'] = len(real.features)
    if fake.features is not None and real.features is not None:
        result['kid'], result['kid_std'] = kernel_inception_distance(fake.features, real.features)
    return result


def save_result(result, folder, extra=None):
    """Write fid.json into folder (next to index.html); returns its path."""
    payload = dict(result)
    payload.update(extra or {})
    path = os.path.join(folder, 'fid.json')
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + '\n')
    return path
