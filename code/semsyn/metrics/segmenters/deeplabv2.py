"""DeepLabV2-ResNet101 with multi-scale inputs (MSC) of kazuto1011/deeplab-pytorch (Chen et al.,
"DeepLab", TPAMI 2018) as the COCO-Stuff segmenter of SPADE, CC-FPSE, SCGAN and OASIS: the released
``deeplabv2_resnet101_msc-cocostuff164k-100000.pth``, its parameter names (``base.`` = the MSC
wrapper's network) and the evaluation of its ``main.py test``: BGR 0..255 minus the Caffe means, no
resizing, the elementwise maximum of the logits at scales 1, 0.5 and 0.75, upsampled bilinear to
the image size, argmax (182 COCO-Stuff ids).

The ResNet is the MSRA/Caffe one (stride on the 1x1 ``reduce``, max pooling with ceil_mode), so
torchvision's Bottleneck does not fit it; the layers keep kazuto1011's names."""
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import UserError
from .released import ReleasedFile, load_strict, read_state_dict

MEAN_BGR = (104.008, 116.669, 122.675)
RESNET101_BLOCKS = (3, 4, 23, 3)
ATROUS_RATES = (6, 12, 18, 24)
MSC_SCALES = (0.5, 0.75)
RELEASED = ReleasedFile('deeplabv2_resnet101_msc-cocostuff164k-100000.pth', 'kazuto1011/deeplab-pytorch',
                        'https://github.com/kazuto1011/deeplab-pytorch/releases/download/v1.0/'
                        'deeplabv2_resnet101_msc-cocostuff164k-100000.pth')


class ConvBnReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel, stride, padding, dilation, relu=True):
        super().__init__()
        self.add_module('conv', nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation, bias=False))
        self.add_module('bn', nn.BatchNorm2d(out_ch, eps=1e-5, momentum=0.001))
        if relu:
            self.add_module('relu', nn.ReLU())


class Bottleneck(nn.Module):
    def __init__(self, in_ch, out_ch, stride, dilation, downsample):
        super().__init__()
        mid = out_ch // 4
        self.reduce = ConvBnReLU(in_ch, mid, 1, stride, 0, 1)
        self.conv3x3 = ConvBnReLU(mid, mid, 3, 1, dilation, dilation)
        self.increase = ConvBnReLU(mid, out_ch, 1, 1, 0, 1, relu=False)
        self.shortcut = ConvBnReLU(in_ch, out_ch, 1, stride, 0, 1, relu=False) if downsample else nn.Identity()

    def forward(self, x):
        return F.relu(self.increase(self.conv3x3(self.reduce(x))) + self.shortcut(x))


class ResLayer(nn.Sequential):
    def __init__(self, n_blocks, in_ch, out_ch, stride, dilation):
        super().__init__()
        for i in range(n_blocks):
            self.add_module(f'block{i + 1}', Bottleneck(in_ch if i == 0 else out_ch, out_ch, stride if i == 0 else 1,
                                                        dilation, downsample=i == 0))


class Stem(nn.Sequential):
    def __init__(self, out_ch):
        super().__init__()
        self.add_module('conv1', ConvBnReLU(3, out_ch, 7, 2, 3, 1))
        self.add_module('pool', nn.MaxPool2d(3, 2, 1, ceil_mode=True))


class ASPP(nn.Module):
    """The sum of parallel dilated 3x3 classifiers (DeepLabV2's atrous spatial pyramid pooling)."""

    def __init__(self, in_ch, out_ch, rates):
        super().__init__()
        for i, rate in enumerate(rates):
            self.add_module(f'c{i}', nn.Conv2d(in_ch, out_ch, 3, 1, padding=rate, dilation=rate, bias=True))

    def forward(self, x):
        return sum(stage(x) for stage in self.children())


class DeepLabV2(nn.Sequential):
    """Logits at output stride 8."""

    def __init__(self, n_classes=182, n_blocks: Sequence[int] = RESNET101_BLOCKS, atrous_rates=ATROUS_RATES):
        super().__init__()
        ch = [64 * 2 ** p for p in range(6)]
        self.add_module('layer1', Stem(ch[0]))
        self.add_module('layer2', ResLayer(n_blocks[0], ch[0], ch[2], 1, 1))
        self.add_module('layer3', ResLayer(n_blocks[1], ch[2], ch[3], 2, 1))
        self.add_module('layer4', ResLayer(n_blocks[2], ch[3], ch[4], 1, 2))
        self.add_module('layer5', ResLayer(n_blocks[3], ch[4], ch[5], 1, 4))
        self.add_module('aspp', ASPP(ch[5], n_classes, atrous_rates))


class MSC(nn.Module):
    """Multi-scale inputs, evaluation: the elementwise maximum of base(x) and of base at each scale,
    upsampled to base(x)'s size."""

    def __init__(self, base: nn.Module, scales: Sequence[float] = MSC_SCALES):
        super().__init__()
        self.base = base
        self.scales = tuple(scales)

    def forward(self, x):
        logits = self.base(x)
        size = logits.shape[2:]
        pyramid = [logits]
        for p in self.scales:
            h = F.interpolate(x, scale_factor=p, mode='bilinear', align_corners=False)
            pyramid.append(F.interpolate(self.base(h), size=size, mode='bilinear', align_corners=False))
        return torch.max(torch.stack(pyramid), dim=0)[0]


def preprocess(images) -> torch.Tensor:
    """uint8 RGB [B, H, W, 3] -> BGR float32 minus the means [B, 3, H, W] (as _BaseDataset on cv2's image;
    the float64 means subtracted in NumPy, the result float32)."""
    bgr = np.asarray(images)[..., ::-1].astype(np.float32)
    x = (bgr - np.array(MEAN_BGR)).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def count_named_blocks(state, prefix):
    return len({k[len(prefix):].split('.')[0] for k in state if k.startswith(prefix + 'block')})


class DeepLabV2Segmenter:
    """``deeplabv2``: uint8 images -> COCO-Stuff ids 0..181, as main.py test (no CRF)."""
    name = 'deeplabv2'
    released = RELEASED

    def __init__(self, net: MSC, device=torch.device('cpu'), align_corners=False):
        self.net = net.to(device).eval()
        self.device = device
        self.num_classes = net.base.aspp.c0.out_channels
        self.align_corners = align_corners  # of the logits' upsampling: False in main.py, True in imaginaire

    @classmethod
    def build(cls, n_classes=182, n_blocks=RESNET101_BLOCKS, device=torch.device('cpu'), align_corners=False):
        return cls(MSC(DeepLabV2(n_classes, n_blocks)), device, align_corners)

    @classmethod
    def load_released(cls, path=None, device=torch.device('cpu'), align_corners=False):
        """The MSC file (``base.`` keys) or a bare DeepLabV2 state dict."""
        path = RELEASED.locate(path)
        state = read_state_dict(path)
        if not any(k.startswith('base.') for k in state):
            state = {'base.' + k: v for k, v in state.items()}
        blocks = tuple(count_named_blocks(state, f'base.layer{i}.') for i in range(2, 6))
        if not all(blocks) or 'base.aspp.c0.weight' not in state:
            raise UserError(f'segmenter weights {path}: not a DeepLabV2 state dict (base.layer2 .. base.aspp expected)')
        net = MSC(DeepLabV2(state['base.aspp.c0.weight'].shape[0], blocks))
        return cls(load_strict(net, state, path, 'DeepLabV2 segmenter weights'), device, align_corners)

    @torch.no_grad()
    def logits(self, images) -> torch.Tensor:
        return self.net(preprocess(images).to(self.device))

    @torch.no_grad()
    def predict(self, images) -> torch.Tensor:
        h, w = np.shape(images)[1:3]
        logits = F.interpolate(self.logits(images), size=(h, w), mode='bilinear', align_corners=self.align_corners)
        return F.softmax(logits, dim=1).argmax(1).cpu()
