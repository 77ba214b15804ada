"""Conditional layers shared by the generators and the norm/spectral helpers of all networks."""
from .normalization import SPADE, get_nonspade_norm_layer, param_free_norm
from .spectral import spectral_norm

__all__ = ['SPADE', 'get_nonspade_norm_layer', 'param_free_norm', 'spectral_norm']
