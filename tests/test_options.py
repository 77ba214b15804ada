"""Option parsing: SPADE names and defaults, dataset/network defaults, YAML merge order, errors."""
import pytest
import yaml

from semsyn.errors import UserError
from semsyn.options import load_saved_options, make_options, option_table, resolve, save_options


def test_spade_defaults():
    opt = resolve(['--gpu_ids', '-1'], is_train=True)
    assert (opt.netG, opt.ngf, opt.ndf, opt.z_dim, opt.lr) == ('spade', 64, 64, 256, 0.0002)
    assert opt.norm_G == 'spectralspadesyncbatch3x3'  # brought by --netG spade
    assert (opt.gan_mode, opt.lambda_feat, opt.lambda_vgg, opt.num_D, opt.n_layers_D) == ('hinge', 10.0, 10.0, 2, 4)
    assert opt.dataset_mode == 'coco' and opt.label_nc == 182 and opt.contain_dontcare_label
    assert opt.semantic_nc == 184 and opt.gpu_id_list == []


@pytest.mark.parametrize('mode,expect', [
    ('ade20k', dict(label_nc=150, contain_dontcare_label=True, no_instance=True, load_size=286, crop_size=256,
                    semantic_nc=151)),
    ('cityscapes', dict(label_nc=35, aspect_ratio=2.0, num_upsampling_layers='more', preprocess_mode='fixed',
                        semantic_nc=36)),
    ('celeba', dict(label_nc=18, contain_dontcare_label=True, no_instance=True, semantic_nc=19)),
    ('coco', dict(label_nc=182, load_size=286, crop_size=256, semantic_nc=184)),
])
def test_dataset_defaults(mode, expect):
    opt = resolve(['--dataset_mode', mode, '--gpu_ids', '-1'])
    for key, value in expect.items():
        assert getattr(opt, key) == value, key


def test_test_phase_defaults():
    opt = resolve(['--dataset_mode', 'coco', '--gpu_ids', '-1'], is_train=False)
    assert opt.phase == 'test' and opt.serial_batches and opt.no_flip and opt.load_size == 256
    assert not hasattr(opt, 'lambda_vgg') and opt.results_dir == './results/'


def test_pix2pixhd_brings_instance_norm():
    assert resolve(['--netG', 'pix2pixhd', '--gpu_ids', '-1']).norm_G == 'instance'


def test_config_merged_before_derived_values(tmp_path):
    cfg = tmp_path / 'c.yml'
    cfg.write_text(yaml.safe_dump({'dataset_mode': 'coco', 'no_instance': True, 'ngf': 32, 'which_epoch': 200}))
    opt = resolve(['--config', str(cfg), '--gpu_ids', '-1'])
    # SCGAN's coco inconsistency: the YAML's no_instance must be counted in semantic_nc
    assert opt.semantic_nc == 183 and opt.ngf == 32 and opt.which_epoch == '200'


def test_config_dataset_mode_brings_its_defaults_and_cli_wins(tmp_path):
    cfg = tmp_path / 'c.yml'
    cfg.write_text('dataset_mode: ade20k\nbatchSize: 8\n')
    opt = resolve(['--config', str(cfg), '--batchSize', '2', '--gpu_ids', '-1'])
    assert opt.label_nc == 150 and opt.batchSize == 2


def test_aliases_of_the_original_spellings(tmp_path):
    cfg = tmp_path / 'c.yml'
    cfg.write_text('nThread: 1\n')
    opt = resolve(['--dataset', 'celeba', '--config', str(cfg), '--gpu_ids', '-1'])
    assert opt.dataset_mode == 'celeba' and opt.nThreads == 1


def test_loader_workers_are_capped_at_the_cores(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr('os.cpu_count', lambda: 2)
    cfg = tmp_path / 'c.yml'
    cfg.write_text('nThread: 16\n')
    assert resolve(['--config', str(cfg), '--gpu_ids', '-1']).nThreads == 2
    assert capsys.readouterr().err.strip() == 'note: --nThreads 16 capped to the 2 cores of this machine'


@pytest.mark.parametrize('cores, workers', [(1, 0), (2, 1), (6, 3), (64, 4)])
def test_loader_workers_by_default(monkeypatch, cores, workers):
    """Without --nThreads the loader runs worker processes (half the cores, at most 4)."""
    monkeypatch.setattr('os.cpu_count', lambda: cores)
    assert resolve(['--gpu_ids', '-1']).nThreads == workers
    assert resolve(['--gpu_ids', '-1', '--nThreads', '0']).nThreads == 0
    with pytest.raises(UserError, match='--nThreads must be -1'):
        resolve(['--gpu_ids', '-1', '--nThreads', '-3'])


@pytest.mark.parametrize('text,fragment', [
    ('no_such_option: 1\n', "unknown option 'no_such_option'"),
    ('batchSize: four\n', "option 'batchSize' expects an integer"),
    ('use_vae: 1\n', "option 'use_vae' expects true or false"),
    ('gan_mode: fancy\n', "option 'gan_mode' must be one of"),
    ('- a list\n', 'expected a mapping'),
    ('a: [1\n', 'not valid YAML'),
])
def test_bad_config_is_one_line_error(tmp_path, text, fragment):
    cfg = tmp_path / 'bad.yml'
    cfg.write_text(text)
    with pytest.raises(UserError) as exc:
        resolve(['--config', str(cfg), '--gpu_ids', '-1'])
    msg = str(exc.value)
    assert fragment in msg and str(cfg) in msg and '\n' not in msg


def test_bad_command_line_is_user_error():
    with pytest.raises(UserError, match='--batchSize'):
        resolve(['--batchSize', 'x'])
    with pytest.raises(UserError, match='gpu_ids'):
        resolve(['--gpu_ids', 'a,b'])
    with pytest.raises(UserError, match='config'):
        resolve(['--config', '/nonexistent.yml'])


def test_save_and_load_from_opt_file(tmp_path):
    opt = make_options({'checkpoints_dir': str(tmp_path), 'name': 'run', 'dataset_mode': 'ade20k', 'ngf': 8,
                        'use_vae': True, 'gpu_ids': '-1'})
    save_options(opt)
    saved = yaml.safe_load((tmp_path / 'run' / 'opt.yml').read_text())
    assert saved['ngf'] == 8 and 'semantic_nc' not in saved
    assert 'ngf' in (tmp_path / 'run' / 'opt.txt').read_text()
    test_opt = resolve(['--checkpoints_dir', str(tmp_path), '--name', 'run', '--load_from_opt_file',
                        '--gpu_ids', '-1'], is_train=False)
    assert test_opt.ngf == 8 and test_opt.use_vae and test_opt.label_nc == 150
    assert test_opt.phase == 'test'  # how-to-run options are not taken from the file
    restored = load_saved_options(str(tmp_path), 'run', option_table(False))
    assert 'lambda_vgg' not in restored


def test_make_options_rejects_unknown_keys():
    with pytest.raises(UserError, match="unknown option 'bogus'"):
        make_options({'bogus': 1})


def test_one_config_serves_train_and_test(tmp_path):
    cfg = tmp_path / 'c.yml'
    cfg.write_text('niter: 3\nresults_dir: out\nngf: 8\n')
    assert resolve(['--config', str(cfg), '--gpu_ids', '-1'], is_train=False).ngf == 8
    assert resolve(['--config', str(cfg), '--gpu_ids', '-1'], is_train=True).niter == 3
