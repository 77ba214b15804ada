"""The networks declare their options: the option machinery names no method, --netG/--netD come
from the registries, a generator registered from outside (a file and a registry entry) brings its
options with no edit to semsyn.options, the norm strings are parsed once into a NormSpec, and the
released configs resolve to the same values as before the networks declared their options."""
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from semsyn import options
from semsyn.errors import UserError
from semsyn.models import DISCRIMINATORS, GENERATORS, create_network
from semsyn.norm_spec import NormSpec, parse_norm
from tests.conftest import REFERENCE, REPO

# values that depend on the machine (CUDA present, core count)
MACHINE = {'nThreads', 'gpu_ids'}
# options added to every namespace since the values were frozen, each at a default that changes nothing
# for these configs: the OASIS networks', OASIS's label order, label-only output size, the evaluation preset
ADDED = {'channels_G', 'num_res_blocks', 'param_free_norm', 'spade_ks', 'no_3dnoise', 'no_spectral_norm',
         'channels_D', 'lambda_labelmix', 'no_labelmix', 'no_balancing_inloss', 'add_vgg_loss',
         'dontcare_first', 'output_size', 'eval_protocol'}
CASES = {'netG=condconv': ['--netG', 'condconv', '--netD', 'fpse'], 'netG=scg': ['--netG', 'scg'],
         'netG=pix2pixhd': ['--netG', 'pix2pixhd'], 'cityscapes': ['--dataset_mode', 'cityscapes'], 'none': []}

# Computed with the option table that listed every method's options itself: per case and phase, the
# sha256 (16 hex digits) of all resolved values (json, sorted keys; MACHINE left out, semantic_nc
# in) and the values that differ from those of no options at all.
FROZEN = {
    'cityscapes:test': ('198fe7a055810486', {'aspect_ratio': 2.0, 'contain_dontcare_label': False, 'crop_size': 512,
        'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'load_size': 512,
        'num_upsampling_layers': 'more', 'preprocess_mode': 'fixed', 'semantic_nc': 36}),
    'cityscapes:train': ('1a72ae64eb55063d', {'aspect_ratio': 2.0, 'contain_dontcare_label': False,
        'crop_size': 512, 'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'load_size': 512,
        'num_upsampling_layers': 'more', 'preprocess_mode': 'fixed', 'semantic_nc': 36}),
    'config/ccfpse_ade20k.yml:test': ('f4e1f04d47bb150d', {'batchSize': 8, 'config': 'config/ccfpse_ade20k.yml',
        'dataset_mode': 'ade20k', 'label_nc': 150, 'name': 'ade_cc_fpse', 'netG': 'condconv', 'no_instance': True,
        'norm_G': 'spectralsync_batch', 'semantic_nc': 151, 'use_vae': True}),
    'config/ccfpse_ade20k.yml:train': ('36fe493f8729198a', {'batchSize': 8, 'config': 'config/ccfpse_ade20k.yml',
        'dataset_mode': 'ade20k', 'label_nc': 150, 'lambda_feat': 20.0, 'name': 'ade_cc_fpse', 'netD': 'fpse',
        'netG': 'condconv', 'niter': 100, 'niter_decay': 100, 'no_instance': True, 'norm_G': 'spectralsync_batch',
        'semantic_nc': 151, 'use_vae': True}),
    'config/ccfpse_cityscapes.yml:test': ('15dd9cd0e85aae7c', {'aspect_ratio': 2.0, 'batchSize': 8,
        'config': 'config/ccfpse_cityscapes.yml', 'contain_dontcare_label': False, 'crop_size': 512,
        'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'load_size': 512,
        'name': 'cs_cc_fpse', 'netG': 'condconv', 'norm_G': 'spectralsync_batch', 'num_upsampling_layers': 'more',
        'preprocess_mode': 'fixed', 'semantic_nc': 36, 'use_vae': True}),
    'config/ccfpse_cityscapes.yml:train': ('3b7f5a00f38292dd', {'aspect_ratio': 2.0, 'batchSize': 8,
        'config': 'config/ccfpse_cityscapes.yml', 'contain_dontcare_label': False, 'crop_size': 512,
        'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'lambda_feat': 20.0, 'load_size': 512,
        'name': 'cs_cc_fpse', 'netD': 'fpse', 'netG': 'condconv', 'niter': 100, 'niter_decay': 100,
        'norm_G': 'spectralsync_batch', 'num_upsampling_layers': 'more', 'preprocess_mode': 'fixed',
        'semantic_nc': 36, 'use_vae': True}),
    'config/ccfpse_coco.yml:test': ('17f8e3b65b6f0141', {'batchSize': 8, 'config': 'config/ccfpse_coco.yml',
        'name': 'coco_cc_fpse', 'netG': 'condconv', 'norm_G': 'spectralsync_batch', 'use_vae': True}),
    'config/ccfpse_coco.yml:train': ('017c344b73660ae4', {'batchSize': 8, 'config': 'config/ccfpse_coco.yml',
        'lambda_feat': 20.0, 'name': 'coco_cc_fpse', 'netD': 'fpse', 'netG': 'condconv', 'niter': 100,
        'niter_decay': 100, 'norm_G': 'spectralsync_batch', 'use_vae': True}),
    'config/demo.yml:test': ('57c7adb3abc621fc', {'batchSize': 4, 'config': 'config/demo.yml',
        'contain_dontcare_label': False, 'crop_size': 64, 'dataroot': '', 'dataset_mode': 'synthetic',
        'display_winsize': 64, 'label_nc': 6, 'load_size': 64, 'ngf': 16, 'preprocess_mode': 'none',
        'semantic_nc': 7, 'synthetic_size': 96}),
    'config/demo.yml:train': ('c4444aba5e5ca695', {'batchSize': 4, 'config': 'config/demo.yml',
        'contain_dontcare_label': False, 'crop_size': 64, 'dataroot': '', 'dataset_mode': 'synthetic',
        'display_freq': 192, 'display_winsize': 64, 'label_nc': 6, 'load_size': 64, 'ndf': 32, 'ngf': 16,
        'niter': 10, 'niter_decay': 5, 'no_vgg_loss': True, 'preprocess_mode': 'none', 'print_freq': 96,
        'save_epoch_freq': 5, 'save_latest_freq': 960, 'semantic_nc': 7, 'synthetic_size': 96}),
    'config/scgan_ade20k.yml:test': ('e504ea5b082a3c32', {'ade20k_raw_labels': True, 'batchSize': 16,
        'config': 'config/scgan_ade20k.yml', 'dataroot': './datasets/ADEChallengeData2016',
        'dataset_mode': 'ade20k', 'label_nc': 150, 'name': 'scgan-ade20k-best', 'nef': -1, 'netG': 'scg', 'ngf': 32,
        'no_instance': True, 'no_pairing_check': True, 'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32,
        'num_experts_conv': 3, 'num_experts_norm': 4, 'semantic_nc': 151, 'temperature': 0.05}),
    'config/scgan_ade20k.yml:train': ('7063c61797494581', {'ade20k_raw_labels': True, 'batchSize': 16,
        'beta2': 0.999, 'config': 'config/scgan_ade20k.yml', 'dataroot': './datasets/ADEChallengeData2016',
        'dataset_mode': 'ade20k', 'fid_epoch': 10, 'label_nc': 150, 'name': 'scgan-ade20k-best', 'nef': -1,
        'netD': 'fpse', 'netG': 'scg', 'ngf': 32, 'niter': 100, 'niter_decay': 100, 'no_instance': True,
        'no_pairing_check': True, 'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32, 'num_experts_conv': 3,
        'num_experts_norm': 4, 'rw_vgg': True, 'semantic_nc': 151, 'temperature': 0.05}),
    'config/scgan_celeba-test.yml:test': ('700a9c0906c585db', {'batchSize': 4,
        'config': 'config/scgan_celeba-test.yml', 'crop_size': 512, 'dataroot': './datasets/CelebAMask-HQ',
        'dataset_mode': 'celeba', 'display_winsize': 512, 'label_nc': 18, 'load_size': 512, 'name': 'scgan-celeba',
        'nef': -1, 'netG': 'scg', 'ngf': 48, 'no_instance': True, 'no_pairing_check': True,
        'no_spectral_on_routing': True, 'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32, 'num_experts_conv': 3,
        'num_experts_norm': 3, 'position': True, 'pyr_pos': True, 'pyr_rng': 4, 'semantic_nc': 19,
        'temperature': 0.05, 'use_vae': True}),
    'config/scgan_celeba-test.yml:train': ('a6dde9623888425d', {'batchSize': 4, 'beta2': 0.999,
        'config': 'config/scgan_celeba-test.yml', 'crop_size': 512, 'dataroot': './datasets/CelebAMask-HQ',
        'dataset_mode': 'celeba', 'display_winsize': 512, 'fid_epoch': 5, 'label_nc': 18, 'lambda_w_recon': 1.0,
        'load_size': 512, 'name': 'scgan-celeba', 'nef': -1, 'netG': 'scg', 'ngf': 48, 'niter_decay': 50,
        'no_instance': True, 'no_pairing_check': True, 'no_spectral_on_routing': True,
        'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32, 'num_experts_conv': 3, 'num_experts_norm': 3,
        'position': True, 'pyr_pos': True, 'pyr_rng': 4, 'rw_vgg': True, 'save_epoch_freq': 5, 'semantic_nc': 19,
        'temperature': 0.05, 'use_vae': True}),
    'config/scgan_celeba.yml:test': ('13515809fd867394', {'batchSize': 8, 'config': 'config/scgan_celeba.yml',
        'crop_size': 512, 'dataroot': './datasets/CelebAMask-HQ', 'dataset_mode': 'celeba', 'display_winsize': 512,
        'label_nc': 18, 'load_size': 512, 'name': 'scgan-celeba', 'nef': -1, 'netG': 'scg', 'ngf': 48,
        'no_instance': True, 'no_pairing_check': True, 'no_spectral_on_routing': True,
        'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32, 'num_experts_conv': 3, 'num_experts_norm': 3,
        'position': True, 'pyr_pos': True, 'pyr_rng': 4, 'semantic_nc': 19, 'temperature': 0.05, 'use_vae': True}),
    'config/scgan_celeba.yml:train': ('bd769ad20aaeba61', {'batchSize': 8, 'beta2': 0.999,
        'config': 'config/scgan_celeba.yml', 'crop_size': 512, 'dataroot': './datasets/CelebAMask-HQ',
        'dataset_mode': 'celeba', 'display_winsize': 512, 'fid_epoch': 5, 'label_nc': 18, 'lambda_w_recon': 1.0,
        'load_size': 512, 'name': 'scgan-celeba', 'nef': -1, 'netG': 'scg', 'ngf': 48, 'niter_decay': 50,
        'no_instance': True, 'no_pairing_check': True, 'no_spectral_on_routing': True,
        'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 32, 'num_experts_conv': 3, 'num_experts_norm': 3,
        'position': True, 'pyr_pos': True, 'pyr_rng': 4, 'rw_vgg': True, 'save_epoch_freq': 5, 'semantic_nc': 19,
        'temperature': 0.05, 'use_vae': True}),
    'config/scgan_coco.yml:test': ('43b78d5c11a22dac', {'batchSize': 16, 'config': 'config/scgan_coco.yml',
        'dataroot': './datasets/coco_stuff', 'name': 'scgan-coco-best', 'nef': -1, 'netG': 'scg', 'nff': 24,
        'ngf': 32, 'no_instance': True, 'no_pairing_check': True, 'norm_G': 'spectralsccsyncbatch3x3', 'nrf': 24,
        'num_experts_conv': 2, 'num_experts_norm': 3, 'semantic_nc': 183, 'temperature': 0.5}),
    'config/scgan_coco.yml:train': ('11cca9281e1c860d', {'batchSize': 16, 'beta2': 0.999,
        'config': 'config/scgan_coco.yml', 'dataroot': './datasets/coco_stuff', 'fid_epoch': 10,
        'name': 'scgan-coco-best', 'nef': -1, 'netD': 'fpse', 'netG': 'scg', 'nff': 24, 'ngf': 32, 'niter': 100,
        'niter_decay': 100, 'no_instance': True, 'no_pairing_check': True, 'norm_G': 'spectralsccsyncbatch3x3',
        'nrf': 24, 'num_experts_conv': 2, 'num_experts_norm': 3, 'rw_vgg': True, 'semantic_nc': 183,
        'temperature': 0.5}),
    'config/spade_ade20k.yml:test': ('58211b2c98164824', {'batchSize': 32, 'config': 'config/spade_ade20k.yml',
        'dataset_mode': 'ade20k', 'label_nc': 150, 'name': 'ade20k_spade', 'no_instance': True, 'semantic_nc': 151}),
    'config/spade_ade20k.yml:train': ('0ac6c3af7fe003c7', {'batchSize': 32, 'config': 'config/spade_ade20k.yml',
        'dataset_mode': 'ade20k', 'label_nc': 150, 'name': 'ade20k_spade', 'niter': 100, 'niter_decay': 100,
        'no_instance': True, 'semantic_nc': 151}),
    'config/spade_cityscapes.yml:test': ('f4005c3c0eda530f', {'aspect_ratio': 2.0, 'batchSize': 16,
        'config': 'config/spade_cityscapes.yml', 'contain_dontcare_label': False, 'crop_size': 512,
        'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'load_size': 512,
        'name': 'cityscapes_spade', 'num_upsampling_layers': 'more', 'preprocess_mode': 'fixed', 'semantic_nc': 36}),
    'config/spade_cityscapes.yml:train': ('b4c008668e1f6d1e', {'aspect_ratio': 2.0, 'batchSize': 16,
        'config': 'config/spade_cityscapes.yml', 'contain_dontcare_label': False, 'crop_size': 512,
        'dataset_mode': 'cityscapes', 'display_winsize': 512, 'label_nc': 35, 'load_size': 512,
        'name': 'cityscapes_spade', 'niter': 100, 'niter_decay': 100, 'num_upsampling_layers': 'more',
        'preprocess_mode': 'fixed', 'semantic_nc': 36}),
    'config/spade_coco.yml:test': ('ce213c96d9119914', {'batchSize': 32, 'config': 'config/spade_coco.yml',
        'name': 'coco_spade'}),
    'config/spade_coco.yml:train': ('8b89da01bb5d9415', {'batchSize': 32, 'config': 'config/spade_coco.yml',
        'name': 'coco_spade', 'niter_decay': 50}),
    'netG=condconv:test': ('15c18c4b63dabe87', {'netG': 'condconv', 'norm_G': 'spectralsync_batch'}),
    'netG=condconv:train': ('e671016469c10145', {'netD': 'fpse', 'netG': 'condconv', 'norm_G': 'spectralsync_batch'}),
    'netG=pix2pixhd:test': ('48122ea3be7351b4', {'netG': 'pix2pixhd', 'norm_G': 'instance'}),
    'netG=pix2pixhd:train': ('88c5b71b28f05ea0', {'netG': 'pix2pixhd', 'norm_G': 'instance'}),
    'netG=scg:test': ('e6cf32d2408788ce', {'nef': -1, 'netG': 'scg', 'norm_G': 'spectralsccsyncbatch3x3'}),
    'netG=scg:train': ('bc6528df7a4aee92', {'nef': -1, 'netG': 'scg', 'norm_G': 'spectralsccsyncbatch3x3'}),
    'none:test': ('66d504f2aa47b403', {}),
    'none:train': ('e6aa5d2b27038625', {}),}


def _values(cli, is_train):
    opt = options.resolve(cli + ['--gpu_ids', '-1'], is_train=is_train)
    values = {k: v for k, v in options.option_values(opt).items() if k not in MACHINE | ADDED}
    values['semantic_nc'] = opt.semantic_nc
    return values


def _cli(case):
    name, phase = case.rsplit(':', 1)
    cli = ['--config', name] if name.startswith('config/') else CASES[name]
    return (cli if phase == 'train' else [a for a in cli if a not in ('--netD', 'fpse')]), phase == 'train'


def test_every_config_is_frozen():
    configs = {str(p.relative_to(REPO)) for p in (REPO / 'config').glob('*.yml')}
    frozen = {case.rsplit(':', 1)[0] for case in FROZEN} - set(CASES)
    assert configs - frozen <= {f'config/{p.name}' for p in (REPO / 'config').glob('*oasis*.yml')}


@pytest.mark.parametrize('case', sorted(FROZEN))
def test_configs_resolve_to_the_same_values(case, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs' relative paths, as the frozen values hold them
    cli, is_train = _cli(case)
    values, base = _values(cli, is_train), _values([], is_train)
    digest, diff = FROZEN[case]
    assert {k: v for k, v in values.items() if base.get(k, '<absent>') != v} == diff
    assert hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16] == digest


def test_added_options_are_the_oasis_declarations():
    declared = {**GENERATORS['oasis'].OPTIONS, **DISCRIMINATORS['oasis'].TRAIN_OPTIONS}
    assert set(declared) == ADDED - {'dontcare_first', 'output_size', 'eval_protocol'}
    assert set(options.option_table(True)) | set(options.option_table(False)) >= ADDED


def test_choices_are_the_registries():
    train, test = options.option_table(True), options.option_table(False)
    assert train['netG'][3] == test['netG'][3] == list(GENERATORS)
    assert train['netD'][3] == list(DISCRIMINATORS) and 'netD' not in test
    assert train['netG'][1] == next(iter(GENERATORS)) and train['netD'][1] == next(iter(DISCRIMINATORS))


def test_no_method_name_in_the_option_machinery():
    names = set(GENERATORS) | set(DISCRIMINATORS) | {'scgan', 'cc-fpse', 'ccfpse', 'oasis', 'pix2pixhd'}
    for module in ('options.py', 'option_table.py'):
        text = (REPO / 'code' / 'semsyn' / module).read_text().lower()
        quoted = [n for n in names if f"'{n}'" in text or f'"{n}"' in text or f'--netg {n}' in text]
        assert quoted == [], (module, quoted)


TOY = '''
import torch
import torch.nn as nn

from semsyn.errors import UserError
from semsyn.models.generators.base import Generator
from semsyn.option_table import AT_LEAST_1


class ToyGenerator(Generator):
    """One 3x3 convolution of the label map to an image."""

    METHOD = 'a toy'
    OPTIONS = {'toy_width': (int, 8, 'hidden channels of the toy', AT_LEAST_1),
               'toy_act': (str, 'tanh', 'output activation', ['tanh', 'hardtanh'])}
    TRAIN_OPTIONS = {'lambda_toy': (float, 1.0, 'weight of a toy loss')}
    OPTION_GROUP = ('Toy', 'the toy generator of the tests')
    OPTION_DEFAULTS = {'norm_G': 'spectralinstance', 'z_dim': 3}

    @staticmethod
    def semantic_nc(opt):
        return opt.label_nc + 2

    @classmethod
    def check_options(cls, opt):
        if opt.toy_width == 13:
            raise UserError('--toy_width 13: unlucky')

    def __init__(self, opt):
        super().__init__()
        self.hidden = nn.Conv2d(opt.semantic_nc, opt.toy_width, 3, padding=1)
        if opt.norm_G_spec.spectral:
            self.hidden = nn.utils.spectral_norm(self.hidden)
        self.out = nn.Conv2d(opt.toy_width, 3, 3, padding=1)

    def forward(self, semantics, z=None):
        return torch.tanh(self.out(torch.relu(self.hidden(semantics))))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    path = tmp_path / 'toy_generator.py'
    path.write_text(TOY)
    spec = importlib.util.spec_from_file_location('toy_generator', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(GENERATORS, 'toy', module.ToyGenerator)
    return module.ToyGenerator


def test_a_registered_generator_brings_its_options(toy, tmp_path, capsys):
    opt = options.resolve(['--netG', 'toy', '--toy_width', '5', '--dataset_mode', 'synthetic', '--gpu_ids', '-1'])
    assert (opt.toy_width, opt.toy_act, opt.lambda_toy) == (5, 'tanh', 1.0)
    assert opt.norm_G == 'spectralinstance' and opt.norm_G_spec == parse_norm('spectralinstance')
    assert opt.z_dim == 3 and opt.semantic_nc == opt.label_nc + 2
    net = create_network('G', opt)
    assert net.hidden.weight_orig.shape[:2] == (5, opt.label_nc + 2)
    # the dict path: declared defaults without the parser
    small = create_network('G', {'netG': 'toy', 'label_nc': 4, 'toy_act': 'hardtanh'})
    assert small.hidden.weight_orig.shape[:2] == (8, 6)
    cfg = tmp_path / 'toy.yml'
    cfg.write_text(yaml.safe_dump({'netG': 'toy', 'toy_width': 7, 'lambda_toy': 0.5}))
    assert options.resolve(['--config', str(cfg), '--gpu_ids', '-1'], is_train=False).toy_width == 7
    with pytest.raises(UserError, match='--toy_width 13: unlucky'):
        options.resolve(['--netG', 'toy', '--toy_width', '13', '--gpu_ids', '-1'])
    with pytest.raises(UserError, match='toy_width'):
        options.resolve(['--netG', 'toy', '--toy_width', '0', '--gpu_ids', '-1'])
    with pytest.raises(UserError, match="'toy_act' must be one of tanh, hardtanh"):
        create_network('G', {'netG': 'toy', 'toy_act': 'relu'})
    # another generator chosen: the toy's options are accepted and unused, as SCGAN's are
    assert options.resolve(['--toy_width', '4', '--gpu_ids', '-1']).netG == 'spade'
    parser = options.build_argparser(options.option_table(True), explicit_only=True)
    group = next(g for g in parser._action_groups if g.title == 'Toy')
    assert {a.dest for a in group._group_actions} == {'toy_width', 'toy_act', 'lambda_toy'}
    assert 'toy (a toy)' in parser.format_help()


def test_an_unregistered_generator_option_is_unknown():
    with pytest.raises(UserError, match='unrecognized arguments: --toy_width'):
        options.resolve(['--toy_width', '4', '--gpu_ids', '-1'])


def test_a_network_may_not_redeclare_a_table_option(toy, monkeypatch):
    monkeypatch.setattr(toy, 'OPTIONS', {'ngf': (int, 3, 'a clash')})
    with pytest.raises(ValueError, match="ToyGenerator declares option 'ngf'"):
        options.option_table(True)


def _norm_strings():
    """The norm options of the defaults, the configs and the reference manifests and fixtures."""
    found = {options.BASE_OPTIONS[k][1] for k in options.NORM_OPTIONS}
    found |= {cls.OPTION_DEFAULTS['norm_G'] for cls in GENERATORS.values() if 'norm_G' in cls.OPTION_DEFAULTS}
    sources = sorted((REPO / 'config').glob('*.yml'))
    sources += sorted(REFERENCE.glob('**/*.json')) if REFERENCE.exists() else []
    for path in sources:
        data = yaml.safe_load(path.read_text()) if path.suffix == '.yml' else json.loads(path.read_text())
        values = (data.get('options') if isinstance(data, dict) else None) if path.suffix == '.json' else data
        found |= {v for k, v in (values or {}).items() if k in options.NORM_OPTIONS}
    return found


def test_every_norm_string_of_the_configs_and_references_parses():
    strings = _norm_strings()
    assert {'spectralspadesyncbatch3x3', 'spectralsccsyncbatch3x3', 'spectralsync_batch', 'spectralinstance',
            'instance'} <= strings
    for text in strings:
        spec = parse_norm(text)
        assert spec.text == text and spec.spectral == text.startswith('spectral')


@pytest.mark.parametrize('text,expect', [
    ('spectralspadesyncbatch3x3', NormSpec(True, 'spade', 'syncbatch', 3)),
    ('spectralsccinstance3x3', NormSpec(True, 'scc', 'instance', 3)),
    ('sccsyncbatch3x3', NormSpec(False, 'scc', 'syncbatch', 3)),
    ('spadebatch5x5', NormSpec(False, 'spade', 'batch', 5)),
    ('spectralinstance', NormSpec(True, 'instance')),
    ('spectralsync_batch', NormSpec(True, 'sync_batch')),
    ('instance', NormSpec(False, 'instance')),
    ('spectral', NormSpec(True, 'none')),
    ('none', NormSpec(False, 'none')),
])
def test_norm_spec_fields(text, expect):
    spec = parse_norm(text)
    assert (spec.spectral, spec.kind, spec.param_free, spec.kernel_size) == \
        (expect.spectral, expect.kind, expect.param_free, expect.kernel_size)
    assert spec.batch == ((spec.param_free if spec.conditional else spec.kind) in ('batch', 'syncbatch', 'sync_batch'))


@pytest.mark.parametrize('text', ['spectralsccfoo3x3', 'spadesyncbatch3x5', 'spectralgroup', 'spade3x3'])
def test_bad_norm_strings_are_user_errors(text):
    with pytest.raises(UserError, match=f'--norm_D {text}: expected'):
        options.resolve(['--norm_D', text, '--gpu_ids', '-1'])


def test_norm_specs_are_derived_not_saved(tmp_path):
    opt = options.make_options({'checkpoints_dir': str(tmp_path), 'name': 'run', 'gpu_ids': '-1'})
    assert opt.norm_D_spec == parse_norm('spectralinstance') and opt.norm_E_spec.kind == 'instance'
    options.save_options(opt)
    saved = yaml.safe_load((tmp_path / 'run' / 'opt.yml').read_text())
    assert saved['norm_G'] == 'spectralspadesyncbatch3x3' and not any(k.endswith('_spec') for k in saved)
    # an opt.yml without the networks' newer options loads
    for key in ADDED:
        saved.pop(key, None)
    (tmp_path / 'run' / 'opt.yml').write_text(yaml.safe_dump(saved))
    again = options.resolve(['--checkpoints_dir', str(tmp_path), '--name', 'run', '--load_from_opt_file',
                             '--gpu_ids', '-1'], is_train=False)
    assert again.norm_G_spec == opt.norm_G_spec and again.channels_G == 64


def test_a_norm_string_changed_after_resolving_is_parsed_again():
    opt = options.make_options({'dataset_mode': 'synthetic', 'ngf': 4, 'gpu_ids': '-1'})
    opt.norm_G = 'spadeinstance3x3'
    net = create_network('G', opt)
    assert opt.norm_G_spec.param_free == 'instance' and not hasattr(net.head_0.conv_0, 'weight_orig')


def test_oasis_is_registered_with_the_original_names_and_defaults():
    opt = options.resolve(['--netG', 'oasis', '--netD', 'oasis', '--dataset_mode', 'ade20k', '--gpu_ids', '-1'])
    assert (opt.channels_G, opt.num_res_blocks, opt.param_free_norm, opt.spade_ks, opt.no_3dnoise,
            opt.no_spectral_norm) == (64, 6, 'syncbatch', 3, False, False)
    assert (opt.channels_D, opt.lambda_labelmix, opt.no_labelmix, opt.no_balancing_inloss, opt.add_vgg_loss) == \
        (64, 10.0, False, False, False)
    assert (opt.z_dim, opt.ema, opt.ema_decay, opt.beta1, opt.beta2, opt.niter_decay) == \
        (64, True, 0.9999, 0.0, 0.999, 0)
    assert opt.semantic_nc == 151  # OASIS's count: label_nc + 1
    test = options.resolve(['--netG', 'oasis', '--gpu_ids', '-1'], is_train=False)
    assert test.z_dim == 64 and not hasattr(test, 'lambda_labelmix')
    with pytest.raises(UserError, match='--num_res_blocks 5: OASIS has 6 residual blocks'):
        options.resolve(['--netG', 'oasis', '--num_res_blocks', '5', '--gpu_ids', '-1'])
    with pytest.raises(UserError, match='--crop_size 48: --netG oasis halves the image 5 times'):
        options.resolve(['--netG', 'oasis', '--crop_size', '48', '--load_size', '48', '--gpu_ids', '-1'])
    # its discriminator halves 6 times and concatenates each level back: a 32 multiple is not enough to train
    for crop in ('32', '96'):
        with pytest.raises(UserError, match=rf'--crop_size {crop}: --netD oasis halves the image 6 times .* '
                                            rf'\({crop}x{crop}\) that are multiples of 64'):
            options.resolve(['--netG', 'oasis', '--crop_size', crop, '--load_size', crop, '--gpu_ids', '-1'])
    assert options.resolve(['--netG', 'oasis', '--crop_size', '96', '--load_size', '96', '--gpu_ids', '-1'],
                           is_train=False).crop_size == 96  # the generator alone takes it
    with pytest.raises(UserError, match="'param_free_norm' must be one of instance, syncbatch, batch"):
        create_network('G', {'netG': 'oasis', 'param_free_norm': 'group'})


@pytest.mark.parametrize('dataset', ['ade20k', 'cityscapes', 'coco'])
def test_oasis_manifests_built_by_create_network(dataset):
    import torch
    folder = REFERENCE / 'oasis' / 'manifests'
    if not folder.exists():
        pytest.skip(f'OASIS manifests not found at {folder} (they ship with the shared material only)')
    for role in ('G', 'D'):
        meta = json.loads((folder / f'oasis_{dataset}_{role}.json').read_text())
        with torch.device('meta'):
            net = create_network(role, {**meta['options'], 'netG': 'oasis', 'netD': 'oasis'}, init=False)
        assert [(k, list(v.shape)) for k, v in net.state_dict().items()] == \
            [(k, list(v)) for k, v in meta['params'].items()]


def test_the_options_module_is_above_models():
    text = Path(options.__file__).read_text()
    assert 'from .models import DISCRIMINATORS, GENERATORS' in text
