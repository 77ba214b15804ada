"""Where training reports go: console (through tqdm), loss_log.txt, TensorBoard, the web page."""
import json
import os
import re
import time

from tqdm import tqdm

from ..fileio import atomic_write_text
from ..visual import HTMLPage, colorize_label, loss_curves_svg, save_image, tensor2im

HISTORY_FILE = 'loss_history.jsonl'


class TrainingLogger:
    """Console lines, loss_log.txt (SPADE's format), TensorBoard scalars and the loss history."""

    def __init__(self, opt):
        self.opt = opt
        self.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        os.makedirs(self.run_dir, exist_ok=True)
        self.log_path = os.path.join(self.run_dir, 'loss_log.txt')
        self.history_path = os.path.join(self.run_dir, HISTORY_FILE)
        with open(self.log_path, 'a') as f:
            f.write(f'================ Training Loss ({time.strftime("%c")}) ================\n')
        self.writer = None
        if opt.tf_log:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(os.path.join(self.run_dir, 'logs'))

    def truncate_history(self, step):
        """On resume, forget points logged after the checkpoint the run continues from."""
        keep_history(self.history_path, lambda p: p['step'] <= step)

    def log_losses(self, epoch, epoch_iter, step, losses, seconds_per_sample, epoch_fraction):
        message = f'(epoch: {epoch}, iters: {epoch_iter}, time: {seconds_per_sample:.3f}) '
        message += ''.join(f'{k}: {v:.3f} ' for k, v in losses.items())
        tqdm.write(message)
        with open(self.log_path, 'a') as f:
            f.write(message + '\n')
        with open(self.history_path, 'a') as f:
            f.write(json.dumps({'step': step, 'epoch': epoch_fraction, 'losses': losses}) + '\n')
        if self.writer is not None:
            for k, v in losses.items():
                self.writer.add_scalar(f'loss/{k}', v, step)
            self.writer.flush()

    def log_metrics(self, epoch, step, values, text):
        """Evaluation results (FID, KID) at the end of an epoch."""
        message = f'(epoch: {epoch}, total_steps: {step}) {text}'
        tqdm.write(message)
        with open(self.log_path, 'a') as f:
            f.write(message + '\n')
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(f'metrics/{k}', v, step)
            self.writer.flush()

    def log_images(self, visuals, step):
        if self.writer is not None:
            for label, image in visuals.items():
                self.writer.add_image(label, image, step, dataformats='HWC')

    def close(self):
        if self.writer is not None:
            self.writer.close()


def keep_history(path, keep):
    """Rewrite a JSON-lines history with only the points for which keep(point) is true."""
    points = [p for p in read_history(path) if keep(p)]
    atomic_write_text(path, ''.join(json.dumps(p) + '\n' for p in points))


def read_history(path):
    if not os.path.isfile(path):
        return []
    points = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    points.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
    return points


def sample_visuals(label, generated, real, opt, n=1):
    """The first n samples as HxWx3 uint8 arrays: coloured label map, synthesized and real image."""
    n_colours = opt.label_nc if opt.dataset_mode == 'cityscapes' else opt.label_nc + 1
    out = []
    for i in range(min(n, generated.size(0))):
        out.append({'input_label': colorize_label(label[i].cpu(), n_colours),
                    'synthesized_image': tensor2im(generated[i].cpu()),
                    'real_image': tensor2im(real[i].cpu())})
    return out


IMAGE_NAME = re.compile(r'epoch(\d+)_iter(\d+)_(\w+)\.png$')
VISUAL_ORDER = ('input_label', 'synthesized_image', 'real_image')


class TrainingPage:
    """checkpoints/<name>/web/index.html: loss curves and sample triplets, newest first."""

    def __init__(self, opt):
        self.opt = opt
        self.web_dir = os.path.join(opt.checkpoints_dir, opt.name, 'web')
        self.image_dir = os.path.join(self.web_dir, 'images')
        self.history_path = os.path.join(opt.checkpoints_dir, opt.name, HISTORY_FILE)
        self.fid_history_path = os.path.join(opt.checkpoints_dir, opt.name, 'fid_log.jsonl')

    def add_samples(self, visuals, epoch, step):
        for label, image in visuals.items():
            save_image(image, os.path.join(self.image_dir, f'epoch{epoch:03d}_iter{step:07d}_{label}.png'))
        self.write()

    def write(self):
        page = HTMLPage(self.web_dir, f'Experiment name = {self.opt.name}', refresh=0)
        history = [(p['epoch'], p['losses']) for p in read_history(self.history_path)]
        if history:
            page.add_header('losses')
            page.add_svg(loss_curves_svg(history))
        fid = [(p['epoch'], {'FID': p['fid']}) for p in read_history(self.fid_history_path)]
        if fid:
            best = min(fid, key=lambda p: p[1]['FID'])
            page.add_header(f'FID on the validation set (best {best[1]["FID"]:.3f} at epoch {best[0]})')
            page.add_svg(loss_curves_svg(fid))
        found = {}
        if os.path.isdir(self.image_dir):
            for fname in os.listdir(self.image_dir):
                m = IMAGE_NAME.match(fname)
                if m:
                    found.setdefault((int(m.group(1)), int(m.group(2))), {})[m.group(3)] = fname
        for (epoch, step) in sorted(found, reverse=True):
            files = found[(epoch, step)]
            labels = [lb for lb in VISUAL_ORDER if lb in files]
            page.add_header(f'epoch [{epoch}] iteration [{step}]')
            page.add_images([files[lb] for lb in labels], labels, [files[lb] for lb in labels],
                            width=min(256, self.opt.display_winsize))
        page.save()
