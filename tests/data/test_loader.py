"""The training loader: worker processes where they can load ahead, none on one-batch epochs."""
from types import SimpleNamespace

import pytest
import torch

from semsyn.data.sampler import make_loader


@pytest.mark.parametrize('items, batch, threads, workers', [
    (2, 2, 3, 0),   # one batch per epoch: a worker could not load ahead, it would only start up
    (3, 2, 3, 1),   # two batches: one worker loads the second while the first is in use
    (20, 2, 3, 3),  # enough batches: all the workers asked for
    (20, 2, 0, 0),  # --nThreads 0: the main process loads
])
def test_loader_workers(items, batch, threads, workers):
    opt = SimpleNamespace(batchSize=batch, seed=0, nThreads=threads, gpu_id_list=[])
    loader = make_loader(torch.utils.data.TensorDataset(torch.arange(items)), opt, shuffle=True, drop_last=False)
    assert loader.num_workers == workers
    assert sorted(int(v) for (b,) in loader for v in b) == list(range(items))  # and it loads every item
