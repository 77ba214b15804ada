"""Released segmenter weight files as they come: a plain state dict, or one wrapped in a training
checkpoint (``{'state_dict': ...}``), saved from ``nn.DataParallel`` (``module.`` prefix). Loading is
strict except for the entries old PyTorch versions or other BatchNorm classes did not save
(``num_batches_tracked``, the vacancy SyncBN buffers), which do not affect evaluation outputs."""
import os
from dataclasses import dataclass
from typing import Dict

import torch

from ...errors import UserError
from ...fileio import load_untrusted
from ...weights import hub_weights_path

# state-dict entries a released file may lack (see the reference README on the released files)
OPTIONAL_SUFFIXES = ('num_batches_tracked', '_tmp_running_mean', '_tmp_running_var', '_running_iter')


@dataclass(frozen=True)
class ReleasedFile:
    """Where a segmenter's weights come from and where semsyn looks for them by default."""
    filename: str
    repository: str
    url: str

    def default_path(self) -> str:
        return hub_weights_path(self.filename)

    def missing(self, path: str) -> UserError:
        return UserError(f'segmenter weights {path} not found: get {os.path.basename(self.filename)} of '
                         f'{self.repository} ({self.url}) and put it at {self.default_path()} or pass '
                         f'--segmenter_weights PATH')

    def locate(self, path=None) -> str:
        path = path or self.default_path()
        if not os.path.exists(path):
            raise self.missing(path)
        return path


def read_state_dict(path: str, what='segmenter weights') -> Dict[str, torch.Tensor]:
    """The tensors of a weights file, unwrapped from a checkpoint dict and stripped of ``module.``."""
    state = load_untrusted(path, what)
    for key in ('state_dict', 'model', 'model_state_dict'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UserError(f'{what} {path}: expected a state dict of tensors')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def load_strict(net: torch.nn.Module, state: Dict[str, torch.Tensor], path: str, what: str):
    """Every entry of net from state (same shapes), except the optional ones; no unexpected entries."""
    own = net.state_dict()
    missing = [k for k in own if k not in state and not k.endswith(OPTIONAL_SUFFIXES)]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing entries (first {missing[0]})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected entries (first {unexpected[0]})')
        if wrong:
            k = wrong[0]
            parts.append(f'{len(wrong)} entries of other shapes (first {k}: {list(state[k].shape)} vs '
                         f'{list(own[k].shape)})')
        raise UserError(f'{what} {path} do not fit {type(net).__name__}: {"; ".join(parts)}')
    full = dict(own)
    full.update(state)
    net.load_state_dict(full, strict=True)
    return net


def count_blocks(state: Dict[str, torch.Tensor], prefix: str) -> int:
    """Number of numbered children under prefix ('layer1.' -> 3 for layer1.0 .. layer1.2)."""
    found = {int(k[len(prefix):].split('.')[0]) for k in state
             if k.startswith(prefix) and k[len(prefix):].split('.')[0].isdigit()}
    return max(found) + 1 if found else 0
