"""Images into the page's requests: data URLs or base64 text to PIL images (out: visual.png_bytes)."""
import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

from ..errors import UserError


def decode_image(data: object, what: str, max_pixels: int = None) -> Image.Image:
    """A data URL (``data:image/png;base64,...``), bare base64 text or raw bytes -> a decoded PIL image;
    anything else is a one-line UserError naming `what`. max_pixels: a larger image is refused from
    its header's size, before its pixels are decoded (a small file can hold a huge map)."""
    if isinstance(data, str):
        text = data.split(',', 1)[1] if data.startswith('data:') else data
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(f'{what}: not base64 data (expected a data URL or base64 of an image file)') from None
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise UserError(f'{what}: no image data')
    try:
        image = Image.open(io.BytesIO(data))
        if max_pixels is not None and image.width * image.height > max_pixels:
            raise UserError(f'{what}: {image.width}x{image.height} pixels, more than this model takes '
                            f'({max_pixels} pixels at most); make the picture smaller')
        image.load()
    except UserError:
        raise
    except UnidentifiedImageError:
        raise UserError(f'{what}: not an image (no image format PIL can read)') from None
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, DecompressionBombError...)
        detail = ' '.join(str(exc).split()) or type(exc).__name__
        raise UserError(f'{what}: not an image ({detail})') from None
    return image
