"""The switch between the reference path and the fast paths (models/paths.py, a leaf module that
models/dispatch.py imports without loading this package)."""
from ..paths import fast_paths, fast_paths_enabled, reference_path

__all__ = ['fast_paths', 'fast_paths_enabled', 'reference_path']
