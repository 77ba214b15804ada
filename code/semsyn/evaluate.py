"""python -m semsyn.evaluate --protocol NAME --fake DIR --labels DIR [--real DIR]: one row of a paper's
table (FID, KID, mIoU, pixel accuracy, per-class IoU) under a named protocol (``--list-protocols``),
printed and saved as JSON and as a Markdown row; every score names its protocol.

Folders of any codebase work (OASIS's results/<name>/best/image, a diffusion model's samples): each
synthesized image is paired with the label file of the same name stem, after the suffixes of
``--strip_suffix`` are removed from both (default: Cityscapes' ``_leftImg8bit`` and
``_gtFine_labelIds``). A synthesized image without a label, or a label without an image, is an error.
With a run instead of --fake (``--name``, ``--checkpoints_dir``, ``--which_epoch``, and test.py's data
options after them), the test set is synthesized once by test.py's code (results/<name>/test_<epoch>)
and the images are reused on a rerun; the labels then default to the dataset's label files, and a
multimodal run's samples (test.py --n_samples K: synthesized_image, synthesized_image_2, ...) add
their LPIPS diversity.
"""
import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image

from .data import create_dataset, is_label_only
from .data.files import list_images
from .errors import UserError, run_main
from .fileio import atomic_write_text
from .metrics.fid import PREPARATIONS, FeatureExtractor, Stats, compare, prepare
from .metrics.fid.inception import locate_fid_weights
from .metrics.lpips import load_lpips
from .metrics.protocols import PRESETS, Protocol, check_preparation, get_protocol, list_protocols
from .metrics.segmentation import ConfusionMatrix
from .metrics.segmenters import RELEASED_SEGMENTERS
from .options import resolve
from .testing import result_dir, run_test

DEFAULT_SUFFIXES = ('_leftImg8bit', '_gtFine_labelIds')
FID_BATCH = 16


def pairing_key(path: str, suffixes) -> str:
    stem = Path(path).stem
    for suffix in suffixes:
        if suffix and stem.endswith(suffix):
            return stem[:-len(suffix)]
    return stem


def keyed(files, suffixes, what) -> Dict[str, str]:
    out = {}
    for f in files:
        key = pairing_key(f, suffixes)
        if key in out:
            raise UserError(f'{f}: same name stem {key!r} as {out[key]} (two {what} for one image)')
        out[key] = f
    return out


def pair_files(fake: List[str], labels: Dict[str, str], suffixes) -> List[Tuple[str, str]]:
    """(synthesized image, label file) by name stem; one line naming the first unpaired file."""
    fakes = keyed(fake, suffixes, 'synthesized images')
    for key, path in fakes.items():
        if key not in labels:
            raise UserError(f'{path}: no label file with the name stem {key!r} (pairing rules: python -m '
                            f'semsyn.evaluate --help, --strip_suffix)')
    for key, path in labels.items():
        if key not in fakes:
            raise UserError(f'{path}: label file without a synthesized image of the name stem {key!r}')
    return [(fakes[k], labels[k]) for k in sorted(fakes)]


def folder_images(folder, what) -> List[str]:
    if not folder or not os.path.isdir(folder):
        raise UserError(f'{what} {folder}: not a folder')
    files = list_images(folder, recursive=False)
    if not files:
        raise UserError(f'{what} {folder}: no images found')
    return files


def read_rgb(path) -> np.ndarray:
    try:
        return np.array(Image.open(path).convert('RGB'))
    except OSError as exc:
        raise UserError(f'{path}: not a readable image ({exc})') from None


def read_label(path) -> np.ndarray:
    try:
        img = Image.open(path)
        img.load()
    except OSError as exc:
        raise UserError(f'{path}: not a readable label map ({exc})') from None
    if img.mode not in ('L', 'P', 'I', 'I;16'):
        raise UserError(f'{path}: a {img.mode} image; expected a label map of class ids (one channel)')
    return np.asarray(img)


def load_segmenter(protocol: Protocol, weights: Optional[str], device):
    return RELEASED_SEGMENTERS[protocol.segmenter].load_released(weights, device=device, **protocol.options())


class InceptionFeatures:
    """Features of uint8 images under one preparation, in batches of equal sizes."""

    def __init__(self, extractor, preparation):
        self.extractor, self.preparation = extractor, preparation
        self.batch, self.out = [], []

    def add(self, image):
        if self.batch and self.batch[0].shape != image.shape:
            self.flush()
        self.batch.append(image)
        if len(self.batch) == FID_BATCH:
            self.flush()

    def flush(self):
        if self.batch:
            self.out.append(self.extractor.from_prepared(prepare(np.stack(self.batch), self.preparation)))
            self.batch = []

    def features(self):
        self.flush()
        return np.concatenate(self.out)


def evaluate(protocol: Protocol, pairs, real_files=None, segmenter_weights=None, fid_weights=None,
             preparation=None, device=torch.device('cpu')) -> dict:
    """The scores of (synthesized image, label file) pairs under a protocol; FID/KID with real images."""
    preparation = check_preparation(preparation or protocol.inception_preparation)
    segmenter = load_segmenter(protocol, segmenter_weights, device)  # before any image: missing weights stop here
    extractor = FeatureExtractor(fid_weights, device) if real_files else None
    matrix = ConfusionMatrix(protocol.num_classes, protocol.ignore_label, protocol.miou_formula)
    fake_features = InceptionFeatures(extractor, preparation) if extractor else None
    size = None
    for fake_path, label_path in pairs:
        image = read_rgb(fake_path)
        protocol.check_image(image, fake_path)
        size = size or image.shape[:2]
        pred = segmenter.predict(protocol.segmenter_images(image[None]))
        label = protocol.map_labels(read_label(label_path), label_path)
        matrix.update(pred, torch.from_numpy(protocol.resize_labels(label, pred.shape[1:])))
        if fake_features:
            fake_features.add(image)
    result = {'protocol': protocol.name, 'num_images': len(pairs), **matrix.result()}
    if extractor:
        real_features = InceptionFeatures(extractor, preparation)
        for path in real_files:
            image = read_rgb(path)
            if image.shape[:2] != tuple(size):  # real photos at the synthesized size (bicubic, as SPADE loads them)
                image = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BICUBIC))
            real_features.add(image)
        fid = compare(Stats.from_features(fake_features.features(), 'synthesized'),
                      Stats.from_features(real_features.features(), 'real'))
        result.update({'fid': fid['fid'], 'kid': fid.get('kid'), 'kid_std': fid.get('kid_std'),
                       'num_real': len(real_files), 'inception_preparation': preparation})
    result['settings'] = protocol.summary()
    if preparation != protocol.inception_preparation:
        result['settings']['inception_preparation'] = f'{preparation} (--inception_preparation)'
    return result


def markdown_row(result: dict) -> str:
    def num(key, scale=1.0, digits=2):
        value = result.get(key)
        return '-' if value is None else f'{value * scale:.{digits}f}'
    header = '| protocol | images | FID | KID x 1000 | mIoU (%) | pixel accuracy (%) |\n|---|---|---|---|---|---|\n'
    return header + (f"| {result['protocol']} | {result['num_images']} | {num('fid')} | {num('kid', 1000)} | "
                     f"{num('miou', 100)} | {num('pixel_accuracy', 100)} |\n")


def format_result(result: dict) -> str:
    text = f"[{result['protocol']}] mIoU {100 * result['miou']:.2f}  pixel accuracy " \
           f"{100 * result['pixel_accuracy']:.2f}  ({result['num_images']} images)"
    if 'lpips' in result:
        text += f"  LPIPS diversity {result['lpips']['lpips_diversity']:.4f}"
    if 'fid' in result:
        kid = f"  KID {result['kid']:.5f} +- {result['kid_std']:.5f}" if result.get('kid') is not None else ''
        text = f"[{result['protocol']}] FID {result['fid']:.3f}{kid}  " + text.split('] ', 1)[1]
    return text


def save(result: dict, out_dir: str) -> Tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, f"eval_{result['protocol']}")
    atomic_write_text(base + '.json', json.dumps(result, indent=2, sort_keys=True) + '\n')
    atomic_write_text(base + '.md', markdown_row(result))
    return base + '.json', base + '.md'


def dataset_labels(opt) -> Dict[str, str]:
    """Name stem of each image of a run's test set -> its label file (the names test.py saves under)."""
    dataset = create_dataset(opt)
    labels = getattr(dataset, 'label_paths', None)
    images = getattr(dataset, 'image_paths', None) or labels  # label maps alone: pages are named after them
    if not labels or not all(isinstance(p, str) and os.path.isfile(p) for p in labels[:1]):
        raise UserError(f'--dataset_mode {opt.dataset_mode} has no label files to score against; pass --labels DIR')
    return {Path(img).stem: lab for img, lab in zip(images, labels)}


def evaluate_result_folder(opt, web_dir, protocol_name, labels_dir=None, real_dir=None, suffixes=DEFAULT_SUFFIXES,
                           preparation=None, device=torch.device('cpu')) -> dict:
    """The protocol's scores of a test.py result folder; saved into it."""
    protocol = get_protocol(protocol_name)
    fake = folder_images(os.path.join(web_dir, 'images', 'synthesized_image'), 'synthesized images')
    labels = keyed(folder_images(labels_dir, '--labels'), suffixes, 'label files') if labels_dir else \
        dataset_labels(opt)
    if not labels_dir:
        keys = {pairing_key(f, suffixes) for f in fake}
        labels = {pairing_key(k, suffixes): v for k, v in labels.items() if pairing_key(k, suffixes) in keys}
    real_folder = real_dir or os.path.join(web_dir, 'images', 'real_image')
    real = folder_images(real_folder, '--real') if (real_dir or os.path.isdir(real_folder)) else None
    pairs = pair_files(fake, labels, suffixes)
    result = evaluate(protocol, pairs, real, opt.segmenter_weights, opt.fid_weights, preparation, device)
    samples = sample_folders(web_dir)
    if len(samples) > 1:
        result['lpips'] = lpips_diversity(samples, [os.path.basename(f) for f, _ in pairs],
                                          getattr(opt, 'lpips_weights', None), device)
    report(result, web_dir)
    return result


def sample_folders(web_dir) -> List[str]:
    """synthesized_image, synthesized_image_2, ...: the samples per label map of a multimodal run."""
    folders = [os.path.join(web_dir, 'images', 'synthesized_image')]
    while os.path.isdir(os.path.join(web_dir, 'images', f'synthesized_image_{len(folders) + 1}')):
        folders.append(os.path.join(web_dir, 'images', f'synthesized_image_{len(folders) + 1}'))
    return folders


@torch.no_grad()
def lpips_diversity(folders, names, weights=None, device=torch.device('cpu')) -> dict:
    """Mean pairwise LPIPS of the samples of each label map (the same file name in every folder)."""
    metric = load_lpips(weights, device)
    per_map = []
    for name in names:
        images = []
        for folder in folders:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                raise UserError(f'{path}: missing (every sample folder holds one image per label map)')
            images.append(torch.from_numpy(read_rgb(path)).permute(2, 0, 1)[None].float().div(127.5).sub(1))
        pairs = [float(metric(a.to(device), b.to(device))) for a, b in itertools.combinations(images, 2)]
        per_map.append(sum(pairs) / len(pairs))
    return {'lpips_diversity': float(np.mean(per_map)), 'num_label_maps': len(per_map), 'n_samples': len(folders)}


def check_ready(opt, protocol_name):
    """Before test.py synthesizes anything: the preset exists and its weights files are there."""
    protocol = get_protocol(protocol_name)
    RELEASED_SEGMENTERS[protocol.segmenter].released.locate(opt.segmenter_weights)
    if not is_label_only(opt):  # the test set's real images: FID and KID
        locate_fid_weights(opt.fid_weights)
    if opt.n_samples > 1:  # LPIPS diversity of the samples
        load_lpips(opt.lpips_weights)
    return protocol


def report(result, out_dir):
    print(format_result(result))
    paths = save(result, out_dir)
    print(f'scores: {paths[0]}, {paths[1]}')


def run_folder(args, extra) -> str:
    """results/<name>/test_<epoch> of the run, synthesized by test.py's code unless it holds the images."""
    cli = ['--name', args.name, '--checkpoints_dir', args.checkpoints_dir, '--which_epoch', args.which_epoch,
           '--load_from_opt_file'] + list(extra)
    opt = resolve(cli, is_train=False)
    web_dir = result_dir(opt)
    fake = os.path.join(web_dir, 'images', 'synthesized_image')
    if os.path.isdir(fake) and list_images(fake, recursive=False):
        print(f'reusing the synthesized images in {fake}')
    else:
        opt.replace_results = True
        run_test(opt)
    return opt, web_dir


def build_parser():
    parser = argparse.ArgumentParser(prog='python -m semsyn.evaluate', description=__doc__.split('\n\n')[0],
                                     epilog=__doc__.split('\n\n', 1)[1], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--list-protocols', '--list_protocols', action='store_true', help='print the presets')
    parser.add_argument('--protocol', choices=list(PRESETS), metavar='NAME', help='the preset (--list-protocols)')
    parser.add_argument('--fake', help='folder of synthesized images')
    parser.add_argument('--labels', help='folder of the ground-truth label files (as the dataset ships them)')
    parser.add_argument('--real', help='folder of real images: FID and KID against them')
    parser.add_argument('--out', help='where eval_<protocol>.json and .md go (default: the folder above --fake)')
    parser.add_argument('--strip_suffix', action='append', metavar='SUFFIX',
                        help='removed from the end of file name stems before pairing (repeatable; default: '
                             + ', '.join(DEFAULT_SUFFIXES) + ')')
    parser.add_argument('--segmenter_weights', help='the released weights file (default: the torch hub cache)')
    parser.add_argument('--fid_weights', help='pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache)')
    parser.add_argument('--inception_preparation', choices=PREPARATIONS,
                        help="FID/KID image preparation (default: the preset's)")
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    run = parser.add_argument_group('a semsyn run instead of --fake (further test.py options follow, e.g. '
                                    '--dataroot)')
    run.add_argument('--name')
    run.add_argument('--checkpoints_dir', default='./checkpoints')
    run.add_argument('--which_epoch', default='latest')
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.list_protocols:
        print(list_protocols())
        return 0
    if not args.protocol:
        raise UserError('--protocol NAME is required (python -m semsyn.evaluate --list-protocols)')
    suffixes = tuple(args.strip_suffix) if args.strip_suffix else DEFAULT_SUFFIXES
    device = torch.device(args.device)
    if args.name:
        if args.fake:
            raise UserError('--fake and --name: give a folder of images or a run, not both')
        opt, web_dir = run_folder(args, extra)
        opt.segmenter_weights, opt.fid_weights = args.segmenter_weights, args.fid_weights
        evaluate_result_folder(opt, web_dir, args.protocol, args.labels, args.real, suffixes,
                               args.inception_preparation, device)
        return 0
    if extra:
        raise UserError(f'unrecognized arguments: {" ".join(extra)}')
    if not args.fake or not args.labels:
        raise UserError('--fake DIR and --labels DIR are required (or a run: --name NAME)')
    protocol = get_protocol(args.protocol)
    labels = keyed(folder_images(args.labels, '--labels'), suffixes, 'label files')
    pairs = pair_files(folder_images(args.fake, '--fake'), labels, suffixes)
    real = folder_images(args.real, '--real') if args.real else None
    result = evaluate(protocol, pairs, real, args.segmenter_weights, args.fid_weights, args.inception_preparation,
                      device)
    report(result, args.out or os.path.dirname(os.path.abspath(args.fake)))
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
