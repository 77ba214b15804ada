"""python -m semsyn.evaluate end to end on tiny data: a small random-weight DRN built through the registry
and saved in the released key layout (--segmenter_weights), random FID weights in a temporary hub
cache; the pairing rules, the saved JSON and Markdown row, and the one-line errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from semsyn import evaluate
from semsyn.cli import run_test_and_evaluate
from semsyn.errors import UserError
from semsyn.metrics.protocols import PRESETS, cityscapes_table
from semsyn.metrics.segmentation import ConfusionMatrix
from semsyn.metrics.segmenters import RELEASED_SEGMENTERS
from semsyn.options import make_options

PROTOCOL = 'cityscapes-drn-512x256'
SMALL_DRN = (1, 1, 1, 1, 1, 1, 1, 1)


@pytest.fixture(scope='module')
def material(tmp_path_factory):
    root = tmp_path_factory.mktemp('eval')
    torch.manual_seed(0)
    seg = RELEASED_SEGMENTERS['drn_d_105'].build(layers=SMALL_DRN)
    torch.save({'state_dict': {'module.' + k: v for k, v in seg.net.state_dict().items()}}, root / 'drn.pth')
    rng = np.random.default_rng(0)
    for d in ('fake', 'labels', 'real'):
        (root / d).mkdir()
    for city in ('aachen_000000_000019', 'bonn_000001_000019'):
        small = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
        Image.fromarray(small).resize((512, 256), Image.BILINEAR).save(root / 'fake' / f'{city}_leftImg8bit.png')
        ids = rng.choice([0, 7, 8, 11, 21, 26], size=(16, 32)).astype(np.uint8)  # label ids, some ignored (0)
        Image.fromarray(ids).resize((1024, 512), Image.NEAREST).save(root / 'labels' / f'{city}_gtFine_labelIds.png')
    for i in range(3):
        small = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
        Image.fromarray(small).resize((1024, 512), Image.BILINEAR).save(root / 'real' / f'{i}.png')
    return root


def args(root, *more):
    return ['--protocol', PROTOCOL, '--fake', str(root / 'fake'), '--labels', str(root / 'labels'),
            '--segmenter_weights', str(root / 'drn.pth'), '--device', 'cpu', *more]


def expected_miou(root):
    """The same segmenter's predictions scored by a confusion matrix built here from the label ids."""
    seg = RELEASED_SEGMENTERS['drn_d_105'].load_released(str(root / 'drn.pth'))
    counts = np.zeros((19, 19), np.int64)
    for fake in sorted((root / 'fake').iterdir()):
        pred = seg.predict(np.asarray(Image.open(fake).convert('RGB'))[None])[0].numpy()
        label_file = root / 'labels' / fake.name.replace('_leftImg8bit', '_gtFine_labelIds')
        ids = np.asarray(Image.open(label_file))[1::2, 1::2]  # 1024x512 -> 512x256, PIL nearest
        train = cityscapes_table()[ids]
        keep = train != 255
        np.add.at(counts, (train[keep], pred[keep]), 1)
    hits, union = np.diag(counts), counts.sum(0) + counts.sum(1) - np.diag(counts)
    return float(np.mean(hits[union > 0] / union[union > 0])), hits.sum() / counts.sum()


def test_folders_end_to_end(material, fid_env, capsys):
    out = material / 'out'
    assert evaluate.main(args(material, '--real', str(material / 'real'), '--out', str(out))) == 0
    printed = capsys.readouterr().out
    assert f'[{PROTOCOL}] FID ' in printed and 'mIoU' in printed
    result = json.loads((out / f'eval_{PROTOCOL}.json').read_text())
    assert result['protocol'] == PROTOCOL and result['settings']['name'] == PROTOCOL
    assert result['num_images'] == 2 and result['num_real'] == 3
    miou, accuracy = expected_miou(material)
    assert result['miou'] == pytest.approx(miou, abs=1e-12)
    assert result['pixel_accuracy'] == pytest.approx(accuracy, abs=1e-12)
    assert len(result['per_class_iou']) == 19 and np.isfinite(result['fid']) and result['kid'] is not None
    assert result['inception_preparation'] == 'pytorch-fid'
    row = (out / f'eval_{PROTOCOL}.md').read_text().splitlines()
    assert row[0].startswith('| protocol |') and row[2].startswith(f'| {PROTOCOL} | 2 |')
    assert f"{100 * miou:.2f}" in row[2]
    # the other preparation: another FID on the same images, named in the result
    evaluate.main(args(material, '--real', str(material / 'real'), '--out', str(out), '--inception_preparation',
                       'torch-fidelity'))
    other = json.loads((out / f'eval_{PROTOCOL}.json').read_text())
    assert other['inception_preparation'] == 'torch-fidelity' and other['fid'] != result['fid']
    assert other['miou'] == result['miou']


def test_result_folder_of_test_py(material, tmp_path, monkeypatch):
    """test.py --eval_protocol scores results/<name>/<phase>_<epoch>/images/synthesized_image."""
    web = tmp_path / 'web'
    (web / 'images').mkdir(parents=True)
    os.symlink(material / 'fake', web / 'images' / 'synthesized_image')
    opt = make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'segmenter_weights': str(material / 'drn.pth')},
                       is_train=False)
    result = evaluate.evaluate_result_folder(opt, str(web), PROTOCOL, labels_dir=str(material / 'labels'))
    assert result['miou'] == pytest.approx(expected_miou(material)[0], abs=1e-12)
    assert (web / f'eval_{PROTOCOL}.json').is_file() and 'fid' not in result
    with pytest.raises(UserError, match='--eval_protocol nope|--protocol nope'):
        run_test_and_evaluate(make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'eval_protocol': 'nope'},
                                       is_train=False))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty_hub'))
    with pytest.raises(UserError, match='drn-d-105_ms_cityscapes.pth of fyu/drn'):  # before any synthesis
        run_test_and_evaluate(make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'name': 'absent',
                                            'eval_protocol': PROTOCOL}, is_train=False))


def test_list_protocols(capsys):
    assert evaluate.main(['--list-protocols']) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in PRESETS)
    assert all(seg in text for seg in ('drn_d_105', 'upernet101', 'deeplabv2'))


def test_pairing_rules(tmp_path):
    labels = evaluate.keyed([str(tmp_path / 'a_gtFine_labelIds.png'), str(tmp_path / 'b.png')],
                            evaluate.DEFAULT_SUFFIXES, 'labels')
    pairs = evaluate.pair_files([str(tmp_path / 'b.jpg'), str(tmp_path / 'a_leftImg8bit.png')], labels,
                                evaluate.DEFAULT_SUFFIXES)
    assert [os.path.basename(p) for pair in pairs for p in pair] == ['a_leftImg8bit.png', 'a_gtFine_labelIds.png',
                                                                      'b.jpg', 'b.png']
    with pytest.raises(UserError, match=r'c\.png: no label file'):
        evaluate.pair_files([str(tmp_path / 'c.png')], labels, evaluate.DEFAULT_SUFFIXES)
    with pytest.raises(UserError, match=r'b\.png: label file without'):
        evaluate.pair_files([str(tmp_path / 'a.png')], labels, evaluate.DEFAULT_SUFFIXES)
    oasis = evaluate.keyed([str(tmp_path / 'x_fake.png')], ('_fake',), 'images')
    assert list(oasis) == ['x']


def bad_copy(material, tmp_path, fake_size=None, label_value=None):
    root = tmp_path / 'bad'
    for d in ('fake', 'labels'):
        (root / d).mkdir(parents=True)
        for f in (material / d).iterdir():
            (root / d / f.name).write_bytes(f.read_bytes())
    first = sorted((root / 'fake').iterdir())[0]
    if fake_size:
        Image.open(first).resize(fake_size).save(first)
    if label_value is not None:
        label = sorted((root / 'labels').iterdir())[0]
        ids = np.asarray(Image.open(label)).copy()
        ids[5, 5] = label_value
        Image.fromarray(ids).save(label)
    return root, first


def test_errors_name_the_file(material, tmp_path):
    root, first = bad_copy(material, tmp_path, fake_size=(256, 256))
    argv = args(root)
    argv[argv.index('--segmenter_weights') + 1] = str(material / 'drn.pth')
    with pytest.raises(UserError, match=f'{first.name}: 256x256 image'):
        evaluate.main(argv)
    root, _ = bad_copy(material, tmp_path / 'b', label_value=40)
    argv = args(root)
    argv[argv.index('--segmenter_weights') + 1] = str(material / 'drn.pth')
    with pytest.raises(UserError, match=r'aachen_000000_000019_gtFine_labelIds\.png: label values \[40\]'):
        evaluate.main(argv)
    (root / 'labels' / 'aachen_000000_000019_gtFine_labelIds.png').unlink()
    with pytest.raises(UserError, match='aachen_000000_000019_leftImg8bit.png: no label file'):
        evaluate.main(argv)


def test_missing_weights_is_one_line(material, tmp_path):
    argv = args(material)
    argv[argv.index('--segmenter_weights') + 1] = str(tmp_path / 'drn-d-105_ms_cityscapes.pth')
    env = dict(os.environ, PYTHONPATH=str(os.path.join(os.path.dirname(__file__), '..', 'code')))
    proc = subprocess.run([sys.executable, '-m', 'semsyn.evaluate', *argv], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and proc.stdout == ''
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'fyu/drn' in lines[0] and 'drn-d-105_ms_cityscapes.pth' in lines[0]
    assert '--segmenter_weights' in lines[0]


def test_confusion_of_an_empty_class_set_is_nan():
    assert np.isnan(ConfusionMatrix(3).result()['miou'])


def test_run_mode_reuses_the_synthesized_test_set(material, tmp_path, capsys, monkeypatch):
    """--name: results/<name>/test_<epoch> already holds the images, so nothing is synthesized again."""
    from semsyn.options import save_options
    ck, results = tmp_path / 'ck', tmp_path / 'results'
    (ck / 'run').mkdir(parents=True)
    save_options(make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1'}, is_train=True), str(ck / 'run'))
    images = results / 'run' / 'test_latest' / 'images'
    images.mkdir(parents=True)
    os.symlink(material / 'fake', images / 'synthesized_image')
    monkeypatch.setattr(evaluate, 'run_test', lambda opt: pytest.fail('synthesized again'))
    argv = ['--protocol', PROTOCOL, '--name', 'run', '--checkpoints_dir', str(ck), '--labels',
            str(material / 'labels'), '--segmenter_weights', str(material / 'drn.pth'), '--device', 'cpu',
            '--results_dir', str(results), '--gpu_ids', '-1']
    assert evaluate.main(argv) == 0
    assert 'reusing the synthesized images' in capsys.readouterr().out
    result = json.loads((results / 'run' / 'test_latest' / f'eval_{PROTOCOL}.json').read_text())
    assert result['miou'] == pytest.approx(expected_miou(material)[0], abs=1e-12)


def test_multimodal_result_folder_adds_lpips(material, tmp_path, monkeypatch):
    from torchvision.models import alexnet
    hub = tmp_path / 'th' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(alexnet(weights=None).state_dict(), hub / 'alexnet-owt-7be5be79.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'th'))
    web = tmp_path / 'web'
    (web / 'images').mkdir(parents=True)
    os.symlink(material / 'fake', web / 'images' / 'synthesized_image')
    second = web / 'images' / 'synthesized_image_2'
    second.mkdir()
    for f in (material / 'fake').iterdir():  # the second sample: the first one mirrored
        Image.open(f).transpose(Image.FLIP_LEFT_RIGHT).save(second / f.name)
    opt = make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'segmenter_weights': str(material / 'drn.pth')},
                       is_train=False)
    result = evaluate.evaluate_result_folder(opt, str(web), PROTOCOL, labels_dir=str(material / 'labels'))
    assert result['lpips']['n_samples'] == 2 and result['lpips']['num_label_maps'] == 2
    assert result['lpips']['lpips_diversity'] > 0
    same = evaluate.lpips_diversity([str(material / 'fake')] * 2, sorted(os.listdir(material / 'fake')))
    assert same['lpips_diversity'] == pytest.approx(0, abs=1e-6)
