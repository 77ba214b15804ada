"""Files on disk: atomic writes for everything the project writes (checkpoints, options, pages,
images), and the one loader of the PyTorch files users hand it.

A reader (a resumed run, a browser, a sync job) must never see a half-written file, and a crash
must never destroy the previous version: write a temp file in the same folder, then os.replace it.
"""
import errno
import hashlib
import os
import re
import tempfile

import torch

from .errors import UserError


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


TEMP_SUFFIX = '.tmp'  # .<name>.<random>.tmp: what a killed write leaves behind


def _write_and_sync(f, write):
    write(f)
    f.flush()
    os.fsync(f.fileno())


def atomic_replace(path, write):
    """Call write(fileobj) on a temp file beside `path`, then rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, 'wb') as f:
            _write_and_sync(f, write)
        # mkstemp makes 0600 files; outputs should be readable like any normally created file
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_new_file(path, write):
    """Create `path` (which must not exist), call write(fileobj), and make it durable (fsync)."""
    with open(path, 'xb') as f:
        _write_and_sync(f, write)


def fsync_dir(folder):
    """Make renames and creations in folder durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unwritable(folder, exc, what, then=''):
    """The UserError of a folder that could not be written (read-only, immutable, full, not a folder)."""
    reason = exc.strerror or type(exc).__name__
    fix = 'free some space' if exc.errno == errno.ENOSPC else 'make it writable'
    return UserError(f'cannot write {what} {folder}: {reason}; {fix} or choose another folder{then}')


def probe_writable(folder, what='folder'):
    """Make `folder` and write (then remove) a small file in it: a folder that can't be written stops the
    run at start-up with one line, before any work is done."""
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.probe.', suffix=TEMP_SUFFIX)
        try:
            os.write(fd, b'\0' * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.remove(tmp)
    except OSError as exc:
        raise unwritable(folder, exc, what) from None


def user_cache_dir(*parts):
    """~/.cache/semsyn/<parts> (or under $XDG_CACHE_HOME): statistics and networks semsyn derives once."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'semsyn', *parts)


def sha256_file(path, chunk=1 << 22):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path, data):
    atomic_replace(path, lambda f: f.write(data))


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_torch_save(obj, path):
    atomic_replace(path, lambda f: torch.save(obj, f))


PICKLE_MAGIC = b'\x80'
ZIP_MAGIC = b'PK\x03\x04'


def load_untrusted(path, what='checkpoint'):
    """A PyTorch file from disk, read with torch.load(weights_only=True): tensors, containers and plain
    values only, never code. Every file a user hands the project (checkpoints, training states,
    pretrained weights, fixtures) is read here; a file that can't be read so is a one-line UserError
    saying what was found, and never a suggestion to turn the safety off."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f'{what} {path} not found')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # pickle errors, truncated archives, foreign files
        raise UserError(f'{what} {path} {describe_unreadable(path, exc)}') from None


def describe_unreadable(path, exc):
    """Why torch.load(weights_only=True) refused a file, in a few words."""
    text = str(exc)
    found = re.search(r'unsupported GLOBAL ([\w.]+)', text)
    if found:
        return f'contains executable objects ({found.group(1)}): refused'
    try:
        with open(path, 'rb') as f:
            head = f.read(4)
    except OSError as err:
        return f'could not be read ({err.strerror})'
    if not head:
        return 'is empty'
    if head == ZIP_MAGIC:
        return 'is truncated or damaged (its PyTorch zip archive cannot be read)'
    if head[:1] == PICKLE_MAGIC:
        return 'is a pickle that is not a weights-only PyTorch file: refused'
    return 'is not a PyTorch file'
