"""Label fidelity: how well a segmenter recovers the input label map from the synthesized images.

Every paper of the field reports it next to FID: mean IoU (and pixel accuracy) of a segmenter's
prediction on the synthesized images against the label maps they were made from. The counts are a
confusion matrix accumulated over the whole set (not an average of per-image scores); the
dontcare label is ignored. Which classes enter the mean differs between the segmenters' own
evaluation codes (``MIOU_FORMULAS``); by default, as fyu/drn's ``segment.py``, classes that appear
neither in the labels nor in the predictions have no IoU and do not enter the mean.
"""
import json
import os
from typing import Dict, Optional

import torch

from .. import distributed as dist
from ..fileio import atomic_write_text
from .segmenters import build_segmenter

# which classes' IoUs enter the mean, as each segmenter's own evaluation code has it:
# 'present': classes in the labels or the predictions (fyu/drn segment.py: nanmean of per_class_iu);
# 'labelled': classes with label pixels, even where a class is predicted elsewhere (kazuto1011's
#   libs/utils/metric.py scores: nanmean(iu[rowsum > 0]));
# 'all': every class, an absent one counting 0 (CSAIL eval.py: I / (U + 1e-10) averaged over 150).
MIOU_FORMULAS = ('present', 'labelled', 'all')


def class_ious(counts: torch.Tensor, formula: str = 'present'):
    """(IoU per class, mask of the classes that enter the mean) of a confusion matrix (rows = label)."""
    if formula not in MIOU_FORMULAS:
        raise ValueError(f'unknown mIoU formula {formula!r}; choices: {", ".join(MIOU_FORMULAS)}')
    counts = counts.double()
    hits = counts.diag()
    labelled = counts.sum(1)
    union = counts.sum(0) + labelled - hits
    iou = torch.where(union > 0, hits / union.clamp(min=1), torch.zeros_like(hits))
    if formula == 'present':
        used = union > 0
    elif formula == 'labelled':
        used = labelled > 0
    else:
        used = torch.ones_like(hits, dtype=torch.bool)
    return iou, used


class ConfusionMatrix:
    """Counts of (label, predicted class) pixel pairs over a set."""

    def __init__(self, num_classes: int, ignore_index: Optional[int] = None, formula: str = 'present'):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.formula = formula
        class_ious(torch.zeros(1, 1), formula)  # a wrong name fails here, not after the images
        self.counts = torch.zeros(num_classes, num_classes, dtype=torch.int64)

    def update(self, prediction: torch.Tensor, label: torch.Tensor):
        """prediction, label: integer maps of the same shape ([B, H, W] or [B, 1, H, W])."""
        prediction, label = prediction.reshape(-1).long().cpu(), label.reshape(-1).long().cpu()
        if prediction.shape != label.shape:
            raise ValueError(f'prediction and label have different sizes: {prediction.numel()} vs {label.numel()}')
        keep = (label >= 0) & (label < self.num_classes)
        if self.ignore_index is not None:
            keep &= label != self.ignore_index
        index = label[keep] * self.num_classes + prediction[keep].clamp(0, self.num_classes - 1)
        self.counts += torch.bincount(index, minlength=self.num_classes ** 2).view(self.num_classes, -1)

    def result(self, class_names=None) -> Dict[str, object]:
        iou, used = class_ious(self.counts, self.formula)
        hits = self.counts.double().diag()
        total = self.counts.sum()
        names = class_names or [str(c) for c in range(self.num_classes)]
        return {
            'miou': float(iou[used].mean()) if used.any() else float('nan'),
            'pixel_accuracy': float(hits.sum() / total) if total > 0 else float('nan'),
            'per_class_iou': {names[c]: (float(iou[c]) if used[c] else None) for c in range(self.num_classes)},
            'num_pixels': int(total),
        }


class SegmentationEvaluator:
    """mIoU of the synthesized images against their label maps and, where the real images are given,
    of the real images too: the ceiling a segmenter reaches on the data itself."""

    def __init__(self, opt, device):
        self.segmenter = build_segmenter(opt, device)
        self.ignore = opt.label_nc if opt.contain_dontcare_label else None
        self.reset()

    def reset(self):
        num = self.segmenter.num_classes + (1 if self.ignore is not None else 0)
        self.synthesized = ConfusionMatrix(num, self.ignore)
        self.real = ConfusionMatrix(num, self.ignore)
        self.has_real = False

    def add(self, generated, label, real=None):
        """generated, real: [B, 3, H, W] in [-1, 1]; label: [B, 1, H, W] class ids."""
        self.synthesized.update(self.segmenter(generated), label)
        if real is not None:
            self.real.update(self.segmenter(real), label)
            self.has_real = True

    def gather(self):
        """Under torchrun: the counts of every process's shard, on every process."""
        for matrix in (self.synthesized, self.real):
            matrix.counts = sum(dist.gather_objects(matrix.counts))
        self.has_real = any(dist.gather_objects(self.has_real))

    def result(self):
        result = self.synthesized.result()
        if self.has_real:
            real = self.real.result()
            result.update({'real_miou': real['miou'], 'real_pixel_accuracy': real['pixel_accuracy'],
                           'miou_ratio': result['miou'] / real['miou'] if real['miou'] > 0 else float('nan'),
                           'real_per_class_iou': real['per_class_iou']})
        self.reset()
        return result


def save_result(result: dict, folder: str, filename: str = 'miou.json') -> str:
    path = os.path.join(folder, filename)
    atomic_write_text(path, json.dumps(result, indent=2, sort_keys=True) + '\n')
    return path


def format_result(result: dict) -> str:
    text = f"mIoU: {result['miou']:.4f}  pixel accuracy: {result['pixel_accuracy']:.4f}"
    if 'real_miou' in result:
        text += f"  (real images: mIoU {result['real_miou']:.4f}, ratio {result['miou_ratio']:.3f})"
    return text
