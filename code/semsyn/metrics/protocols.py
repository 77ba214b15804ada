"""Named evaluation protocols: how the papers of the field computed FID, KID and mIoU, one frozen
preset per way (``python -m semsyn.evaluate --list-protocols``).

A preset fixes everything a score depends on beyond the images: the segmenter (``RELEASED_SEGMENTERS``)
and its test-time setting, the size the synthesized images must have, how they are resized for the
segmenter, how the ground-truth label files are mapped to the segmenter's classes and resized (nearest,
as PIL does it: the only id-preserving choice), the ignore label, the mIoU formula of the segmenter's own
evaluation code, and the image preparation of the Inception network for FID and KID. Sources are in
docs/evaluation.md; where papers evaluated differently, each way is its own preset.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import UserError
from .fid.preparation import PREPARATIONS

IGNORE = 255

# Cityscapes gtFine label ids 0..33 -> the 19 train ids (datasets/cityscapes/prepare_data.py of fyu/drn,
# = cityscapesScripts' labels.py); all other ids are ignored
CITYSCAPES_TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12,
                        26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}


def cityscapes_table() -> np.ndarray:
    table = np.full(256, -1, dtype=np.int64)  # -1: out of range
    table[:34] = IGNORE
    for label_id, train_id in CITYSCAPES_TRAIN_IDS.items():
        table[label_id] = train_id
    return table


def ade20k_table() -> np.ndarray:
    """Annotation 0 ('other') ignored, 1..150 -> class 0..149 (CSAIL's segm_transform: label - 1)."""
    table = np.full(256, -1, dtype=np.int64)
    table[0] = IGNORE
    table[1:151] = np.arange(150)
    return table


def cocostuff_table() -> np.ndarray:
    """stuffthingmaps: ids 0..181 as they are, 255 unlabelled (ignored)."""
    table = np.full(256, -1, dtype=np.int64)
    table[:182] = np.arange(182)
    table[255] = IGNORE
    return table


CLASS_MAPPINGS = {
    'cityscapes_label_ids': (cityscapes_table, 'gtFine labelIds 0..33 -> 19 train ids, the rest ignored'),
    'ade20k_annotation': (ade20k_table, 'annotation 1..150 -> class 0..149, 0 (other) ignored'),
    'cocostuff_ids': (cocostuff_table, 'ids 0..181 as they are, 255 (unlabelled) ignored'),
}


@dataclass(frozen=True)
class Protocol:
    """One way a paper evaluated. Sizes are (height, width)."""
    name: str
    dataset: str
    segmenter: str                        # a RELEASED_SEGMENTERS name
    image_size: Optional[Tuple[int, int]]  # the synthesized images must have this size (None: any)
    segmenter_input: str                  # how the images are resized for the segmenter (words)
    class_mapping: str                    # a CLASS_MAPPINGS key
    num_classes: int
    test_time: str                        # single scale / multi-scale, flip (words)
    miou_formula: str                     # a semsyn.metrics.segmentation.MIOU_FORMULAS entry
    inception_preparation: str            # 'pytorch-fid' or 'torch-fidelity'
    description: str
    sources: Tuple[str, ...]
    resize_to: Optional[Tuple[int, int]] = None  # images resized to this (h, w) before the segmenter
    resize_long_side: Optional[int] = None       # or: scaled so that the longer side is this
    align_corners: bool = False                  # of those image resizes (and DeepLab's logit upsampling)
    segmenter_options: Tuple[Tuple[str, object], ...] = field(default=())
    ignore_label: int = IGNORE
    normalisation: str = ''

    def options(self) -> Dict[str, object]:
        return dict(self.segmenter_options)

    def summary(self) -> Dict[str, object]:
        """The preset's settings as saved beside every score."""
        return {'name': self.name, 'dataset': self.dataset, 'segmenter': self.segmenter,
                'image_size': list(self.image_size) if self.image_size else None,
                'segmenter_input': self.segmenter_input, 'normalisation': self.normalisation,
                'class_mapping': CLASS_MAPPINGS[self.class_mapping][1], 'labels': 'resized nearest (PIL) to the '
                'prediction size', 'ignore_label': self.ignore_label, 'num_classes': self.num_classes,
                'test_time': self.test_time, 'miou_formula': self.miou_formula,
                'inception_preparation': self.inception_preparation, 'sources': list(self.sources)}

    # -- images and labels ------------------------------------------------------------------------
    def check_image(self, image: np.ndarray, path: str):
        if self.image_size is not None and tuple(image.shape[:2]) != tuple(self.image_size):
            h, w = self.image_size
            raise UserError(f'{path}: {image.shape[1]}x{image.shape[0]} image; --protocol {self.name} scores '
                            f'images of {w}x{h} (width x height) as the papers generated them')

    def segmenter_images(self, images: np.ndarray) -> np.ndarray:
        """uint8 [B, H, W, 3] -> what the segmenter is given: the images themselves, or resized
        (bilinear on the float 0..255 values) to resize_to / to resize_long_side."""
        size = self.segmenter_size(images.shape[1:3])
        if size == tuple(images.shape[1:3]):
            return images
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=self.align_corners)
        return x.permute(0, 2, 3, 1).numpy()

    def segmenter_size(self, size) -> Tuple[int, int]:
        h, w = int(size[0]), int(size[1])
        if self.resize_to is not None:
            return tuple(self.resize_to)
        if self.resize_long_side is not None:
            # F.interpolate(scale_factor=s) as imaginaire calls it: floor(s * side)
            s = self.resize_long_side / max(h, w)
            return int(np.floor(h * s)), int(np.floor(w * s))
        return h, w

    def map_labels(self, label: np.ndarray, path: str) -> np.ndarray:
        """A label file's values -> the segmenter's class ids (ignore_label where ignored)."""
        if label.ndim != 2:
            raise UserError(f'{path}: expected a single-channel label map (class ids), got shape {label.shape}')
        if label.dtype != np.uint8:
            if label.min() < 0 or label.max() > 255:
                raise UserError(f'{path}: label values {label.min()}..{label.max()} out of the range of '
                                f'--protocol {self.name} ({CLASS_MAPPINGS[self.class_mapping][1]})')
            label = label.astype(np.uint8)
        out = CLASS_MAPPINGS[self.class_mapping][0]()[label]
        if (out < 0).any():
            bad = sorted(set(np.unique(label[out < 0]).tolist()))
            raise UserError(f'{path}: label values {bad[:5]} out of the range of --protocol {self.name} '
                            f'({CLASS_MAPPINGS[self.class_mapping][1]})')
        return out

    def resize_labels(self, label: np.ndarray, size) -> np.ndarray:
        """Nearest resize (PIL's: the source pixel under each target pixel's centre) to size (h, w)."""
        h, w = int(size[0]), int(size[1])
        if label.shape == (h, w):
            return label
        img = Image.fromarray(label.astype(np.int32), mode='I')
        return np.asarray(img.resize((w, h), Image.NEAREST)).astype(np.int64)


def _cityscapes(name, description, sources, **kw):
    return Protocol(name=name, dataset='cityscapes', segmenter='drn_d_105', image_size=(256, 512),
                    class_mapping='cityscapes_label_ids', num_classes=19, test_time='single scale, no flip',
                    miou_formula='present', inception_preparation='pytorch-fid', description=description,
                    sources=sources, normalisation='RGB / 255, Cityscapes mean/std of fyu/drn info.json', **kw)


def _ade20k(name, description, sources, img_sizes, test_time):
    return Protocol(name=name, dataset='ade20k', segmenter='upernet101', image_size=(256, 256),
                    segmenter_input='short side to each test scale (PIL bilinear, sides rounded up to multiples of '
                                    '32, longer side at most 1000), as CSAIL test.py',
                    class_mapping='ade20k_annotation', num_classes=150, test_time=test_time, miou_formula='all',
                    inception_preparation='pytorch-fid', description=description, sources=sources,
                    segmenter_options=(('img_sizes', tuple(img_sizes)),),
                    normalisation='RGB / 255, ImageNet mean/std')


def _coco(name, description, sources, **kw):
    return Protocol(name=name, dataset='coco', segmenter='deeplabv2', class_mapping='cocostuff_ids',
                    num_classes=182, test_time='MSC: max of the logits at scales 1, 0.5, 0.75; no flip, no CRF',
                    inception_preparation='pytorch-fid', description=description, sources=sources,
                    normalisation='BGR 0..255 minus the Caffe means (104.008, 116.669, 122.675)', **kw)


PRESETS = {p.name: p for p in (
    _cityscapes('cityscapes-drn-512x256',
                'DRN-D-105 on the images as generated (512x256), gtFine labels nearest-downsampled to 512x256',
                ('boschresearch/OASIS#5 (maintainer): DRN at 512x256, labels downsampled nearest',
                 'tzt101/CLADE#3 (author): 256x512, labels downsampled, single scale',
                 'fyu/drn segment.py test(), fast_hist, per_class_iu'),
                segmenter_input='as generated (512x256)'),
    _cityscapes('cityscapes-drn-2048x1024',
                "the generated 512x256 images upsampled (bilinear) to 2048x1024 and scored against the full-"
                'resolution gtFine labels; reported (OASIS#18, a user) to reproduce SPADE\'s Cityscapes numbers',
                ('boschresearch/OASIS#18 (user): SPADE\'s numbers are matched only by upsampling to 2048x1024',
                 'mit-han-lab/gan-compression metric/cityscapes_mIoU.py (scores at 2048x1024)',
                 'fyu/drn segment.py test(), fast_hist, per_class_iu'),
                segmenter_input='bilinear to 2048x1024 (float values, align_corners=False)', resize_to=(1024, 2048)),
    _ade20k('ade20k-upernet-ms',
            'UperNet-101 with the released 5-scale test (short sides 300..600, averaged softmax), labels '
            'nearest-resized to 256x256', ('NVlabs/SPADE#39 (segmenter named by users)',
                                           'jma100/SPADE_eval, xml94/VASIS, essunny310/FreestyleNet#3: the unchanged '
                                           'config/ade20k-resnet101-upernet.yaml', 'CSAIL test.py, eval.py'),
            (300, 375, 450, 525, 600), 'multi-scale (short sides 300, 375, 450, 525, 600), no flip'),
    _ade20k('ade20k-upernet-ss256',
            'UperNet-101 at one scale (short side 256: the image as generated), labels nearest-resized to 256x256',
            ('boschresearch/OASIS#17 (user: imgSizes (256) single scale gave 42.8 vs the paper\'s 48.8)',
             'CSAIL test.py, eval.py'), (256,), 'single scale (short side 256), no flip'),
    _coco('coco-deeplabv2-256',
          'DeepLabV2 MSC on the 256x256 generated images, stuffthingmaps nearest-resized to 256x256; mean over '
          'the classes with label pixels as deeplab-pytorch scores()',
          ('xh-liu/CC-FPSE#4 (author): DeepLabV2 on 256x256 images, labels resized nearest',
           'kazuto1011/deeplab-pytorch main.py test(), libs/utils/metric.py scores()'),
          image_size=(256, 256), segmenter_input='as generated (256x256)', miou_formula='labelled'),
    _coco('coco-deeplabv2-512',
          "imaginaire's: images scaled so that the longer side is 512 (bilinear, align_corners=True), logits "
          'upsampled with align_corners=True, labels nearest to the prediction; mean over all 182 classes',
          ('NVlabs/imaginaire imaginaire/evaluation/segmentation/cocostuff.py, common.py (get_miou: eps 1e-8, '
           'all classes)',),
          image_size=None, segmenter_input='longer side to 512 (bilinear, align_corners=True)',
          resize_long_side=512, align_corners=True, miou_formula='all',
          segmenter_options=(('align_corners', True),)),
)}


def get_protocol(name: str) -> Protocol:
    if name not in PRESETS:
        raise UserError(f'--protocol {name}: unknown; choices: {", ".join(PRESETS)} (--list-protocols)')
    return PRESETS[name]


def check_preparation(name: str):
    if name not in PREPARATIONS:
        raise UserError(f'--inception_preparation {name}: unknown; choices: {", ".join(PREPARATIONS)}')
    return name


def list_protocols() -> str:
    """The presets as printed by --list-protocols."""
    lines = []
    for p in PRESETS.values():
        size = f'{p.image_size[1]}x{p.image_size[0]}' if p.image_size else 'any size'
        lines.append(f'{p.name}: {p.dataset}, {p.segmenter}, images {size}; {p.description}')
        lines.append(f'    segmenter input: {p.segmenter_input}; {p.normalisation}; {p.test_time}')
        lines.append(f'    labels: {CLASS_MAPPINGS[p.class_mapping][1]}, nearest to the prediction size; '
                     f'ignore {p.ignore_label}; mIoU over {p.miou_formula} classes, one confusion matrix over the '
                     f'set; FID/KID: {p.inception_preparation} preparation')
    return '\n'.join(lines)
