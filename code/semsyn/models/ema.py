"""The generator EMA (SCGAN's netA, OASIS's netEMA): the running average of G's weights, and the
batch-norm statistics an averaged generator needs.

``ema_update`` averages parameters and copies G's buffers, so by default the EMA generator is
normalised with G's running statistics. Those belong to G's current weights, not to the average;
``recalibrate_batch_norm`` re-estimates them by running the EMA generator over training batches,
as OASIS and imaginaire do before evaluating or saving it (``--ema_bn_batches``).
"""
import torch
from torch.nn.modules.batchnorm import _BatchNorm


@torch.no_grad()
def ema_update(ema, net, decay):
    """ema <- decay * ema + (1 - decay) * net (parameters); buffers copied from net."""
    for pa, pg in zip(ema.parameters(), net.parameters()):
        pa.lerp_(pg.detach().to(pa.dtype), 1.0 - decay)
    for ba, bg in zip(ema.buffers(), net.buffers()):
        ba.copy_(bg)


def batch_norms(net):
    return [m for m in net.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batch_norm(net, feed):
    """Running statistics of net's batch norms re-estimated as the plain average over the batches that
    ``feed(net)`` runs through net. Only the batch norms are in training mode meanwhile, so nothing else
    changes (spectral-norm vectors, dropout); every module's mode is restored afterwards."""
    norms = batch_norms(net)
    if not norms:
        return 0
    modes = {m: m.training for m in net.modules()}
    momenta = [m.momentum for m in norms]
    net.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
        m.train()
    try:
        feed(net)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        for m, training in modes.items():
            m.training = training
    return len(norms)
