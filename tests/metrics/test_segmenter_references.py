"""The rest of ../shared/reference/segmenters: UperNet's multi-scale test loop and its released-config
preprocessing, the predicted class ids of UperNet and DeepLabV2 through ``predict``, and the original
repositories' own metric computations on fixed confusion data (through the presets' label mappings
and mIoU formulas), DRN's test() loop included."""
import numpy as np
import pytest
import torch

from semsyn.metrics.protocols import PRESETS, cityscapes_table
from semsyn.metrics.segmentation import ConfusionMatrix
from semsyn.metrics.segmenters import RELEASED_SEGMENTERS, upernet
from tests.conftest import REFERENCE, require

ROOT = REFERENCE / 'segmenters' / 'fixtures'


def found(pattern):
    """The fixture files (none without ../shared: the tests are then skipped as empty parameter sets)."""
    return sorted(ROOT.glob(pattern)) if ROOT.exists() else []


def close(a, b, name):
    tol = 1e-4 * max(1.0, float(b.abs().max()))
    assert float((a - b).abs().max()) <= tol, name


def pred_matches(pred, fx, margin=1e-4):
    keep = fx['extra']['pred_top2_margin'] > margin
    assert keep.float().mean() > 0.5
    assert torch.equal(pred.to(torch.uint8)[keep], fx['outputs']['pred'][keep])


@pytest.fixture(scope='module')
def upernet_weights(tmp_path_factory):
    fx = torch.load(require(ROOT / 'upernet101_ade20k.pt', 'segmenter fixtures'), weights_only=True)
    folder = tmp_path_factory.mktemp('upernet')
    for part in ('encoder', 'decoder'):
        torch.save(fx['state_dict'][part], folder / f'{part}_epoch_50.pth')
    return folder


@pytest.mark.parametrize('path', found('upernet101_ade20k*pipeline*.pt'), ids=lambda p: p.stem)
def test_upernet_multiscale_loop(path, upernet_weights):
    fx = torch.load(path, weights_only=True)
    sizes = tuple(fx['options']['imgSizes'])
    seg = RELEASED_SEGMENTERS['upernet101'].load_released(str(upernet_weights), img_sizes=sizes,
                                                          max_size=fx['options']['imgMaxSize'],
                                                          padding=fx['options']['padding_constant'])
    image = fx['inputs']['image_uint8'].numpy()
    inputs = upernet.preprocess(image, seg.img_sizes, seg.max_size, seg.padding)
    assert len(inputs) == len(sizes)
    with torch.no_grad():
        for k, x in enumerate(inputs):
            close(x, fx['inputs'][f'input.scale{k}'], f'input.scale{k}')
            close(seg.decoder.logits(seg.encoder(x)), fx['intermediates'][f'decoder.conv_last_logits.scale{k}'],
                  f'logits.scale{k}')
    scores = seg.probabilities(image)
    assert list(scores.shape[2:]) == list(fx['segSize'])
    close(scores, fx['outputs']['scores'], 'scores')
    pred_matches(seg.predict(image), fx)


@pytest.mark.parametrize('path', found('upernet101_ade20k*preprocess*.pt'), ids=lambda p: p.stem)
def test_upernet_released_preprocessing(path):
    fx = torch.load(path, weights_only=True)
    image = fx['inputs']['image_uint8'].numpy()
    h, w = image.shape[:2]
    opts = fx['options']
    for k, s in enumerate(opts['imgSizes']):
        size = upernet.scaled_size(h, w, s, opts['imgMaxSize'], opts['padding_constant'])
        resized = upernet.resize_uint8(image, size)
        assert np.array_equal(resized, fx['outputs'][f'resized_uint8.scale{k}'].numpy()), s
    first = upernet.preprocess(image[None], opts['imgSizes'][:1], opts['imgMaxSize'], opts['padding_constant'])[0]
    assert torch.equal(first, fx['outputs']['input.scale0'])


@pytest.mark.parametrize('path', [p for p in found('upernet101_ade20k*.pt') if 'pipeline' not in p.stem
                                  and 'preprocess' not in p.stem], ids=lambda p: p.stem)
def test_upernet_predict(path, tmp_path):
    fx = torch.load(path, weights_only=True)
    for part in ('encoder', 'decoder'):
        torch.save(fx['state_dict'][part], tmp_path / f'{part}_epoch_50.pth')
    short = min(fx['inputs']['input'].shape[2:])
    image = fx['inputs']['image_uint8'].numpy()
    seg = RELEASED_SEGMENTERS['upernet101'].load_released(str(tmp_path), img_sizes=(short,))
    close(seg.probabilities(image), fx['outputs']['probs'], 'probs')
    pred_matches(seg.predict(image), fx)


@pytest.mark.parametrize('path', found('deeplabv2*.pt'), ids=lambda p: p.stem)
def test_deeplabv2_predict(path, tmp_path):
    fx = torch.load(path, weights_only=True)
    torch.save(fx['state_dict'], tmp_path / 'w.pth')
    seg = RELEASED_SEGMENTERS['deeplabv2'].load_released(str(tmp_path / 'w.pth'))
    pred_matches(seg.predict(fx['inputs']['image_uint8'].numpy()), fx)


def metric_fixtures():
    return [torch.load(p, weights_only=True)['data'] for p in found('metrics*.pt')]


@pytest.mark.parametrize('data', metric_fixtures() if ROOT.exists() else [], ids=lambda d: 'metrics')
def test_original_metric_computations(data):
    # Cityscapes (fyu/drn segment.py): train-id maps, 255 ignored, nanmean over classes present anywhere
    city = data['cityscapes']
    assert np.array_equal(cityscapes_table()[:34], city['label_id_to_train_id'].numpy())
    cm = ConfusionMatrix(19, formula=PRESETS['cityscapes-drn-512x256'].miou_formula)
    cm.update(city['pred'], city['gt'])
    assert torch.equal(cm.counts.double(), city['hist'])
    r = cm.result()
    assert round(r['miou'] * 100, 2) == pytest.approx(float(city['miou_percent_rounded']))
    assert r['miou'] * 100 == pytest.approx(float(city['miou_percent_unrounded']), abs=1e-9)
    ious = city['per_class_iu_percent']
    for c in range(19):
        value = r['per_class_iou'][str(c)]
        assert (value is None) == bool(torch.isnan(ious[c])) and (value is None or value * 100 == pytest.approx(
            float(ious[c]), abs=1e-9))
    assert r['pixel_accuracy'] == pytest.approx(float(city['pixel_accuracy']), abs=1e-12)

    # ADE20K (CSAIL eval.py): annotation - 1 with 0 ignored, mean over all 150 classes
    ade, preset = data['ade20k'], PRESETS['ade20k-upernet-ms']
    cm = ConfusionMatrix(150, formula=preset.miou_formula)
    for gt, pred in zip(ade['gt_annotation_png'].numpy(), ade['pred']):
        cm.update(pred, torch.from_numpy(preset.map_labels(gt, 'fixture')))
    r = cm.result()
    iou = torch.tensor([r['per_class_iou'][str(c)] for c in range(150)], dtype=torch.float64)
    assert torch.allclose(iou, ade['iou'], atol=1e-9, rtol=0)
    assert r['miou'] == pytest.approx(float(ade['miou']), abs=1e-9)
    assert r['pixel_accuracy'] == pytest.approx(float(ade['pixel_accuracy']), abs=1e-9)

    # COCO-Stuff (kazuto1011 metric.scores): ids as they are, 255 ignored, mean over classes with GT pixels
    coco, preset = data['cocostuff'], PRESETS['coco-deeplabv2-256']
    cm = ConfusionMatrix(182, formula=preset.miou_formula)
    for gt, pred in zip(coco['gt'].numpy(), coco['pred']):
        cm.update(pred, torch.from_numpy(preset.map_labels(gt, 'fixture')))
    assert torch.equal(cm.counts.double(), coco['hist'])
    r = cm.result()
    assert r['miou'] == pytest.approx(float(coco['miou']), abs=1e-12)
    assert r['pixel_accuracy'] == pytest.approx(float(coco['pixel_accuracy']), abs=1e-12)
    labelled = coco['hist'].sum(1) > 0
    for c in range(182):
        value = r['per_class_iou'][str(c)]
        assert (value is not None) == bool(labelled[c])
        if value is not None:
            assert value == pytest.approx(float(coco['class_iou'][c]), abs=1e-12)


@pytest.mark.parametrize('data', metric_fixtures() if ROOT.exists() else [], ids=lambda d: 'drn_test_loop')
def test_drn_test_loop(data, tmp_path):
    loop = data['cityscapes_drn_test_loop']
    fx = torch.load(ROOT / 'drn_d_105_cityscapes.pt', weights_only=True)
    torch.save(fx['state_dict'], tmp_path / 'w.pth')
    seg = RELEASED_SEGMENTERS['drn_d_105'].load_released(str(tmp_path / 'w.pth'))
    cm = ConfusionMatrix(19, formula='present')
    for image, label in zip(fx['inputs']['image_uint8'].numpy(), loop['labels']):  # batch 1, as test()
        cm.update(seg.predict(image[None]), label[None])
    margin = fx['extra']['pred_top2_margin'] > 1e-3
    if bool(margin.all()):
        assert torch.equal(cm.counts.double(), loop['hist'])
    else:  # near-ties may flip; the counts move by at most those pixels
        assert float((cm.counts.double() - loop['hist']).abs().sum()) <= 2 * float((~margin).sum())
    assert round(cm.result()['miou'] * 100, 2) == pytest.approx(float(loop['miou_percent_rounded']), abs=0.02)
