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
    with pytest.raises(UserError, match='--nThreads -3: out of range; allowed: >= 0, or -1'):
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


@pytest.mark.parametrize('argv,line', [
    (['--lr', '-1'], '--lr -1.0: out of range; allowed: > 0'),
    (['--lr', '0'], '--lr 0.0: out of range; allowed: > 0'),
    (['--beta1', '1'], '--beta1 1.0: out of range; allowed: in [0, 1)'),
    (['--beta2', '-0.1'], '--beta2 -0.1: out of range; allowed: in [0, 1)'),
    (['--niter', '0', '--niter_decay', '0'], '--niter 0 --niter_decay 0: train at least one epoch'),
    (['--niter', '-2', '--niter_decay', '5'], '--niter -2: out of range; allowed: >= 0'),
    (['--print_freq', '0'], '--print_freq 0: out of range; allowed: >= 1'),
    (['--save_epoch_freq', '0'], '--save_epoch_freq 0: out of range; allowed: >= 1'),
    (['--lambda_vgg', '-1'], '--lambda_vgg -1.0: out of range; allowed: >= 0'),
    (['--lambda_feat', '-0.5'], '--lambda_feat -0.5: out of range; allowed: >= 0'),
    (['--crop_size', '0'], '--crop_size 0: out of range; allowed: >= 1'),
    (['--batchSize', '0'], '--batchSize 0: out of range; allowed: >= 1'),
    (['--ema_decay', '1.5'], '--ema_decay 1.5: out of range; allowed: in [0, 1)'),
    (['--aspect_ratio', '0'], '--aspect_ratio 0.0: out of range; allowed: > 0'),
    (['--D_steps_per_G', '0'], '--D_steps_per_G 0: out of range; allowed: >= 1'),
    (['--name', 'a/b'], "--name 'a/b': must be a single name"),
    (['--name', '..'], "--name '..': must be a single name"),
    (['--name', ''], "--name '': must be a single name"),
    (['--which_epoch', '../../x'], "--which_epoch '../../x': must be a single name"),
    (['--vgg_weights', '/no/such/vgg19.pth'], '--vgg_weights /no/such/vgg19.pth: file not found'),
    (['--no_vgg_loss', 'maybe'], "argument --no_vgg_loss: expected true or false, got 'maybe'"),
])
def test_option_values_checked_before_any_work(argv, line):
    with pytest.raises(UserError) as exc:
        resolve(argv + ['--gpu_ids', '-1'])
    assert str(exc.value).startswith(line) or line in str(exc.value), str(exc.value)
    assert '\n' not in str(exc.value)


def test_range_of_a_config_value_is_checked(tmp_path):
    cfg = tmp_path / 'c.yml'
    cfg.write_text('lr: -0.001\n')
    with pytest.raises(UserError, match=r'--lr -0.001: out of range; allowed: > 0'):
        resolve(['--config', str(cfg), '--gpu_ids', '-1'])
    with pytest.raises(UserError, match=r'--n_samples 0: out of range'):
        resolve(['--n_samples', '0', '--gpu_ids', '-1'], is_train=False)


def test_names_that_are_names_pass():
    opt = resolve(['--name', 'demo_20260101-1.2', '--which_epoch', '200', '--gpu_ids', '-1'])
    assert (opt.name, opt.which_epoch) == ('demo_20260101-1.2', '200')


@pytest.mark.parametrize('argv,value', [
    (['--no_vgg_loss'], True), (['--no_vgg_loss', 'true'], True), (['--no_vgg_loss', 'false'], False),
    (['--no_vgg_loss=false'], False), (['--no_vgg_loss=False'], False), (['--no_vgg_loss', 'no'], False),
    (['--no_vgg_loss', '--ngf', '8'], True), ([], True),  # [] : the config's value
])
def test_booleans_both_ways_over_a_config(tmp_path, argv, value):
    cfg = tmp_path / 'c.yml'
    cfg.write_text('no_vgg_loss: true\n')
    assert resolve(['--config', str(cfg), '--gpu_ids', '-1'] + argv).no_vgg_loss is value


def test_an_existing_vgg_weights_file_is_accepted(tmp_path):
    weights = tmp_path / 'vgg19.pth'
    weights.write_bytes(b'')
    assert resolve(['--vgg_weights', str(weights), '--gpu_ids', '-1']).vgg_weights == str(weights)


@pytest.mark.parametrize('is_train', [True, False])
def test_help_shows_defaults_and_no_empty_group(is_train, capsys):
    with pytest.raises(SystemExit):
        resolve(['--help'], is_train=is_train)
    text = capsys.readouterr().out
    blocks = text.split('\n\n')
    # every option's help ends with its default: the defaults of the default --netG and dataset
    assert 'norm of the generator' not in text
    assert '(default: spectralspadesyncbatch3x3)' in ' '.join(text.split())
    assert ('(default: 0.0002; > 0)' in ' '.join(text.split())) is is_train
    flat = ' '.join(text.split())
    assert flat.count('(default') == len(option_table(is_train))
    for key in option_table(is_train):
        assert f'--{key} ' in text, key
    headings = [b.split('\n')[0] for b in blocks if b.split('\n')[0].endswith(':')]
    assert len(headings) == len(set(headings)) and 'other:' not in headings
    own = [b for b in blocks if b.startswith('your own label maps:')]
    assert own and '--label_dir' in text.split('your own label maps:')[1].split('\n\n')[1]
    assert 'true|false' in text and '--no_vgg_loss=false' in ' '.join(text.split())
