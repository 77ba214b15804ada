"""Evaluation during training on the validation set: FID/KID every --fid_epoch epochs (the best
checkpoints kept as ``best_net_*.pth``) and label fidelity (mIoU) every --miou_epoch epochs. The
validation set is synthesized once for the metrics due at an epoch; values go to the console,
loss_log.txt, TensorBoard, their histories and the training page's plots."""
import torch

from .. import distributed as dist
from ..data import create_dataset
from ..data.sampler import make_loader, set_epoch
from ..devices import unwrap
from ..inference import synthesize
from ..metrics import segmentation
from ..metrics.evaluation import FIDEvaluator, validation_options
from ..metrics.evaluation import format_result as format_fid
from .history import FID_HISTORY, MIOU_HISTORY, append_point, history_path, keep_history


class Validation:
    def __init__(self, opt, device):
        self.opt, self.device = opt, device
        self.val_opt = validation_options(opt)
        # both fail at start-up when their weights are missing
        self.fid = FIDEvaluator(opt, device, ', or train without the FID evaluation (--fid_epoch 0)') \
            if opt.fid_epoch > 0 else None
        self.miou = segmentation.SegmentationEvaluator(self.val_opt, device) if opt.miou_epoch > 0 else None
        self.dataset = create_dataset(self.val_opt)
        # under torchrun every process synthesizes its own exact shard (no padding duplicates)
        self.loader = make_loader(self.dataset, self.val_opt, shuffle=False, drop_last=False, pad=False)
        self.histories = {'fid': history_path(opt, FID_HISTORY), 'miou': history_path(opt, MIOU_HISTORY)}

    def due(self, epoch):
        """The metrics due after this epoch."""
        every = {'fid': self.opt.fid_epoch, 'miou': self.opt.miou_epoch}
        return [m for m, n in every.items() if n > 0 and epoch % n == 0]

    def evaluate(self, model, metrics):
        """{metric: result} of the current generator on the validation set. Runs in eval mode and on a
        forked RNG, so the training run continues exactly as without the evaluation."""
        core = unwrap(model)
        was_training = core.training
        core.eval()
        set_epoch(self.loader, 0)
        devices = [self.device.index or 0] if self.device.type == 'cuda' else []
        with torch.random.fork_rng(devices=devices):
            for data, label, samples in synthesize(model, self.loader, self.val_opt, self.device, len(self.dataset),
                                                   desc='validation'):
                if 'fid' in metrics:
                    self.fid.add(samples[0], data['image'])
                if 'miou' in metrics:
                    self.miou.add(samples[0], label, data['image'].to(self.device))
        core.train(was_training)
        results = {}
        if 'fid' in metrics:
            self.fid.gather()  # features of all shards
            results['fid'] = dist.broadcast_object(self.fid.result() if dist.is_main() else None)
        if 'miou' in metrics:
            self.miou.gather()
            results['miou'] = self.miou.result()
        return results

    def record(self, epoch, step, results, logger):
        for metric, result in results.items():
            text = format_fid(result) if metric == 'fid' else segmentation.format_result(result)
            logger.log_metrics(epoch, step, {k: v for k, v in result.items() if isinstance(v, float)}, text)
            append_point(self.histories[metric], {'epoch': epoch, 'step': step, **result})

    def truncate_history(self, epoch):
        """On resume, forget evaluations of epochs the run will train again."""
        for path in self.histories.values():
            keep_history(path, lambda p: p['epoch'] < epoch)
