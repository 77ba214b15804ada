"""Data order that depends only on (seed, epoch): an interrupted epoch resumes at the same batch."""
import torch
from torch.utils.data import DataLoader, Sampler

from ..distributed import rank, world_size


class ResumableSampler(Sampler):
    """Shuffled (or serial) indices for one epoch, starting after the samples already consumed.

    With several processes (rank of world), the epoch's order is the same everywhere and each rank
    takes every world-th index; with `pad` the order is first padded by repeating its head so all
    ranks get the same number of samples (training), without it the shards are exact (evaluation)."""

    def __init__(self, size, shuffle, seed, rank=0, world=1, pad=True):
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.rank, self.world, self.pad = rank, world, pad
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch, start=0):
        self.epoch, self.start = epoch, start

    def order(self, epoch):
        if not self.shuffle:
            return torch.arange(self.size)
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        return torch.randperm(self.size, generator=g)

    def shard(self, epoch):
        order = self.order(epoch)
        if self.world > 1 and self.pad and self.size % self.world:
            extra = self.world - self.size % self.world
            order = torch.cat([order, order.repeat(extra // self.size + 1)[:extra]])
        return order[self.rank::self.world]

    def __iter__(self):
        return iter(self.shard(self.epoch)[self.start:].tolist())

    def __len__(self):
        return max(0, len(self.shard(self.epoch)) - self.start)


def make_loader(dataset, opt, shuffle, drop_last, pad=True):
    """DataLoader over a ResumableSampler (this process's shard under torchrun); its own generator
    keeps worker seeding off the global RNG."""
    sampler = ResumableSampler(len(dataset), shuffle=shuffle, seed=opt.seed, rank=rank(), world=world_size(), pad=pad)
    return DataLoader(dataset, batch_size=opt.batchSize, sampler=sampler, num_workers=loader_workers(sampler, opt),
                      drop_last=drop_last, generator=torch.Generator().manual_seed(opt.seed),
                      pin_memory=bool(opt.gpu_id_list))


def loader_workers(sampler, opt):
    """``--nThreads``, but no more than the batches a worker can load ahead of the one in use: the
    workers start anew every epoch, and on an epoch of one batch (a tiny dataset) they would only
    add their start-up to it."""
    batches = -(-len(sampler) // opt.batchSize)
    return max(0, min(opt.nThreads, batches - 1))


def set_epoch(loader, epoch, start_batch=0):
    """Prepare loader for epoch (1-based), skipping the first start_batch batches."""
    loader.sampler.set_epoch(epoch, start_batch * loader.batch_size)
    if hasattr(loader.dataset, 'set_epoch'):
        loader.dataset.set_epoch(epoch)
