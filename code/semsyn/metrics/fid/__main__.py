"""python -m semsyn.metrics.fid FOLDER_A FOLDER_B [--save_stats out.npz] [--fid_weights PATH]

FID (and KID) of two folders of images, or of a folder and a .npz of pytorch-fid's statistics;
the same value as ``python -m pytorch_fid A B`` on the same folders and weights."""
import argparse
import os
import sys
from pathlib import Path

import torch

from ...errors import run_main
from .cache import load_reference
from .folders import folder_features
from .inception import FeatureExtractor
from .stats import Stats, compare


def stats_of(path, extractor, args):
    path = Path(path)
    if path.suffix == '.npz':
        return load_reference(path, extractor)
    return Stats.from_features(folder_features(extractor, path, args.batch_size, args.num_workers), str(path))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m semsyn.metrics.fid', description=__doc__.split('\n\n')[1])
    parser.add_argument('paths', nargs='+', help='FOLDER_A [FOLDER_B or B.npz]')
    # one style, underscores as in train.py/test.py; pytorch-fid's dashed spellings and the older
    # --weights still work (--help shows both)
    parser.add_argument('--save_stats', '--save-stats', metavar='OUT.npz',
                        help='save the statistics (and features) of the first path')
    parser.add_argument('--fid_weights', '--weights', metavar='PATH',
                        help='pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache)')
    parser.add_argument('--batch_size', '--batch-size', type=int, default=50,
                        help='images per Inception forward (default: 50)')
    parser.add_argument('--num_workers', '--num-workers', type=int, default=min(4, os.cpu_count() or 1),
                        help='image loading worker processes (default: the cores, at most 4)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='cpu, cuda or cuda:N (default: cuda when available)')
    args = parser.parse_args(argv)
    if len(args.paths) > 2 or (len(args.paths) == 1 and not args.save_stats):
        parser.error('give two paths to compare, or one path with --save_stats')
    extractor = FeatureExtractor(args.fid_weights, torch.device(args.device))
    a = stats_of(args.paths[0], extractor, args)
    if args.save_stats:
        a.save(args.save_stats)
        print(f'statistics of {args.paths[0]} saved to {args.save_stats}')
    if len(args.paths) == 2:
        result = compare(a, stats_of(args.paths[1], extractor, args))
        print(f'FID: {result["fid"]}')
        if 'kid' in result:
            print(f'KID: {result["kid"]} +- {result["kid_std"]}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
