"""Reading photos (as RGB) and single-channel maps (class ids, instance ids) from disk."""
import numpy as np
from PIL import Image

from ..errors import UserError

# Modes whose pixels are one integer: 8-bit grey, palette indices, 16/32-bit integers, binary.
INTEGER_MODES = {'1', 'L', 'P', 'I', 'I;16', 'I;16L', 'I;16B', 'I;16N'}
COLOUR_MODES = {'RGB', 'RGBA', 'RGBX', 'RGBa', 'CMYK', 'YCbCr', 'LAB', 'HSV'}


def jpeg_hint(path):
    """'; ...' for a label map saved as JPEG (by its bytes, whatever its name): lossy compression changes
    the values near every edge, so the labels are no longer the ones painted. '' otherwise."""
    try:
        with open(path, 'rb') as f:
            jpeg = f.read(3) == b'\xff\xd8\xff'
    except (OSError, TypeError, ValueError):
        return ''
    return '; the file is a JPEG, whose lossy compression changed the labels: save label maps as PNG' if jpeg \
        else ''


def _read_error(what, path, exc):
    if isinstance(exc, FileNotFoundError):
        return UserError(f'{what} {path} not found')
    detail = ' '.join(str(exc).split()) or type(exc).__name__
    return UserError(f'cannot read {what} {path}: {detail}')


def read_image(path, what='image'):
    """The photo at path as a decoded RGB PIL image."""
    try:
        with Image.open(path) as f:
            return f.convert('RGB')
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, zlib.error...) for bad files
        raise _read_error(what, path, exc) from None


def image_size(path, what='image'):
    """(width, height) from the file header, without decoding the pixels."""
    try:
        with Image.open(path) as f:
            return f.size
    except Exception as exc:
        raise _read_error(what, path, exc) from None


def read_map(path, what='label map', ids='class ids'):
    """A single-channel integer map as an int64 array [H, W].

    Read with numpy, not ToTensor: ToTensor turns I;16 into int16 and wraps 16-bit instance ids
    above 32767 (cityscapes) to negative numbers.
    """
    try:
        with Image.open(path) as image:
            image.load()  # the pixels stay readable after the file closes
    except Exception as exc:
        raise _read_error(what, path, exc) from None
    return map_values(image, f'{what} {path}', ids)


def map_values(image, what='label map', ids='class ids', colour_hint=''):
    """The pixels of a single-channel PIL image as int64 [H, W]; a colour image or another mode is a
    one-line error naming ``what`` (``colour_hint`` is added for colour images)."""
    mode = image.mode
    if mode in COLOUR_MODES:
        raise UserError(f'{what} is a colour ({mode}) image; expected a single-channel map of {ids}{colour_hint}')
    arr = np.array(image) if mode in INTEGER_MODES else None
    if arr is None or arr.ndim != 2:
        raise UserError(f'{what} has pixel mode {mode}; expected a single-channel map of {ids} '
                        f'(8-bit, 16-bit or 32-bit integers)')
    return arr.astype(np.int64)
