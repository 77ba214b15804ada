"""Pretrained weights the project needs (VGG19 for the perceptual loss, Inception for FID).

They come from an explicit path, or the torch hub cache (``$TORCH_HOME/hub/checkpoints``), where
they are downloaded when the internet is reachable. When they can't be had this is a one-line
UserError naming the file and where to put it: never random weights.
"""
import os
import socket

import torch

from .errors import UserError


def hub_weights_path(filename):
    return os.path.join(torch.hub.get_dir(), 'checkpoints', filename)


def fetch_to_hub_cache(url, timeout=20):
    """Download url into the hub cache; returns the path or None when it can't be reached.

    SEMSYN_OFFLINE=1 in the environment skips the attempt (machines known to be offline, tests)."""
    if os.environ.get('SEMSYN_OFFLINE', '') not in ('', '0'):
        return None
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.load_state_dict_from_url(url, progress=False, check_hash=False, weights_only=True)
        return hub_weights_path(os.path.basename(url))
    except Exception:
        return None
    finally:
        socket.setdefaulttimeout(old)


def locate_weights(url, explicit_path, what, option, fallback_hint=''):
    """Path of a weights file: explicit_path, else the hub cache (downloading into it if possible)."""
    filename = os.path.basename(url)
    if explicit_path:
        if not os.path.isfile(explicit_path):
            raise UserError(f'{option} {explicit_path}: file not found (expected {what} {filename})')
        return explicit_path
    path = hub_weights_path(filename)
    if os.path.isfile(path) or fetch_to_hub_cache(url) is not None:
        return path
    raise UserError(f'{what} {filename} are missing and could not be downloaded: put the file from {url} at '
                    f'{path}, or pass {option} PATH{fallback_hint}')


def load_weights(path, what):
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:
        raise UserError(f'{what} {path} could not be read ({type(exc).__name__})') from None
