"""Requests to the painting page's API and label maps painted in the semsyn palette."""
import base64
import io
import json
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

from semsyn.data.palette import builtin


def png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array)).save(buf, format='PNG')
    return buf.getvalue()


def data_url(data: bytes) -> str:
    return 'data:image/png;base64,' + base64.b64encode(data).decode()


def painted(ids, opt) -> bytes:
    """A PNG of class ids painted in the semsyn palette of the model of `opt`."""
    palette = builtin('semsyn', opt.label_nc, opt.dataset_mode)
    return png(palette.to_rgb(np.asarray(ids)))


def painted_image(ids, opt) -> Image.Image:
    return Image.open(io.BytesIO(painted(ids, opt)))


def two_classes(width, height, a, b, split=0.5) -> np.ndarray:
    """Class a left of x = split * width, b right of it."""
    ids = np.full((height, width), a, np.int64)
    ids[:, int(split * width):] = b
    return ids


def request(url, body=None, content_type='application/json'):
    """(status, content type, body bytes) of a GET, or a POST of a JSON object / raw bytes."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    req = urllib.request.Request(url, data=body, headers={'Content-Type': content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers.get('Content-Type'), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get('Content-Type'), exc.read()


def picture(body: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == 'PNG'
        return np.asarray(image.convert('RGB'))


def error_of(status, content_type, body):
    assert status == 400, (status, body[:200])
    assert content_type == 'application/json'
    message = json.loads(body)['error']
    assert '\n' not in message
    return message
