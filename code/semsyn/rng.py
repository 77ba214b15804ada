"""Capture and restore every random number generator a training step touches, for exact resume."""
import random

import numpy as np
import torch


def capture_rng_state():
    state = {'torch': torch.get_rng_state(), 'python': random.getstate()}
    np_state = np.random.get_state()
    state['numpy'] = {'keys': torch.from_numpy(np_state[1].astype(np.int64)), 'pos': int(np_state[2]),
                      'has_gauss': int(np_state[3]), 'cached_gaussian': float(np_state[4])}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state):
    torch.set_rng_state(state['torch'])
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    n = state['numpy']
    np.random.set_state(('MT19937', n['keys'].numpy().astype(np.uint32), n['pos'], n['has_gauss'],
                         n['cached_gaussian']))
    if 'cuda' in state and torch.cuda.is_available() and len(state['cuda']) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state['cuda'])


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
