"""Colour label maps: palettes that turn a painted (RGB) label map into the single-channel map of ids a
dataset stores, and back.

Built in: ``cityscapes`` (the Cityscapes label colours, label ids 0..33), ``ade20k`` (the ADE20K
colours of MMSegmentation, annotation values 1..150, black = 0 "other"), ``cocostuff`` (the colours
SPADE's result pages give COCO-Stuff ids 0..181, black = 255 unlabeled) and ``semsyn`` (the colours of
semsyn's label pages for the model's classes: they give class ids as the model sees them, dontcare
black). A FILE is JSON (``{"r,g,b": id}`` or ``[[r, g, b, id], ...]``) or text with one ``r g b id`` line
per colour; its ids are the values the dataset's label files hold. Where a palette gives two ids one
colour (ADE20K's road and skyscraper), the first id wins.

    python -m semsyn.data.palette in.png out.png --palette ade20k [--label_nc N] [--to_colour]
"""
import json
import os
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from ...errors import UserError
from ...fileio import atomic_write_bytes
from ...visual.colormap import labelcolormap
from ...visual.images import png_bytes
from ..io import jpeg_hint

# MMSegmentation's ADE20K palette (mmseg/datasets/ade.py), class k - 1 = annotation value k
ADE20K_COLOURS = [
    (120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3), (120, 120, 80), (140, 140, 140),
    (204, 5, 255), (230, 230, 230), (4, 250, 7), (224, 5, 255), (235, 255, 7), (150, 5, 61), (120, 120, 70),
    (8, 255, 51), (255, 6, 82), (143, 255, 140), (204, 255, 4), (255, 51, 7), (204, 70, 3), (0, 102, 200),
    (61, 230, 250), (255, 6, 51), (11, 102, 255), (255, 7, 71), (255, 9, 224), (9, 7, 230), (220, 220, 220),
    (255, 9, 92), (112, 9, 255), (8, 255, 214), (7, 255, 224), (255, 184, 6), (10, 255, 71), (255, 41, 10),
    (7, 255, 255), (224, 255, 8), (102, 8, 255), (255, 61, 6), (255, 194, 7), (255, 122, 8), (0, 255, 20),
    (255, 8, 41), (255, 5, 153), (6, 51, 255), (235, 12, 255), (160, 150, 20), (0, 163, 255), (140, 140, 140),
    (250, 10, 15), (20, 255, 0), (31, 255, 0), (255, 31, 0), (255, 224, 0), (153, 255, 0), (0, 0, 255),
    (255, 71, 0), (0, 235, 255), (0, 173, 255), (31, 0, 255), (11, 200, 200), (255, 82, 0), (0, 255, 245),
    (0, 61, 255), (0, 255, 112), (0, 255, 133), (255, 0, 0), (255, 163, 0), (255, 102, 0), (194, 255, 0),
    (0, 143, 255), (51, 255, 0), (0, 82, 255), (0, 255, 41), (0, 255, 173), (10, 0, 255), (173, 255, 0),
    (0, 255, 153), (255, 92, 0), (255, 0, 255), (255, 0, 245), (255, 0, 102), (255, 173, 0), (255, 0, 20),
    (255, 184, 184), (0, 31, 255), (0, 255, 61), (0, 71, 255), (255, 0, 204), (0, 255, 194), (0, 255, 82),
    (0, 10, 255), (0, 112, 255), (51, 0, 255), (0, 194, 255), (0, 122, 255), (0, 255, 163), (255, 153, 0),
    (0, 255, 10), (255, 112, 0), (143, 255, 0), (82, 0, 255), (163, 255, 0), (255, 235, 0), (8, 184, 170),
    (133, 0, 255), (0, 255, 92), (184, 0, 255), (255, 0, 31), (0, 184, 255), (0, 214, 255), (255, 0, 112),
    (92, 255, 0), (0, 224, 255), (112, 224, 255), (70, 184, 160), (163, 0, 255), (153, 0, 255), (71, 255, 0),
    (255, 0, 163), (255, 204, 0), (255, 0, 143), (0, 255, 235), (133, 255, 0), (255, 0, 235), (245, 0, 255),
    (255, 0, 122), (255, 245, 0), (10, 190, 212), (214, 255, 0), (0, 204, 255), (20, 0, 255), (255, 255, 0),
    (0, 153, 255), (0, 41, 255), (0, 255, 204), (41, 0, 255), (41, 255, 0), (173, 0, 255), (0, 245, 255),
    (71, 0, 255), (122, 0, 255), (0, 255, 184), (0, 92, 255), (184, 255, 0), (0, 133, 255), (255, 214, 0),
    (25, 194, 194), (102, 255, 0), (92, 0, 255),
]
UNLABELED = 255  # the value of unlabeled pixels in COCO-Stuff files, dontcare everywhere here


class Palette:
    """Colours and the ids they stand for, in order (the first entry of a colour wins).

    ``model_ids``: the ids are class ids as the model sees them (the semsyn palette), not the values
    of the dataset's files (which the dataset's own label mapping turns into class ids)."""

    def __init__(self, name: str, entries: List[Tuple[Tuple[int, int, int], int]], model_ids: bool = False):
        entries = [(tuple(int(c) for c in rgb), int(value)) for rgb, value in entries]
        self.name, self.entries, self.model_ids = name, entries, model_ids
        self.lookup: Dict[int, int] = {}
        for rgb, value in entries:
            self.lookup.setdefault(pack(rgb), value)

    def to_ids(self, rgb: np.ndarray, path: str = 'label map') -> np.ndarray:
        """HxWx3 uint8 -> HxW int64 ids; a colour not in the palette is a one-line error naming the file,
        the colour and a pixel where it occurs."""
        codes = pack(rgb[..., :3].astype(np.int64).transpose(2, 0, 1))
        unique, inverse = np.unique(codes, return_inverse=True)
        values = np.empty(len(unique), np.int64)
        for i, code in enumerate(unique):
            if int(code) not in self.lookup:
                y, x = np.argwhere(codes == code)[0]
                colour = tuple(int(c) for c in rgb[y, x, :3])
                raise UserError(f'{path}: colour {colour} at pixel (x={x}, y={y}) is not in the {self.name} palette'
                                f'{jpeg_hint(path)}')
            values[i] = self.lookup[int(code)]
        return values[inverse].reshape(codes.shape)

    def to_rgb(self, ids: np.ndarray) -> np.ndarray:
        """HxW ids -> HxWx3 uint8 (ids without a colour are black)."""
        table = {}
        for rgb, value in self.entries:
            table.setdefault(value, rgb)
        out = np.zeros(ids.shape + (3,), np.uint8)
        for value, rgb in table.items():
            out[ids == value] = rgb
        return out


def pack(rgb):
    """r, g, b (first axis) -> one integer per colour."""
    r, g, b = (np.asarray(c, dtype=np.int64) for c in rgb[:3])
    return (r << 16) | (g << 8) | b


def builtin(name: str, label_nc: int = None, dataset_mode: str = None) -> Palette:
    if name == 'cityscapes':
        colours = labelcolormap(35)
        return Palette(name, [(tuple(colours[i]), i) for i in range(34)])  # id 34 (license plate) repeats car
    if name == 'ade20k':
        return Palette(name, [((0, 0, 0), 0)] + [(c, k + 1) for k, c in enumerate(ADE20K_COLOURS)])
    if name == 'cocostuff':
        colours = labelcolormap(183)
        return Palette(name, [(tuple(colours[i]), i) for i in range(182)] + [((0, 0, 0), UNLABELED)])
    if name == 'semsyn':
        if label_nc is None:
            raise UserError('--label_palette semsyn: the colours depend on the model; give its --label_nc')
        n = label_nc if dataset_mode == 'cityscapes' else label_nc + 1  # as the label pages colour them
        colours = labelcolormap(n)
        return Palette(name, [(tuple(colours[i]), i) for i in range(n)] + [((0, 0, 0), UNLABELED)], model_ids=True)
    raise KeyError(name)


BUILTIN = ('cityscapes', 'ade20k', 'cocostuff', 'semsyn')


def load_palette(spec: str, label_nc: int = None, dataset_mode: str = None) -> Palette:
    """A built-in palette by name, or a palette file (JSON or text)."""
    if spec in BUILTIN:
        return builtin(spec, label_nc, dataset_mode)
    if not os.path.isfile(spec):
        raise UserError(f"--label_palette {spec}: neither a built-in palette ({', '.join(BUILTIN)}) nor a file")
    with open(spec) as f:
        text = f.read()
    try:
        entries = parse_palette(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError(f'--label_palette {spec}: expected JSON {{"r,g,b": id}} or [[r, g, b, id], ...], or lines '
                        f'"r g b id" ({exc})') from None
    if not entries:
        raise UserError(f'--label_palette {spec}: no colours in it')
    return Palette(os.path.basename(spec), entries)


def parse_palette(text):
    stripped = text.strip()
    if stripped[:1] in '{[':
        data = json.loads(stripped)
        if isinstance(data, dict):
            rows = [[*map(int, k.replace(' ', '').split(',')), int(v)] for k, v in data.items()]
        else:
            rows = [[int(v) for v in row] for row in data]
    else:
        rows = [[int(v) for v in line.replace(',', ' ').split()] for line in stripped.splitlines()
                if line.strip() and not line.lstrip().startswith('#')]
    entries = []
    for row in rows:
        if len(row) != 4 or not all(0 <= c <= 255 for c in row[:3]) or row[3] < 0:
            raise ValueError(f'bad entry {row}')
        entries.append(((row[0], row[1], row[2]), row[3]))
    return entries


def read_colour_map(path, palette: Palette) -> np.ndarray:
    """A colour label PNG -> ids with the palette."""
    try:
        with Image.open(path) as f:
            rgb = np.asarray(f.convert('RGB'))
    except FileNotFoundError:
        raise UserError(f'label map {path} not found') from None
    except Exception as exc:
        raise UserError(f'cannot read label map {path}: {" ".join(str(exc).split()) or type(exc).__name__}') from None
    return palette.to_ids(rgb, str(path))


def write_id_map(path, ids: np.ndarray):
    """Single-channel PNG of ids (8-bit, or 16-bit above 255)."""
    mode_dtype = np.uint8 if ids.max(initial=0) < 256 else np.uint16
    atomic_write_bytes(os.fspath(path), png_bytes(Image.fromarray(ids.astype(mode_dtype))))
