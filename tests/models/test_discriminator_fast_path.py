"""The discriminators' fast paths with a one-hot label map: the multiscale (and n_layer) one keeps
its input apart (LabelledInput) and looks the label channels up in its first layer; the FPSE one
pools the label map (as its LabelMap) before projecting it. Outputs, parameter gradients and the
images' gradient equal the original computation's, for fake and real images sharing one map per
pair, with and without instance edges; soft maps fall back."""
import copy

import pytest
import torch

from semsyn.kernels.label_map import LabelMap
from semsyn.models import create_network, options_from
from semsyn.models.discriminators.multiscale import LabelledInput
from semsyn.models.ops import fast_paths, reference_path

from ..kernels.test_fast_paths import blocky_labels, one_hot, rel

F64 = torch.float64


def label_map(net, batch, instance=False, seed=3):
    classes = net.opt.semantic_nc - (1 if instance else 0)
    labels = blocky_labels(batch, classes, 64, 2, seed=seed)  # 2x2 blocks: 4x4 windows of several labels
    return one_hot(labels, classes, edges=instance, dtype=F64)


def discriminator(name, instance):
    opt = options_from({'gpu_ids': '-1', 'dataset_mode': 'synthetic', 'label_nc': 5, 'crop_size': 64,
                        'batchSize': 2, 'load_size': 64, 'ndf': 8, 'netD': name, 'num_D': 2,
                        'no_instance': not instance})
    torch.manual_seed(0)
    return create_network('D', opt).double()


def flat_outputs(out):
    if isinstance(out[0], torch.Tensor):  # n_layer: one list of layer outputs
        out = [out]
    return [t for scale in out for t in scale]


def run(net, images, semantics):
    """(outputs, gradients of the images and of every parameter) for a random cotangent, on a copy
    (spectral norm's power iteration updates its vectors in training mode)."""
    net = copy.deepcopy(net)
    images = images.detach().requires_grad_()
    net.zero_grad(set_to_none=True)
    outputs = flat_outputs(net(*net.inputs(images, semantics)))
    g = torch.Generator().manual_seed(7)
    loss = sum((o * torch.randn(o.shape, generator=g, dtype=o.dtype)).sum() for o in outputs)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in net.named_parameters()}
    return [o.detach() for o in outputs], images.grad, grads


def assert_same_runs(fast, ref):
    """run()'s outputs, image gradients and parameter gradients equal within 1e-12 (float64)."""
    assert len(fast[0]) == len(ref[0])
    for a, b in zip(fast[0], ref[0]):
        assert a.shape == b.shape and rel(a, b) < 1e-12
    assert rel(fast[1], ref[1]) < 1e-12
    for key, g in ref[2].items():
        assert rel(fast[2][key], g) < 1e-12, key


@pytest.mark.parametrize('name', ['multiscale', 'n_layer', 'fpse'])
@pytest.mark.parametrize('instance', [False, True])
def test_fast_path_equals_the_original(name, instance):
    net = discriminator(name, instance)
    semantics = label_map(net, 2, instance)
    images = torch.randn(4, 3, 64, 64, dtype=F64)   # fake and real: two images per map
    assert isinstance(net.inputs(images, semantics)[-1], LabelledInput if name != 'fpse' else LabelMap)
    fast = run(net, images, semantics)
    with reference_path():
        original = net.inputs(images, semantics)
        if name == 'fpse':
            assert original[0] is images and torch.equal(original[1], torch.cat([semantics, semantics]))
        else:
            assert torch.equal(original[0], torch.cat([torch.cat([semantics, semantics]), images], 1))
        ref = run(net, images, semantics)
    assert_same_runs(fast, ref)


@pytest.mark.parametrize('name', ['multiscale', 'fpse'])
def test_soft_label_maps_fall_back(name):
    """No lookups for a soft map: FPSE gets the maps, the multiscale one the maps and images apart."""
    net = discriminator(name, False)
    semantics = label_map(net, 1) * 0.9 + 0.1 / net.opt.semantic_nc
    images = torch.zeros(2, 3, 64, 64, dtype=F64)
    taken = net.inputs(images, semantics)[-1]
    if name == 'fpse':
        assert torch.equal(taken, torch.cat([semantics, semantics]))
    else:
        assert taken.labels is None and taken.semantics is semantics and taken.images is images


@pytest.mark.parametrize('name', ['multiscale', 'n_layer'])
@pytest.mark.parametrize('case', ['lookups off on this device (a GPU)', 'soft label map'])
def test_maps_and_images_pooled_apart_equal_the_original(name, case):
    """Without lookups the label maps and images still travel apart and are pooled apart at every
    scale, joined at each scale's first convolution: the same outputs and gradients as pooling the
    concatenation, whose backward also runs over the label channels (the GPU default)."""
    net = discriminator(name, False)
    semantics = label_map(net, 2)
    if case == 'soft label map':
        semantics = semantics * 0.9 + 0.1 / net.opt.semantic_nc
    images = torch.randn(4, 3, 64, 64, dtype=F64)
    with fast_paths(devices=() if case.startswith('lookups') else ('cpu',)):
        taken = net.inputs(images, semantics)[-1]
        assert isinstance(taken, LabelledInput) and taken.labels is None
        fast = run(net, images, semantics)
    with reference_path():
        ref = run(net, images, semantics)
    assert_same_runs(fast, ref)


@pytest.mark.parametrize('name', ['multiscale', 'fpse'])
def test_images_must_come_in_whole_groups(name):
    net = discriminator(name, False)
    semantics = label_map(net, 2)
    with pytest.raises(ValueError, match='expected a multiple'):
        net.inputs(torch.zeros(3, 3, 64, 64, dtype=F64), semantics)


@pytest.mark.parametrize('size,block', [((30, 22), 4), ((16, 16), 2), ((9, 13), 3)])
@pytest.mark.parametrize('edges', [False, True])
def test_block_means_are_the_pooled_map(size, block, edges):
    labels = torch.randint(0, 6, (2, 1, *size), generator=torch.Generator().manual_seed(1))
    semantics = one_hot(labels, 6, edges=edges, dtype=F64)
    means = LabelMap.of(semantics, 6).block_means(block, F64)
    torch.testing.assert_close(means, torch.nn.functional.avg_pool2d(semantics, block), rtol=0, atol=1e-15)
