"""Atomic file writes for everything the project puts on disk (checkpoints, options, pages, images).

A reader (a resumed run, a browser, a sync job) must never see a half-written file, and a crash
must never destroy the previous version: write a temp file in the same folder, then os.replace it.
"""
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_replace(path, write):
    """Call write(fileobj) on a temp file beside `path`, then rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes 0600 files; outputs should be readable like any normally created file
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path, data):
    atomic_replace(path, lambda f: f.write(data))


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_torch_save(obj, path):
    import torch
    atomic_replace(path, lambda f: torch.save(obj, f))
