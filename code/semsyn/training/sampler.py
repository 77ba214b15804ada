"""Data order that depends only on (seed, epoch): an interrupted epoch resumes at the same batch."""
import torch
from torch.utils.data import DataLoader, Sampler


class ResumableSampler(Sampler):
    """Shuffled (or serial) indices for one epoch, starting after the samples already consumed."""

    def __init__(self, size, shuffle, seed):
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch, start=0):
        self.epoch, self.start = epoch, start

    def order(self, epoch):
        if not self.shuffle:
            return torch.arange(self.size)
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        return torch.randperm(self.size, generator=g)

    def __iter__(self):
        return iter(self.order(self.epoch)[self.start:].tolist())

    def __len__(self):
        return max(0, self.size - self.start)


def make_loader(dataset, opt, shuffle, drop_last):
    """DataLoader over a ResumableSampler; its own generator keeps worker seeding off the global RNG."""
    sampler = ResumableSampler(len(dataset), shuffle=shuffle, seed=opt.seed)
    return DataLoader(dataset, batch_size=opt.batchSize, sampler=sampler, num_workers=opt.nThreads,
                      drop_last=drop_last, generator=torch.Generator().manual_seed(opt.seed),
                      pin_memory=bool(opt.gpu_id_list))


def set_epoch(loader, epoch, start_batch=0):
    """Prepare loader for epoch (1-based), skipping the first start_batch batches."""
    loader.sampler.set_epoch(epoch, start_batch * loader.batch_size)
    if hasattr(loader.dataset, 'set_epoch'):
        loader.dataset.set_epoch(epoch)
