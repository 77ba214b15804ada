"""The papers' segmenters against what the original code computed (../shared/reference/segmenters):
keys and shapes of the released files, preprocessing, outputs within 1e-4 x scale, predictions."""
import json

import pytest
import torch

from semsyn.errors import UserError
from semsyn.metrics.segmenters import RELEASED_SEGMENTERS, deeplabv2, drn, upernet
from tests.conftest import REFERENCE, require

ROOT = REFERENCE / 'segmenters'


def fixtures(prefix):
    folder = require(ROOT / 'fixtures', 'segmenter fixtures')
    found = sorted(p for p in folder.glob(f'{prefix}*.pt') if not p.stem.endswith(('_pipeline', '_preprocess')))
    assert found
    return found


def close(a, b, name):
    tol = 1e-4 * max(1.0, float(b.abs().max()))
    assert float((a - b).abs().max()) <= tol, name


def pred_matches(pred, fx, margin):
    keep = fx['extra']['pred_top2_margin'] > margin
    assert torch.equal(pred.to(torch.uint8)[keep], fx['outputs']['pred'][keep])


def manifest_matches(net, name):
    m = json.loads((ROOT / 'manifests' / f'{name}.json').read_text())
    sd = net.state_dict()
    assert list(sd) == list(m['params'])
    assert all(list(v.shape) == m['params'][k] for k, v in sd.items())
    assert sum(p.numel() for p in net.parameters()) == m['num_parameters']


def test_registry_names():
    assert set(RELEASED_SEGMENTERS) == {'drn_d_105', 'upernet101', 'deeplabv2'}


@pytest.mark.parametrize('path', fixtures('drn_d_105'), ids=lambda p: p.stem)
def test_drn(path, tmp_path):
    fx = torch.load(path, weights_only=True)
    manifest_matches(drn.DRNSeg(), 'drn_d_105_cityscapes')
    torch.save({'state_dict': {'module.' + k: v for k, v in fx['state_dict'].items()}}, tmp_path / 'w.pth')
    seg = RELEASED_SEGMENTERS['drn_d_105'].load_released(str(tmp_path / 'w.pth'))
    image = fx['inputs']['image_uint8'].numpy()
    close(drn.preprocess(image), fx['inputs']['input'], 'input')
    with torch.no_grad():
        out, logits = seg.net(fx['inputs']['input'])
    close(out, fx['outputs']['log_softmax_full'], 'log_softmax')
    close(logits, fx['outputs']['seg_logits'], 'seg_logits')
    pred_matches(seg.predict(image), fx, 1e-3)


@pytest.mark.parametrize('path', fixtures('upernet101'), ids=lambda p: p.stem)
def test_upernet(path, tmp_path):
    fx = torch.load(path, weights_only=True)
    manifest_matches(upernet.ResnetEncoder(), 'upernet101_ade20k_encoder')
    manifest_matches(upernet.UPerNet(), 'upernet101_ade20k_decoder')
    for part in ('encoder', 'decoder'):
        torch.save(fx['state_dict'][part], tmp_path / f'{part}_epoch_50.pth')
    image = fx['inputs']['image_uint8'].numpy()
    x = fx['inputs']['input']
    short = min(x.shape[2:])  # the fixture's single short side (sizes are multiples of 32)
    seg = RELEASED_SEGMENTERS['upernet101'].load_released(str(tmp_path), img_sizes=(short,))
    close(upernet.preprocess(image, seg.img_sizes)[0], x, 'input')
    with torch.no_grad():
        feats = seg.encoder(x)
        for i, f in enumerate(feats):
            close(f, fx['outputs'][f'encoder.conv_out.{i}'], f'conv_out.{i}')
        close(seg.decoder.logits(feats), fx['outputs']['decoder.conv_last_logits'], 'logits')
        close(seg.decoder(feats, segSize=tuple(fx['segSize'])), fx['outputs']['probs'], 'probs')


@pytest.mark.parametrize('path', fixtures('deeplabv2'), ids=lambda p: p.stem)
def test_deeplabv2(path, tmp_path):
    fx = torch.load(path, weights_only=True)
    manifest_matches(deeplabv2.MSC(deeplabv2.DeepLabV2()), 'deeplabv2_resnet101_msc_cocostuff164k')
    torch.save(fx['state_dict'], tmp_path / 'w.pth')
    seg = RELEASED_SEGMENTERS['deeplabv2'].load_released(str(tmp_path / 'w.pth'))
    image = fx['inputs']['image_uint8'].numpy()
    close(deeplabv2.preprocess(image), fx['inputs']['input'], 'input')
    logits = seg.logits(image)
    close(logits, fx['outputs']['logits'], 'logits')


def test_missing_weights_is_one_line(tmp_path):
    for cls in RELEASED_SEGMENTERS.values():
        with pytest.raises(UserError) as err:
            cls.load_released(str(tmp_path / 'absent.pth'))
        text = str(err.value)
        assert '\n' not in text and cls.released.repository in text and '--segmenter_weights' in text
