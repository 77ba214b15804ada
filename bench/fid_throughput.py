"""Images per second of FID feature extraction (decode in DataLoader workers + Inception pool3).

    python bench/fid_throughput.py [--images 64] [--size 256] [--batch-size 50] [--workers 2] [--device cpu]

Uses the FID weights from the torch hub cache (or --fid_weights); when they are absent, the same network
with random weights (the speed is the same).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'code'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--images', type=int, default=64)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=50)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--fid_weights')
    args = parser.parse_args()

    from semsyn.metrics.fid import FID_WEIGHTS_URL, FeatureExtractor, folder_features
    from semsyn.weights import hub_weights_path
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.fid_weights
        if weights is None and not os.path.isfile(hub_weights_path(os.path.basename(FID_WEIGHTS_URL))):
            from tests.fid_material import random_fid_inception_state_dict
            weights = os.path.join(tmp, 'random_fid_inception.pth')
            torch.save(random_fid_inception_state_dict(), weights)
            print('FID weights not in the hub cache: random weights, same network')
        rng = np.random.default_rng(0)
        folder = os.path.join(tmp, 'images')
        os.makedirs(folder)
        for i in range(args.images):
            Image.fromarray(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)).save(
                os.path.join(folder, f'{i:05d}.png'))
        extractor = FeatureExtractor(weights, torch.device(args.device))
        folder_features(extractor, folder, args.batch_size, args.workers)  # warm-up
        start = time.perf_counter()
        feats = folder_features(extractor, folder, args.batch_size, args.workers)
        seconds = time.perf_counter() - start
    print(f'FID feature extraction: {len(feats) / seconds:.1f} images/s ({len(feats)} PNGs of {args.size}x{args.size}, '
          f'batch {args.batch_size}, {args.workers} workers, {args.device}, {torch.get_num_threads()} threads)')


if __name__ == '__main__':
    main()
