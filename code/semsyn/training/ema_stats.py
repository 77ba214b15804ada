"""--ema_bn_batches N: before the EMA generator is saved or evaluated, its batch-norm statistics are
re-estimated on N training batches (models/ema.py). The batches are the first N of a fixed order of
the training set, the same on every process; rank 0's result (its noise draws) is kept on all, so all
processes keep identical EMA generators."""
from itertools import islice

from torch.utils.data import DataLoader

from .. import distributed as dist
from ..data.sampler import ResumableSampler
from ..devices import unwrap
from ..models.synthesis import prepare_batch


class EMABatchNormCalibration:
    def __init__(self, opt, dataset, device, done_at=None):
        # done_at: the training step whose statistics are already in the EMA generator (a resumed
        # set's); a second pass there would move cumulative statistics (OASIS's running ones) again
        self.opt, self.device, self.done_at = opt, device, done_at
        sampler = ResumableSampler(len(dataset), shuffle=True, seed=opt.seed)  # one order, not sharded
        self.loader = DataLoader(dataset, batch_size=opt.batchSize, sampler=sampler, num_workers=0)

    def batches(self):
        for data in islice(self.loader, self.opt.ema_bn_batches):
            yield prepare_batch(data, self.opt, self.device)[:2]

    def refresh(self, model, step):
        """Recalibrate unless that was done at this training step already."""
        if step != self.done_at:
            unwrap(model).recalibrate_ema(self.batches())
            # the batches are the same everywhere, a generator's own noise (OASIS's z) is drawn per process
            dist.broadcast_state(unwrap(model).netA)
            self.done_at = step
