"""test.py --miou / --lpips --n_samples and train.py --miou_epoch on the synthetic dataset, no downloads
(the synthetic segmenter is built in; LPIPS gets seeded AlexNet weights in a temporary hub cache)."""
import json

import pytest
import torch
from torchvision.models import alexnet

from tests.training.helpers import synthesize_run, train_run

pytestmark = pytest.mark.slow

SYN = ['--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '64']


@pytest.fixture
def caches(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    (tmp_path / 'th' / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.save(alexnet(weights=None).state_dict(), tmp_path / 'th' / 'hub' / 'checkpoints' / 'alexnet-owt-7be5be79.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'th'))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')


def test_miou_during_training_and_in_test(tmp_path, caches, capsys):
    train_run(tmp_path, 'q', *SYN, '--miou_epoch', '1', '--niter', '2')
    run = tmp_path / 'ck' / 'q'
    points = [json.loads(line) for line in (run / 'miou_log.jsonl').read_text().splitlines()]
    assert [p['epoch'] for p in points] == [1, 2] and all(0 <= p['miou'] <= 1 and p['real_miou'] > 0.5
                                                          for p in points)
    assert 'mIoU: ' in (run / 'loss_log.txt').read_text()
    assert 'label fidelity on the validation set' in (run / 'web' / 'index.html').read_text()

    _, page = synthesize_run(tmp_path, 'q', *SYN, '--miou')
    folder = tmp_path / 'results' / 'q' / 'test_latest'
    result = json.loads((folder / 'miou.json').read_text())
    assert {'miou', 'pixel_accuracy', 'per_class_iou', 'real_miou', 'miou_ratio'} <= set(result)
    html = (folder / 'index.html').read_text()
    assert 'label fidelity (mIoU)' in html and 'IoU synthesized' in html
    assert 'mIoU: ' in capsys.readouterr().out


def test_lpips_diversity_of_several_samples(tmp_path, caches):
    train_run(tmp_path, 'v', *SYN, '--use_vae')
    args = [*SYN, '--use_vae', '--n_samples', '3', '--lpips', '--seed', '5']
    synthesize_run(tmp_path, 'v', *args)
    folder = tmp_path / 'results' / 'v' / 'test_latest'
    result = json.loads((folder / 'lpips.json').read_text())
    assert result['n_samples'] == 3 and result['num_label_maps'] == 4 and result['lpips_diversity'] > 0
    for k in ('synthesized_image', 'synthesized_image_2', 'synthesized_image_3'):
        assert len(list((folder / 'images' / k).iterdir())) == 4
    first = (folder / 'images' / 'synthesized_image_2' / 'synthetic_000001.png').read_bytes()
    synthesize_run(tmp_path, 'v', *args)  # seeded samples: the same pictures again
    assert (folder / 'images' / 'synthesized_image_2' / 'synthetic_000001.png').read_bytes() == first
