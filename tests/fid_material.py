"""Test material for FID without internet: pytorch-fid's FID network with seeded random weights."""
import numpy as np
import torch
from PIL import Image

FID_FILE = 'pt_inception-2015-12-05-6726825d.pth'


def random_fid_inception_state_dict(seed=0):
    """The structure pytorch-fid's fid_inception_v3() builds, with seeded random weights."""
    import pytorch_fid.inception as pfi
    torch.manual_seed(seed)
    net = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pfi.FIDInceptionE_1(1280)
    net.Mixed_7c = pfi.FIDInceptionE_2(2048)
    # He-initialised convs keep activations O(1) through the eval-mode BatchNorms (mean 0, var 1)
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
    return net.state_dict()


def write_images(folder, n, seed, size=64, shift=0.0):
    """n smooth random RGB images (upsampled noise), slightly shifted in colour by `shift`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        small = rng.random((8, 8, 3)) * (1 - shift) + shift
        img = Image.fromarray((small * 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
        img.save(folder / f'{i:03d}.png')
    return folder
