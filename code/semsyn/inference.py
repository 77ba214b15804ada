"""Synthesis with a trained generator, shared by test.py, the evaluation during training and the
Python API: the generator loaded from a run folder, the size it takes, synthesis over a data loader,
and the sample triplets (label, synthesized, real) the pages show."""
import math
import os

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from .checkpoints import load_network, network_path, original_layout_path
from .data import is_label_only
from .data.io import read_image
from .data.transforms import image_to_tensor, resize_map
from .devices import unwrap
from .errors import UserError
from .kernels import activate  # noqa: F401  (the CPU kernels, registered)
from .models.ops.latent import UPSAMPLING_LAYERS, latent_size
from .models.synthesis import SynthesisModel, prepare_batch
from .visual import colorize_label, tensor2im

# Generators without a latent size: they take any map whose sides their stride-2 levels divide.
FULLY_CONVOLUTIONAL = {'pix2pixhd'}
OUTPUT_SIZES = ('label', 'model')  # a label map's picture at the map's own size, or at the generator's


def generator_size(opt, size=None):
    """(width, height) of the label maps the generator takes, for a map of ``size`` (w, h).

    A generator with a latent size (SPADE, CC-FPSE, SCGAN, OASIS) takes one size whatever the map's:
    its first feature map's times its upsampling factor, i.e. the crop size and aspect ratio. pix2pixHD
    takes the nearest size whose sides its --resnet_n_downsample halvings divide (of the crop size and
    aspect ratio when no size is given)."""
    if opt.netG in FULLY_CONVOLUTIONAL:
        step = 2 ** opt.resnet_n_downsample
        size = size or (opt.crop_size, round(opt.crop_size / opt.aspect_ratio))
        return tuple(max(step, round(side / step) * step) for side in size)
    if opt.netG == 'oasis':  # its residual blocks but the first each double the size
        k = opt.num_res_blocks - 1
        sw = opt.crop_size // 2 ** k
        sh = round(sw / opt.aspect_ratio)
    else:
        sw, sh = latent_size(opt)
        k = UPSAMPLING_LAYERS[opt.num_upsampling_layers]
    return sw * 2 ** k, sh * 2 ** k


def check_output_size(value, what='--output_size'):
    if value not in OUTPUT_SIZES:
        raise UserError(f"{what} {value!r}: expected 'label' (the picture at the label map's size) or 'model' "
                        f"(at the generator's)")
    return value


def load_generator_model(opt, device):
    """SynthesisModel in eval mode with G (and E with --use_vae) loaded from checkpoints/<name>.

    When the run kept an EMA generator (``<epoch>_net_A.pth``), G gets its weights, unless --no_ema.
    A run folder in OASIS's layout (``models/<iter>_{G,EMA}.pth``, as its released models come) is
    read as it is (checkpoints.original_layout_path)."""
    def where(role):
        original = original_layout_path(opt.checkpoints_dir, opt.name, opt.which_epoch, role)
        return original or network_path(opt.checkpoints_dir, opt.name, opt.which_epoch, role)

    model = SynthesisModel(opt)
    for role, net in model.networks().items():
        path, ema = where(role), where('A')
        if role == 'G' and not opt.no_ema and os.path.isfile(ema):
            print(f'generator: the EMA weights {ema} (--no_ema for {os.path.basename(path)})')
            path = ema
        load_network(net, path, suggest_opt_file=not opt.load_from_opt_file)
    return model.to(device).eval()


def style_code(model, photo, opt):
    """The style code [1, z_dim] of a photo (a path, a PIL image or an HxWx3 uint8 array) for a model
    with a style encoder: the encoder's mean, so the same photo always gives the same style."""
    core = unwrap(model)
    if core.netE is None:
        raise UserError('--style_image: this model has no style encoder (trained without --use_vae); '
                        'its pictures come from the label map alone')
    if isinstance(photo, (str, os.PathLike)):
        photo = read_image(os.fspath(photo), 'style image')
    elif isinstance(photo, np.ndarray):
        photo = Image.fromarray(photo)
    width, height = opt.crop_size, round(opt.crop_size / opt.aspect_ratio)
    image = image_to_tensor(photo.convert('RGB').resize((width, height), Image.BICUBIC))[None]
    device = next(core.netE.parameters()).device
    with torch.no_grad():
        _, mu, _ = core.encode_z(image.to(device), unwrapped=True)
    return mu


def prior_codes(seed, z_dim, first_index, count, sample, device):
    """Style codes z ~ N(0, 1) for images first_index.. of a run, sample k of each: seeded by (seed,
    image, sample), so a result does not depend on the batch size or the order of the images."""
    codes = []
    for i in range(first_index, first_index + count):
        g = torch.Generator().manual_seed(((seed * 1_000_003 + i) * 1_009 + sample) % 2 ** 63)
        codes.append(torch.randn(z_dim, generator=g))
    return torch.stack(codes).to(device)


def synthesize(model, loader, opt, device, limit, desc='test', n_samples=1, style=None):
    """Yield (data, label map, [synthesized images]) for the first `limit` samples of loader, with
    n_samples images per label map. Models with a style encoder (--use_vae) take the style of `style`
    (a code [1, z_dim]) when given; else, with one sample per label map and a real image, its
    encoded style (SPADE's test.py); else seeded codes from the prior."""
    done = 0
    with torch.no_grad():
        for data in tqdm(loader, total=math.ceil(limit / opt.batchSize), desc=desc, leave=False, disable=None):
            if done >= limit:
                break
            n = min(data['label'].size(0), limit - done)
            data = {k: v[:n] for k, v in data.items()}
            if is_label_only(opt):
                data = fit_label_maps(data, opt)
            semantics, real, label = prepare_batch(data, opt, device)
            samples = []
            for k in range(n_samples):
                z = None
                if opt.use_vae and style is not None:
                    z = style.to(device).expand(n, -1)
                elif opt.use_vae and (real is None or n_samples > 1):
                    z = prior_codes(opt.seed, opt.z_dim, done, n, k, device)
                samples.append(model(semantics, real, mode='inference', z=z))
            yield data, label, samples
            done += n


def fit_label_maps(data, opt):
    """A batch of label maps alone (of one size, their own) at the size the generator takes: 'label'
    and 'instance' resized (nearest, as a dataset's maps are); the maps as given stay as 'source_label'."""
    label = data['label']
    height, width = label.shape[-2:]
    size = generator_size(opt, (width, height))
    out = {**data, 'source_label': label}
    if size != (width, height):
        out['label'] = resize_maps(label, size)
        if not opt.no_instance:
            out['instance'] = resize_maps(data['instance'], size)
    return out


def resize_maps(maps, size):
    """[B, 1, H, W] integer maps -> [B, 1, h, w] at size (w, h), PIL's NEAREST as resize_map."""
    return torch.stack([torch.from_numpy(resize_map(m[0].numpy(), size))[None] for m in maps.cpu()])


def at_label_size(visuals, source_label, opt):
    """The visuals of one label map alone at the map's own size: its own colours (not the resized map's)
    and the pictures resized (bicubic) to its size."""
    height, width = source_label.shape[-2:]
    out = {'input_label': colorize_label(source_label.cpu(), label_colours(opt))}
    for key, image in visuals.items():
        if key != 'input_label':
            out[key] = resize_picture(image, (width, height))
    return out


def resize_picture(image, size):
    """An HxWx3 uint8 picture at size (w, h), bicubic."""
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize(tuple(size), Image.BICUBIC))


def label_colours(opt):
    return opt.label_nc if opt.dataset_mode == 'cityscapes' else opt.label_nc + 1


def sample_visuals(label, samples, real, opt, n=1):
    """The first n label maps as HxWx3 uint8 arrays: coloured label map, the synthesized samples
    (synthesized_image, synthesized_image_2, ...) and, where given, the real image."""
    if isinstance(samples, torch.Tensor):
        samples = [samples]
    n_colours = label_colours(opt)
    out = []
    for i in range(min(n, samples[0].size(0))):
        visuals = {'input_label': colorize_label(label[i].cpu(), n_colours)}
        for k, generated in enumerate(samples):
            visuals['synthesized_image' + (f'_{k + 1}' if k else '')] = tensor2im(generated[i].cpu())
        if real is not None:
            visuals['real_image'] = tensor2im(real[i].cpu())
        out.append(visuals)
    return out
