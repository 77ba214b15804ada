"""Accelerated implementations of models/' layers, registered with models.dispatch on import.

Each implementation computes its layer's values (to float rounding) by a cheaper route and says
where it applies (device, one-hot input, sizes); elsewhere the layer's own forward runs. The entry
points that run networks (inference, training) import this package; code that builds networks
directly imports it to get the same computation, or leaves it out for the reference one.
"""
from . import ccfpse, fpse, patchgan, resize, routing, scgan, spade, spectral  # noqa: F401  (register with models.dispatch)


def activate():
    """Nothing to do: importing this package registers its kernels; the name documents the import."""
