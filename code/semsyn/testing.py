"""test.py's job: synthesize the test set with a trained generator and write the result page."""
import math
import os

import torch
from tqdm import tqdm

from .data import create_dataset
from .devices import data_parallel, resolve_device
from .errors import UserError
from .models.synthesis import SynthesisModel, one_hot_semantics
from .training.checkpoints import load_network, network_path
from .training.logger import sample_visuals
from .training.rng import seed_everything
from .training.sampler import make_loader, set_epoch
from .visual import HTMLPage, save_image

ARCH_HINT = 'netG, ngf, norm_G, label_nc, contain_dontcare_label, no_instance, crop_size, use_vae'


def load_generator_model(opt, device):
    """SynthesisModel in eval mode with G (and E with --use_vae) loaded from checkpoints/<name>."""
    model = SynthesisModel(opt)
    for role, net in model.networks().items():
        load_network(net, network_path(opt.checkpoints_dir, opt.name, opt.which_epoch, role), ARCH_HINT)
    return model.to(device).eval()


def result_dir(opt):
    return os.path.join(opt.results_dir, opt.name, f'{opt.phase}_{opt.which_epoch}')


def run_test(opt):
    """Synthesize up to --how_many images; returns the path of the result page."""
    device = resolve_device(opt)
    seed_everything(opt.seed)  # the VAE's z is random: --seed makes a test run reproducible
    dataset = create_dataset(opt)
    loader = make_loader(dataset, opt, shuffle=not opt.serial_batches, drop_last=False)
    set_epoch(loader, 0)
    model = data_parallel(load_generator_model(opt, device), opt)

    web_dir = result_dir(opt)
    page = HTMLPage(web_dir, f'Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {opt.which_epoch}')
    limit = len(dataset) if math.isinf(opt.how_many) else min(len(dataset), int(opt.how_many))
    done = 0
    with torch.no_grad():
        for data in tqdm(loader, total=math.ceil(limit / opt.batchSize), desc='test', disable=None):
            if done >= limit:
                break
            label = data['label'].to(device)
            instance = data['instance'].to(device) if not opt.no_instance else None
            semantics = one_hot_semantics(label, instance, opt)
            generated = model(semantics, data['image'].to(device), mode='inference')
            n = min(generated.size(0), limit - done)
            if opt.visual_n >= 0:
                n = min(n, opt.visual_n)
            for i, visuals in enumerate(sample_visuals(label, generated, data['image'], opt, n)):
                name = os.path.splitext(os.path.basename(data['path'][i]))[0]
                add_result(page, web_dir, name, visuals)
            done += generated.size(0)
    if done == 0:
        raise UserError(f'no test images were found for --phase {opt.phase} in {opt.dataroot}')
    path = page.save()
    print(f'results: {path}')
    return path


def add_result(page, web_dir, name, visuals):
    files = []
    for label, image in visuals.items():
        rel = os.path.join(label, name + '.png')
        save_image(image, os.path.join(web_dir, 'images', rel))
        files.append(rel)
    page.add_header(name)
    page.add_images(files, list(visuals), files, width=256)


