"""Data loading alone: samples/s of one loader worker per dataset format and crop size, next to the
training step it must keep up with.

    python bench/loader.py [--sizes 256,512] [--samples 24]

For coco, ade20k and cityscapes (the sample pairs in the shared datasets) it reads ``--samples``
items through semsyn's own dataset (decode, resize, crop, flip; a different crop per epoch) in
this process, i.e. what one DataLoader worker does, and prints samples/s per worker. With
``--nThreads N`` the loader runs N such workers in parallel (data/sampler.py).
"""
import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'code'))

from semsyn.data import create_dataset  # noqa: E402
from semsyn.options import resolve  # noqa: E402

DATASETS = os.environ.get('SEMSYN_BENCH_DATASETS', os.path.join(HERE, '..', '..', 'shared', 'datasets'))
FORMATS = {'coco': ('coco_stuff', 'val'), 'ade20k': ('ade20k', 'val'), 'cityscapes': ('cityscapes', 'train')}


def samples_per_second(dataset_mode, size, count):
    folder, phase = FORMATS[dataset_mode]
    aspect = 2.0 if dataset_mode == 'cityscapes' else 1.0
    opt = resolve(['--dataset_mode', dataset_mode], overrides={
        'dataroot': os.path.join(DATASETS, folder), 'phase': phase, 'crop_size': size, 'load_size': size * 286 // 256,
        'aspect_ratio': aspect, 'preprocess_mode': 'resize_and_crop' if aspect == 1.0 else 'fixed',
        'gpu_ids': '-1', 'nThreads': 0, 'serial_batches': True, 'no_pairing_check': True})
    dataset = create_dataset(opt)
    dataset[0]  # warm-up: file listing, decoder
    start, done, epoch = time.perf_counter(), 0, 0
    while done < count:
        epoch += 1
        dataset.set_epoch(epoch)
        for i in range(min(len(dataset), count - done)):
            dataset[i]
            done += 1
    return done / (time.perf_counter() - start), len(dataset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='256,512')
    parser.add_argument('--samples', type=int, default=24)
    args = parser.parse_args()
    torch.set_num_threads(1)  # a DataLoader worker runs with one thread
    print('| dataset | crop | sample pairs | samples/s per worker |')
    print('|---|---|---:|---:|')
    for mode in FORMATS:
        for size in (int(s) for s in args.sizes.split(',')):
            rate, pairs = samples_per_second(mode, size, args.samples)
            print(f'| {mode} | {size} | {pairs} | {rate:.1f} |', flush=True)


if __name__ == '__main__':
    main()
