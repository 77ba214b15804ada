"""FID with pytorch-fid's network, weights, preprocessing and Fréchet distance; KID beside it.

Feature extraction and statistics are separate steps: ``extract_features`` turns image batches
into 2048-d pool features (per process, per shard), ``statistics`` turns features into (mu, sigma)
in float64 exactly as pytorch-fid does (np.mean, np.cov), and ``frechet_distance`` is pytorch-fid's
own ``calculate_frechet_distance`` (scipy's sqrtm with its eps fallback), so the value equals
``python -m pytorch_fid A B`` on the same folders and weights.

    python -m semsyn.metrics.fid FOLDER_A FOLDER_B [--save-stats out.npz] [--weights PATH]
"""
import argparse
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from ..errors import UserError, run_main
from ..weights import load_weights, locate_weights
from .kid import kernel_inception_distance

FID_WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/'
                   'pt_inception-2015-12-05-6726825d.pth')
FEATURE_DIMS = 2048
INCEPTION_SIZE = 299
# the extensions pytorch-fid reads from a folder
IMAGE_EXTENSIONS = ('bmp', 'jpg', 'jpeg', 'pgm', 'png', 'ppm', 'tif', 'tiff', 'webp')


# ---------------------------------------------------------------------------------------------
# the network

def locate_fid_weights(weights_path=None):
    """--fid_weights, or the torch hub cache, with a clear error when neither has the file."""
    return locate_weights(FID_WEIGHTS_URL, weights_path, 'FID Inception weights', '--fid_weights')


def build_inception(path):
    """pytorch-fid's InceptionV3 (pool3, 2048-d; resize to 299 bilinear, scale to [-1, 1]) with the
    weights file at path: built by pytorch-fid's own constructor, only the file's source differs."""
    import pytorch_fid.inception as pfi
    state_dict = load_weights(path, 'FID Inception weights')
    original = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *args, **kwargs: state_dict
    try:
        model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIMS]])
    except RuntimeError as exc:
        raise UserError(f'FID Inception weights {path} do not fit pytorch-fid\'s network '
                        f'({str(exc).splitlines()[0]})') from None
    finally:
        pfi.load_state_dict_from_url = original
    return model.eval()


class FeatureExtractor:
    """2048-d Inception pool features of image batches; DataParallel over several GPUs."""

    def __init__(self, weights_path=None, device=torch.device('cpu'), gpu_ids=()):
        self.device = device
        path = locate_fid_weights(weights_path)
        model = build_inception(path).to(device)
        self.model = torch.nn.DataParallel(model, device_ids=list(gpu_ids)) if len(gpu_ids) > 1 else model
        self.weights_id = weights_identity(path)

    @torch.no_grad()
    def __call__(self, images):
        """images: float [B, 3, H, W] in [0, 1] -> float64 numpy [B, 2048]."""
        feats = self.model(images.to(self.device, torch.float32))[0]
        return feats.squeeze(3).squeeze(2).double().cpu().numpy()


def weights_identity(path):
    """Names a weights file by its path, size and time (part of the statistics cache key)."""
    st = os.stat(path)
    return f'{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}'


def extract_features(extractor, batches, total=None, desc='FID features'):
    """Features of an iterable of [B, 3, H, W] batches in [0, 1], in order, with a progress bar."""
    out = []
    for batch in tqdm(batches, total=total, desc=desc, leave=False, disable=None):
        out.append(extractor(batch))
    return np.concatenate(out, axis=0) if out else np.zeros((0, FEATURE_DIMS))


def quantize(images):
    """Generator output in [-1, 1] -> [0, 1] as the saved 8-bit images are (SPADE's tensor2im)."""
    return ((images.detach().float() + 1) / 2 * 255).clamp(0, 255).floor() / 255


# ---------------------------------------------------------------------------------------------
# statistics

def statistics(features):
    """(mu, sigma) of [N, 2048] features, float64, as pytorch-fid."""
    features = np.asarray(features, dtype=np.float64)
    n = len(features)
    if n < 2:
        raise UserError(f'FID needs at least 2 images, got {n}')
    if n < features.shape[1]:
        warnings.warn(f'FID from {n} images: fewer than the {features.shape[1]} feature dimensions, so the '
                      f'covariance is rank-deficient and the value is biased (upwards); compare FIDs only at equal '
                      f'numbers of images, and see KID', stacklevel=2)
    return np.mean(features, axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    from pytorch_fid.fid_score import calculate_frechet_distance
    return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


class Stats:
    """Statistics of one image set: mu, sigma and, where known, the features (for KID)."""

    def __init__(self, mu, sigma, features=None, source=''):
        self.mu, self.sigma, self.features, self.source = mu, sigma, features, source

    @classmethod
    def from_features(cls, features, source=''):
        mu, sigma = statistics(features)
        return cls(mu, sigma, features, source)

    @classmethod
    def load(cls, path):
        try:
            with np.load(path) as f:
                mu, sigma = f['mu'][:], f['sigma'][:]
                features = f['features'][:] if 'features' in f.files else None
        except (OSError, KeyError, ValueError) as exc:
            raise UserError(f'{path}: expected a .npz with arrays mu and sigma (pytorch-fid\'s format) '
                            f'({type(exc).__name__})') from None
        if mu.shape != (FEATURE_DIMS,) or sigma.shape != (FEATURE_DIMS, FEATURE_DIMS):
            raise UserError(f'{path}: mu/sigma have shapes {mu.shape}/{sigma.shape}, expected ({FEATURE_DIMS},) '
                            f'and ({FEATURE_DIMS}, {FEATURE_DIMS})')
        return cls(mu, sigma, features, str(path))

    def save(self, path):
        from ..fileio import atomic_replace
        arrays = {'mu': self.mu, 'sigma': self.sigma}
        if self.features is not None:
            arrays['features'] = self.features.astype(np.float32)
        atomic_replace(str(path), lambda f: np.savez_compressed(f, **arrays))


def compare(fake, real):
    """{'fid': ..., 'kid': ..., 'kid_std': ..., 'num_fake': ..., 'num_real': ...} of two Stats."""
    result = {'fid': frechet_distance(fake.mu, fake.sigma, real.mu, real.sigma)}
    if fake.features is not None:
        result['num_fake'] = len(fake.features)
    if real.features is not None:
        result['num_real'] = len(real.features)
    if fake.features is not None and real.features is not None:
        result['kid'], result['kid_std'] = kernel_inception_distance(fake.features, real.features)
    return result


# ---------------------------------------------------------------------------------------------
# folders of images

def list_images(folder):
    """Image files of a folder (not recursive), sorted, with pytorch-fid's extensions."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f'{folder}: not a folder of images')
    files = sorted(p for ext in IMAGE_EXTENSIONS for p in folder.glob(f'*.{ext}'))
    if not files:
        raise UserError(f'{folder}: no images ({", ".join(IMAGE_EXTENSIONS)}) found')
    return files


class ImageFolder(torch.utils.data.Dataset):
    """RGB images as [3, H, W] in [0, 1]; with `size`, resized (bilinear) to size x size.

    Resizing each image to 299 here equals pytorch-fid's in-network resize, and lets a folder
    hold images of different sizes."""

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


def folder_features(extractor, folder, batch_size=50, num_workers=0):
    files = list_images(folder)
    loader = torch.utils.data.DataLoader(ImageFolder(files, INCEPTION_SIZE), batch_size=batch_size,
                                         num_workers=num_workers)
    return extract_features(extractor, loader, total=len(loader), desc=f'FID features {Path(folder).name}')


def folder_key(folder, extractor):
    """Cache key of a folder's statistics: its files (names, sizes, times), the resolution, the weights."""
    h = hashlib.sha256()
    for p in list_images(folder):
        st = p.stat()
        h.update(f'{p.name}:{st.st_size}:{st.st_mtime_ns}\n'.encode())
    h.update(f'{INCEPTION_SIZE}:{extractor.weights_id}'.encode())
    return h.hexdigest()[:32]


def default_cache_dir():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'semsyn', 'fid_stats')


def load_reference(path, extractor, batch_size=50, num_workers=0, cache_dir=None):
    """Stats of --gt: a .npz (pytorch-fid's mu/sigma) or a folder of images (cached by its key)."""
    path = Path(path)
    if path.suffix == '.npz':
        if not path.is_file():
            raise UserError(f'--gt {path}: file not found')
        return Stats.load(path)
    cache_dir = cache_dir or default_cache_dir()
    cached = Path(cache_dir) / f'{folder_key(path, extractor)}.npz'
    if cached.is_file():
        return Stats.load(cached)
    stats = Stats.from_features(folder_features(extractor, path, batch_size, num_workers), str(path))
    try:
        stats.save(cached)
    except OSError as exc:
        warnings.warn(f'could not cache FID statistics in {cache_dir} ({exc})', stacklevel=2)
    return stats


def save_result(result, folder, extra=None):
    """Write fid.json into folder (next to index.html); returns its path."""
    from ..fileio import atomic_write_text
    payload = dict(result)
    payload.update(extra or {})
    path = os.path.join(folder, 'fid.json')
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + '\n')
    return path


# ---------------------------------------------------------------------------------------------
# command line

def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m semsyn.metrics.fid', description=__doc__.split('\n\n')[0])
    parser.add_argument('paths', nargs='+', help='FOLDER_A [FOLDER_B or B.npz]')
    parser.add_argument('--save-stats', metavar='OUT.npz', help='save the statistics (and features) of the first path')
    parser.add_argument('--weights', help='pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache)')
    parser.add_argument('--batch-size', type=int, default=50)
    parser.add_argument('--num-workers', type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    if len(args.paths) > 2 or (len(args.paths) == 1 and not args.save_stats):
        parser.error('give two paths to compare, or one path with --save-stats')
    extractor = FeatureExtractor(args.weights, torch.device(args.device))
    first = Path(args.paths[0])
    a = Stats.load(first) if first.suffix == '.npz' else Stats.from_features(
        folder_features(extractor, first, args.batch_size, args.num_workers), str(first))
    if args.save_stats:
        a.save(args.save_stats)
        print(f'statistics of {first} saved to {args.save_stats}')
    if len(args.paths) == 2:
        b = load_reference(args.paths[1], extractor, args.batch_size, args.num_workers) \
            if Path(args.paths[1]).suffix == '.npz' else \
            Stats.from_features(folder_features(extractor, args.paths[1], args.batch_size, args.num_workers))
        result = compare(a, b)
        print(f'FID: {result["fid"]}')
        if 'kid' in result:
            print(f'KID: {result["kid"]} +- {result["kid_std"]}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
