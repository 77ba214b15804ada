"""Pretrained weights the project needs (VGG19 for the perceptual loss, Inception for FID).

They come from an explicit path, or the torch hub cache (``$TORCH_HOME/hub/checkpoints``), where
they are downloaded when the internet is reachable. When they can't be had this is a one-line
UserError naming the file and where to put it: never random weights.
"""
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager

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


@contextmanager
def temporary_environ(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def hub_cache_holding(path, filename):
    """For a library that loads its weights from the torch hub cache by file name (pytorch-fid):
    within this context the hub cache holds the file at ``path`` as ``filename`` (the real cache
    when it is already there, else a temporary one linking to it), and torch.load reads weights-only
    (TORCH_FORCE_WEIGHTS_ONLY_LOAD), whatever the library asks for."""
    path = os.path.abspath(path)
    if path == os.path.abspath(hub_weights_path(filename)):
        with temporary_environ(TORCH_FORCE_WEIGHTS_ONLY_LOAD='1'):
            yield
        return
    with tempfile.TemporaryDirectory(prefix='semsyn-hub-') as home:
        folder = os.path.join(home, 'hub', 'checkpoints')
        os.makedirs(folder)
        try:
            os.symlink(path, os.path.join(folder, filename))
        except OSError:  # file systems without symlinks
            shutil.copyfile(path, os.path.join(folder, filename))
        with temporary_environ(TORCH_HOME=home, TORCH_FORCE_WEIGHTS_ONLY_LOAD='1'):
            yield
