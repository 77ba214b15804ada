"""Benchmark inputs: real ADE20K label maps and photos (the sample pairs in the shared datasets),
through semsyn's own dataset and preprocessing (resize to 286/256 of the crop, random crop, flip),
so the label maps have the borders and regions of real data."""
import os

import torch

from semsyn.data import create_dataset
from semsyn.models.synthesis import prepare_batch

ADE20K_SAMPLES = os.environ.get('SEMSYN_BENCH_ADE20K', os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'datasets', 'ade20k'))


def sample_options(size):
    """Option overrides that make the dataset read the samples at crop ``size`` (load 286/256 of it)."""
    return {'dataroot': ADE20K_SAMPLES, 'phase': 'val', 'crop_size': size, 'load_size': size * 286 // 256,
            'preprocess_mode': 'resize_and_crop', 'no_flip': False, 'serial_batches': True}


def sample_batch(opt, batch, device):
    """(semantics, real image): ``batch`` crops of the sample pairs, different crops and flips per
    item (epochs of the seeded augmentation), as the networks take them."""
    dataset = create_dataset(opt)
    items = []
    epoch = 0
    while len(items) < batch:
        dataset.set_epoch(epoch)
        items += [dataset[i] for i in range(min(len(dataset), batch - len(items)))]
        epoch += 1
    data = {k: torch.stack([it[k] for it in items]) for k in ('label', 'image')}
    data['instance'] = torch.stack([it['instance'] for it in items]) if not opt.no_instance else torch.tensor(0)
    semantics, real, _ = prepare_batch(data, opt, device)
    return semantics, real
