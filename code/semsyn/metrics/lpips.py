"""LPIPS diversity of a multimodal model: the mean LPIPS distance between the samples it makes for one
label map (averaged over all pairs, then over the label maps), as the papers report it.

The distance is the ``lpips`` package's own (``lpips.LPIPS``, AlexNet trunk, v0.1 linear layers shipped
with the package); only the trunk's ImageNet weights are handed to it here: from the torch hub cache
(``alexnet-owt-7be5be79.pth``, where torchvision puts them) or ``--lpips_weights PATH``, with a one-line
error when neither has them, never random weights.
"""
import itertools
import warnings
from typing import List

import lpips
import torch
from torchvision.models import AlexNet_Weights, alexnet

from ..errors import UserError
from ..fileio import load_untrusted
from ..weights import locate_weights

ALEXNET_URL = AlexNet_Weights.IMAGENET1K_V1.url
# lpips' AlexNet trunk: its slices hold torchvision's alexnet.features layers 0-1, 2-4, 5-7, 8-9, 10-11
TRUNK_SLICES = ((1, range(0, 2)), (2, range(2, 5)), (3, range(5, 8)), (4, range(8, 10)), (5, range(10, 12)))


def load_lpips(weights_path=None, device=torch.device('cpu')):
    """lpips.LPIPS(net='alex') with the AlexNet weights file from the hub cache or weights_path."""
    path = locate_weights(ALEXNET_URL, weights_path, 'AlexNet ImageNet weights (LPIPS)', '--lpips_weights')
    trunk = alexnet(weights=None)
    try:
        trunk.load_state_dict(load_untrusted(path, 'AlexNet weights'))
    except RuntimeError as exc:
        raise UserError(f"AlexNet weights {path} do not fit torchvision's alexnet ({str(exc).splitlines()[0]})") \
            from None
    with warnings.catch_warnings():  # lpips asks torchvision for pretrained=False in the deprecated spelling
        warnings.simplefilter('ignore', UserWarning)
        metric = lpips.LPIPS(net='alex', version='0.1', pnet_rand=True, verbose=False)
    with torch.no_grad():
        for index, layers in TRUNK_SLICES:
            part = getattr(metric.net, f'slice{index}')
            for i in layers:
                part._modules[str(i)].load_state_dict(trunk.features[i].state_dict())
    return metric.to(device).eval()


class LPIPSDiversity:
    """Mean pairwise LPIPS over the K samples of each label map."""

    def __init__(self, opt, device):
        if opt.n_samples < 2:
            raise UserError('--lpips measures the diversity of several samples per label map: pass --n_samples 2 or '
                            'more')
        if not opt.use_vae:
            raise UserError('--lpips: this model has no style code (--use_vae), so its samples for one label map are '
                            'all the same')
        self.metric = load_lpips(opt.lpips_weights, device)
        self.device, self.n_samples = device, opt.n_samples
        self.distances = []

    @torch.no_grad()
    def add(self, samples: List[torch.Tensor]):
        """samples: K tensors [B, 3, H, W] in [-1, 1], the k-th sample of each of B label maps."""
        pairs = [self.metric(a.to(self.device), b.to(self.device)).flatten()
                 for a, b in itertools.combinations(samples, 2)]
        self.distances.append(torch.stack(pairs).mean(0).cpu())  # per label map

    def result(self):
        per_map = torch.cat(self.distances)
        return {'lpips_diversity': float(per_map.mean()), 'lpips_std': float(per_map.std()) if len(per_map) > 1
                else 0.0, 'num_label_maps': len(per_map), 'n_samples': self.n_samples}
