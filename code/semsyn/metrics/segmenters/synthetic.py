"""The built-in segmenter of the synthetic dataset: a small fully-convolutional network trained at first
use on real images of the synthetic training set (CPU, seconds), cached in the user cache folder under
a key of everything that changes it, and reused afterwards.

The synthetic classes come in pairs of one colour told apart only by texture, and every fourth class
repeats a texture in another colour (data/synthetic.py), so a segmenter that scores well must see both:
the mIoU of synthesized images then measures whether the textures were reproduced, not only the
colours. Its view (about 30 pixels) spans several periods of every texture.
"""
import hashlib
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from ... import distributed as dist
from ...data.synthetic import STYLE_VERSION, SyntheticDataset
from ...fileio import atomic_torch_save, load_untrusted, user_cache_dir

SEGMENTER_VERSION = 1
TRAIN_SAMPLES = 512
TRAIN_STEPS = 300
TRAIN_CROP = 32
BATCH = 16
WIDTH = 32


class TextureFCN(nn.Module):
    """A full-resolution layer, a stride-2 layer, dilated layers at half resolution, logits upsampled."""

    def __init__(self, num_classes, width=WIDTH):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width // 2, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=2, dilation=2), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=4, dilation=4), nn.ReLU(inplace=True))
        self.classify = nn.Conv2d(width, num_classes, 1)

    def forward(self, images):
        logits = self.classify(self.features(images))
        return F.interpolate(logits, size=images.shape[2:], mode='bilinear', align_corners=False)


def training_options(opt):
    """The synthetic training set of these options, as the model saw it (flips included)."""
    train = type(opt)(**vars(opt))
    train.phase, train.isTrain, train.no_flip = 'train', True, False
    train.synthetic_size, train.max_dataset_size = TRAIN_SAMPLES, TRAIN_SAMPLES
    return train


def cache_key(opt):
    """Everything that changes the trained network."""
    parts = [SEGMENTER_VERSION, STYLE_VERSION, opt.label_nc, opt.crop_size, opt.aspect_ratio, opt.seed, TRAIN_SAMPLES,
             TRAIN_STEPS, TRAIN_CROP, BATCH, WIDTH]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def train_segmenter(opt, device=torch.device('cpu'), steps=TRAIN_STEPS):
    """A TextureFCN trained on real synthetic training images (deterministic; the global RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(opt.seed)
        dataset = SyntheticDataset(training_options(opt))
        net = TextureFCN(opt.label_nc).to(device).train()
        optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
        loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True,
                            generator=torch.Generator().manual_seed(opt.seed))
        done = 0
        while done < steps:
            dataset.set_epoch(done)  # fresh flips each pass
            for data in loader:
                image, label = random_crop(data['image'], data['label'][:, 0], TRAIN_CROP)
                loss = F.cross_entropy(net(image.to(device)), label.to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                done += 1
                if done == steps:
                    break
    return net.eval()


def random_crop(image, label, size):
    """The same random size x size window of a batch of images and label maps (training on crops is
    4x cheaper than on whole 64x64 samples; the network is fully convolutional)."""
    h, w = label.shape[-2:]
    top = int(torch.randint(0, max(1, h - size + 1), ()))
    left = int(torch.randint(0, max(1, w - size + 1), ()))
    return image[..., top:top + size, left:left + size], label[..., top:top + size, left:left + size]


class SyntheticSegmenter:
    def __init__(self, opt, device):
        self.num_classes = opt.label_nc
        self.net = TextureFCN(opt.label_nc)
        path = os.path.join(user_cache_dir('segmenters'), f'synthetic-{cache_key(opt)}.pth')
        if dist.is_main() and not os.path.isfile(path):  # under torchrun one process trains it
            print(f'training the synthetic segmenter (once; cached in {path})')
            atomic_torch_save(train_segmenter(opt).state_dict(), path)
        dist.barrier()
        self.net.load_state_dict(load_untrusted(path, 'cached synthetic segmenter'))
        self.net = self.net.to(device).eval()
        self.device = device

    @torch.no_grad()
    def __call__(self, images):
        return self.net(images.float().to(self.device)).argmax(1)
