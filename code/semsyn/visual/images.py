"""Generator outputs to uint8 images and PNG files."""
import io
import os

import numpy as np
import torch
from PIL import Image

from ..fileio import atomic_write_bytes


def _one_im(t):
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f'expected a [3,H,W] or [1,H,W] image tensor, got shape {tuple(t.shape)}')
    if t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    # a diverged generator can emit NaN; show it black instead of failing the uint8 cast
    t = torch.nan_to_num(t.float(), nan=-1.0).clamp(-1.0, 1.0)
    # same mapping as SPADE's tensor2im: (x + 1) / 2 * 255, truncated by the uint8 cast
    x = (t.permute(1, 2, 0).numpy() + 1.0) / 2.0 * 255.0
    return x.astype(np.uint8)


def tensor2im(t):
    """[3,H,W] float in [-1,1] -> HxWx3 uint8; [B,3,H,W] -> list of those. Out-of-range values are clamped."""
    t = t.detach().cpu()
    if t.dim() == 4:
        return [_one_im(x) for x in t]
    return _one_im(t)


def _as_rgb(array):
    a = np.asarray(array)
    if a.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got dtype {a.dtype} (use tensor2im / colorize_label)')
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f'expected an HxW or HxWx3 image, got shape {a.shape}')
    return a


def png_bytes(image: Image.Image) -> bytes:
    """A PIL image encoded as PNG."""
    buf = io.BytesIO()
    image.save(buf, format='PNG')
    return buf.getvalue()


def save_image(array, path):
    """Write an HxWx3 (or HxW) uint8 array as PNG, atomically; creates the folder."""
    atomic_write_bytes(os.fspath(path), png_bytes(Image.fromarray(_as_rgb(array))))
