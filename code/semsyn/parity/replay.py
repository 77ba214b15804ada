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
    model = model.to(device).train()
    trainer = Trainer(opt, model, device)
    grads = {}
    hooks = [_capture_first_gradients(trainer.optimizer_G, model.netG, grads, 'G'),
             _capture_first_gradients(trainer.optimizer_D, model.netD, grads, 'D')]
    losses = []
    try:
        for step in fx['schedule']:
            data = {k: v.clone() for k, v in fx['batches'][step['batch']].items()}
            semantics, real, _ = prepare_batch(data, opt, device)
            getattr(trainer, LOSS_STEPS[step['step']])(semantics, real)
            step_losses = trainer.g_losses if step['step'] == 'G' else trainer.d_losses
            losses.append({k: float(v) for k, v in step_losses.items()})
    finally:
        for h in hooks:
            h.remove()
    return {'schedule': fx['schedule'], 'losses': losses,
            'grads': {k: {n: g.cpu() for n, g in v.items()} for k, v in grads.items()},
            'state_dict_final': {'G': {k: v.detach().cpu() for k, v in model.netG.state_dict().items()},
                                 'D': {k: v.detach().cpu() for k, v in model.netD.state_dict().items()}},
            'optimizers': {'G': optimizer_report(trainer.optimizer_G), 'D': optimizer_report(trainer.optimizer_D)}}


def run_train_fixture(path, device='cpu'):
    """(fixture, result, ParityReport) for the fixture file at ``path``."""
    fx = load_train_fixture(path)
    result = replay_train_fixture(fx, device)
    return fx, result, check_train_step(fx, result)
