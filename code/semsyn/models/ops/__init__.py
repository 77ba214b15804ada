"""Conditional layers shared by the generators and the norm/spectral helpers of all networks."""
from .normalization import SPADE, get_nonspade_norm_layer, param_free_norm
from .paths import fast_paths, fast_paths_enabled, reference_path
from .spectral import spectral_norm

__all__ = ['SPADE', 'fast_paths', 'fast_paths_enabled', 'get_nonspade_norm_layer', 'param_free_norm',
           'reference_path', 'spectral_norm']
