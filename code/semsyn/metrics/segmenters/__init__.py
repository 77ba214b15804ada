"""Segmenters for the label-fidelity metric, by name (``--segmenter NAME``).

A segmenter maps images in [-1, 1] ``[B, 3, H, W]`` to class maps ``[B, H, W]`` over the label
classes of the options (dontcare excluded). ``synthetic`` is built in: trained at first use on real
images of the synthetic dataset and cached, so the metric works with no download. ``deeplabv3``
is torchvision's DeepLabV3-ResNet101 with weights the user trained for the dataset's classes.
"""
from argparse import Namespace
from typing import Optional

import torch

from ...errors import UserError
from .deeplab import DeepLabSegmenter
from .deeplabv2 import DeepLabV2Segmenter
from .drn import DRNSegmenter
from .synthetic import SyntheticSegmenter
from .upernet import UperNetSegmenter

SEGMENTERS = {'synthetic': SyntheticSegmenter, 'deeplabv3': DeepLabSegmenter}
DEFAULT_BY_DATASET = {'synthetic': 'synthetic'}
# the papers' segmenters: uint8 [B, H, W, 3] -> class ids [B, H, W]; load_released(path), predict(images)
RELEASED_SEGMENTERS = {cls.name: cls for cls in (DRNSegmenter, UperNetSegmenter, DeepLabV2Segmenter)}


def default_segmenter(opt: Namespace) -> Optional[str]:
    return DEFAULT_BY_DATASET.get(opt.dataset_mode)


def build_segmenter(opt: Namespace, device: torch.device, name: Optional[str] = None):
    """The segmenter --segmenter names (default: the one of the dataset, where there is one)."""
    name = name or opt.segmenter or default_segmenter(opt)
    if name is None:
        raise UserError(f"--miou: no built-in segmenter for --dataset_mode {opt.dataset_mode}; pass --segmenter "
                        f"({', '.join(SEGMENTERS)}) and its --segmenter_weights")
    if name not in SEGMENTERS:
        raise UserError(f"--segmenter {name}: unknown; choices: {', '.join(SEGMENTERS)}")
    return SEGMENTERS[name](opt, device)


__all__ = ['DEFAULT_BY_DATASET', 'RELEASED_SEGMENTERS', 'SEGMENTERS', 'build_segmenter', 'default_segmenter']
