"""Finding image files: the one list of image extensions, listing in natural order (recursive for
datasets, a folder's own files for FID), SPADE's ``files.list`` cache (off unless
--cache_filelist_read/--cache_filelist_write)."""
import os
import re
import sys

from ..errors import UserError

# what pytorch-fid reads from a folder, and what SPADE's loaders read
IMAGE_EXTENSIONS = ('.bmp', '.jpg', '.jpeg', '.pgm', '.png', '.ppm', '.tif', '.tiff', '.webp')
CACHE_NAME = 'files.list'


def is_image_file(name):
    return name.lower().endswith(IMAGE_EXTENSIONS)


def natural_key(text):
    """Sort key under which 'img10' comes after 'img9' (SPADE's util.natural_keys)."""
    # re.split with a group alternates text, digits, text, ...: odd positions are the numbers.
    return [int(part) if i % 2 else part for i, part in enumerate(re.split(r'(\d+)', text))]


def natural_sort(paths):
    return sorted(paths, key=natural_key)


def require_dir(folder, layout):
    """UserError naming folder and the expected layout when it is not a directory."""
    if not os.path.isdir(folder):
        raise UserError(f'dataset folder {folder} not found; expected {layout}')


def list_images(folder, recursive=True, read_cache=False, write_cache=False):
    """Image files under folder (with recursive, in its subfolders too), in natural order."""
    cache = os.path.join(folder, CACHE_NAME)
    if read_cache and os.path.isfile(cache):
        return read_file_list(cache, folder)
    paths = []
    # followlinks: datasets are often assembled from symlinked folders; each real folder is listed
    # once, so a link back up the tree (a loop) or a second link to a folder adds nothing twice
    visited = {os.path.realpath(folder)}
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        kept = []
        for d in dirs:
            path = os.path.join(root, d)
            real = os.path.realpath(path)
            if real in visited:
                kind = 'a symlink loop' if (os.path.realpath(root) + os.sep).startswith(real + os.sep) \
                    else 'a second link to a folder listed already'
                print(f'warning: {path} -> {real} is {kind}; its files are listed once', file=sys.stderr)
                continue
            visited.add(real)
            kept.append(d)
        dirs[:] = kept
        paths.extend(os.path.join(root, f) for f in files if is_image_file(f))
        if not recursive:
            break
    paths = natural_sort(paths)
    if write_cache:
        write_file_list(cache, paths, folder)
    return paths


def read_file_list(cache, folder):
    """Paths listed in a files.list, relative ones taken from folder (SPADE wrote absolute ones)."""
    try:
        with open(cache) as f:
            lines = [ln.strip() for ln in f.read().splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f'cannot read the file list cache {cache}: {exc}; delete it or drop '
                        f'--cache_filelist_read') from None
    return natural_sort(ln if os.path.isabs(ln) else os.path.join(folder, ln) for ln in lines if ln)


def write_file_list(cache, paths, folder):
    """Write paths relative to folder, so the cache stays valid when the dataset moves."""
    tmp = cache + '.tmp'
    try:
        with open(tmp, 'w') as f:
            f.writelines(os.path.relpath(p, folder) + '\n' for p in paths)
        os.replace(tmp, cache)
    except OSError as exc:
        raise UserError(f'cannot write the file list cache {cache}: {exc.strerror}; drop '
                        f'--cache_filelist_write') from None
