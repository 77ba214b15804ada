"""VGG19 feature extractor for the perceptual loss, with torchvision's ImageNet weights.

The weights come from the torch hub cache (downloaded there when the internet is reachable) or an
explicit path. When they can't be had this is a one-line UserError: never random weights.
"""
import os
import socket

import torch
import torch.nn as nn
import torchvision

from ..errors import UserError

VGG19_URL = torchvision.models.VGG19_Weights.IMAGENET1K_V1.url
VGG19_FILE = os.path.basename(VGG19_URL)  # vgg19-dcbb9e9d.pth


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
        torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True, weights_only=True)
        return hub_weights_path(os.path.basename(url))
    except Exception:
        return None
    finally:
        socket.setdefaulttimeout(old)


def load_vgg19_state_dict(weights_path=None):
    if weights_path:
        if not os.path.isfile(weights_path):
            raise UserError(f'--vgg_weights {weights_path}: file not found (expected torchvision\'s {VGG19_FILE})')
        path = weights_path
    else:
        path = hub_weights_path(VGG19_FILE)
        if not os.path.isfile(path) and fetch_to_hub_cache(VGG19_URL) is None:
            raise UserError(f'VGG19 ImageNet weights {VGG19_FILE} are missing and could not be downloaded: put the '
                            f'file from {VGG19_URL} at {path}, or pass --vgg_weights PATH, or train with --no_vgg_loss')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:
        raise UserError(f'VGG19 weights {path} could not be read ({type(exc).__name__}); '
                        f'expected torchvision\'s {VGG19_FILE}') from None


class VGG19Features(nn.Module):
    """relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 of torchvision's VGG19 (frozen), as SPADE's VGG19."""

    slices_at = (2, 7, 12, 21, 30)

    def __init__(self, weights_path=None, state_dict=None):
        super().__init__()
        vgg = torchvision.models.vgg19(weights=None)
        if state_dict is None:
            state_dict = load_vgg19_state_dict(weights_path)
        try:
            vgg.load_state_dict(state_dict, strict=True)
        except RuntimeError as exc:
            raise UserError(f'VGG19 weights do not match torchvision\'s vgg19 ({str(exc).splitlines()[0]})') from None
        features = vgg.features
        self.slices = nn.ModuleList()
        start = 0
        for end in self.slices_at:
            self.slices.append(nn.Sequential(*[features[i] for i in range(start, end)]))
            start = end
        for p in self.parameters():
            p.requires_grad = False
        self.eval()

    def train(self, mode=True):
        return super().train(False)  # frozen: stays in eval mode

    def forward(self, x):
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out
