"""Synthesis with a trained generator, shared by test.py, the evaluation during training and the
Python API: the generator loaded from a run folder, synthesis over a data loader, and the sample
triplets (label, synthesized, real) the pages show."""
import math
import os

import torch
from tqdm import tqdm

from .checkpoints import load_network, network_path
from .models.synthesis import SynthesisModel, prepare_batch
from .visual import colorize_label, tensor2im


def load_generator_model(opt, device):
    """SynthesisModel in eval mode with G (and E with --use_vae) loaded from checkpoints/<name>.

    When the run kept an EMA generator (``<epoch>_net_A.pth``), G gets its weights, unless --no_ema."""
    model = SynthesisModel(opt)
    for role, net in model.networks().items():
        path = network_path(opt.checkpoints_dir, opt.name, opt.which_epoch, role)
        ema = network_path(opt.checkpoints_dir, opt.name, opt.which_epoch, 'A')
        if role == 'G' and not opt.no_ema and os.path.isfile(ema):
            print(f'generator: the EMA weights {ema} (--no_ema for {os.path.basename(path)})')
            path = ema
        load_network(net, path, suggest_opt_file=not opt.load_from_opt_file)
    return model.to(device).eval()


def synthesize(model, loader, opt, device, limit, desc='test'):
    """Yield (data, label map, synthesized images) for the first `limit` samples of loader."""
    done = 0
    with torch.no_grad():
        for data in tqdm(loader, total=math.ceil(limit / opt.batchSize), desc=desc, leave=False, disable=None):
            if done >= limit:
                break
            n = min(data['label'].size(0), limit - done)
            data = {k: v[:n] for k, v in data.items()}
            semantics, real, label = prepare_batch(data, opt, device)
            yield data, label, model(semantics, real, mode='inference')
            done += n


def sample_visuals(label, generated, real, opt, n=1):
    """The first n samples as HxWx3 uint8 arrays: coloured label map, synthesized and real image."""
    n_colours = opt.label_nc if opt.dataset_mode == 'cityscapes' else opt.label_nc + 1
    out = []
    for i in range(min(n, generated.size(0))):
        out.append({'input_label': colorize_label(label[i].cpu(), n_colours),
                    'synthesized_image': tensor2im(generated[i].cpu()),
                    'real_image': tensor2im(real[i].cpu())})
    return out
