"""FID in test.py (--fid [--gt]) and during training (--fid_epoch), on CPU with random Inception weights."""
import json

import pytest
import yaml

from tests.conftest import DATASETS, require
from tests.training.helpers import synthesize_run, train_run

pytestmark = pytest.mark.slow


def test_training_keeps_best_checkpoints_by_fid(fid_env, tmp_path):
    opt = train_run(tmp_path, 'f', '--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '32',
                    '--niter', '2', '--fid_epoch', '1', '--tf_log')
    run = tmp_path / 'ck' / 'f'
    history = [json.loads(line) for line in (run / 'fid_log.jsonl').read_text().splitlines()]
    assert [h['epoch'] for h in history] == [1, 2]
    assert all(h['fid'] > 0 and 'kid' in h and h['num_fake'] == 4 for h in history)
    assert (run / 'best_net_G.pth').is_file() and (run / 'best_net_D.pth').is_file()
    assert (run / 'loss_log.txt').read_text().count('FID: ') == 2
    assert 'FID on the validation set' in (run / 'web' / 'index.html').read_text()
    events = list((run / 'logs').glob('events.out.tfevents.*'))
    assert events
    from semsyn.fileio import load_untrusted
    state = load_untrusted(run / 'latest_train_state.pth')
    assert state['progress']['best_fid'] == min(h['fid'] for h in history)
    assert opt.fid_epoch == 1


def test_test_script_fid_default_reference_and_gt_folder(fid_env, tmp_path):
    root = require(DATASETS / 'coco_stuff', 'coco_stuff sample dataset')
    train_run(tmp_path, 'c', '--dataset_mode', 'coco', '--dataroot', str(root), '--crop_size', '32',
              '--load_size', '32', '--max_dataset_size', '2')
    _, page = synthesize_run(tmp_path, 'c', '--dataset_mode', 'coco', '--dataroot', str(root), '--crop_size', '32',
                             '--load_size', '32', '--fid', '--visual_n', '1')
    folder = tmp_path / 'results' / 'c' / 'test_latest'
    result = json.loads((folder / 'fid.json').read_text())
    assert result['num_fake'] == 8 and result['num_real'] == 8 and result['fid'] > 0
    assert result['reference'] == 'real images of the test set'
    html = (folder / 'index.html').read_text()
    assert 'FID / KID' in html and 'kid' in html
    assert len(list((folder / 'images' / 'synthesized_image').iterdir())) == 4  # --visual_n 1 per batch of 2

    _, page = synthesize_run(tmp_path, 'c', '--dataset_mode', 'coco', '--dataroot', str(root), '--crop_size', '32',
                             '--load_size', '32', '--fid', '--gt', str(root / 'val_img'), '--how_many', '4',
                             '--replace_results')
    result = json.loads((folder / 'fid.json').read_text())
    assert result['num_fake'] == 4 and result['num_real'] == 8 and result['reference'] == str(root / 'val_img')
    # a second run reads the folder's statistics from the cache, and still names the folder
    synthesize_run(tmp_path, 'c', '--dataset_mode', 'coco', '--dataroot', str(root), '--crop_size', '32',
                   '--load_size', '32', '--fid', '--gt', str(root / 'val_img'), '--how_many', '4', '--replace_results')
    again = json.loads((folder / 'fid.json').read_text())
    assert again['reference'] == str(root / 'val_img') and again['fid'] == result['fid']
    assert str(root / 'val_img') in (folder / 'index.html').read_text()


def test_fid_options_in_a_config(tmp_path):
    from semsyn.options import resolve
    cfg = tmp_path / 'c.yml'
    cfg.write_text(yaml.safe_dump({'fid_epoch': 5, 'gt': '/data/val.npz', 'fid': True}))
    assert resolve(['--config', str(cfg), '--gpu_ids', '-1']).fid_epoch == 5
    test_opt = resolve(['--config', str(cfg), '--gpu_ids', '-1'], is_train=False)
    assert test_opt.fid and test_opt.gt == '/data/val.npz'


def test_oasis_training_evaluates_its_ema_generator(fid_env, tmp_path, monkeypatch):
    """FID during an OASIS run: the validation set is synthesized by the EMA generator (the original
    evaluates it), after its batch-norm statistics are recomputed; the best set keeps it."""
    from semsyn.devices import unwrap
    from semsyn.training.validation import Validation
    ran = []
    evaluate = Validation.evaluate

    def recording(self, model, metrics):
        core = unwrap(model)
        hooks = [net.register_forward_hook(lambda *_, role=role: ran.append(role))
                 for role, net in (('A', core.netA), ('G', core.netG))]
        try:
            return evaluate(self, model, metrics)
        finally:
            for hook in hooks:
                hook.remove()

    monkeypatch.setattr(Validation, 'evaluate', recording)
    train_run(tmp_path, 'o', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '64',
              '--label_nc', '4', '--netG', 'oasis', '--channels_G', '2', '--batchSize', '1', '--ema_decay', '0.9',
              '--ema_bn_batches', '1', '--fid_epoch', '1')
    assert ran and set(ran) == {'A'}
    run = tmp_path / 'ck' / 'o'
    history = [json.loads(line) for line in (run / 'fid_log.jsonl').read_text().splitlines()]
    assert [h['epoch'] for h in history] == [1] and history[0]['fid'] > 0 and history[0]['num_fake'] == 2
    assert all((run / f'best_net_{role}.pth').is_file() for role in 'GDA')
