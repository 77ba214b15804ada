"""checkpoints/<name>/web/index.html: loss curves, validation FID and sample triplets, newest first."""
import os
import re

from ..visual import HTMLPage, loss_curves_svg, save_image
from .history import FID_HISTORY, LOSS_HISTORY, MIOU_HISTORY, history_path, read_history

IMAGE_NAME = re.compile(r'epoch(\d+)_iter(\d+)_(\w+)\.png$')
VISUAL_ORDER = ('input_label', 'synthesized_image', 'real_image')


class TrainingPage:
    def __init__(self, opt):
        self.opt = opt
        self.web_dir = os.path.join(opt.checkpoints_dir, opt.name, 'web')
        self.image_dir = os.path.join(self.web_dir, 'images')

    def add_samples(self, visuals, epoch, step):
        for label, image in visuals.items():
            save_image(image, os.path.join(self.image_dir, f'epoch{epoch:03d}_iter{step:07d}_{label}.png'))
        self.write()

    def write(self):
        page = HTMLPage(self.web_dir, f'Experiment name = {self.opt.name}', refresh=0)
        history = [(p['epoch'], p['losses']) for p in read_history(history_path(self.opt, LOSS_HISTORY))]
        if history:
            page.add_header('losses')
            page.add_svg(loss_curves_svg(history))
        fid = [(p['epoch'], {'FID': p['fid']}) for p in read_history(history_path(self.opt, FID_HISTORY))]
        if fid:
            best = min(fid, key=lambda p: p[1]['FID'])
            page.add_header(f'FID on the validation set (best {best[1]["FID"]:.3f} at epoch {best[0]})')
            page.add_svg(loss_curves_svg(fid))
        miou = [(p['epoch'], {'mIoU synthesized': p['miou'], 'mIoU real': p.get('real_miou')})
                for p in read_history(history_path(self.opt, MIOU_HISTORY))]
        if miou:
            last = miou[-1]
            page.add_header(f'label fidelity on the validation set (mIoU {last[1]["mIoU synthesized"]:.3f} at epoch '
                            f'{last[0]}; real images {last[1]["mIoU real"]:.3f})')
            page.add_svg(loss_curves_svg(miou))
        for (epoch, step), files in sorted(self.samples().items(), reverse=True):
            labels = [lb for lb in VISUAL_ORDER if lb in files]
            page.add_header(f'epoch [{epoch}] iteration [{step}]')
            page.add_images([files[lb] for lb in labels], labels, [files[lb] for lb in labels],
                            width=min(256, self.opt.display_winsize))
        page.save()

    def samples(self):
        """{(epoch, step): {visual name: file name}} of the saved sample images."""
        found = {}
        if os.path.isdir(self.image_dir):
            for fname in os.listdir(self.image_dir):
                m = IMAGE_NAME.match(fname)
                if m:
                    found.setdefault((int(m.group(1)), int(m.group(2))), {})[m.group(3)] = fname
        return found
