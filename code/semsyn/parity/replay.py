"""Replay a train-step fixture with semsyn's own model wrapper, preprocessing and trainer.

``run_train_fixture(path)`` loads a fixture, builds semsyn's model and trainer from the original's
options (``originals.semsyn_options``), loads the initial G and D strictly, runs the fixture's
schedule of G and D steps on its raw batches, and applies the pass rule (``rule.py``). A fixture of
a new method or option is one file away from being tested.
"""
import torch

from ..fileio import load_untrusted
from ..models.synthesis import SynthesisModel, prepare_batch
from ..training.trainer import Trainer
from .originals import semsyn_options
from .rule import check_train_step

LOSS_STEPS = {'G': 'run_generator_one_step', 'D': 'run_discriminator_one_step'}


class RecordedDraws:
    """The original's random draws (a fixture's ``draws``) served in place of torch's: the noise and
    coins of schedule entry ``entry``, in the order the original drew them. Entries the replay does
    not run (visualisation: no state change) are skipped with their draws."""

    def __init__(self, draws):
        self.by_entry = {}
        for d in sorted(draws, key=lambda d: d['seq']):
            self.by_entry.setdefault(d['schedule_index'], []).append(d)
        self.entry = None

    def _next(self, fn, device):
        queue = self.by_entry.get(self.entry, [])
        if not queue or queue[0]['fn'] != fn:
            found = queue[0]['fn'] if queue else 'nothing'
            raise ValueError(f'schedule entry {self.entry}: semsyn draws {fn}, the original drew {found} there')
        return queue.pop(0)['value'].to(device)

    def normal(self, shape, device):
        value = self._next('randn', device)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f'schedule entry {self.entry}: noise of shape {tuple(shape)}, the original drew '
                             f'{tuple(value.shape)}')
        return value

    def coin(self, device):
        return self._next('randint', device)

    def left(self):
        return {e: len(q) for e, q in self.by_entry.items() if q}


def load_train_fixture(path):
    fx = load_untrusted(path, 'train-step fixture')
    if fx.get('kind') != 'train_step':
        raise ValueError(f'{path} is not a train-step fixture (kind {fx.get("kind")!r})')
    return fx


def optimizer_report(optimizer):
    group = optimizer.param_groups[0]
    return {'type': type(optimizer).__name__, 'lr': group['lr'], 'betas': list(group['betas']), 'eps': group['eps'],
            'weight_decay': group['weight_decay'], 'amsgrad': group['amsgrad'],
            'num_params': sum(len(g['params']) for g in optimizer.param_groups)}


def _capture_first_gradients(optimizer, net, store, key):
    """Record net's parameter gradients when optimizer steps for the first time."""
    def hook(opt, args, kwargs):
        if key not in store:
            store[key] = {n: p.grad.detach().clone() for n, p in net.named_parameters() if p.grad is not None}
    return optimizer.register_step_pre_hook(hook)


def replay_train_fixture(fx, device='cpu'):
    """semsyn's run of the fixture's schedule -> the result dict the pass rule takes."""
    device = torch.device(device)
    opt = semsyn_options(fx['options'], fx['source']['repository'])
    opt.gpu_ids, opt.gpu_id_list = '-1' if device.type == 'cpu' else str(device.index or 0), []
    model = SynthesisModel(opt)
    model.netG.load_state_dict(fx['state_dict_initial']['G'], strict=True)
    model.netD.load_state_dict(fx['state_dict_initial']['D'], strict=True)
    if 'EMA' in fx['state_dict_initial']:
        model.netA.load_state_dict(fx['state_dict_initial']['EMA'], strict=True)
    if 'draws' in fx:
        model.draws = RecordedDraws(fx['draws'])
    model = model.to(device).train()
    trainer = Trainer(opt, model, device)
    grads = {}
    hooks = [_capture_first_gradients(trainer.optimizer_G, model.netG, grads, 'G'),
             _capture_first_gradients(trainer.optimizer_D, model.netD, grads, 'D')]
    losses = []
    try:
        previous = None
        for index, step in enumerate(fx['schedule']):
            model.draws.entry = index
            if step['step'] in LOSS_STEPS:
                data = {k: v.clone() for k, v in fx['batches'][step['batch']].items()}
                semantics, real, _ = prepare_batch(data, opt, device)
                getattr(trainer, LOSS_STEPS[step['step']])(semantics, real)
                step_losses = trainer.g_losses if step['step'] == 'G' else trainer.d_losses
                losses.append({k: float(v) for k, v in step_losses.items()})
            elif step['step'] == 'EMA':
                run_ema_entry(model, fx, step, previous, opt, device)
                losses.append({})
            else:  # visualisation: evaluates the generators, changes no state
                losses.append({})
            previous = step['step']
    finally:
        for h in hooks:
            h.remove()
    return {'schedule': fx['schedule'], 'losses': losses,
            'grads': {k: {n: g.cpu() for n, g in v.items()} for k, v in grads.items()},
            'state_dict_final': {name: {k: v.detach().cpu() for k, v in net.state_dict().items()}
                                 for name, net in (('G', model.netG), ('D', model.netD), ('EMA', model.netA))
                                 if net is not None},
            'optimizers': {'G': optimizer_report(trainer.optimizer_G), 'D': optimizer_report(trainer.optimizer_D)}}


def run_ema_entry(model, fx, step, previous, opt, device):
    """An EMA entry of the original's schedule: the average (which semsyn's trainer already moved
    when its rule averages after the D step that precedes it), then the statistics pass over the
    entry's batches, if any."""
    if not (previous == 'D' and model.ema_rule.after == 'D'):
        model.update_ema()
    batches = [prepare_batch({k: v.clone() for k, v in fx['stats_batches'][j].items()}, opt, device)[:2]
               for j in step.get('stats_batches', [])]
    if batches:
        model.recalibrate_ema(batches)


def run_train_fixture(path, device='cpu'):
    """(fixture, result, ParityReport) for the fixture file at ``path``."""
    fx = load_train_fixture(path)
    result = replay_train_fixture(fx, device)
    return fx, result, check_train_step(fx, result)
