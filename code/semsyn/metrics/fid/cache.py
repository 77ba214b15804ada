"""Reference statistics of --gt: a .npz (pytorch-fid's mu/sigma), or a folder of images whose
statistics are cached under ~/.cache/semsyn/fid_stats, keyed by its files, the resolution and the
weights, so repeated evaluations don't recompute them."""
import hashlib
import os
import warnings
from pathlib import Path
from typing import Optional

from ...errors import UserError
from ...fileio import user_cache_dir
from .folders import folder_features, image_files
from .inception import INCEPTION_SIZE, FeatureExtractor
from .stats import Stats


def folder_key(folder, extractor):
    """Cache key of a folder's statistics: its files (names, sizes, times), the resolution, the weights."""
    h = hashlib.sha256()
    for p in image_files(folder):
        st = os.stat(p)
        h.update(f'{os.path.basename(p)}:{st.st_size}:{st.st_mtime_ns}\n'.encode())
    h.update(f'{INCEPTION_SIZE}:{extractor.weights_id}'.encode())
    return h.hexdigest()[:32]


def default_cache_dir():
    return user_cache_dir('fid_stats')


def check_reference(path):
    """A one-line error when --gt is neither a .npz file nor a folder of images."""
    path = Path(path)
    if path.suffix == '.npz':
        if not path.is_file():
            raise UserError(f'--gt {path}: file not found')
    elif not path.is_dir():
        raise UserError(f'--gt {path}: not a folder of real images or a .npz of their statistics')
    else:
        image_files(path)


def load_reference(path, extractor: FeatureExtractor, batch_size: int = 50, num_workers: int = 0,
                   cache_dir: Optional[str] = None) -> Stats:
    """Stats of --gt; their ``source`` is the path the user named, also when read from the cache."""
    path = Path(path)
    if path.suffix == '.npz':
        if not path.is_file():
            raise UserError(f'--gt {path}: file not found')
        return Stats.load(path)
    cached = Path(cache_dir or default_cache_dir()) / f'{folder_key(path, extractor)}.npz'
    if cached.is_file():
        return Stats.load(cached, source=str(path))
    stats = Stats.from_features(folder_features(extractor, path, batch_size, num_workers), str(path))
    try:
        stats.save(cached)
    except OSError as exc:
        warnings.warn(f'could not cache FID statistics in {cached.parent} ({exc})', stacklevel=2)
    return stats
