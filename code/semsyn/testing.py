"""test.py's job: synthesize the test set (or a folder of label maps) with a trained generator, write
the result page, and score it: FID/KID, label fidelity (mIoU), LPIPS diversity."""
import math
import os
import shutil

from .data import create_dataset, is_label_only
from .data.sampler import make_loader, set_epoch
from .devices import data_parallel, resolve_device
from .errors import UserError
from .fileio import probe_writable
from .inference import at_label_size, load_generator_model, sample_visuals, style_code, synthesize
from .metrics import fid as fid_metric
from .metrics import segmentation
from .metrics.evaluation import FIDEvaluator
from .metrics.evaluation import format_result as format_fid
from .metrics.lpips import LPIPSDiversity
from .rng import seed_everything
from .visual import HTMLPage, save_image


def result_dir(opt):
    """results/<name>/<phase>_<epoch>, or label_<folder>_<epoch> for test.py --label_dir without images: a
    page of the user's own label maps never replaces the test set's."""
    if is_label_only(opt):
        folder = os.path.basename(os.path.normpath(opt.label_dir))
        return os.path.join(opt.results_dir, opt.name, f'label_{folder}_{opt.which_epoch}')
    return os.path.join(opt.results_dir, opt.name, f'{opt.phase}_{opt.which_epoch}')


def free_result_dir(opt):
    """The folder this run writes: result_dir, or with a result page already there the next free
    <folder>_2, _3, ... (--replace_results: the old folder is removed first, no stale file stays beside
    the new ones). The folder is probe-written before any work."""
    web_dir = result_dir(opt)
    if os.path.exists(web_dir):
        if opt.replace_results:
            print(f'--replace_results: removing the earlier results in {web_dir}')
            shutil.rmtree(web_dir)
        else:
            n = 2
            while os.path.exists(f'{web_dir}_{n}'):
                n += 1
            print(f'note: {web_dir} holds earlier results; writing {web_dir}_{n} (--replace_results to write over '
                  f'them)')
            web_dir = f'{web_dir}_{n}'
    probe_writable(web_dir, 'the result folder')
    return web_dir


def sample_limit(opt, dataset):
    return len(dataset) if math.isinf(opt.how_many) else min(len(dataset), int(opt.how_many))


class Evaluations:
    """The metrics asked for (--fid, --miou, --lpips), built before any image is synthesized so that a
    missing weights file or reference stops the run at once."""

    def __init__(self, opt, device):
        if opt.n_samples < 1:
            raise UserError(f'--n_samples must be at least 1, got {opt.n_samples}')
        if opt.n_samples > 1 and not opt.use_vae:
            raise UserError(f'--n_samples {opt.n_samples}: this model has no style code (trained without --use_vae), '
                            f'its picture of a label map is always the same; use --n_samples 1')
        if opt.n_samples > 1 and opt.style_image:
            raise UserError(f'--n_samples {opt.n_samples} with --style_image: the style image fixes the style code, '
                            f'so every sample would be the same picture; leave out one of the two')
        self.fid = FIDEvaluator(opt, device) if opt.fid else None
        self.miou = segmentation.SegmentationEvaluator(opt, device) if opt.miou else None
        self.lpips = LPIPSDiversity(opt, device) if opt.lpips else None

    def add(self, samples, label, real):
        if self.fid is not None:
            self.fid.add(samples[0], real)
        if self.miou is not None:
            self.miou.add(samples[0], label, real)
        if self.lpips is not None:
            self.lpips.add(samples)

    def results(self, opt, web_dir):
        """[(title, result dict, file written)] of the metrics computed."""
        out = []
        extra = {'name': opt.name, 'epoch': opt.which_epoch}
        if self.fid is not None:
            result = self.fid.result()
            print(format_fid(result) + f'  ({result.get("num_fake")} images vs {result["reference"]})')
            out.append(('FID / KID', result, fid_metric.save_result(result, web_dir, extra)))
        if self.miou is not None:
            result = {**self.miou.result(), **extra}
            print(segmentation.format_result(result))
            out.append(('label fidelity (mIoU)', result, segmentation.save_result(result, web_dir)))
        if self.lpips is not None:
            result = {**self.lpips.result(), **extra}
            print(f"LPIPS diversity: {result['lpips_diversity']:.4f} over {result['num_label_maps']} label maps "
                  f"x {result['n_samples']} samples")
            out.append(('LPIPS diversity', result, segmentation.save_result(result, web_dir, 'lpips.json')))
        return out


def run_test(opt):
    """Synthesize up to --how_many label maps (--n_samples images each) and score them as asked;
    returns the path of the result page."""
    device = resolve_device(opt)
    seed_everything(opt.seed)  # the VAE's z is random: --seed makes a test run reproducible
    dataset = create_dataset(opt)
    if len(dataset) == 0:
        raise UserError(f'no test images were found for --phase {opt.phase} in {opt.dataroot}')
    loader = make_loader(dataset, opt, shuffle=not opt.serial_batches, drop_last=False)
    set_epoch(loader, 0)
    evaluations = Evaluations(opt, device)
    model = data_parallel(load_generator_model(opt, device), opt)
    style = style_code(model, opt.style_image, opt) if opt.style_image else None

    web_dir = free_result_dir(opt)
    rows = []
    for data, label, samples in synthesize(model, loader, opt, device, sample_limit(opt, dataset),
                                           n_samples=opt.n_samples, style=style):
        real = data.get('image')
        evaluations.add(samples, label, real)
        n = samples[0].size(0) if opt.visual_n < 0 else min(samples[0].size(0), opt.visual_n)
        for i, visuals in enumerate(sample_visuals(label, samples, real, opt, n)):
            if 'source_label' in data and opt.output_size == 'label':
                visuals = at_label_size(visuals, data['source_label'][i], opt)
            order = int(data['index'][i]) if 'index' in data else len(rows)  # maps alone: batched by size
            rows.append((order, save_row(web_dir, os.path.splitext(os.path.basename(data['path'][i]))[0], visuals)))
    rows = [row for _, row in sorted(rows, key=lambda r: r[0])]
    page = HTMLPage(web_dir, f'Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {opt.which_epoch}')
    for title, result, path in evaluations.results(opt, web_dir):
        add_metrics(page, title, result)
        print(f'metrics: {path}')
    for name, files, labels in rows:
        page.add_header(name)
        page.add_images(files, labels, files, width=256)
    path = page.save()
    print(f'results: {path}')
    return path


def save_row(web_dir, name, visuals):
    files = []
    for label, image in visuals.items():
        rel = os.path.join(label, name + '.png')
        save_image(image, os.path.join(web_dir, 'images', rel))
        files.append(rel)
    return name, files, list(visuals)


def add_metrics(page, title, result):
    """The scalar values as a table, and per-class IoU (synthesized and real) as a second one."""
    page.add_header(title)
    page.add_table([[k, v] for k, v in sorted(result.items()) if not isinstance(v, dict)], header=['metric', 'value'])
    if 'per_class_iou' in result:
        real = result.get('real_per_class_iou', {})
        rows = [[c, iou, real.get(c)] for c, iou in result['per_class_iou'].items() if iou is not None]
        page.add_table(rows, header=['class', 'IoU synthesized', 'IoU real'])
