"""Checkpoint files: where they are, saving, strict loading, and a clear error when one doesn't fit.

Network checkpoints are plain state dicts with the original parameter names
(``<epoch>_net_<G|D|E|A>.pth``) so released SPADE/CC-FPSE/SCGAN weights drop in; the training state
for an exact resume (optimizers, counters, learning rate, RNG states) is a separate file.
"""
import os

import torch

from .devices import unwrap
from .errors import UserError
from .fileio import atomic_torch_save, load_untrusted


def network_file(label, role):
    """SPADE's file name of network `role` (G, D, E, A) in checkpoint set `label` (latest, an epoch, best)."""
    return f'{label}_net_{role}.pth'


def train_state_file(label):
    return f'{label}_train_state.pth'


def network_path(checkpoints_dir, name, label, role):
    return os.path.join(checkpoints_dir, name, network_file(label, role))


def strip_module_prefix(state_dict):
    """Accept checkpoints saved from a DataParallel/DDP-wrapped network ('module.' prefixes)."""
    if state_dict and all(k.startswith('module.') for k in state_dict):
        return {k[len('module.'):]: v for k, v in state_dict.items()}
    return state_dict


# the options that shape the networks: named when a checkpoint doesn't fit
ARCH_HINT = 'netG, ngf, norm_G, label_nc, contain_dontcare_label, no_instance, crop_size, use_vae'


def check_fits(net, state_dict, path, options_hint=ARCH_HINT):
    """Raise a one-line UserError naming the first key or shape that doesn't fit the network."""
    own = net.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    hint = f' (check the options: {options_hint})' if options_hint else ''
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing keys, e.g. {missing[0]}')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys, e.g. {unexpected[0]}')
        raise UserError(f'checkpoint {path} does not fit the network: {"; ".join(parts)}{hint}')
    for key, value in own.items():
        got = state_dict[key]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(value.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise UserError(f'checkpoint {path} does not fit the network: {key} has shape {shape}, '
                            f'the options give {tuple(value.shape)}{hint}')


def load_network(net, path, options_hint=ARCH_HINT, suggest_opt_file=True):
    """Load a plain state dict strictly into net after checking keys and shapes. suggest_opt_file: name
    --load_from_opt_file in the error when the run's opt.yml exists (false when it is in use)."""
    if not os.path.isfile(path):
        raise UserError(f'checkpoint {path} not found: train under that --name first, or put a released '
                        f'checkpoint there (README: Checkpoints)')
    opt_file = os.path.join(os.path.dirname(os.path.abspath(path)), 'opt.yml')
    if suggest_opt_file and os.path.isfile(opt_file):  # the run's own options may be the ones that fit
        options_hint += f', or pass --load_from_opt_file to take them from {opt_file}'
    state_dict = load_untrusted(path)
    if not isinstance(state_dict, dict):
        raise UserError(f'checkpoint {path} holds a {type(state_dict).__name__}, expected a state dict')
    state_dict = strip_module_prefix(state_dict)
    check_fits(net, state_dict, path, options_hint)
    net.load_state_dict(state_dict, strict=True)
    return net


def save_network(net, path):
    """A single network file (training saves sets: checkpoint_sets.py)."""
    net = unwrap(net)
    atomic_torch_save({k: v.detach().cpu() for k, v in net.state_dict().items()}, path)


# The layout of OASIS's runs and released models: <checkpoints_dir>/<name>/models/<iter>_{G,D,EMA}.pth,
# its test using the EMA generator of the 'best' set by default.
ORIGINAL_ROLE_FILES = {'G': 'G', 'D': 'D', 'A': 'EMA'}


def original_layout_path(checkpoints_dir, name, label, role):
    """The file of network `role` (G, D or A, the EMA generator) in a run folder of OASIS's layout,
    or None when the folder is not one. semsyn's default set 'latest' falls back to 'best' (what
    the original's test loads) when the folder has no latest files."""
    models = os.path.join(checkpoints_dir, name, 'models')
    if os.path.isfile(network_path(checkpoints_dir, name, label, 'G')) or not os.path.isdir(models):
        return None
    if label == 'latest' and not any(os.path.isfile(os.path.join(models, f'latest_{f}.pth'))
                                     for f in ORIGINAL_ROLE_FILES.values()):
        label = 'best'
    return os.path.join(models, f'{label}_{ORIGINAL_ROLE_FILES[role]}.pth')
