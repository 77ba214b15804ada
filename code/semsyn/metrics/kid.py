"""Kernel Inception Distance as torch-fidelity defines it: the unbiased MMD^2 estimate with the
polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.

Unlike FID it has no bias from a small number of images, so it is meaningful on small sets.
"""
from typing import Tuple

import numpy as np

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_DEGREE = 3
KID_COEF0 = 1.0
KID_SEED = 2020


def polynomial_kernel(x, y, degree=KID_DEGREE, coef0=KID_COEF0):
    gamma = 1.0 / x.shape[1]
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(f1, f2):
    k_11, k_22, k_12 = polynomial_kernel(f1, f1), polynomial_kernel(f2, f2), polynomial_kernel(f1, f2)
    m = f1.shape[0]
    kt_xx = k_11.sum() - np.trace(k_11)
    kt_yy = k_22.sum() - np.trace(k_22)
    return (kt_xx + kt_yy) / (m * (m - 1)) - 2 * k_12.sum() / (m ** 2)


def kernel_inception_distance(features_1: np.ndarray, features_2: np.ndarray, subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = KID_SEED) -> Tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over `subsets` random subsets of min(subset_size, N1, N2)."""
    f1 = np.asarray(features_1, dtype=np.float64)
    f2 = np.asarray(features_2, dtype=np.float64)
    size = min(subset_size, len(f1), len(f2))
    if size < 2:
        raise ValueError(f'KID needs at least 2 images per set, got {len(f1)} and {len(f2)}')
    rng = np.random.RandomState(seed)
    mmds = np.zeros(subsets)
    for i in range(subsets):
        a = f1[rng.choice(len(f1), size, replace=False)]
        b = f2[rng.choice(len(f2), size, replace=False)]
        mmds[i] = mmd2_unbiased(a, b)
    return float(np.mean(mmds)), float(np.std(mmds))
