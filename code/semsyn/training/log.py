"""Where training reports go: console (through tqdm), loss_log.txt (SPADE's format), TensorBoard,
and the loss history the training page plots."""
import os
import time

from tqdm import tqdm

from ..errors import UserError
from .history import LOSS_HISTORY, append_point, history_path, keep_history


class TrainingLogger:
    def __init__(self, opt):
        self.opt = opt
        self.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        os.makedirs(self.run_dir, exist_ok=True)
        self.log_path = os.path.join(self.run_dir, 'loss_log.txt')
        self.history_path = history_path(opt, LOSS_HISTORY)
        with open(self.log_path, 'a') as f:
            f.write(f'================ Training Loss ({time.strftime("%c")}) ================\n')
        self.writer = tensorboard_writer(os.path.join(self.run_dir, 'logs')) if opt.tf_log else None

    def truncate_history(self, step):
        """On resume, forget points logged after the checkpoint the run continues from."""
        keep_history(self.history_path, lambda p: p['step'] <= step)

    def log_losses(self, epoch, epoch_iter, step, losses, seconds_per_sample, epoch_fraction):
        message = f'(epoch: {epoch}, iters: {epoch_iter}, time: {seconds_per_sample:.3f}) '
        message += ''.join(f'{k}: {v:.3f} ' for k, v in losses.items())
        self.write_line(message)
        append_point(self.history_path, {'step': step, 'epoch': epoch_fraction, 'losses': losses})
        self.scalars('loss', losses, step)

    def log_metrics(self, epoch, step, values, text):
        """Evaluation results (FID, KID) at the end of an epoch."""
        self.write_line(f'(epoch: {epoch}, total_steps: {step}) {text}')
        self.scalars('metrics', values, step)

    def log_images(self, visuals, step):
        if self.writer is not None:
            for label, image in visuals.items():
                self.writer.add_image(label, image, step, dataformats='HWC')

    def write_line(self, message):
        tqdm.write(message)
        with open(self.log_path, 'a') as f:
            f.write(message + '\n')

    def scalars(self, group, values, step):
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(f'{group}/{k}', v, step)
            self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()


def tensorboard_writer(log_dir):
    try:  # an optional extra
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError('--tf_log needs the tensorboard package: pip install "semsyn[tensorboard]" '
                        '(or pip install tensorboard)') from None
    return SummaryWriter(log_dir)
