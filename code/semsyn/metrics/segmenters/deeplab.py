"""torchvision's DeepLabV3-ResNet101 as a label-fidelity segmenter, with weights trained for the
dataset's classes (``--segmenter_weights PATH``, or ``semsyn_deeplabv3_<dataset_mode>.pth`` in the
torch hub cache). The number of classes comes from the weights and must match the options."""
import os

import torch
import torch.nn.functional as F
from torchvision.models.segmentation import deeplabv3_resnet101

from ...errors import UserError
from ...fileio import load_untrusted
from ...weights import hub_weights_path

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DeepLabSegmenter:
    def __init__(self, opt, device):
        self.num_classes = opt.label_nc
        path = opt.segmenter_weights or hub_weights_path(f'semsyn_deeplabv3_{opt.dataset_mode}.pth')
        if not os.path.isfile(path):
            raise UserError(f'segmenter weights {path} not found: put a DeepLabV3-ResNet101 state dict trained for the '
                            f'{opt.label_nc} classes of --dataset_mode {opt.dataset_mode} there, or pass '
                            f'--segmenter_weights PATH')
        state = load_untrusted(path, 'segmenter weights')
        classes = state.get('classifier.4.weight', torch.zeros(0)).shape[0] if isinstance(state, dict) else 0
        if classes != opt.label_nc:
            raise UserError(f'segmenter weights {path} predict {classes} classes; --label_nc is {opt.label_nc}')
        net = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=classes, aux_loss=False)
        try:
            net.load_state_dict({k: v for k, v in state.items() if not k.startswith('aux_classifier.')})
        except RuntimeError as exc:
            raise UserError(f"segmenter weights {path} do not fit torchvision's deeplabv3_resnet101 "
                            f'({str(exc).splitlines()[0]})') from None
        self.net = net.to(device).eval()
        self.mean = torch.tensor(IMAGENET_MEAN, device=device)[None, :, None, None]
        self.std = torch.tensor(IMAGENET_STD, device=device)[None, :, None, None]

    @torch.no_grad()
    def __call__(self, images):
        x = ((images.float() + 1) / 2 - self.mean) / self.std
        logits = self.net(x)['out']
        return F.interpolate(logits, size=images.shape[2:], mode='bilinear', align_corners=False).argmax(1)
