"""FID during training (--fid_epoch N): synthesize the validation set every N epochs, score it,
log the value and keep the best checkpoints (``best_net_*.pth``)."""
import torch

from .. import distributed as dist
from ..data import create_dataset
from ..data.sampler import make_loader, set_epoch
from ..devices import unwrap
from ..inference import synthesize
from ..metrics.evaluation import FIDEvaluator, format_result, validation_options
from .history import FID_HISTORY, append_point, history_path, keep_history


class FIDTracker:
    def __init__(self, opt, device):
        self.opt, self.device = opt, device
        # fails at start-up when the weights are missing
        self.evaluator = FIDEvaluator(opt, device, ', or train without the FID evaluation (--fid_epoch 0)')
        self.val_opt = validation_options(opt)
        self.dataset = create_dataset(self.val_opt)
        # under torchrun every process synthesizes its own exact shard (no padding duplicates)
        self.loader = make_loader(self.dataset, self.val_opt, shuffle=False, drop_last=False, pad=False)
        self.history_path = history_path(opt, FID_HISTORY)

    def due(self, epoch):
        return self.opt.fid_epoch > 0 and epoch % self.opt.fid_epoch == 0

    def evaluate(self, model):
        """FID/KID of the current generator on the validation set. Runs in eval mode and on a forked
        RNG, so the training run continues exactly as without the evaluation."""
        core = unwrap(model)
        was_training = core.training
        core.eval()
        set_epoch(self.loader, 0)
        devices = [self.device.index or 0] if self.device.type == 'cuda' else []
        with torch.random.fork_rng(devices=devices):
            for data, _, generated in synthesize(model, self.loader, self.val_opt, self.device, len(self.dataset),
                                                 desc='FID'):
                self.evaluator.add(generated, data['image'])
        core.train(was_training)
        self.evaluator.gather()  # features of all shards
        result = self.evaluator.result() if dist.is_main() else None
        return dist.broadcast_object(result)

    def record(self, epoch, step, result, logger):
        logger.log_metrics(epoch, step, {k: v for k, v in result.items() if isinstance(v, float)},
                           format_result(result))
        append_point(self.history_path, {'epoch': epoch, 'step': step, **result})

    def truncate_history(self, epoch):
        """On resume, forget evaluations of epochs the run will train again."""
        keep_history(self.history_path, lambda p: p['epoch'] < epoch)
