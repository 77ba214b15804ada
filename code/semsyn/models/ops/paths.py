"""Which computation the conditional layers run: the fast paths (default) or the reference path.

The reference path is the originals' straightforward computation (a convolution over the one-hot
label map, SPADE's separate gamma/beta convolutions, CC-FPSE's unfold-based conditional convolution
with stored kernels, SCGAN's K separate expert convolutions). The fast paths compute the same
values (to float rounding) with fewer operations; tests and benchmarks compare the two:

    with semsyn.models.ops.reference_path():
        out = net(semantics)

The switch is process-wide (not per thread): DataParallel replicas run in threads of their own and
must follow the caller's choice.
"""
from contextlib import contextmanager

_fast = [True]


def fast_paths_enabled():
    return _fast[0]


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
def fast_paths():
    """The fast paths inside the block, whatever an enclosing ``reference_path`` chose."""
    before = _fast[0]
    _fast[0] = True
    try:
        yield
    finally:
        _fast[0] = before
