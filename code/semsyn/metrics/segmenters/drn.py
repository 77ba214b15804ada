"""DRN-D-105 of fyu/drn (Yu, Koltun, Funkhouser, "Dilated Residual Networks", CVPR 2017) as the
Cityscapes segmenter of SPADE, CC-FPSE, SCGAN and OASIS: ``segment.DRNSeg('drn_d_105', 19)`` with
the released ``drn-d-105_ms_cityscapes.pth``, its parameter names (``base.0`` .. ``base.8``,
``seg``, ``up``) and the evaluation of ``segment.py test``: RGB / 255, normalised with the
Cityscapes mean and std of ``datasets/cityscapes/info.json``, no resizing, single scale; the
prediction is the argmax of the log-softmax at input resolution (19 train ids).

The residual blocks are torchvision's Bottleneck: DRN's has the same layers, names and order, with
stride and dilation on the 3x3 convolution."""
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import Bottleneck

from ...errors import UserError
from .released import ReleasedFile, count_blocks, load_strict, read_state_dict

CITYSCAPES_MEAN = (0.29010095, 0.32808145, 0.28696394)
CITYSCAPES_STD = (0.18295405, 0.18656561, 0.18447509)
DRN_D_105_LAYERS = (1, 1, 3, 4, 23, 3, 1, 1)
DRN_CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)
RELEASED = ReleasedFile('drn-d-105_ms_cityscapes.pth', 'fyu/drn', 'http://go.yf.io/drn-cityscapes-models')


def conv_bn_relu(inplanes, planes, stride=1, dilation=1, kernel=3):
    return nn.Sequential(
        nn.Conv2d(inplanes, planes, kernel, stride=stride, padding=dilation * (kernel // 2), dilation=dilation,
                  bias=False),
        nn.BatchNorm2d(planes), nn.ReLU(inplace=True))


def conv_layers(inplanes, planes, convs, stride=1, dilation=1):
    """DRN's _make_conv_layers: `convs` conv3x3+BN+ReLU, the first with the stride, flat in one Sequential."""
    modules = []
    for i in range(convs):
        modules.extend(conv_bn_relu(inplanes if i == 0 else planes, planes, stride if i == 0 else 1, dilation))
    return nn.Sequential(*modules)


def residual_layer(inplanes, planes, blocks, stride=1, dilation=1):
    """DRN's _make_layer for Bottleneck (new_level=False where dilated): the first block carries the
    stride and a 1x1 conv+BN projection."""
    out = planes * Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
    layers = [Bottleneck(inplanes, planes, stride, downsample, dilation=dilation)]
    layers += [Bottleneck(out, planes, dilation=dilation) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


def drn_d_base(layers: Sequence[int] = DRN_D_105_LAYERS, channels: Sequence[int] = DRN_CHANNELS) -> nn.Sequential:
    """layer0 .. layer8 of DRN-D (``base.0`` .. ``base.8``); output stride 8, 512 channels."""
    c, e = channels, Bottleneck.expansion
    return nn.Sequential(
        conv_bn_relu(3, c[0], kernel=7),                                   # layer0
        conv_layers(c[0], c[0], layers[0]),                                # layer1
        conv_layers(c[0], c[1], layers[1], stride=2),                      # layer2
        residual_layer(c[1], c[2], layers[2], stride=2),                   # layer3
        residual_layer(c[2] * e, c[3], layers[3], stride=2),               # layer4
        residual_layer(c[3] * e, c[4], layers[4], dilation=2),             # layer5
        residual_layer(c[4] * e, c[5], layers[5], dilation=4),             # layer6
        conv_layers(c[5] * e, c[6], layers[6], dilation=2),                # layer7
        conv_layers(c[6], c[7], layers[7]))                                # layer8


class DRNSeg(nn.Module):
    """fyu/drn's DRNSeg: base, 1x1 classifier at stride 8, a fixed grouped ConvTranspose2d (x8) whose
    weight is read from the file, LogSoftmax. Returns (log-probabilities at 8x the base size, logits)."""

    def __init__(self, classes=19, layers: Sequence[int] = DRN_D_105_LAYERS):
        super().__init__()
        self.base = drn_d_base(layers)
        self.seg = nn.Conv2d(DRN_CHANNELS[-1], classes, 1, bias=True)
        self.up = nn.ConvTranspose2d(classes, classes, 16, stride=8, padding=4, groups=classes, bias=False)
        self.up.weight.requires_grad = False
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        logits = self.seg(self.base(x))
        return self.softmax(self.up(logits)), logits


def preprocess(images) -> torch.Tensor:
    """uint8 [B, H, W, 3] RGB -> the normalised float32 [B, 3, H, W] of data_transforms.ToTensor/Normalize."""
    x = torch.tensor(np.asarray(images)).permute(0, 3, 1, 2).contiguous().float().div(255)
    for c, (m, s) in enumerate(zip(CITYSCAPES_MEAN, CITYSCAPES_STD)):
        x[:, c].sub_(m).div_(s)
    return x


class DRNSegmenter:
    """``drn_d_105``: uint8 images -> Cityscapes train ids (0..18), as segment.py test."""
    name = 'drn_d_105'
    released = RELEASED

    def __init__(self, net: DRNSeg, device=torch.device('cpu')):
        self.net = net.to(device).eval()
        self.device = device
        self.num_classes = net.seg.out_channels

    @classmethod
    def build(cls, classes=19, layers=DRN_D_105_LAYERS, device=torch.device('cpu')):
        """A network with the default initialisation (tests; never used for scores)."""
        return cls(DRNSeg(classes, layers), device)

    @classmethod
    def load_released(cls, path=None, device=torch.device('cpu')):
        path = RELEASED.locate(path)
        state = read_state_dict(path)
        layers = tuple(count_blocks(state, f'base.{i}.') for i in range(3, 7))
        if 'seg.weight' not in state or not all(layers):
            raise_unfit(path)
        full = DRN_D_105_LAYERS[:2] + layers + DRN_D_105_LAYERS[6:]
        net = DRNSeg(state['seg.weight'].shape[0], full)
        return cls(load_strict(net, state, path, 'DRN-D segmenter weights'), device)

    @torch.no_grad()
    def log_probabilities(self, images):
        return self.net(preprocess(images).to(self.device))[0]

    @torch.no_grad()
    def predict(self, images) -> torch.Tensor:
        """[B, H, W] train ids; the network's output (8x its stride-8 map) cropped to H x W where H or W
        is not a multiple of 8."""
        h, w = np.shape(images)[1:3]
        return self.log_probabilities(images).argmax(1)[:, :h, :w].cpu()


def raise_unfit(path):
    raise UserError(f'segmenter weights {path}: not a DRNSeg state dict (base.3 .. base.6, seg.weight expected)')
