"""The model behind the page: what it offers (classes, size, style controls), label maps it can start from
(uploads, examples) and synthesis of a painted label map, one request at a time."""
import threading
from contextlib import contextmanager
from typing import Dict, Optional

import numpy as np
from PIL import Image

from ..data.base import LabelRangeError
from ..data.io import COLOUR_MODES, INTEGER_MODES
from ..data.palette import BUILTIN
from ..data.transforms import resize_map
from ..errors import UserError
from .classes import painted_order, palette_classes
from .examples import example_ids, examples_kind

# The palette of the dataset's own colour label maps, offered for uploads next to the semsyn palette.
DATASET_PALETTES = {'ade20k': 'ade20k', 'coco': 'cocostuff', 'cityscapes': 'cityscapes'}
PAINTED = 'semsyn'  # the page paints in the colours of semsyn's label pages
MAX_SEED = 2 ** 31 - 1


class PaintingApp:
    def __init__(self, synthesizer, name: str, names_file: Optional[str] = None):
        self.synthesizer = synthesizer
        self.lock = threading.Lock()  # the model is not thread-safe: one synthesis at a time
        opt = synthesizer.opt
        # a label map is resized to the model's size: 4x its area is room enough for any upload
        self.max_label_pixels = 4 * synthesizer.size[0] * synthesizer.size[1]
        palettes = [PAINTED] + ([DATASET_PALETTES[opt.dataset_mode]] if opt.dataset_mode in DATASET_PALETTES else [])
        self.info = {
            'name': name, 'netG': opt.netG, 'dataset_mode': opt.dataset_mode,
            'width': synthesizer.size[0], 'height': synthesizer.size[1],
            **palette_classes(opt, names_file),
            'use_vae': bool(opt.use_vae), 'seeded': bool(opt.use_vae or synthesizer.has_noise),
            'seed': int(opt.seed), 'max_seed': MAX_SEED,
            'examples': examples_kind(opt), 'upload_palettes': palettes,
        }

    # -- label maps the page starts from ------------------------------------------------------
    def upload_ids(self, image: Image.Image, palette: str = PAINTED) -> np.ndarray:
        """Class ids of an uploaded label map of any size (see label_input), resized (nearest) to the
        canvas, the model's size."""
        with page_words():
            ids = self.synthesizer.class_ids(*label_input(image, palette))
            return resize_map(painted_order(ids, opt=self.synthesizer.opt), self.synthesizer.size)

    def example_ids(self, index: int) -> np.ndarray:
        if index < 0:
            raise UserError(f'example: index {index}; expected 0 or more')
        return resize_map(example_ids(self.synthesizer, index), self.synthesizer.size)

    # -- synthesis -----------------------------------------------------------------------------
    def synthesize(self, label: Image.Image, style: Optional[Image.Image] = None,
                   seed: Optional[int] = None, output_size: str = 'label') -> Image.Image:
        """The picture of a label map of any size (the page's: painted in the semsyn palette; see
        label_input), at the map's size (output_size 'model': at the model's); --use_vae models take the
        style of `style` when given, else the prior sample of `seed`; generators with their own noise
        (OASIS) the noise of `seed`."""
        if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED):
            raise UserError(f'seed: expected an integer in [0, {MAX_SEED}], got {seed!r}')
        if not self.info['use_vae'] and style is not None:
            raise UserError('style image: this model takes none (it has no style encoder); its picture comes from '
                            'the label map alone')
        if not self.info['seeded'] and seed is not None:  # OASIS's seed is its noise
            raise UserError('seed: this model takes none (it has no style code): a label map always gives the same '
                            'picture')
        label, palette = label_input(label, PAINTED)
        with self.lock, page_words():
            return self.synthesizer(label, style=style, seed=seed, palette=palette, output_size=output_size)


@contextmanager
def page_words():
    """Errors in the page's words: a label map's values that name no class, without the command line's
    options (--label_nc, --contain_dontcare_label)."""
    try:
        yield
    except LabelRangeError as exc:
        raise UserError(label_range_message(exc)) from None


def label_range_message(exc: LabelRangeError) -> str:
    values = exc.values
    shown = ', '.join(str(v) for v in values[:5]) + (', ...' if len(values) > 5 else '')
    one = len(values) == 1
    if exc.mapped:
        which = f'{shown} is not a label' if one else f'the values {shown} are not labels'
        return f'label map: {which} of the {exc.dataset_mode} label maps this model was trained on'
    which = f"{shown} is not one of this model's classes" if one else \
        f"the values {shown} are not among this model's classes"
    classes = f'0 to {exc.label_nc - 1}' + (', and 255 for unlabeled' if exc.dontcare else '')
    return f'label map: {which} ({classes})'


def label_input(image: Image.Image, palette: str):
    """(label, palette) for the synthesizer: a single-channel image holds the values the dataset's label
    files hold; a colour image is painted in `palette`."""
    if palette not in BUILTIN:
        raise UserError(f"palette {palette!r}: expected one of {', '.join(BUILTIN)}")
    if image.mode in INTEGER_MODES:
        return np.array(image).astype(np.int64), None
    if image.mode in COLOUR_MODES:
        return image.convert('RGB'), palette
    raise UserError(f'label map: pixel mode {image.mode}; expected a single-channel map of ids or an RGB colour map')


def ids_payload(ids: np.ndarray) -> Dict[str, object]:
    """Class ids as the page reads them: row-major, with the map's size."""
    return {'width': int(ids.shape[1]), 'height': int(ids.shape[0]), 'ids': ids.astype(np.int64).ravel().tolist()}
