"""The classes the page offers: the model's class ids, their colours in the semsyn palette (the colours of
semsyn's label pages) and a name where one is known; and the class the eraser paints."""
from pathlib import Path
from typing import Dict, List, Optional

from ..data.base import num_classes
from ..data.palette import builtin
from ..data.synthetic import TEXTURES, class_styles
from ..errors import UserError

# Cityscapes label ids 0..33 (cityscapesScripts' labels.py) and SPADE's 35th class.
CITYSCAPES_NAMES = [
    'unlabeled', 'ego vehicle', 'rectification border', 'out of roi', 'static', 'dynamic', 'ground', 'road',
    'sidewalk', 'parking', 'rail track', 'building', 'wall', 'fence', 'guard rail', 'bridge', 'tunnel', 'pole',
    'polegroup', 'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
    'bus', 'caravan', 'trailer', 'train', 'motorcycle', 'bicycle', 'license plate',
]


def hex_colour(rgb) -> str:
    return '#%02x%02x%02x' % tuple(int(c) for c in rgb)


def class_names(opt, names_file: Optional[str] = None) -> Dict[int, str]:
    """Names by class id (as the model sees them): a names file (one per line, class 0 first), else the
    built-in names of the synthetic dataset and Cityscapes; classes without one are 'class k'."""
    if names_file:
        try:
            lines = Path(names_file).read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f'--class_names {names_file}: cannot read it ({exc})') from None
        limit = num_classes(opt)
        if len(lines) > limit:
            raise UserError(f'--class_names {names_file}: {len(lines)} lines, but the model has {limit} classes '
                            f'(one name per line, class 0 first)')
        return {k: line.strip() for k, line in enumerate(lines) if line.strip()}
    if opt.dataset_mode == 'synthetic':
        # classes 2k and 2k+1 share a colour and differ by texture (data/synthetic.py)
        return {c: f'colour {c // 2 + 1}, {TEXTURES[c % len(TEXTURES)]}' for c in range(opt.label_nc)}
    if opt.dataset_mode == 'cityscapes':
        return dict(enumerate(CITYSCAPES_NAMES[:opt.label_nc]))
    return {}


def painted_order(ids, opt):
    """Class ids as the model sees them -> the ids the page paints and names (the semsyn palette's:
    class k is k, dontcare label_nc). They differ with --dontcare_first (OASIS's order: dontcare 0,
    class k at k + 1), which the synthesizer applies to whatever it is given."""
    if getattr(opt, 'dontcare_first', False):
        return (ids - 1) % (opt.label_nc + 1)
    return ids


def palette_classes(opt, names_file: Optional[str] = None) -> Dict[str, object]:
    """{'classes': [{id, colour, name[, looks]}], 'eraser': {id, colour, name, dontcare}} for the page.

    A colour the palette gives two ids (Cityscapes' void classes, pole/polegroup) stands for the first, as
    when a colour label map is read, so only that one is offered. The eraser paints the dontcare class
    where the model has one (in its own colour, as the label pages show it), else class 0."""
    names = class_names(opt, names_file)
    palette = builtin('semsyn', opt.label_nc, opt.dataset_mode)
    looks = class_styles(opt.label_nc)[0] if opt.dataset_mode == 'synthetic' else None
    colour_of: Dict[int, str] = {}
    seen = set()
    for rgb, cid in palette.entries:
        if rgb not in seen and cid not in colour_of:
            colour_of[cid] = hex_colour(rgb)
        seen.add(rgb)
    classes: List[Dict[str, object]] = []
    for cid in range(opt.label_nc):
        if cid in colour_of:
            entry = {'id': cid, 'colour': colour_of[cid], 'name': names.get(cid, f'class {cid}')}
            if looks is not None:  # what the synthetic dataset paints for it, shown next to the label colour
                entry['looks'] = hex_colour(looks[cid] * 255 + 0.5)
            classes.append(entry)
    dontcare = opt.label_nc
    if opt.contain_dontcare_label and dontcare in colour_of:  # (Cityscapes' colours leave it none)
        eraser = {'id': dontcare, 'colour': colour_of[dontcare], 'name': names.get(dontcare, 'dontcare'),
                  'dontcare': True}
    else:
        eraser = {**classes[0], 'dontcare': False}
    return {'classes': classes, 'eraser': eraser}
