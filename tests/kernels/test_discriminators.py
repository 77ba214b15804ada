"""The discriminators' kernels: the multiscale one (kernels/patchgan.py) pools the label maps and
images apart and, with a one-hot map, looks the label channels up in its first layer; the FPSE one
(kernels/fpse.py) pools the label map (as its LabelMap) before projecting it. Outputs, parameter
gradients and the images' gradient equal the original computation's, for fake and real images
sharing one map per pair, with and without instance edges; soft maps take no lookups."""
import copy

import pytest
import torch

from semsyn.kernels import patchgan
from semsyn.kernels.label_map import LabelMap
from semsyn.models import create_network, options_from
from semsyn.paths import fast_paths, reference_path

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


def spy(function, seen):
    def wrapped(*args, **kwargs):
        seen.append(args)
        return function(*args, **kwargs)
    return wrapped


@pytest.mark.parametrize('name', ['multiscale', 'fpse'])
@pytest.mark.parametrize('instance', [False, True])
def test_kernel_equals_the_original(name, instance, monkeypatch):
    net = discriminator(name, instance)
    semantics = label_map(net, 2, instance)
    images = torch.randn(4, 3, 64, 64, dtype=F64)   # fake and real: two images per map
    seen = []
    if name == 'fpse':  # the original's tensors; the kernel pools the LabelMap of the shared maps
        assert net.inputs(images, semantics) == (images, semantics)
        monkeypatch.setattr(LabelMap, 'block_means', spy(LabelMap.block_means, seen))
    else:  # the maps once per pair; the first scale's first layer by lookups
        assert net.inputs(images, semantics) == (semantics, images)
        monkeypatch.setattr(patchgan, 'label_conv', spy(patchgan.label_conv, seen))
    fast = run(net, images, semantics)
    assert len(seen) == 1
    with reference_path():
        if name == 'fpse':
            original = net.inputs(images, semantics)
            assert original == (images, semantics)
        ref = run(net, images, semantics)
    assert len(seen) == 1
    assert_same_runs(fast, ref)


@pytest.mark.parametrize('name', ['multiscale', 'fpse'])
def test_soft_label_maps_take_no_lookups(name, monkeypatch):
    net = discriminator(name, False)
    semantics = label_map(net, 1) * 0.9 + 0.1 / net.opt.semantic_nc
    images = torch.randn(2, 3, 64, 64, dtype=F64)
    seen = []
    if name == 'fpse':
        assert net.inputs(images, semantics)[-1] is semantics
        monkeypatch.setattr(LabelMap, 'block_means', spy(LabelMap.block_means, seen))
    else:
        monkeypatch.setattr(patchgan, 'label_conv', spy(patchgan.label_conv, seen))
    fast = run(net, images, semantics)
    with reference_path():
        ref = run(net, images, semantics)
    assert not seen
    assert_same_runs(fast, ref)


@pytest.mark.parametrize('case', ['lookups off on this device (a GPU)', 'soft label map'])
def test_maps_and_images_pooled_apart_equal_the_original(case, monkeypatch):
    """Without lookups the label maps and images are still pooled apart at every scale, joined at
    each scale's first convolution: the same outputs and gradients as pooling the concatenation,
    whose backward also runs over the label channels."""
    net = discriminator('multiscale', False)
    semantics = label_map(net, 2)
    if case == 'soft label map':
        semantics = semantics * 0.9 + 0.1 / net.opt.semantic_nc
    images = torch.randn(4, 3, 64, 64, dtype=F64)
    pooled = []
    monkeypatch.setattr(net, 'downsample', spy(net.downsample, pooled))
    with fast_paths(devices=() if case.startswith('lookups') else ('cpu',)):
        fast = run(net, images, semantics)
    # run() works on a copy, whose downsample is the spy too: one map per pair, then the images
    assert [tuple(a[0].shape) for a in pooled] == [(2, net.opt.semantic_nc, 64, 64), (4, 3, 64, 64)]
    with reference_path():
        ref = run(net, images, semantics)
    assert_same_runs(fast, ref)


def test_multiscale_takes_the_originals_input_too():
    """forward(cat([semantics, images], 1)), the original's call, runs the forward and gives what the
    model wrapper's call (the maps and images apart, through the kernel) gives."""
    net = discriminator('multiscale', False)
    semantics = label_map(net, 2)
    images = torch.randn(4, 3, 64, 64, dtype=F64)
    net.eval()  # no power iteration between the calls
    with torch.no_grad():
        original = flat_outputs(net(torch.cat([torch.cat([semantics, semantics]), images], 1)))
        apart = flat_outputs(net(*net.inputs(images, semantics)))
    assert len(original) == len(apart) == 2 * net.opt.n_layers_D + 2
    for a, b in zip(original, apart):
        assert rel(a, b) < 1e-12


def test_n_layer_takes_the_concatenation():
    net = discriminator('n_layer', False)
    semantics = label_map(net, 2)
    images = torch.randn(4, 3, 64, 64, dtype=F64)
    (input,) = net.inputs(images, semantics)
    assert torch.equal(input, torch.cat([torch.cat([semantics, semantics]), images], 1))


@pytest.mark.parametrize('name', ['multiscale', 'fpse'])
@pytest.mark.parametrize('reference', [False, True])
def test_images_must_come_in_whole_groups(name, reference):
    net = discriminator(name, False)
    semantics = label_map(net, 2)
    with reference_path(reference), pytest.raises(ValueError, match='expected a multiple'):
        net(*net.inputs(torch.zeros(3, 3, 64, 64, dtype=F64), semantics))


@pytest.mark.parametrize('size,block', [((30, 22), 4), ((16, 16), 2), ((9, 13), 3)])
@pytest.mark.parametrize('edges', [False, True])
def test_block_means_are_the_pooled_map(size, block, edges):
    labels = torch.randint(0, 6, (2, 1, *size), generator=torch.Generator().manual_seed(1))
    semantics = one_hot(labels, 6, edges=edges, dtype=F64)
    means = LabelMap.of(semantics, 6).block_means(block, F64)
    torch.testing.assert_close(means, torch.nn.functional.avg_pool2d(semantics, block), rtol=0, atol=1e-15)
