"""FID with pytorch-fid's network, weights, preprocessing and Fréchet distance; KID beside it.

Feature extraction and statistics are separate steps: ``FeatureExtractor`` turns image batches into
2048-d pool features (per process, per shard), ``statistics`` turns features into (mu, sigma) as
pytorch-fid does, ``compare`` gives FID and KID. ``python -m semsyn.metrics.fid A B`` on its own.
"""
from .cache import check_reference, default_cache_dir, folder_key, load_reference
from .folders import ImageFolder, extract_features, folder_features, image_files
from .inception import FEATURE_DIMS, FID_WEIGHTS_URL, INCEPTION_SIZE, FeatureExtractor, build_inception, quantize
from .preparation import PREPARATIONS, prepare, tf1_bilinear
from .stats import Stats, compare, frechet_distance, save_result, statistics

__all__ = ['FEATURE_DIMS', 'FID_WEIGHTS_URL', 'INCEPTION_SIZE', 'PREPARATIONS', 'FeatureExtractor', 'ImageFolder',
           'Stats', 'build_inception', 'check_reference', 'compare', 'default_cache_dir', 'extract_features',
           'folder_features', 'folder_key', 'frechet_distance', 'image_files', 'load_reference', 'prepare',
           'quantize', 'save_result', 'statistics', 'tf1_bilinear']
