"""Which computation the conditional layers run: the fast paths (default) or the reference path.

The reference path is the originals' straightforward computation (a convolution over the one-hot
label map, SPADE's separate gamma/beta convolutions, CC-FPSE's unfold-based conditional convolution
with stored kernels, SCGAN's K separate expert convolutions). The fast paths compute the same
values (to float rounding) with fewer operations; tests and benchmarks compare the two:

    with semsyn.models.ops.reference_path():
        out = net(semantics)

The switch is process-wide (not per thread): DataParallel replicas run in threads of their own and
must follow the caller's choice.

The fast paths' operations run on the CPU only, by default: they trade FLOPs for more, smaller
operations, and a GPU runs such steps at the pace of their launches, not of their FLOPs. Measured on
an H100 (bench/speed.py, G+D iteration, fp32): the fast operations took 1.99x the reference's time
for SPADE at 256x256 x1, 1.10x at 128x128 x8; CC-FPSE 1.35x / 1.52x; SCGAN 0.96x / 1.51x (bf16 and
fp16: 1.00-1.62x). Tensors elsewhere take the reference computation (the fused Adam of
training/trainer.py stays on every device); ``fast_paths(devices=('cpu', 'cuda'))`` runs them on the GPU too.
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
