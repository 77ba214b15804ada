"""The multiscale (and n_layer) discriminator's fast path: with a one-hot label map its input stays
apart (LabelledInput), the first layer looks the label channels up; outputs, parameter gradients
and the images' gradient equal the original's concatenated input's, for fake and real images
sharing one map per pair, with and without instance edges; soft maps fall back."""
import copy

import pytest
import torch

from semsyn.models import create_network, options_from
from semsyn.models.discriminators.multiscale import LabelledInput
from semsyn.models.ops import reference_path

from .test_fast_paths import blocky_labels, one_hot, rel

F64 = torch.float64


def label_map(net, batch, instance=False, seed=3):
    classes = net.opt.semantic_nc - (1 if instance else 0)
    return one_hot(blocky_labels(batch, classes, 32, 4, seed=seed), classes, edges=instance, dtype=F64)


def discriminator(name, instance):
    opt = options_from({'gpu_ids': '-1', 'dataset_mode': 'synthetic', 'label_nc': 5, 'crop_size': 32,
                        'batchSize': 2, 'load_size': 32, 'ndf': 8, 'netD': name, 'num_D': 2,
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


@pytest.mark.parametrize('name', ['multiscale', 'n_layer'])
@pytest.mark.parametrize('instance', [False, True])
def test_labelled_input_equals_the_concatenation(name, instance):
    net = discriminator(name, instance)
    semantics = label_map(net, 2, instance)
    images = torch.randn(4, 3, 32, 32, dtype=F64)   # fake and real: two images per map
    (taken,) = net.inputs(images, semantics)
    assert isinstance(taken, LabelledInput)
    fast = run(net, images, semantics)
    with reference_path():
        (joined,) = net.inputs(images, semantics)
        assert torch.equal(joined, torch.cat([torch.cat([semantics, semantics]), images], 1))
        ref = run(net, images, semantics)
    assert len(fast[0]) == len(ref[0])
    for a, b in zip(fast[0], ref[0]):
        assert a.shape == b.shape and rel(a, b) < 1e-12
    assert rel(fast[1], ref[1]) < 1e-12
    for key, g in ref[2].items():
        assert rel(fast[2][key], g) < 1e-12, key


def test_soft_label_maps_are_concatenated():
    net = discriminator('multiscale', False)
    semantics = label_map(net, 1) * 0.9 + 0.1 / net.opt.semantic_nc
    (taken,) = net.inputs(torch.zeros(2, 3, 32, 32, dtype=F64), semantics)
    assert isinstance(taken, torch.Tensor) and taken.shape == (2, net.opt.semantic_nc + 3, 32, 32)


def test_images_must_come_in_whole_groups():
    net = discriminator('multiscale', False)
    semantics = label_map(net, 2)
    with pytest.raises(ValueError, match='expected a multiple'):
        net.inputs(torch.zeros(3, 3, 32, 32, dtype=F64), semantics)
