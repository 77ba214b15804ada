"""Features of a folder of images, read as pytorch-fid reads them (the folder's own files, not its
subfolders; each image resized to 299 bilinear, which equals pytorch-fid's in-network resize and
lets a folder hold images of different sizes)."""
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from ...data.files import IMAGE_EXTENSIONS, list_images
from ...errors import UserError
from .inception import FEATURE_DIMS, INCEPTION_SIZE


def image_files(folder):
    """The images of a folder (not recursive), sorted; a one-line error when there are none."""
    if not Path(folder).is_dir():
        raise UserError(f'{folder}: not a folder of images')
    files = list_images(folder, recursive=False)
    if not files:
        raise UserError(f'{folder}: no images ({", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)}) found')
    return files


class ImageFolder(torch.utils.data.Dataset):
    """RGB images as [3, H, W] in [0, 1]; with `size`, resized (bilinear) to size x size."""

    def __init__(self, files, size=None):
        self.files, self.size = list(files), size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        try:
            img = Image.open(self.files[i]).convert('RGB')
        except OSError as exc:
            raise UserError(f'{self.files[i]}: not a readable image ({exc})') from None
        t = torch.from_numpy(np.asarray(img, dtype=np.float32) / np.float32(255)).permute(2, 0, 1).contiguous()
        if self.size is not None and tuple(t.shape[1:]) != (self.size, self.size):
            t = F.interpolate(t[None], size=(self.size, self.size), mode='bilinear', align_corners=False)[0]
        return t


def extract_features(extractor, batches, total=None, desc='FID features'):
    """Features of an iterable of [B, 3, H, W] batches in [0, 1], in order, with a progress bar."""
    out = [extractor(batch) for batch in tqdm(batches, total=total, desc=desc, leave=False, disable=None)]
    return np.concatenate(out, axis=0) if out else np.zeros((0, FEATURE_DIMS))


def folder_features(extractor, folder, batch_size: int = 50, num_workers: int = 0) -> np.ndarray:
    loader = torch.utils.data.DataLoader(ImageFolder(image_files(folder), INCEPTION_SIZE), batch_size=batch_size,
                                         num_workers=num_workers)
    return extract_features(extractor, loader, total=len(loader), desc=f'FID features {Path(folder).name}')
