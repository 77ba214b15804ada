"""The evaluation presets: label mappings and resizing on fixed examples, the mIoU against torchmetrics
(ignore labels, absent classes), and the Inception preparations against pytorch-fid's and
torch-fidelity's own code on the same images (their FID/KID formulas on fixed features)."""
import dataclasses

import numpy as np
import pytest
import torch

from semsyn.errors import UserError
from semsyn.metrics.fid import frechet_distance, prepare, statistics
from semsyn.metrics.kid import kernel_inception_distance
from semsyn.metrics.protocols import PRESETS, get_protocol, list_protocols
from semsyn.metrics.segmentation import ConfusionMatrix
from semsyn.metrics.segmenters import RELEASED_SEGMENTERS


def test_every_preset_is_complete():
    assert {p.segmenter for p in PRESETS.values()} == set(RELEASED_SEGMENTERS)
    for p in PRESETS.values():
        assert p.sources and p.description and p.inception_preparation in ('pytorch-fid', 'torch-fidelity')
    text = list_protocols()
    assert all(name in text for name in PRESETS)
    with pytest.raises(UserError, match='--list-protocols'):
        get_protocol('cityscapes')


def test_label_mappings():
    city = PRESETS['cityscapes-drn-512x256']
    ids = np.array([[0, 7, 8, 26], [33, 1, 24, 23]], dtype=np.uint8)
    assert city.map_labels(ids, 'x.png').tolist() == [[255, 0, 1, 13], [18, 255, 11, 10]]
    with pytest.raises(UserError, match='x.png.*40'):
        city.map_labels(np.array([[7, 40]], dtype=np.uint8), 'x.png')
    ade = PRESETS['ade20k-upernet-ms']
    assert ade.map_labels(np.array([[0, 1, 150]], dtype=np.uint8), 'a').tolist() == [[255, 0, 149]]
    with pytest.raises(UserError, match='151'):
        ade.map_labels(np.array([[151]], dtype=np.uint8), 'a.png')
    coco = PRESETS['coco-deeplabv2-256']
    assert coco.map_labels(np.array([[0, 181, 255]], dtype=np.uint8), 'c').tolist() == [[0, 181, 255]]
    with pytest.raises(UserError, match='c.png'):
        coco.map_labels(np.array([[182]], dtype=np.uint8), 'c.png')
    with pytest.raises(UserError, match='single-channel'):
        coco.map_labels(np.zeros((2, 2, 3), np.uint8), 'c.png')


def test_label_resizing_is_pil_nearest():
    label = np.arange(16).reshape(4, 4)
    # a 2x downscale takes the pixel under each target pixel's centre: rows/columns 1 and 3
    assert PRESETS['cityscapes-drn-512x256'].resize_labels(label, (2, 2)).tolist() == [[5, 7], [13, 15]]
    up = PRESETS['cityscapes-drn-2048x1024'].resize_labels(np.array([[1, 2]]), (2, 4))
    assert up.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]


def test_image_resizing_of_the_presets():
    big = PRESETS['cityscapes-drn-2048x1024']
    assert big.segmenter_size((256, 512)) == (1024, 2048)
    assert PRESETS['cityscapes-drn-512x256'].segmenter_size((256, 512)) == (256, 512)
    assert PRESETS['coco-deeplabv2-512'].segmenter_size((256, 384)) == (341, 512)
    image = np.array([[[0, 0, 0], [255, 255, 255]]], dtype=np.uint8)[None]  # 1x2
    half_pixel = dataclasses.replace(big, resize_to=(1, 4)).segmenter_images(image)[0, 0, :, 0]
    assert half_pixel.tolist() == [0.0, 63.75, 191.25, 255.0]
    corners = dataclasses.replace(PRESETS['coco-deeplabv2-512'], resize_long_side=4).segmenter_images(image)
    assert corners[0, 0, :, 0].tolist() == pytest.approx([0, 85, 170, 255])
    same = PRESETS['cityscapes-drn-512x256'].segmenter_images(np.zeros((1, 256, 512, 3), np.uint8))
    assert same.dtype == np.uint8
    with pytest.raises(UserError, match=r'f\.png: 256x256 image.*512x256'):
        PRESETS['cityscapes-drn-512x256'].check_image(np.zeros((256, 256, 3), np.uint8), 'f.png')


@pytest.mark.parametrize('formula', ['present', 'labelled', 'all'])
def test_miou_against_torchmetrics(formula):
    from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix, MulticlassJaccardIndex
    g = torch.Generator().manual_seed(0)
    n = 7
    jaccard = MulticlassJaccardIndex(n, average='none', ignore_index=255)  # 0 for a class absent from both
    confusion = MulticlassConfusionMatrix(n, ignore_index=255)
    accuracy = MulticlassAccuracy(n, average='micro', ignore_index=255)
    ours = ConfusionMatrix(n, 255, formula)
    for _ in range(3):
        label = torch.randint(0, 4, (2, 9, 11), generator=g)  # classes 0..3 labelled
        label[torch.rand(label.shape, generator=g) < 0.15] = 255  # ignored pixels
        pred = torch.randint(0, 5, label.shape, generator=g)  # 4 only predicted; 5, 6 absent from both
        for m in (jaccard, confusion, accuracy):
            m.update(pred, label)
        ours.update(pred, label)
    iou = jaccard.compute().double()
    counts = confusion.compute()
    assert torch.equal(ours.counts, counts)
    labelled, union = counts.sum(1) > 0, (counts.sum(1) + counts.sum(0)) > 0
    used = {'present': union, 'labelled': labelled, 'all': torch.ones(n, dtype=torch.bool)}[formula]
    expected = iou[used].mean()
    result = ours.result()
    assert result['miou'] == pytest.approx(float(expected), abs=1e-6)  # torchmetrics: float32
    assert result['pixel_accuracy'] == pytest.approx(float(accuracy.compute()), abs=1e-6)
    assert iou[5] == 0 and not union[5] and result['per_class_iou']['5'] == (0.0 if formula == 'all' else None)
    assert result['per_class_iou']['4'] == (None if formula == 'labelled' else 0.0)


def images(seed, sizes=((37, 53), (64, 80))):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_torch_fidelity_preparation_equals_its_own(monkeypatch, tmp_path):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    # its network with no weights (the preparation comes before the first layer)
    monkeypatch.setattr(FeatureExtractorInceptionV3, 'load_state_dict', lambda self, *a, **k: None)
    torch.save({}, tmp_path / 'none.pth')
    net = FeatureExtractorInceptionV3('inception-v3-compat', ['2048'], feature_extractor_weights_path=str(
        tmp_path / 'none.pth'))
    seen = []

    def stop(module, args):
        seen.append(args[0])
        raise StopIteration

    net.Conv2d_1a_3x3.register_forward_pre_hook(stop)
    for image in images(1):
        with pytest.raises(StopIteration):
            net(torch.from_numpy(image).permute(2, 0, 1)[None])
        ours = prepare(image[None], 'torch-fidelity')
        assert ours.shape == (1, 3, 299, 299) and torch.equal(ours, seen[-1])
        assert not torch.allclose(ours, prepare(image[None], 'pytorch-fid'), atol=1e-3)


def test_pytorch_fid_preparation_equals_its_own(fid_extractor):
    net = fid_extractor.model
    seen = []
    hook = net.blocks[0][0].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    try:
        for image in images(2):
            x = torch.from_numpy(np.asarray(image, np.float32) / np.float32(255)).permute(2, 0, 1)[None]
            direct = fid_extractor(x)
            ours = prepare(image[None], 'pytorch-fid')
            assert torch.equal(ours, seen[-1])
            assert np.allclose(fid_extractor.from_prepared(ours), direct, rtol=1e-5, atol=1e-6)  # same input, float32
    finally:
        hook.remove()


def test_fid_and_kid_formulas_equal_torch_fidelity():
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(60, 16)), rng.normal(0.2, 1.1, size=(50, 16))
    sa, sb = fid_features_to_statistics(torch.from_numpy(a)), fid_features_to_statistics(torch.from_numpy(b))
    ref = fid_statistics_to_metric(sa, sb, verbose=False)['frechet_inception_distance']
    assert frechet_distance(*statistics(a), *statistics(b)) == pytest.approx(ref, rel=1e-9)
    kid = kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subset_size=40, verbose=False)
    mean, std = kernel_inception_distance(a, b, subset_size=40)
    assert mean == pytest.approx(kid['kernel_inception_distance_mean'], rel=1e-12)
    assert std == pytest.approx(kid['kernel_inception_distance_std'], rel=1e-12)
