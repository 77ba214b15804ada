"""test.py's job: synthesize the test set with a trained generator and write the result page."""
import math
import os

from .data import create_dataset
from .data.sampler import make_loader, set_epoch
from .devices import data_parallel, resolve_device
from .errors import UserError
from .inference import load_generator_model, sample_visuals, synthesize
from .metrics.evaluation import FIDEvaluator, format_result
from .metrics.fid import save_result
from .rng import seed_everything
from .visual import HTMLPage, save_image


def result_dir(opt):
    return os.path.join(opt.results_dir, opt.name, f'{opt.phase}_{opt.which_epoch}')


def sample_limit(opt, dataset):
    return len(dataset) if math.isinf(opt.how_many) else min(len(dataset), int(opt.how_many))


def run_test(opt):
    """Synthesize up to --how_many images (with --fid, score them); returns the path of the result page."""
    device = resolve_device(opt)
    seed_everything(opt.seed)  # the VAE's z is random: --seed makes a test run reproducible
    dataset = create_dataset(opt)
    if len(dataset) == 0:
        raise UserError(f'no test images were found for --phase {opt.phase} in {opt.dataroot}')
    loader = make_loader(dataset, opt, shuffle=not opt.serial_batches, drop_last=False)
    set_epoch(loader, 0)
    model = data_parallel(load_generator_model(opt, device), opt)
    evaluator = FIDEvaluator(opt, device) if opt.fid else None  # fails early when weights are missing

    web_dir = result_dir(opt)
    page = HTMLPage(web_dir, f'Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {opt.which_epoch}')
    for data, label, generated in synthesize(model, loader, opt, device, sample_limit(opt, dataset)):
        if evaluator is not None:
            evaluator.add(generated, data['image'])
        n = generated.size(0) if opt.visual_n < 0 else min(generated.size(0), opt.visual_n)
        for i, visuals in enumerate(sample_visuals(label, generated, data['image'], opt, n)):
            name = os.path.splitext(os.path.basename(data['path'][i]))[0]
            add_result(page, web_dir, name, visuals)
    if evaluator is not None:
        result = evaluator.result()
        print(format_result(result) + f'  ({result.get("num_fake")} images vs {result["reference"]})')
        fid_file = save_result(result, web_dir, {'name': opt.name, 'epoch': opt.which_epoch})
        page.add_header('metrics')
        page.add_table([[k, v] for k, v in sorted(result.items())], header=['metric', 'value'])
        print(f'metrics: {fid_file}')
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


