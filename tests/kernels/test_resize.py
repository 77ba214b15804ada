"""kernels/resize.py: nearest resizing by selection and bilinear halving by 2x2 sums give F.interpolate's
values, forward and backward; on the reference path, and in models/ops/resize.py, F.interpolate itself."""
import pytest
import torch
import torch.nn.functional as F

from semsyn.kernels.resize import bilinear_halve, nearest_resize
from semsyn.models.ops import resize as reference
from semsyn.paths import reference_path


@pytest.mark.parametrize('size_in,size_out', [((128, 128), (4, 4)), ((37, 53), (5, 7)), ((30, 20), (45, 33)),
                                              ((100, 60), (33, 21)), ((5, 5), (11, 2)), ((16, 24), (8, 12))])
def test_nearest_resize_selects_what_interpolate_reads(size_in, size_out):
    torch.manual_seed(0)
    x = torch.randn(2, 3, *size_in, dtype=torch.float64, requires_grad=True)
    out = nearest_resize(x, size_out)
    ref = F.interpolate(x, size=size_out, mode='nearest')
    assert torch.equal(out, ref)
    g = torch.randn_like(ref)
    # upsampling reads a source pixel more than once: its gradient sums in another order
    torch.testing.assert_close(torch.autograd.grad(out, x, g)[0], torch.autograd.grad(ref, x, g)[0],
                               rtol=0, atol=1e-13)


def test_nearest_resize_same_size_is_the_map_itself():
    x = torch.randn(1, 2, 5, 6)
    assert nearest_resize(x, (5, 6)) is x
    with reference_path():
        same = nearest_resize(x, (5, 6))
    assert same is not x and torch.equal(same, x)
    same = reference.nearest_resize(x, (5, 6))
    assert same is not x and torch.equal(same, x)


def test_the_models_resizings_are_interpolate():
    x = torch.randn(2, 3, 8, 12)
    assert torch.equal(reference.nearest_resize(x, (3, 5)), F.interpolate(x, size=(3, 5), mode='nearest'))
    assert torch.equal(reference.bilinear_halve(x), F.interpolate(x, scale_factor=0.5, mode='bilinear',
                                                                  align_corners=False))
    assert torch.equal(reference.nearest_select(x, (3, 5)), F.interpolate(x, size=(3, 5), mode='nearest'))


@pytest.mark.parametrize('shape', [(2, 3, 8, 12), (1, 151, 2, 2), (3, 1, 64, 32)])
def test_bilinear_halve_is_interpolate(shape):
    torch.manual_seed(1)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out = bilinear_halve(x)
    ref = F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-14)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(out, x, g)[0], torch.autograd.grad(ref, x, g)[0], rtol=0, atol=1e-14)


def test_bilinear_halve_odd_sizes_fall_back():
    x = torch.randn(1, 2, 7, 9)
    torch.testing.assert_close(bilinear_halve(x), F.interpolate(x, scale_factor=0.5, mode='bilinear',
                                                                align_corners=False), rtol=0, atol=0)
