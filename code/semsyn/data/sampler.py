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


class SizeGroupedBatchSampler(Sampler):
    """Batches of a sampler's order in which every item has the same size: the indices grouped by
    ``keys[index]`` (groups in the order of their first index), each group cut into batches of
    ``batch_size``. With one key for all items, the batches of a plain DataLoader."""

    def __init__(self, sampler, batch_size, keys, drop_last=False):
        self.sampler, self.batch_size, self.keys, self.drop_last = sampler, batch_size, keys, drop_last
        self.start = 0

    def set_epoch(self, epoch, start_batch=0):
        self.sampler.set_epoch(epoch)
        self.start = start_batch

    def batches(self):
        groups = {}
        for index in self.sampler:
            groups.setdefault(self.keys[index], []).append(index)
        out = []
        for indices in groups.values():
            for first in range(0, len(indices), self.batch_size):
                batch = indices[first:first + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    out.append(batch)
        return out[self.start:]

    def __iter__(self):
        return iter(self.batches())

    def __len__(self):
        return len(self.batches())


def make_loader(dataset, opt, shuffle, drop_last, pad=True):
    """DataLoader over a ResumableSampler (this process's shard under torchrun); its own generator
    keeps worker seeding off the global RNG. A dataset whose items differ in size (``item_sizes()``,
    one hashable size per index) gets batches of equal sizes only (SizeGroupedBatchSampler)."""
    sampler = ResumableSampler(len(dataset), shuffle=shuffle, seed=opt.seed, rank=rank(), world=world_size(), pad=pad)
    common = dict(num_workers=loader_workers(sampler, opt), generator=torch.Generator().manual_seed(opt.seed),
                  pin_memory=bool(opt.gpu_id_list))
    if hasattr(dataset, 'item_sizes'):
        batches = SizeGroupedBatchSampler(sampler, opt.batchSize, dataset.item_sizes(), drop_last)
        return DataLoader(dataset, batch_sampler=batches, **common)
    return DataLoader(dataset, batch_size=opt.batchSize, sampler=sampler, drop_last=drop_last, **common)


def loader_workers(sampler, opt):
    """``--nThreads``, but no more than the batches a worker can load ahead of the one in use: the
    workers start anew every epoch, and on an epoch of one batch (a tiny dataset) they would only
    add their start-up to it."""
    batches = -(-len(sampler) // opt.batchSize)
    return max(0, min(opt.nThreads, batches - 1))


def set_epoch(loader, epoch, start_batch=0):
    """Prepare loader for epoch (1-based), skipping the first start_batch batches."""
    if isinstance(loader.batch_sampler, SizeGroupedBatchSampler):
        loader.batch_sampler.set_epoch(epoch, start_batch)
    else:
        loader.sampler.set_epoch(epoch, start_batch * loader.batch_size)
    if hasattr(loader.dataset, 'set_epoch'):
        loader.dataset.set_epoch(epoch)
