"""UperNet with a ResNet-101 encoder of CSAILVision/semantic-segmentation-pytorch (Xiao et al.,
"Unified Perceptual Parsing", ECCV 2018) as the ADE20K segmenter of SPADE, CC-FPSE, SCGAN and OASIS:
the released ``ade20k-resnet101-upernet`` (``encoder_epoch_50.pth`` + ``decoder_epoch_50.pth``),
its parameter names, and the evaluation of its ``test.py``: for every short side of ``img_sizes``
the uint8 image resized with PIL bilinear to a multiple of 32, RGB / 255 normalised with the
ImageNet mean and std, per scale softmax of the logits upsampled to the image size, averaged over
the scales, argmax (150 classes; class k is ADE20K annotation k + 1).

The encoder is CSAIL's "deep stem" ResNet (three 3x3 convolutions, 128 channels into layer1) with
torchvision's Bottleneck, which has CSAIL's layer names and order. CSAIL's BatchNorm is the vacancy
SynchronizedBatchNorm2d, which in evaluation computes nn.BatchNorm2d's function and stores three
more buffers; ``VacancyBatchNorm2d`` keeps them so the files load unchanged."""
import os
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.models.resnet import Bottleneck
from torchvision.transforms.functional import normalize

from ...errors import UserError
from .released import ReleasedFile, count_blocks, load_strict, read_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESNET101_LAYERS = (3, 4, 23, 3)
IMG_SIZES = (300, 375, 450, 525, 600)  # config/ade20k-resnet101-upernet.yaml
IMG_MAX_SIZE = 1000
PADDING_CONSTANT = 32
RELEASED = ReleasedFile('ade20k-resnet101-upernet', 'CSAILVision/semantic-segmentation-pytorch',
                        'http://sceneparsing.csail.mit.edu/model/pytorch/ade20k-resnet101-upernet/ '
                        '(encoder_epoch_50.pth and decoder_epoch_50.pth, in one folder)')
ENCODER_FILE, DECODER_FILE = 'encoder_epoch_50.pth', 'decoder_epoch_50.pth'


class VacancyBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d with the state of CSAIL's SynchronizedBatchNorm2d (unused in evaluation)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.001):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.register_buffer('_tmp_running_mean', torch.zeros(num_features))
        self.register_buffer('_tmp_running_var', torch.ones(num_features))
        self.register_buffer('_running_iter', torch.ones(1))


def conv3x3_bn_relu(inplanes, planes, stride=1):
    return nn.Sequential(nn.Conv2d(inplanes, planes, 3, stride, padding=1, bias=False), VacancyBatchNorm2d(planes),
                         nn.ReLU(inplace=True))


def conv1x1_bn_relu(inplanes, planes):
    return nn.Sequential(nn.Conv2d(inplanes, planes, 1, bias=False), VacancyBatchNorm2d(planes), nn.ReLU(inplace=True))


def resnet_layer(inplanes, planes, blocks, stride=1):
    out = planes * Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), VacancyBatchNorm2d(out))
    layers = [Bottleneck(inplanes, planes, stride, downsample, norm_layer=VacancyBatchNorm2d)]
    layers += [Bottleneck(out, planes, norm_layer=VacancyBatchNorm2d) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResnetEncoder(nn.Module):
    """CSAIL's ``Resnet(resnet101)``: deep stem, max pooling, four stages; returns the stage outputs
    (strides 4, 8, 16, 32)."""

    def __init__(self, layers: Sequence[int] = RESNET101_LAYERS):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 2, padding=1, bias=False)
        self.bn1 = VacancyBatchNorm2d(64)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(64, 64, 3, 1, padding=1, bias=False)
        self.bn2 = VacancyBatchNorm2d(64)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(64, 128, 3, 1, padding=1, bias=False)
        self.bn3 = VacancyBatchNorm2d(128)
        self.relu3 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = resnet_layer(128, 64, layers[0])
        self.layer2 = resnet_layer(256, 128, layers[1], stride=2)
        self.layer3 = resnet_layer(512, 256, layers[2], stride=2)
        self.layer4 = resnet_layer(1024, 512, layers[3], stride=2)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.maxpool(x)
        out = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            out.append(x)
        return out


class UPerNet(nn.Module):
    """CSAIL's UPerNet decoder: a pyramid pooling module on stage 4 (pooled maps upsampled, then
    projected), an FPN top-down path, the fused pyramid classified at stride 4; with segSize, the
    softmax of the logits upsampled to it."""

    def __init__(self, num_class=150, fc_dim=2048, pool_scales=(1, 2, 3, 6), fpn_inplanes=(256, 512, 1024, 2048),
                 fpn_dim=512):
        super().__init__()
        self.ppm_pooling = nn.ModuleList(nn.AdaptiveAvgPool2d(s) for s in pool_scales)
        self.ppm_conv = nn.ModuleList(conv1x1_bn_relu(fc_dim, 512) for _ in pool_scales)
        self.ppm_last_conv = conv3x3_bn_relu(fc_dim + len(pool_scales) * 512, fpn_dim)
        self.fpn_in = nn.ModuleList(conv1x1_bn_relu(c, fpn_dim) for c in fpn_inplanes[:-1])
        self.fpn_out = nn.ModuleList(nn.Sequential(conv3x3_bn_relu(fpn_dim, fpn_dim)) for _ in fpn_inplanes[:-1])
        self.conv_last = nn.Sequential(conv3x3_bn_relu(len(fpn_inplanes) * fpn_dim, fpn_dim),
                                       nn.Conv2d(fpn_dim, num_class, 1))

    def logits(self, conv_out):
        conv5 = conv_out[-1]
        size = conv5.shape[2:]
        ppm = [conv5] + [conv(F.interpolate(pool(conv5), size, mode='bilinear', align_corners=False))
                         for pool, conv in zip(self.ppm_pooling, self.ppm_conv)]
        f = self.ppm_last_conv(torch.cat(ppm, 1))
        pyramid = [f]
        for i in reversed(range(len(conv_out) - 1)):
            lateral = self.fpn_in[i](conv_out[i])
            f = lateral + F.interpolate(f, size=lateral.shape[2:], mode='bilinear', align_corners=False)
            pyramid.append(self.fpn_out[i](f))
        pyramid.reverse()
        size = pyramid[0].shape[2:]
        fused = [pyramid[0]] + [F.interpolate(p, size, mode='bilinear', align_corners=False) for p in pyramid[1:]]
        return self.conv_last(torch.cat(fused, 1))

    def forward(self, conv_out, segSize):  # noqa: N803 (the original's argument name)
        x = F.interpolate(self.logits(conv_out), size=segSize, mode='bilinear', align_corners=False)
        return F.softmax(x, dim=1)


def scaled_size(height, width, short_side, max_size=IMG_MAX_SIZE, padding=PADDING_CONSTANT):
    """TestDataset's input size for one short side: the scale that fits both limits, then each side
    rounded up to a multiple of `padding`."""
    scale = min(short_side / float(min(height, width)), max_size / float(max(height, width)))
    th, tw = int(height * scale), int(width * scale)
    return ((th - 1) // padding + 1) * padding, ((tw - 1) // padding + 1) * padding


def resize_uint8(image: np.ndarray, size) -> np.ndarray:
    """PIL bilinear resize of one uint8 [H, W, 3] image to size (h, w), uint8 (as TestDataset)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((size[1], size[0]), Image.BILINEAR))


def to_input(images_uint8: np.ndarray) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> /255, ImageNet-normalised float32 [B, 3, H, W] (TestDataset.img_transform)."""
    x = torch.from_numpy(np.float32(np.asarray(images_uint8)) / 255.).permute(0, 3, 1, 2).contiguous()
    return normalize(x, IMAGENET_MEAN, IMAGENET_STD)


def preprocess(images, img_sizes=IMG_SIZES, max_size=IMG_MAX_SIZE, padding=PADDING_CONSTANT):
    """One normalised batch per short side of img_sizes."""
    images = np.asarray(images)
    h, w = images.shape[1:3]
    out = []
    for s in img_sizes:
        size = scaled_size(h, w, s, max_size, padding)
        out.append(to_input(np.stack([resize_uint8(im, size) for im in images])))
    return out


class UperNetSegmenter:
    """``upernet101``: uint8 images -> ADE20K class index 0..149 (annotation - 1), as CSAIL's test.py."""
    name = 'upernet101'
    released = RELEASED

    def __init__(self, encoder, decoder, device=torch.device('cpu'), img_sizes=IMG_SIZES, max_size=IMG_MAX_SIZE,
                 padding=PADDING_CONSTANT):
        self.encoder, self.decoder = encoder.to(device).eval(), decoder.to(device).eval()
        self.device = device
        self.num_classes = decoder.conv_last[1].out_channels
        self.img_sizes, self.max_size, self.padding = tuple(img_sizes), max_size, padding

    def configured(self, img_sizes=None, max_size=None, padding=None):
        """The same networks with another multi-scale setting."""
        return UperNetSegmenter(self.encoder, self.decoder, self.device, img_sizes or self.img_sizes,
                                max_size or self.max_size, padding or self.padding)

    @classmethod
    def build(cls, num_class=150, layers=RESNET101_LAYERS, device=torch.device('cpu'), **test_options):
        return cls(ResnetEncoder(layers), UPerNet(num_class), device, **test_options)

    @classmethod
    def load_released(cls, path=None, device=torch.device('cpu'), **test_options):
        """path: the folder of encoder_epoch_50.pth and decoder_epoch_50.pth, the encoder file (the
        decoder is the file beside it with 'encoder' replaced by 'decoder'), or one state dict with
        ``encoder.`` / ``decoder.`` prefixes (a SegmentationModule)."""
        path = RELEASED.locate(path)
        if os.path.isdir(path):
            enc_path, dec_path = os.path.join(path, ENCODER_FILE), os.path.join(path, DECODER_FILE)
            for p in (enc_path, dec_path):
                if not os.path.isfile(p):
                    raise RELEASED.missing(p)
            encoder_state, decoder_state = read_state_dict(enc_path), read_state_dict(dec_path)
        else:
            state = read_state_dict(path)
            if any(k.startswith('decoder.') for k in state):
                enc_path = dec_path = path
                encoder_state = {k[8:]: v for k, v in state.items() if k.startswith('encoder.')}
                decoder_state = {k[8:]: v for k, v in state.items() if k.startswith('decoder.')}
            else:
                base = os.path.basename(path)
                if 'encoder' not in base:
                    raise UserError(f'segmenter weights {path}: expected the UperNet encoder file (encoder_epoch_50.pth'
                                    f', with decoder_epoch_50.pth beside it) or their folder')
                enc_path, encoder_state = path, state
                dec_path = os.path.join(os.path.dirname(path), base.replace('encoder', 'decoder'))
                if not os.path.isfile(dec_path):
                    raise RELEASED.missing(dec_path)
                decoder_state = read_state_dict(dec_path)
        layers = tuple(count_blocks(encoder_state, f'layer{i}.') for i in range(1, 5))
        if not all(layers) or 'conv_last.1.weight' not in decoder_state:
            raise UserError(f'segmenter weights {enc_path} / {dec_path}: not CSAIL resnet101 encoder and upernet '
                            f'decoder state dicts')
        encoder = load_strict(ResnetEncoder(layers), encoder_state, enc_path, 'UperNet encoder weights')
        decoder = load_strict(UPerNet(decoder_state['conv_last.1.weight'].shape[0]), decoder_state, dec_path,
                              'UperNet decoder weights')
        return cls(encoder, decoder, device, **test_options)

    @torch.no_grad()
    def probabilities(self, images) -> torch.Tensor:
        """Softmax scores at image size averaged over the scales (test.py's `scores`)."""
        h, w = np.shape(images)[1:3]
        scores = None
        inputs = preprocess(images, self.img_sizes, self.max_size, self.padding)
        for x in inputs:
            p = self.decoder(self.encoder(x.to(self.device)), segSize=(h, w)) / len(inputs)
            scores = p if scores is None else scores + p
        return scores

    @torch.no_grad()
    def predict(self, images) -> torch.Tensor:
        return self.probabilities(images).argmax(1).cpu()
