"""Kernel pieces that bench/speed.py can take out (``--without``), each replaced by the plain
computation it stands for, to measure what it buys in a step and in peak memory."""
import types

import torch


def _plain_modulate(normalized, params):
    scale, shift = params.split(normalized.shape[1], dim=1)
    return torch.addcmul(shift, normalized, scale)


def without_modulation():
    """SPADE's modulation as addcmul into a new map (not over beta's half of the parameters)."""
    from semsyn.kernels import ccfpse, spade
    spade.modulate = ccfpse.modulate = _plain_modulate


def without_unjoined_experts():
    """SCGAN's experts joined into one convolution on small maps under autograd too."""
    from semsyn.kernels import scgan
    scgan.JOIN_MIN_PIXELS = 0


def without_grouped_depthwise_backward():
    """CC-FPSE's depthwise backward chunk by chunk, not all chunks in one grouped Winograd call (``group=``)."""
    from semsyn.kernels import depthwise, winograd
    depthwise.winograd = types.SimpleNamespace(**{**vars(winograd), 'winograd_weight_grad_pays': lambda *a: False})


PIECES = {'modulation': without_modulation, 'unjoined_experts': without_unjoined_experts,
          'grouped_depthwise': without_grouped_depthwise_backward}


def take_out(names):
    for name in names:
        PIECES[name]()
