"""torch's fused Adam for the training step: one pass over each parameter and its two moments
instead of the per-tensor loop of about six operations that the default runs on the CPU. Same update
to float rounding. Used wherever torch has the fused kernel for the parameters (CPU and CUDA), while
the kernels are switched on (decided when the optimizer is built); the reference path keeps the
originals' default implementation."""
from ..paths import fast_paths_enabled

FUSED_ADAM_DEVICES = ('cpu', 'cuda')


def fused_adam(params):
    """Whether the Adam over ``params`` (a list) runs torch's fused kernel."""
    return fast_paths_enabled() and all(p.is_floating_point() and p.device.type in FUSED_ADAM_DEVICES
                                        for p in params)
