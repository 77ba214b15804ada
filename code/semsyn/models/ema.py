"""The generator EMA (SCGAN's netA, OASIS's netEMA): the running average of G's weights, and the
batch-norm statistics an averaged generator needs.

``ema_update`` averages parameters and copies G's buffers, so by default the EMA generator is
normalised with G's running statistics. Those belong to G's current weights, not to the average;
``recalibrate_batch_norm`` re-estimates them by running the EMA generator over training batches,
as OASIS and imaginaire do before evaluating or saving it (``--ema_bn_batches``).

A generator declares how its original keeps the average (``EMARule``, ``Generator.ema_rule``):
semsyn's rule above, or OASIS's (utils.update_EMA): every state-dict entry averaged after the
whole iteration, and the statistics pass the EMA generator in training mode with its norms'
momentum (not reset: old statistics keep 0.9^n; spectral-norm vectors take a power iteration
per batch).
"""
from dataclasses import dataclass

import torch
from torch.nn.modules.batchnorm import _BatchNorm


@dataclass(frozen=True)
class EMARule:
    """every_entry: average every state-dict entry (else parameters; buffers copied from G).
    after: the step after which the average moves, 'G' or 'D' (the end of the iteration).
    statistics: 'cumulative' (reset, plain average, only the batch norms in training mode) or
    'running' (the whole network in training mode, the norms' own momentum)."""
    every_entry: bool = False
    after: str = 'G'
    statistics: str = 'cumulative'


@torch.no_grad()
def ema_update(ema, net, decay):
    """ema <- decay * ema + (1 - decay) * net (parameters); buffers copied from net."""
    for pa, pg in zip(ema.parameters(), net.parameters()):
        pa.lerp_(pg.detach().to(pa.dtype), 1.0 - decay)
    for ba, bg in zip(ema.buffers(), net.buffers()):
        ba.copy_(bg)


@torch.no_grad()
def ema_update_every_entry(ema, net, decay):
    """Every state-dict entry: ema <- ema * decay + net * (1 - decay), written as OASIS writes it
    (integer entries such as num_batches_tracked take the truncated float result)."""
    theirs = net.state_dict()
    for key, mine in ema.state_dict().items():
        mine.copy_(mine * decay + theirs[key].to(mine.device) * (1 - decay))


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


@torch.no_grad()
def running_statistics_pass(net, feed):
    """OASIS's statistics pass: ``feed(net)`` with the whole network in training mode (its batch
    norms update their running statistics with their momentum, spectral norm iterates once per
    forward); every module's mode is restored afterwards. Returns the number of batch norms."""
    modes = {m: m.training for m in net.modules()}
    net.train()
    try:
        feed(net)
    finally:
        for m, training in modes.items():
            m.training = training
    return len(batch_norms(net))
