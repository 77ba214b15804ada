"""The hook through which accelerated implementations replace a layer's own forward.

A layer class deriving from ``Dispatched`` computes the original's values in its ``forward``. When
called, it first asks the registry for an implementation registered for its class (``register``,
filled by ``semsyn.kernels`` when that package is imported: models/ never imports it); the first
whose ``applies(layer, context, *args)`` holds runs instead, otherwise the forward runs. The
dispatcher steps aside inside ``semsyn.paths.reference_path()`` (the one switch: no layer asks
it), while torch.compile traces, and for a layer with forward hooks.

What the layers of one forward share (e.g. the label map checked once) lives in a ``ForwardContext``
opened by the network's top-level forward (``forward_context``); it is a context variable, so each
DataParallel replica's thread (which runs the top-level forward itself) has its own.
"""
import contextvars
from contextlib import contextmanager

import torch
import torch.nn as nn

from ..paths import fast_paths_enabled

_REGISTRY = {}


def label_channels(opt):
    """How many of a generator's input channels are the one-hot label map (all but the instance edges)."""
    return opt.semantic_nc - (0 if opt.no_instance else 1)


_CONTEXT = contextvars.ContextVar('semsyn_forward_context', default=None)


def register(layer_class, applies, run):
    """Register ``run(layer, context, *args)`` for ``layer_class``, used where
    ``applies(layer, context, *args)`` is true."""
    _REGISTRY.setdefault(layer_class, []).append((applies, run))


def registered():
    """{layer class: [(applies, run), ...]}: what ``register`` holds."""
    return {cls: list(impls) for cls, impls in _REGISTRY.items()}


class ForwardContext:
    """The network input of the current forward and what the layers derive from it once."""

    def __init__(self, semantics, label_channels):
        self.semantics, self.label_channels = semantics, label_channels
        self._cache = {}

    def cached(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


def current_context():
    return _CONTEXT.get()


@contextmanager
def forward_context(semantics, label_channels):
    """Open the per-forward context of a network whose input is ``semantics``, the first
    ``label_channels`` channels of which are a label map (one-hot, or not)."""
    token = _CONTEXT.set(ForwardContext(semantics, label_channels))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _implementation(layer, args):
    impls = _REGISTRY.get(type(layer))
    if not impls or not fast_paths_enabled() or torch.compiler.is_compiling():
        return None
    if layer._forward_hooks or layer._forward_pre_hooks:
        return None
    context = _CONTEXT.get()
    for applies, run in impls:
        if applies(layer, context, *args):
            return lambda: run(layer, context, *args)
    return None


class Dispatched(nn.Module):
    """A layer whose call may run a registered implementation instead of its ``forward``."""

    def __call__(self, *args, **kwargs):
        run = None if kwargs else _implementation(self, args)
        if run is None:
            return super().__call__(*args, **kwargs)
        return run()
