"""The option machinery for training and testing: the option table, CLI flags, YAML configs, saved
option files. It names no method: the networks declare their own options, received here as the
registries (``Networks``); ``semsyn.options`` binds the package's registries.

Precedence, lowest first: built-in defaults, train/test defaults, the defaults the chosen networks
and dataset bring (as SPADE's ``modify_commandline_options``), ``opt.yml`` of the run
(``--load_from_opt_file``), ``--config file.yml``, flags given on the command line. Derived values
(``semantic_nc``, the parsed norms, the list of GPU ids, ``isTrain``) are computed only after all
of them are merged, so a YAML that sets ``no_instance`` gives a consistent ``semantic_nc``.

What a network class declares (all optional; a class attribute or classmethod each):

- ``OPTIONS`` / ``TRAIN_OPTIONS``: its own options, in the table's format, shown under its help
  group ``OPTION_GROUP`` (title, description); every registered network's options are accepted
  whichever network is chosen (one config may carry the options of several);
- ``OPTION_DEFAULTS``: the defaults it brings when chosen, for the table's options or its own;
- ``ORIGINAL_FIXED``: keys of its original's options accepted at one value only (see ORIGINAL_FIXED);
- ``METHOD``: the method's name for ``--help``;
- ``check_options(opt)``: its rules across options, a UserError naming the option;
- ``derive_options(opt)``: values its original fixes from other options (before semantic_nc);
- generators: ``UPSAMPLING`` (the --num_upsampling_layers modes it supports; None: it has no latent
  size), ``TTUR_FIXED_BETAS`` (its original trainer uses Adam betas (0, 0.9) under TTUR, whatever
  --beta1/--beta2 say), ``semantic_nc(opt)`` (channels of its label input);
- discriminators: ``MIN_CROP`` (the smallest --crop_size it runs with).
"""
import argparse
import math
import os
import re
import sys

import torch
import yaml

from .distributed import launched_by_torchrun
from .errors import UserError
from .fileio import atomic_write_text
from .norm_spec import parse_norm

INF = float('inf')


class Range:
    """The values a numeric option allows: low <= value (low < value when low_open), value < high."""

    def __init__(self, low, high=None, low_open=False, text=None):
        self.low, self.high, self.low_open = low, high, low_open
        self.text = text or (f"{'>' if low_open else '>='} {low}" if high is None else
                             f"in [{low}, {high})")

    def __contains__(self, value):
        above = value > self.low if self.low_open else value >= self.low
        return above and (self.high is None or value < self.high)


AT_LEAST_0 = Range(0)
AT_LEAST_1 = Range(1)
POSITIVE = Range(0, low_open=True)
UNIT = Range(0, 1)  # Adam's betas, an EMA decay
WORKERS = Range(-1, text='>= 0, or -1 (automatic)')
ALL_OR_COUNT = Range(-1, text='>= 0, or -1 (all)')

# Option table: name -> (type, default, help[, choices or Range]).  type is one of int, float, str, bool.
# bool options are flags on the command line (--flag, --flag true, --flag=false) and true/false in YAML.
BASE_OPTIONS = {
    # experiment
    'name': (str, 'label2coco', 'name of the experiment; checkpoints go to checkpoints_dir/name'),
    'gpu_ids': (str, None, 'GPU ids, e.g. 0 or 0,1,2; -1 for CPU (default: 0 when CUDA is available, else -1)'),
    'checkpoints_dir': (str, './checkpoints', 'models are saved here'),
    'seed': (int, 0, 'random seed for weights, data order, augmentation and VAE noise', AT_LEAST_0),
    'config': (str, None, 'YAML file with option values (same keys as the flags)'),
    'load_from_opt_file': (bool, False, 'take the model/data options from checkpoints_dir/name/opt.yml'),
    # networks
    'norm_G': (str, 'spectralinstance', 'normalisation of the generator'),
    'norm_D': (str, 'spectralinstance', 'normalisation of the discriminator'),
    'norm_E': (str, 'spectralinstance', 'normalisation of the encoder'),
    'ngf': (int, 64, 'number of generator filters in the first conv layer', AT_LEAST_1),
    'init_type': (str, 'xavier', 'network initialisation', ['normal', 'xavier', 'xavier_uniform', 'kaiming',
                                                           'orthogonal', 'none']),
    'init_variance': (float, 0.02, 'variance (gain) of the initialisation', AT_LEAST_0),
    'z_dim': (int, 256, 'dimension of the latent z vector', AT_LEAST_1),
    'use_vae': (bool, False, 'enable training with an image encoder (style VAE)'),
    'nef': (int, 16, 'number of encoder filters in the first conv layer'),
    'num_upsampling_layers': (str, 'normal', 'normal: 5 upsamplings, more: 6, most: 7 (generators with a latent '
                                             'size)',
                              ['normal', 'more', 'most']),
    # data
    'phase': (str, 'train', 'train, val, test, etc'),
    'batchSize': (int, 1, 'input batch size (per process)', AT_LEAST_1),
    'preprocess_mode': (str, 'scale_width_and_crop', 'scaling and cropping of images at load time',
                        ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'scale_shortside',
                         'scale_shortside_and_crop', 'fixed', 'none']),
    'load_size': (int, 1024, 'scale images to this size; the final image is cropped to crop_size', AT_LEAST_1),
    'crop_size': (int, 512, 'crop to this size', AT_LEAST_1),
    'aspect_ratio': (float, 1.0, 'width / height of the generated image', POSITIVE),
    'label_nc': (int, 182, 'number of input label classes without the dontcare label', AT_LEAST_1),
    'contain_dontcare_label': (bool, False, 'the label maps contain a dontcare label (255)'),
    'output_nc': (int, 3, 'number of output image channels', AT_LEAST_1),
    'dataroot': (str, None, 'root folder of the dataset (not needed by --dataset_mode synthetic and custom)'),
    'dataset_mode': (str, 'coco', 'dataset format', ['coco', 'ade20k', 'cityscapes', 'celeba', 'custom',
                                                     'synthetic']),
    'serial_batches': (bool, False, 'take images in order, not shuffled'),
    'no_flip': (bool, False, 'no random horizontal flip'),
    'nThreads': (int, -1, 'data loading worker processes (-1: half the cores, at most 4; 0: load in the main '
                          'process)', WORKERS),
    'max_dataset_size': (int, sys.maxsize, 'maximum number of samples taken from the dataset', AT_LEAST_1),
    'cache_filelist_write': (bool, False, 'write the file list to a cache in the dataroot'),
    'cache_filelist_read': (bool, False, 'read the file list from the cache in the dataroot'),
    'display_winsize': (int, 400, 'display window size', AT_LEAST_1),
    'no_instance': (bool, False, 'do not add the instance edge map as input'),
    'no_pairing_check': (bool, False, 'do not check that label and image file names match'),
    'coco_no_portraits': (bool, False, 'coco: skip portrait images'),
    'label_dir': (str, None, 'custom: folder of label maps; test.py without --image_dir: synthesize these label maps '
                             "alone (values as the dataset's label files hold them, or colours with --label_palette)"),
    'image_dir': (str, None, 'custom: folder of images'),
    'instance_dir': (str, None, 'folder of instance maps named as the label maps (optional)'),
    'synthetic_size': (int, 64, 'synthetic: number of samples', AT_LEAST_1),
    'dontcare_first': (bool, False, "the dontcare label is class 0 and class k is k + 1 (OASIS's COCO-Stuff "
                                    'loader: raw k -> k + 1, 255 -> 0); for its released coco model'),
    'ade20k_raw_labels': (bool, False, "ade20k: annotation value k is channel k (SCGAN's loader) instead of SPADE's "
                                       "k-1 with 0 as dontcare; needed for SCGAN's ADE20K checkpoints"),
    # speed
    'amp': (str, 'none', 'mixed precision: autocast G, D, E and the losses in bf16 or fp16 (with GradScalers)',
            ['none', 'bf16', 'fp16']),
    'channels_last': (bool, False, 'run the networks in channels_last memory format'),
    # FID
    'gt': (str, None, 'FID reference: a folder of real images or a .npz with mu/sigma (default: the real images '
                      'of the test set at the generated resolution)'),
    'fid_weights': (str, None, 'pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache)'),
    'fid_batch_size': (int, 50, 'batch size of the Inception forward', AT_LEAST_1),
    'fid_cache_dir': (str, None, 'where statistics of --gt folders are cached (default ~/.cache/semsyn/fid_stats)'),
    # label fidelity
    'segmenter': (str, None, 'segmenter of the mIoU evaluation: synthetic (built in) or deeplabv3 (default: the '
                             "dataset's built-in one, where it has one)"),
    'segmenter_weights': (str, None, 'weights of --segmenter deeplabv3 (default: the torch hub cache)'),
}

TRAIN_OPTIONS = {
    'compile': (bool, False, 'torch.compile G, D and E in place (GPU only; minutes of compiling before the first '
                             'iteration, faster steps after it: bench/RESULTS.md)'),
    'display_freq': (int, 100, 'frequency (in samples) of showing results on the web page', AT_LEAST_1),
    'print_freq': (int, 100, 'frequency (in samples) of printing losses', AT_LEAST_1),
    'save_latest_freq': (int, 5000, 'frequency (in samples) of saving the latest checkpoint', AT_LEAST_1),
    'save_epoch_freq': (int, 10, 'frequency (in epochs) of saving epoch checkpoints', AT_LEAST_1),
    'keep_last': (int, 0, 'keep only the newest N epoch checkpoints (latest and best are always kept; 0: all)',
                  AT_LEAST_0),
    'no_html': (bool, False, 'do not write the training web page'),
    'tf_log': (bool, False, 'log to TensorBoard (torch.utils.tensorboard) in checkpoints_dir/name/logs'),
    'continue_train': (bool, False, 'resume from which_epoch (with its training state when present)'),
    'which_epoch': (str, 'latest', 'which checkpoint to load'),
    'niter': (int, 50, 'number of epochs at the starting learning rate', AT_LEAST_0),
    'niter_decay': (int, 0, 'number of epochs to decay the learning rate linearly to zero', AT_LEAST_0),
    'beta1': (float, 0.0, 'Adam beta1 (default 0.0 with TTUR, 0.5 with --no_TTUR)', UNIT),
    'beta2': (float, 0.9, 'Adam beta2 (default 0.9 with TTUR, 0.999 with --no_TTUR)', UNIT),
    'no_TTUR': (bool, False, 'do not use the TTUR scheme (G lr/2, D lr*2)'),
    'lr': (float, 0.0002, 'initial learning rate', POSITIVE),
    'D_steps_per_G': (int, 1, 'number of discriminator iterations per generator iteration', AT_LEAST_1),
    'ndf': (int, 64, 'number of discriminator filters in the first conv layer', AT_LEAST_1),
    'lambda_feat': (float, 10.0, 'weight of the feature matching loss', AT_LEAST_0),
    'lambda_vgg': (float, 10.0, 'weight of the VGG loss', AT_LEAST_0),
    'lambda_kld': (float, 0.05, 'weight of the KL divergence loss', AT_LEAST_0),
    'no_ganFeat_loss': (bool, False, 'no discriminator feature matching loss'),
    'no_vgg_loss': (bool, False, 'no VGG perceptual loss'),
    'vgg_weights': (str, None, 'path to torchvision VGG19 ImageNet weights (default: the torch hub cache)'),
    'gan_mode': (str, 'hinge', 'GAN loss', ['ls', 'original', 'hinge', 'w']),
    'num_D': (int, 2, 'number of discriminators at different scales', AT_LEAST_1),
    'n_layers_D': (int, 4, 'number of layers of each PatchGAN discriminator', AT_LEAST_1),
    'ema': (bool, False, 'keep an exponential moving average of the generator (saved as <epoch>_net_A.pth)'),
    'ema_decay': (float, 0.999, 'decay of the generator EMA', UNIT),
    'ema_bn_batches': (int, 0, 'with --ema: before the EMA generator is saved or evaluated, re-estimate its batch-norm '
                               'statistics on this many training batches; 0: use G\'s statistics',
                       AT_LEAST_0),
    'fid_epoch': (int, 0, 'every this many epochs, synthesize the validation set, compute FID and keep the best '
                          'checkpoints (0: never)', AT_LEAST_0),
    'miou_epoch': (int, 0, 'every this many epochs, the mIoU of the synthesized validation set (0: never)', AT_LEAST_0),
}

TEST_OPTIONS = {
    'results_dir': (str, './results/', 'results are saved here'),
    'which_epoch': (str, 'latest', 'which checkpoint to load'),
    'how_many': (float, INF, 'how many test images to run', POSITIVE),
    'replace_results': (bool, False, 'write over an existing result folder (else a run whose folder exists writes '
                                     'the next free <folder>_2, _3, ...)'),
    'visual_n': (int, -1, 'how many samples of each batch go to the result page (-1: all)', ALL_OR_COUNT),
    'fid': (bool, False, 'compute FID (and KID) of the synthesized images against --gt'),
    'no_ema': (bool, False, 'use <epoch>_net_G.pth even when the EMA generator <epoch>_net_A.pth exists'),
    'miou': (bool, False, "label fidelity: mIoU and pixel accuracy of a segmenter's prediction on the synthesized "
                          'images against their label maps (and on the real images: the ceiling)'),
    'n_samples': (int, 1, 'samples per label map (--use_vae models: from the prior, each seeded); the page shows '
                          'them side by side', AT_LEAST_1),
    'lpips': (bool, False, 'LPIPS diversity: mean pairwise LPIPS of the --n_samples samples of each label map'),
    'lpips_weights': (str, None, 'alexnet-owt-7be5be79.pth for --lpips (default: the torch hub cache)'),
    'label_palette': (str, None, 'the --label_dir maps are colour images: cityscapes, ade20k, cocostuff, semsyn '
                                 '(the colours of the label pages) or a palette file (JSON or "r g b id" lines)'),
    'style_image': (str, None, '--use_vae models: the style of this photo for every label map'),
    'output_size': (str, 'label', "--label_dir maps alone: each picture at its label map's own size (label) or at "
                                  "the size the generator takes (model)", ['label', 'model']),
    'eval_protocol': (str, None, 'after the test, score the result folder under this preset of python -m '
                                 'semsyn.evaluate --list-protocols (FID/KID, mIoU against the label files)'),
}

# Keys of the originals' option namespaces and configs that allow a single value here (the one
# model wrapper and optimizer; a network adds its original's in its ORIGINAL_FIXED). They are
# accepted (command line, configs) at that value, with ANY value where they only matter to a variant
# not built here, and refused otherwise; they are not options of this project.
ANY = object()
ORIGINAL_FIXED = {'model': 'pix2pix', 'optimizer': 'adam'}


def check_original_fixed(key, value, source, fixed=None):
    expected = (ORIGINAL_FIXED if fixed is None else fixed)[key]
    if expected is ANY or value == expected:
        return
    if isinstance(expected, bool):
        raise UserError(f"{source}: '{key}' is a variant of the original that its released models don't use; "
                        f'it is not supported (must be {str(expected).lower()})')
    raise UserError(f"{source}: '{key}' {value!r} is not supported; the only choice is {expected!r}")


# How `-h` groups the options (title, description, names); the networks' own groups follow
# 'training' (Networks.groups); the rest go to 'other'.
OPTION_GROUPS = [
    ('experiment', 'where a run lives and what it starts from',
     'name checkpoints_dir seed config load_from_opt_file continue_train which_epoch results_dir '
     'replace_results'),
    ('data', 'the dataset', 'dataset_mode dataroot phase label_nc contain_dontcare_label no_instance '
     'no_pairing_check coco_no_portraits synthetic_size ade20k_raw_labels dontcare_first how_many'),
    ('sizes and augmentation', None, 'batchSize preprocess_mode load_size crop_size aspect_ratio output_nc '
     'serial_batches no_flip display_winsize'),
    ('loading', None, 'nThreads max_dataset_size cache_filelist_write cache_filelist_read'),
    ('your own label maps', '--dataset_mode custom, or test.py --label_dir DIR without --image_dir',
     'label_dir image_dir instance_dir label_palette style_image n_samples output_size'),
    ('model', 'generator, encoder and their norms', 'netG ngf norm_G norm_E init_type init_variance z_dim use_vae '
     'nef num_upsampling_layers no_ema'),
    ('discriminator', None, 'netD ndf norm_D num_D n_layers_D'),
    ('training', 'schedule, optimizer, losses', 'niter niter_decay lr beta1 beta2 no_TTUR D_steps_per_G gan_mode '
     'lambda_feat lambda_vgg lambda_kld no_ganFeat_loss no_vgg_loss vgg_weights ema ema_decay ema_bn_batches'),
    ('logging and checkpoints', None, 'print_freq display_freq save_latest_freq save_epoch_freq keep_last no_html '
     'tf_log visual_n'),
    ('evaluation', 'FID/KID, label fidelity (mIoU), LPIPS diversity', 'fid fid_epoch gt fid_weights fid_batch_size '
     'fid_cache_dir miou miou_epoch segmenter segmenter_weights lpips lpips_weights eval_protocol'),
    ('devices and distributed', 'CPU, GPUs, DataParallel; torchrun runs DistributedDataParallel (README)',
     'gpu_ids amp channels_last compile'),
]


# Spellings of the original repositories that mean the same option.
ALIASES = {'dataset': 'dataset_mode', 'nThread': 'nThreads'}

# Options a saved opt.yml does not bring back: they say how this run is executed, not what it is.
RUN_OPTIONS = {'name', 'gpu_ids', 'checkpoints_dir', 'config', 'load_from_opt_file', 'phase', 'serial_batches',
               'no_flip', 'continue_train', 'which_epoch', 'results_dir', 'how_many', 'isTrain', 'nThreads',
               'dataroot', 'batchSize', 'visual_n', 'max_dataset_size', 'fid', 'gt', 'fid_weights', 'miou', 'lpips',
               'n_samples', 'segmenter_weights', 'lpips_weights', 'label_palette', 'style_image', 'label_dir',
               'image_dir', 'instance_dir',
               'fid_cache_dir', 'compile'}

# The norm options and the attribute that holds each one parsed (a NormSpec); the strings stay options.
NORM_OPTIONS = {'norm_G': 'norm_G_spec', 'norm_D': 'norm_D_spec', 'norm_E': 'norm_E_spec'}
DERIVED = ('isTrain', 'semantic_nc', 'gpu_id_list') + tuple(NORM_OPTIONS.values())

# --num_upsampling_layers: how many times a generator with a latent size halves the crop
UPSAMPLINGS = {'normal': 5, 'more': 6, 'most': 7}


def spade_semantic_nc(opt):
    """SPADE's count of label channels: the classes, the dontcare label, the instance edge map."""
    return opt.label_nc + (1 if opt.contain_dontcare_label else 0) + (0 if opt.no_instance else 1)


class Networks:
    """The network registries the options are resolved with (--netG / --netD name -> class), and
    what their classes declare (see the module's docstring). The registries are read at each call,
    so a network registered later is seen; the default choice is each registry's first entry."""

    def __init__(self, generators, discriminators):
        self.generators, self.discriminators = generators, discriminators

    def classes(self):
        seen = []
        for cls in list(self.generators.values()) + list(self.discriminators.values()):
            if cls not in seen:
                seen.append(cls)
        return seen

    def generator(self, name):
        if name not in self.generators:
            raise UserError(f"--netG {name}: unknown generator; choices: {', '.join(self.generators)}")
        return self.generators[name]

    def discriminator(self, name):
        if name not in self.discriminators:
            raise UserError(f"--netD {name}: unknown discriminator; choices: {', '.join(self.discriminators)}")
        return self.discriminators[name]

    def choice_options(self):
        """--netG (every phase) and --netD (training), their choices the registries' names."""
        def spec(registry, what):
            named = [f"{k} ({c.METHOD})" if getattr(c, 'METHOD', None) else k for k, c in registry.items()]
            return (str, next(iter(registry)), f"{what}: {', '.join(named)}", list(registry))
        return {'netG': spec(self.generators, 'generator architecture')}, \
            {'netD': spec(self.discriminators, 'discriminator architecture')}

    def declared(self, is_train, table=None):
        """name -> (spec, group title) of the networks' own options; a name two classes declare
        differently, or one of the table's, is a mistake of the declaring class (ValueError)."""
        out = {}
        for cls in self.classes():
            own = dict(getattr(cls, 'OPTIONS', {}))
            if is_train:
                own.update(getattr(cls, 'TRAIN_OPTIONS', {}))
            title = (getattr(cls, 'OPTION_GROUP', None) or (cls.__name__, None))[0]
            for name, spec in own.items():
                if table is not None and name in table:
                    raise ValueError(f'{cls.__name__} declares option {name!r}, which the option table has')
                if name in out and out[name][0] != spec:
                    raise ValueError(f'{cls.__name__} declares option {name!r} unlike another network does')
                out.setdefault(name, (spec, title))
        return out

    def groups(self, is_train):
        """(title, description, names) of the networks' help groups, in registry order."""
        titles, described = {}, {}
        for name, (_, title) in self.declared(is_train).items():
            titles.setdefault(title, []).append(name)
        for cls in self.classes():
            title, description = getattr(cls, 'OPTION_GROUP', None) or (cls.__name__, None)
            described.setdefault(title, description)
        return [(title, described.get(title), ' '.join(names)) for title, names in titles.items()]

    def defaults(self, netG, netD):
        """The defaults the chosen generator and discriminator bring (the discriminator's last)."""
        out = dict(getattr(self.generator(netG), 'OPTION_DEFAULTS', {}))
        if netD is not None:
            out.update(getattr(self.discriminator(netD), 'OPTION_DEFAULTS', {}))
        return out

    def original_fixed(self):
        fixed = dict(ORIGINAL_FIXED)
        for cls in self.classes():
            fixed.update(getattr(cls, 'ORIGINAL_FIXED', {}))
        return fixed


def option_table(is_train, networks):
    """name -> (type, default, help[, choices or Range]) of every option of the phase."""
    netG, netD = networks.choice_options()
    table = dict(BASE_OPTIONS)
    table.update(netG)
    table.update(TRAIN_OPTIONS if is_train else TEST_OPTIONS)
    if is_train:
        table.update(netD)
    table.update({name: spec for name, (spec, _) in networks.declared(is_train, table).items()})
    return table


def every_option(networks):
    """The options of both phases (a config serves train.py and test.py)."""
    return {**option_table(False, networks), **option_table(True, networks)}


# ----------------------------------------------------------------------------------------------
# defaults brought by choices (SPADE's modify_commandline_options)

def phase_defaults(is_train):
    if is_train:
        return {}
    return {'preprocess_mode': 'scale_width_and_crop', 'crop_size': 256, 'load_size': 256, 'display_winsize': 256,
            'serial_batches': True, 'no_flip': True, 'phase': 'test'}


def ttur_defaults(no_TTUR):
    """SPADE: 'the default values for beta1 and beta2 differ by TTUR option'."""
    return {'beta1': 0.5, 'beta2': 0.999} if no_TTUR else {}


def dataset_defaults(mode, is_train):
    if mode == 'coco':
        return {'preprocess_mode': 'resize_and_crop', 'load_size': 286 if is_train else 256, 'crop_size': 256,
                'display_winsize': 256, 'label_nc': 182, 'contain_dontcare_label': True,
                'cache_filelist_read': False, 'cache_filelist_write': False}
    if mode == 'ade20k':
        return {'preprocess_mode': 'resize_and_crop', 'load_size': 286 if is_train else 256, 'crop_size': 256,
                'display_winsize': 256, 'label_nc': 150, 'contain_dontcare_label': True, 'no_instance': True}
    if mode == 'cityscapes':
        return {'preprocess_mode': 'fixed', 'load_size': 512, 'crop_size': 512, 'display_winsize': 512,
                'label_nc': 35, 'aspect_ratio': 2.0, 'num_upsampling_layers': 'more'}
    if mode == 'celeba':
        return {'preprocess_mode': 'resize_and_crop', 'load_size': 512, 'crop_size': 512, 'display_winsize': 512,
                'label_nc': 18, 'contain_dontcare_label': True, 'no_instance': True}
    if mode == 'custom':
        return {'preprocess_mode': 'resize_and_crop', 'load_size': 286 if is_train else 256, 'crop_size': 256,
                'display_winsize': 256, 'label_nc': 13, 'contain_dontcare_label': False}
    if mode == 'synthetic':
        return {'preprocess_mode': 'none', 'load_size': 64, 'crop_size': 64, 'display_winsize': 64,
                'label_nc': 6, 'contain_dontcare_label': False, 'no_instance': False, 'dataroot': ''}
    return {}


# ----------------------------------------------------------------------------------------------
# parsing

def _type_name(tp):
    return {int: 'an integer', float: 'a number', str: 'a string', bool: 'true or false'}[tp]


def choices_of(spec):
    return spec[3] if len(spec) > 3 and not isinstance(spec[3], Range) else None


def range_of(spec):
    return spec[3] if len(spec) > 3 and isinstance(spec[3], Range) else None


def check_value(key, value, table, source):
    """Validate and normalise one value from a YAML file or dict; one-line UserError if wrong."""
    tp, choices = table[key][0], choices_of(table[key])
    if value is None and table[key][1] is None:
        return None
    ok = False
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        if isinstance(value, str) and value.strip().lower() in ('inf', '.inf'):
            value = INF
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        # YAML reads `which_epoch: 200` or `gpu_ids: 0` as numbers; they are still names here.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        ok = isinstance(value, str)
    if not ok:
        raise UserError(f"{source}: option '{key}' expects {_type_name(tp)}, got {value!r} "
                        f"({type(value).__name__})")
    if choices is not None and value not in choices:
        raise UserError(f"{source}: option '{key}' must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_mapping(values, table, source, fixed=None):
    """Validate a dict of option values (from YAML or code): unknown keys and wrong types are errors.
    ``fixed``: the originals' keys accepted at one value (default ORIGINAL_FIXED)."""
    fixed = ORIGINAL_FIXED if fixed is None else fixed
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise UserError(f'{source}: expected a mapping of option names to values, got {type(values).__name__}')
    out = {}
    for key, value in values.items():
        key = ALIASES.get(key, key)
        if key in DERIVED:
            continue  # computed from the other options; saved files may carry them
        if key in fixed:
            check_original_fixed(key, value, source, fixed)
            continue
        if key not in table:
            raise UserError(f"{source}: unknown option '{key}'")
        out[key] = check_value(key, value, table, source)
    return out


def load_yaml_options(path, table, networks):
    """Values of a YAML config. Keys of the other phase (e.g. niter in test.py) are valid and ignored,
    so one config serves train.py and test.py; unknown keys are errors."""
    if not os.path.isfile(path):
        raise UserError(f'--config {path}: file not found')
    try:
        with open(path) as f:
            values = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise UserError(f'--config {path}: not valid YAML ({str(exc).splitlines()[0]})') from None
    every = every_option(networks)
    return {k: v for k, v in check_mapping(values, every, path, networks.original_fixed()).items() if k in table}


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(f'command line: {message}')


TRUE_WORDS, FALSE_WORDS = ('true', 'yes', 'on', '1'), ('false', 'no', 'off', '0')


def parse_bool(text):
    """A boolean option's value on the command line: true/false (also yes/no, on/off, 1/0)."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


HELP_EPILOG = ('A boolean option alone sets it (--no_vgg_loss); with a value it takes that value (--no_vgg_loss '
               'false, --no_vgg_loss=false), e.g. to undo a --config file\'s true. Defaults shown are those of '
               'the default --netG and --dataset_mode; other choices bring their own (SPADE\'s '
               'modify_commandline_options).')


def help_defaults(table, is_train, networks):
    """The defaults --help shows: the table's, with what the default networks and dataset bring."""
    values = {key: spec[1] for key, spec in table.items()}
    values.update(phase_defaults(is_train))
    values.update(chosen_defaults(networks, values['netG'], values.get('netD'), table))
    values.update(dataset_defaults(values['dataset_mode'], is_train))
    return values


def _shown(value):
    if isinstance(value, bool):
        return str(value).lower()
    if value == sys.maxsize:
        return 'no limit'
    return 'none' if value is None else str(value)


def build_argparser(table, explicit_only, is_train, networks):
    """argparse parser over the option table; with explicit_only, unset options are absent."""
    kwargs = {'argument_default': argparse.SUPPRESS} if explicit_only else {}
    parser = _OneLineParser(formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
                            usage='%(prog)s [--config FILE.yml] [--OPTION VALUE ...]', epilog=HELP_EPILOG, **kwargs)
    aliases = {}
    for alias, target in ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    shown = help_defaults(table, is_train, networks)
    groups, group_of = {}, {}
    after = [g[0] for g in OPTION_GROUPS].index('training') + 1
    for title, description, names in OPTION_GROUPS[:after] + networks.groups(is_train) + OPTION_GROUPS[after:]:
        names = [n for n in names.split() if n in table and n not in group_of]
        if names:  # a group none of whose options this phase has is left out
            groups[title] = parser.add_argument_group(title, description)
            group_of.update({n: groups[title] for n in names})
    other = parser.add_argument_group('other')
    for key, spec in table.items():
        tp, default, help_text = spec[:3]
        flags = ['--' + key] + ['--' + a for a in aliases.get(key, [])]
        extra = {} if explicit_only else {'default': default}
        allowed = range_of(spec)
        if '(default' in help_text:  # the help says what the default depends on
            help_text += f' ({allowed.text})' if allowed else ''
        else:
            help_text = f'{help_text} (default: {_shown(shown[key])}' + (f'; {allowed.text})' if allowed else ')')
        group = group_of.get(key, other)
        if tp is bool:
            group.add_argument(*flags, dest=key, nargs='?', const=True, type=parse_bool, metavar='true|false',
                               help=help_text, **extra)
        else:
            if choices_of(spec) is not None:
                extra['choices'] = choices_of(spec)
            group.add_argument(*flags, dest=key, type=tp, help=help_text, **extra)
    for key, value in networks.original_fixed().items():  # the originals' command lines may carry them
        if isinstance(value, bool):
            parser.add_argument('--' + key, dest=key, action='store_true', default=argparse.SUPPRESS,
                                help=argparse.SUPPRESS)
        else:
            parser.add_argument('--' + key, dest=key, default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                                type=float if value is ANY else str)
    return parser


def chosen_defaults(networks, netG, netD, table):
    """The defaults the chosen networks bring, for the options of this phase."""
    return {k: v for k, v in networks.defaults(netG, netD).items() if k in table}


def resolve(cli, is_train, overrides, networks):
    """Merge all option sources and derive values; returns an argparse.Namespace.

    cli: the command-line arguments (list of strings, default sys.argv[1:]).
    overrides: a dict of values applied like command-line flags (for library use and tests).
    networks: the registries (Networks).
    """
    table = option_table(is_train, networks)
    fixed = networks.original_fixed()
    if cli is None:
        cli = sys.argv[1:]
    explicit = vars(build_argparser(table, True, is_train, networks).parse_args(cli))
    for key in fixed.keys() & explicit.keys():
        check_original_fixed(key, explicit.pop(key), 'command line', fixed)
    explicit.update(check_mapping(overrides or {}, table, 'options', fixed))

    config = load_yaml_options(explicit['config'], table, networks) if explicit.get('config') else {}

    base = {key: spec[1] for key, spec in table.items()}
    base.update(phase_defaults(is_train))

    def chosen(key, saved):
        for layer in (explicit, config, saved):
            if key in layer:
                return layer[key]
        return base.get(key)

    saved = {}
    if explicit.get('load_from_opt_file') or config.get('load_from_opt_file'):
        saved = load_saved_options(chosen('checkpoints_dir', {}), chosen('name', {}), table)

    values = dict(base)
    values.update(chosen_defaults(networks, chosen('netG', saved), chosen('netD', saved), table))
    values.update(dataset_defaults(chosen('dataset_mode', saved), is_train))
    if is_train:
        values.update(ttur_defaults(chosen('no_TTUR', saved)))
    for layer in (saved, config, explicit):
        values.update(layer)
    opt = argparse.Namespace(**values)
    opt.isTrain = is_train
    finalize(opt, networks)
    if is_train:
        warn_ignored_betas(opt, {k for layer in (config, explicit) for k in layer}, networks)
    return opt


def network_options(values, networks, is_train=True):
    """Options to build networks with, from a dict of option names (the rest: the table's defaults
    and those the chosen networks and dataset bring), without the command-line parser and the
    checks of a run (files, workers, batch sizes); keys that are no options are ignored."""
    table = option_table(is_train, networks)
    given = check_mapping({k: v for k, v in values.items() if ALIASES.get(k, k) in table}, table, 'options')
    merged = {key: spec[1] for key, spec in table.items()}
    merged.update(phase_defaults(is_train))
    pick = {**merged, **given}
    merged.update(chosen_defaults(networks, pick['netG'], pick.get('netD'), table))
    merged.update(dataset_defaults(pick['dataset_mode'], is_train))
    if is_train:
        merged.update(ttur_defaults(pick['no_TTUR']))
    merged.update(given)
    opt = argparse.Namespace(**merged)
    opt.isTrain = is_train
    derive(opt, networks)
    check_ranges(opt, networks)
    check_networks(opt, networks)
    return opt


def warn_ignored_betas(opt, given, networks):
    """semsyn uses explicit --beta1/--beta2 also under TTUR; say so where the original would not
    (a generator whose TTUR_FIXED_BETAS is true)."""
    fixed = getattr(networks.generator(opt.netG), 'TTUR_FIXED_BETAS', False)
    if opt.no_TTUR or not fixed or not {'beta1', 'beta2'} & given:
        return
    if (opt.beta1, opt.beta2) != (0.0, 0.9) and int(os.environ.get('RANK', '0')) == 0:
        print(f'warning: Adam betas ({opt.beta1}, {opt.beta2}) are used with TTUR; the original {opt.netG} trainer '
              f'ignores --beta1/--beta2 under TTUR and uses (0, 0.9)', file=sys.stderr)


def derive(opt, networks):
    """The derived values: the generator's count of label channels, the norm options parsed (one
    NormSpec each, the strings kept), the list of GPU ids."""
    generator = networks.generator(opt.netG)
    if hasattr(generator, 'derive_options'):
        generator.derive_options(opt)
    rule = getattr(generator, 'semantic_nc', spade_semantic_nc)
    opt.semantic_nc = rule(opt)
    for option, attr in NORM_OPTIONS.items():
        setattr(opt, attr, parse_norm(getattr(opt, option), option))
    opt.gpu_id_list = parse_gpu_ids(opt.gpu_ids)
    if opt.gpu_ids is None:
        opt.gpu_ids = ','.join(str(i) for i in opt.gpu_id_list) if opt.gpu_id_list else '-1'
    return opt


def finalize(opt, networks):
    """Compute derived values and check cross-option constraints."""
    derive(opt, networks)
    check_ranges(opt, networks)
    check_names(opt)
    check_weight_files(opt)
    if opt.isTrain and opt.niter + opt.niter_decay < 1:
        raise UserError(f'--niter {opt.niter} --niter_decay {opt.niter_decay}: train at least one epoch '
                        '(--niter + --niter_decay >= 1)')
    if opt.isTrain:
        if opt.compile and not opt.gpu_id_list:
            # measured on the GPU only; on the CPU the fast paths' operations recompile per shape and
            # a 32x32 four-iteration run spent four minutes compiling
            raise UserError('--compile needs a GPU (--gpu_ids); on the CPU the fast paths are the fast form')
        if opt.compile and len(opt.gpu_id_list) > 1 and not launched_by_torchrun():
            raise UserError(f'--compile with --gpu_ids {opt.gpu_ids} (DataParallel, which torch.compile does not '
                            f'support): use torchrun --nproc_per_node {len(opt.gpu_id_list)} train.py --compile')
    check_networks(opt, networks)
    check_run_sizes(opt, networks)
    cap_workers(opt)
    return opt


def check_ranges(opt, networks):
    """Every numeric option inside the range its table entry allows (a config's values included)."""
    for key, spec in option_table(opt.isTrain, networks).items():
        allowed, value = range_of(spec), getattr(opt, key)
        if allowed is not None and value is not None and value not in allowed:
            raise UserError(f'--{key} {value}: out of range; allowed: {allowed.text}')


# A run's name and a checkpoint's epoch become one path component each (checkpoints_dir/name,
# results_dir/name/test_<which_epoch>): nothing that climbs out of those folders or nests them.
NAME_OPTIONS = ('name', 'which_epoch')
NAME_CHARACTERS = re.compile(r'[A-Za-z0-9._-]+')


def check_names(opt):
    for key in NAME_OPTIONS:
        value = getattr(opt, key, None)
        if value is not None and (not NAME_CHARACTERS.fullmatch(value) or set(value) == {'.'}):
            raise UserError(f"--{key} {value!r}: must be a single name of letters, digits and '.', '_', '-' "
                            '(no path)')


WEIGHT_FILE_OPTIONS = ('vgg_weights', 'fid_weights', 'segmenter_weights', 'lpips_weights')


def check_weight_files(opt):
    """A weights file named on the command line or in a config exists (else the hub cache would be
    used in its place, or the run would fail after its first epoch)."""
    for key in WEIGHT_FILE_OPTIONS:
        path = getattr(opt, key, None)
        if path and not os.path.isfile(path):
            raise UserError(f'--{key} {path}: file not found')


def batch_norm_batch(opt):
    """How many samples one batch norm sees: torchrun synchronises them over the processes,
    DataParallel normalises each GPU's part of the batch on its own."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world > 1:
        return opt.batchSize * world
    # a batch smaller than the GPU count is refused later, by the device check
    return max(1, opt.batchSize // max(1, len(opt.gpu_id_list)))


def default_workers():
    """Loader workers when none are asked for: half the cores (the rest run the step), at most 4."""
    return min(4, (os.cpu_count() or 1) // 2)


def cap_workers(opt):
    """-1 workers: the default; a config written for a big machine (nThread 16) gets the
    cores this one has."""
    if opt.nThreads == -1:
        opt.nThreads = default_workers()
    cores = os.cpu_count() or 1
    if opt.nThreads > cores:
        if int(os.environ.get('RANK', '0')) == 0:
            print(f'note: --nThreads {opt.nThreads} capped to the {cores} cores of this machine', file=sys.stderr)
        opt.nThreads = cores


def latent_halvings(opt, generator):
    """How many times ``generator`` halves the crop to its first feature map (None: no latent size)."""
    modes = getattr(generator, 'UPSAMPLING', None)
    return None if modes is None else UPSAMPLINGS[opt.num_upsampling_layers]


def check_networks(opt, networks):
    """What the chosen networks cannot run with, named at start-up instead of failing in the first
    forward: the generator's upsampling modes and latent size, the discriminator's smallest crop,
    and each one's own rules (``check_options``)."""
    generator = networks.generator(opt.netG)
    modes = getattr(generator, 'UPSAMPLING', None)
    mode = opt.num_upsampling_layers
    if modes is not None and mode not in modes:
        cityscapes = opt.dataset_mode == 'cityscapes' and mode == 'more'
        because = ' (--dataset_mode cityscapes sets more)' if cityscapes else ''
        raise UserError(f"--num_upsampling_layers {mode}{because}: --netG {opt.netG} supports {' or '.join(modes)}")
    halvings = latent_halvings(opt, generator)
    if halvings is not None:
        step = 2 ** halvings
        if opt.crop_size % step or round(opt.crop_size // step / opt.aspect_ratio) < 1:
            smallest = step * max(1, math.ceil(opt.aspect_ratio))
            raise UserError(f'--crop_size {opt.crop_size}: --netG {opt.netG} with --num_upsampling_layers {mode} '
                            f'halves the image {halvings} times; use a multiple of {step}, at least {smallest}')
    discriminator = networks.discriminator(opt.netD) if opt.isTrain and hasattr(opt, 'netD') else None
    smallest = getattr(discriminator, 'MIN_CROP', None)
    if smallest is not None and opt.crop_size < smallest:
        raise UserError(f'--crop_size {opt.crop_size}: --netD {opt.netD} needs at least {smallest}')
    for network in (generator, discriminator):
        if hasattr(network, 'check_options'):
            network.check_options(opt)


def check_run_sizes(opt, networks):
    """Sizes a run cannot train or load with: a batch norm over one value per channel, crops larger
    than the loaded image."""
    halvings = latent_halvings(opt, networks.generator(opt.netG))
    if halvings is not None and opt.isTrain:
        step = 2 ** halvings
        latent = (opt.crop_size // step) * round(opt.crop_size // step / opt.aspect_ratio)
        if opt.norm_G_spec.batch and batch_norm_batch(opt) * latent < 2:
            raise UserError(f'--batchSize {opt.batchSize} with --crop_size {opt.crop_size}: the batch norms of '
                            f'--norm_G {opt.norm_G} see one value per channel on the {opt.crop_size // step}x'
                            f'{opt.crop_size // step} first feature map; use --crop_size {2 * step} or --batchSize 2')
    if opt.preprocess_mode.endswith('_and_crop') and opt.load_size < opt.crop_size:
        raise UserError(f'--load_size {opt.load_size} is smaller than --crop_size {opt.crop_size}: with '
                        f'--preprocess_mode {opt.preprocess_mode} the crops would be mostly padding; use --load_size '
                        f'of at least {opt.crop_size}')


def parse_gpu_ids(text):
    """'0,1' -> [0, 1]; '-1' or '' -> [] (CPU); None -> [0] when CUDA is available, else []."""
    if text is None:
        return [0] if torch.cuda.is_available() else []
    ids = []
    for part in str(text).split(','):
        part = part.strip()
        if not part:
            continue
        try:
            gid = int(part)
        except ValueError:
            raise UserError(f"--gpu_ids: expected comma-separated integers such as 0,1 or -1 for CPU, got '{text}'") \
                from None
        if gid >= 0:
            ids.append(gid)
    return ids


# ----------------------------------------------------------------------------------------------
# saving and loading

def option_values(opt):
    """The non-derived option values of a namespace, as plain YAML-safe types."""
    out = {}
    for key, value in sorted(vars(opt).items()):
        if key in DERIVED:
            continue
        if isinstance(value, float) and math.isinf(value):
            value = 'inf'
        out[key] = value
    return out


def save_options(opt, folder, networks):
    """Write opt.yml (machine-readable) and opt.txt (SPADE's human-readable listing)."""
    folder = folder or os.path.join(opt.checkpoints_dir, opt.name)
    os.makedirs(folder, exist_ok=True)
    values = option_values(opt)
    atomic_write_text(os.path.join(folder, 'opt.yml'), yaml.safe_dump(values, sort_keys=True))
    table = option_table(opt.isTrain, networks)
    lines = ['----------------- Options ---------------']
    for key, value in values.items():
        default = table[key][1] if key in table else None
        note = '' if value == default else f'\t[default: {default}]'
        lines.append(f'{key:>25}: {str(value):<30}{note}')
    lines.append(f'{"semantic_nc":>25}: {opt.semantic_nc:<30}\t[derived]')
    lines.append('----------------- End -------------------')
    atomic_write_text(os.path.join(folder, 'opt.txt'), '\n'.join(lines) + '\n')


def load_saved_options(checkpoints_dir, name, table):
    """Options of an earlier run from its opt.yml, without the ones that say how to run."""
    path = os.path.join(checkpoints_dir, name, 'opt.yml')
    if not os.path.isfile(path):
        raise UserError(f'--load_from_opt_file: {path} not found')
    with open(path) as f:
        try:
            values = yaml.safe_load(f) or {}
        except yaml.YAMLError as exc:
            raise UserError(f'{path}: not valid YAML ({str(exc).splitlines()[0]})') from None
    values = {k: v for k, v in values.items() if k not in RUN_OPTIONS and k in table}
    return check_mapping(values, table, path)
