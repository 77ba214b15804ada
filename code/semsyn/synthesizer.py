"""The Python API: a trained or released model as a function, label map in, picture out.

    from semsyn import Synthesizer
    s = Synthesizer.from_checkpoint('checkpoints/demo', epoch='latest', device='cpu')
    picture = s('my_label_map.png')                  # a PIL image
    picture = s(label_array, seed=3)                 # --use_vae models: a reproducible sample
    picture = s(label_array, style='photo.jpg')      # --use_vae models: the style of a photo

A label map is a path, a PIL image or an HxW integer array holding the values the label files of the
model's dataset hold (COCO-Stuff ids with 255 unlabeled, ADE20K annotation values, class ids for the
synthetic dataset), or a colour image with ``palette=`` (see semsyn.data.palette), of any size: it is
resized (nearest) to the size the generator takes (``generator_size``), and the picture comes at the
map's own size (``output_size='model'``: at the generator's).
"""
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from PIL import Image

from .data import DATASETS
from .data.base import prepare_label
from .data.io import map_values, read_map
from .data.palette import load_palette, read_colour_map
from .data.transforms import resize_map
from .devices import resolve_device
from .errors import UserError
from .inference import check_output_size, generator_size, load_generator_model, prior_codes, resize_picture, style_code
from .models.synthesis import one_hot_semantics
from .options import resolve
from .visual import tensor2im

LabelMap = Union[str, os.PathLike, Image.Image, np.ndarray]


class Synthesizer:
    """A trained generator as a function: label map in, PIL picture out.

    Build it from a run folder with ``from_checkpoint`` (or from resolved options ``opt``)::

        s = Synthesizer.from_checkpoint('checkpoints/demo', device='cpu')
        s('maps/street.png').save('street_picture.png')
        ids = s.class_ids('maps/street.png')   # what the model sees, at the map's own size

    Label maps are PNG files (JPEG's lossy compression changes the labels) holding the model's
    dataset values, or colour maps with ``palette=``.
    """

    def __init__(self, opt, device: Union[str, torch.device] = 'cpu'):
        self.opt = opt
        self.device = torch.device(device)
        self.model = load_generator_model(opt, self.device)
        self.map_labels = getattr(DATASETS[opt.dataset_mode], 'map_labels', None)
        self.size = generator_size(opt)  # (width, height) of its pictures at the crop size

    @classmethod
    def from_checkpoint(cls, folder: Union[str, os.PathLike], epoch: str = 'latest',
                        device: Union[str, torch.device] = 'cpu', use_ema: bool = True) -> 'Synthesizer':
        """The model of a run folder (checkpoints/<name>): its opt.yml and <epoch>_net_G.pth (the EMA
        generator <epoch>_net_A.pth when there is one, unless use_ema is false)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f'{folder}: no such run folder (a training run writes checkpoints/<--name>; '
                            f'ls {folder.parent} shows the runs there)')
        if not (folder / 'opt.yml').is_file():
            raise UserError(f'{folder}: no opt.yml; a semsyn run folder has one (for a released checkpoint, '
                            f'write one with the options it was trained with, README: Checkpoints)')
        try:
            device = torch.device(device)
        except RuntimeError:
            raise UserError(f'device {device!r}: expected cpu, cuda or cuda:N') from None
        gpu = str(device.index or 0) if device.type == 'cuda' else '-1'
        opt = resolve(['--checkpoints_dir', str(folder.parent), '--name', folder.name, '--load_from_opt_file',
                       '--which_epoch', str(epoch), '--gpu_ids', gpu] + ([] if use_ema else ['--no_ema']),
                      is_train=False)
        return cls(opt, resolve_device(opt))  # the one check that the GPU asked for is there

    # -- label maps --------------------------------------------------------------------------
    def class_ids(self, label: LabelMap, palette: Optional[str] = None) -> np.ndarray:
        """HxW class ids (as the model sees them) of a label map, at its own resolution."""
        where = str(label) if isinstance(label, (str, os.PathLike)) else 'given to the synthesizer'
        colours = load_palette(palette, self.opt.label_nc, self.opt.dataset_mode) if palette else None
        if isinstance(label, (str, os.PathLike)):
            values = read_colour_map(label, colours) if colours else read_map(os.fspath(label), 'label map',
                                                                               'class ids')
        elif isinstance(label, Image.Image):
            if colours:
                values = colours.to_ids(np.asarray(label.convert('RGB')), f'label map {where}')
            else:
                values = map_values(label, f'label map {where}', 'class ids',
                                    colour_hint=' (or pass palette=, e.g. palette="ade20k")')
        else:
            values = np.asarray(label)
            if values.ndim != 2 or not np.issubdtype(values.dtype, np.integer):
                raise UserError(f'label map: expected an HxW array of integer ids, got {values.dtype} {values.shape}')
            values = values.astype(np.int64)
        mapping = None if colours is not None and colours.model_ids else self.map_labels
        return prepare_label(values, where, self.opt, mapping)

    def semantics(self, ids: np.ndarray) -> torch.Tensor:
        """[1, semantic_nc, H, W] network input of class ids, resized (nearest) to the size the generator
        takes for a map of their size."""
        ids = resize_map(ids, generator_size(self.opt, (ids.shape[1], ids.shape[0])))
        label = torch.from_numpy(np.ascontiguousarray(ids))[None, None].to(self.device)
        return one_hot_semantics(label, label if not self.opt.no_instance else None, self.opt)

    # -- synthesis ---------------------------------------------------------------------------
    @torch.no_grad()
    def synthesize(self, semantics: torch.Tensor, z: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The batch form: one-hot semantics [B, semantic_nc, H, W] -> images [B, 3, H, W] in [-1, 1]."""
        return self.model(semantics.to(self.device), None, mode='inference', z=z)

    @property
    def has_noise(self) -> bool:
        """The generator takes a noise z of its own (z_dim per image), the picture's style control."""
        return self.model.generator.noise_shape(torch.zeros(1, 1, 1, 1)) is not None

    def style(self, photo: LabelMap) -> torch.Tensor:
        """The style code [1, z_dim] of a photo (path, PIL image or HxWx3 uint8 array)."""
        return style_code(self.model, photo, self.opt)

    def __call__(self, label: LabelMap, style: Optional[LabelMap] = None, seed: Optional[int] = None,
                 palette: Optional[str] = None, output_size: str = 'label') -> Image.Image:
        """The picture of one label map (a path, a PIL image or an HxW integer array of any size), at the
        map's own size (``output_size='model'``: at the size the generator takes).

        style: a photo whose style the picture takes (models trained with --use_vae); seed: the sample
        of the prior a --use_vae model draws, or the noise of a generator with its own (OASIS's 3D
        noise): the same seed, the same picture; palette: the label map
        is a colour image in that palette (e.g. ``'semsyn'``, ``'ade20k'`` or a palette file)::

            picture = s(np.array([[0, 0, 3], [0, 3, 3]]), seed=7)
            picture = s('painted.png', palette='semsyn')
        """
        check_output_size(output_size, 'output_size')
        ids = self.class_ids(label, palette)
        semantics = self.semantics(ids)
        z = None
        if self.opt.use_vae and style is not None:
            z = self.style(style)
        elif style is not None:
            raise UserError('style: this model has no style encoder (trained without --use_vae)' +
                            ('; its noise is its style: pass seed' if self.has_noise else ''))
        elif self.opt.use_vae or self.has_noise:  # a sample of the prior: the same seed, the same picture
            z = prior_codes(self.opt.seed if seed is None else seed, self.opt.z_dim, 0, 1, 0, self.device)
        elif seed is not None:
            raise UserError('seed: this model has no style code (trained without --use_vae): its picture of a label '
                            'map is always the same; leave seed out')
        picture = tensor2im(self.synthesize(semantics, z)[0])
        if output_size == 'label':
            picture = resize_picture(picture, (ids.shape[1], ids.shape[0]))
        return Image.fromarray(picture)
