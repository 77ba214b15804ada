"""Which computation the networks run: with the kernels (default) or the reference path.

The reference path is every layer's own ``forward``, the originals' computation. By default the
layers that have a registered kernel (semsyn/kernels, through models/dispatch.py) run it instead
where it applies; the kernels compute the same values (to float rounding) by cheaper routes. Tests
and benchmarks compare the two:

    with semsyn.paths.reference_path():
        out = net(semantics)

The switch is process-wide (not per thread): DataParallel replicas run in threads of their own and
must follow the caller's choice. The kernels run on the CPU only, by default: they trade FLOPs for
more, smaller operations, and a GPU runs such steps at the pace of their launches
(bench/RESULTS.md); ``fast_paths(devices=('cpu', 'cuda'))`` runs them on the GPU too. Only
models/dispatch.py and the kernels ask the switch; it sits below models/ and imports nothing.
"""
from contextlib import contextmanager

_fast = [True]
_devices = [frozenset({'cpu'})]


def fast_paths_enabled(on=None):
    """Whether the fast paths run: the switch, and with ``on`` (a tensor) whether they run on its
    device."""
    return _fast[0] and (on is None or on.device.type in _devices[0])


@contextmanager
def reference_path(enabled=True):
    """Run the reference (original) computation inside the block; ``enabled=False`` is a no-op, so a
    caller can write ``with reference_path(args.reference):``."""
    before = _fast[0]
    _fast[0] = before and not enabled
    try:
        yield
    finally:
        _fast[0] = before


@contextmanager
def fast_paths(devices=None):
    """The fast paths inside the block, whatever an enclosing ``reference_path`` chose; ``devices``
    (device types, e.g. ``('cpu', 'cuda')``): where their operations run, instead of the default."""
    before = _fast[0], _devices[0]
    _fast[0] = True
    if devices is not None:
        _devices[0] = frozenset(devices)
    try:
        yield
    finally:
        _fast[0], _devices[0] = before
