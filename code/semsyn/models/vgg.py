"""VGG19 feature extractor for the perceptual loss, with torchvision's ImageNet weights.

The weights come from the torch hub cache (downloaded there when the internet is reachable) or an
explicit path. When they can't be had this is a one-line UserError: never random weights.
"""
import torch.nn as nn
import torchvision

from ..errors import UserError
from ..fileio import load_untrusted
from ..weights import locate_weights

VGG19_URL = torchvision.models.VGG19_Weights.IMAGENET1K_V1.url


def load_vgg19_state_dict(weights_path=None, missing_hint=', or train with --no_vgg_loss'):
    path = locate_weights(VGG19_URL, weights_path, 'VGG19 ImageNet weights', '--vgg_weights', missing_hint)
    return load_untrusted(path, 'VGG19 weights')


class VGG19Features(nn.Module):
    """relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 of torchvision's VGG19 (frozen), as SPADE's VGG19."""

    slices_at = (2, 7, 12, 21, 30)

    def __init__(self, weights_path=None, state_dict=None, missing_hint=', or train with --no_vgg_loss'):
        super().__init__()
        vgg = torchvision.models.vgg19(weights=None)
        if state_dict is None:
            state_dict = load_vgg19_state_dict(weights_path, missing_hint)
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
