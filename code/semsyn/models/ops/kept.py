"""A tensor derived from parameters, kept between eval-mode calls on the CPU while they are unchanged.

Inference reruns the same derivations every call (spectral norm's division by sigma, SCGAN's joined
expert weights): full passes over the large low-resolution weights, as long as their convolutions.
``Kept.get(sources, build)`` returns the last value while every source is the same storage at the
same version counter (optimizer steps, in-place updates under no_grad and load_state_dict bump it;
``.data`` writes do not, as for autograd). The sources are held, so a freed storage's address cannot
come back under a new tensor.
"""
import torch


def reuse_allowed(module, tensor):
    """Eval mode, no autograd, on the CPU (on GPUs the derivations cost next to nothing, and a kept
    copy of every weight would take device memory)."""
    return not module.training and not torch.is_grad_enabled() and tensor.device.type == 'cpu'


class Kept:
    def __init__(self):
        self.clear()

    def clear(self):
        self._sources = self._key = self._value = None

    def get(self, sources, build):
        key = [(s.data_ptr(), s._version, s.dtype, tuple(s.shape)) for s in sources]
        if key != self._key:
            self.clear()  # free the old value before building the new one
            self._value, self._sources, self._key = build(), list(sources), key
        return self._value
