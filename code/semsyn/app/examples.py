"""Example label maps to start painting from: the synthetic dataset's test samples for a synthetic model,
a simple scene for Cityscapes and ADE20K models, a layout of random classes for the others."""
from argparse import Namespace

import numpy as np

from ..data.synthetic import SyntheticDataset
from .classes import painted_order

# In the values of the dataset's label files (the dataset's own mapping turns them into class ids):
# bands from top to bottom, and the classes of a few objects in the lower part.
SCENES = {
    'cityscapes': {'what': 'street scenes', 'bands': (23, 11, 8, 7), 'objects': (26, 21, 24)},
    # sky, building, sidewalk, road; car, vegetation, person
    'ade20k': {'what': 'landscapes', 'bands': (3, 17, 27, 47), 'objects': (5, 35)},
    # sky, mountain, sea, sand; tree, rock (annotation values)
}


def examples_kind(opt) -> str:
    if opt.dataset_mode == 'synthetic':
        return 'test samples of the synthetic dataset'
    return SCENES.get(opt.dataset_mode, {}).get('what', 'layouts of random classes')


def example_ids(synthesizer, index: int) -> np.ndarray:
    """HxW class ids (as the page paints them, see painted_order) of example `index`, at the model's size."""
    opt = synthesizer.opt
    scene = SCENES.get(opt.dataset_mode)
    if scene is None:
        dataset = SyntheticDataset(Namespace(**{**vars(opt), 'phase': 'test'}))
        return dataset.generate(index)[0]
    width, height = synthesizer.size
    return painted_order(synthesizer.class_ids(scene_values(scene, width, height, np.random.default_rng(index))),
                         opt)


def scene_values(scene, width, height, rng) -> np.ndarray:
    """Wavy bands, then 2-4 rectangles or ellipses below the first band."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bands = scene['bands']
    values = np.full((height, width), bands[0], np.int64)
    tops = np.sort(rng.uniform(0.25, 0.85, size=len(bands) - 1))
    for band, top in zip(bands[1:], tops):
        wave = 0.04 * np.sin(2 * np.pi * (xx / width * rng.uniform(0.5, 2.0) + rng.random()))
        values[yy >= (top + wave) * height] = band
    for _ in range(int(rng.integers(2, 5))):
        cls = scene['objects'][int(rng.integers(len(scene['objects'])))]
        cy, cx = rng.uniform(tops[0], 0.95) * height, rng.random() * width
        ry, rx = rng.uniform(0.05, 0.15) * height, rng.uniform(0.05, 0.15) * width
        if rng.random() < 0.5:
            inside = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
        else:
            inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        values[inside] = cls
    return values
