"""FLOPs of a forward or forward+backward, as torch's FlopCounterMode counts them (2 per
multiply-add of convolutions and matrix products), with additions for the fast paths:

- a product with a sparse matrix on either side (the scatter-adds of ops/scatter.py) counts 2 per
  stored entry and dense row or column, not as a dense matrix;
- the in-place products ``addmm_`` and ``baddbmm_`` (Winograd's weight-gradient sums and input
  transforms, the GEMM weight gradients), which torch's counter leaves out, count as their
  out-of-place forms;
- an embedding-bag sum (the label lookups of ops/label_conv.py) counts 1 per added row element.

Elementwise and data-movement operations count nothing, for both paths alike.
"""
import torch
from torch.utils.flop_counter import FlopCounterMode

aten = torch.ops.aten


def _raw(formula):
    formula._get_raw = True  # FlopCounterMode passes the tensors themselves, not their shapes
    return formula


def _dense_mm(a, b):
    return 2 * a.shape[0] * a.shape[1] * b.shape[1]


_SPARSE = (torch.sparse_csr, torch.sparse_csc, torch.sparse_coo)


def _sparse_aware_mm(a, b):
    if a.layout in _SPARSE:
        return 2 * a._nnz() * b.shape[1]
    if b.layout in _SPARSE:
        return 2 * b._nnz() * a.shape[0]
    return _dense_mm(a, b)


@_raw
def _mm(a, b, *args, out_val=None, **kwargs):
    return _sparse_aware_mm(a, b)


@_raw
def _addmm(bias, a, b, *args, out_val=None, **kwargs):
    return _sparse_aware_mm(a, b)


@_raw
def _baddbmm(bias, a, b, *args, out_val=None, **kwargs):
    return 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


@_raw
def _embedding_bag(weight, indices, *args, out_val=None, **kwargs):
    return indices.numel() * weight.shape[1]


CUSTOM = {aten.mm: _mm, aten.addmm: _addmm, aten.addmm_: _addmm, aten.baddbmm_: _baddbmm,
          aten._embedding_bag: _embedding_bag,
          aten._embedding_bag_forward_only: _embedding_bag}


def counter():
    """A FlopCounterMode with the fast paths' formulas; ``.get_total_flops()`` after the block."""
    return FlopCounterMode(display=False, custom_mapping=CUSTOM)
