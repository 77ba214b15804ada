"""Device decisions from --gpu_ids, checked on any machine by faking what CUDA reports."""
import pytest
import torch

from semsyn.devices import data_parallel, resolve_device
from semsyn.errors import UserError
from semsyn.options import make_options


def test_cpu_run():
    opt = make_options({'gpu_ids': '-1'})
    assert resolve_device(opt) == torch.device('cpu') and opt.gpu_id_list == []
    net = torch.nn.Linear(1, 1)
    assert data_parallel(net, opt) is net


def test_gpu_ids_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(UserError, match='CUDA is not available'):
        resolve_device(make_options({'gpu_ids': '0'}))


def test_data_parallel_checks(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    with pytest.raises(UserError, match='GPU 3 does not exist'):
        resolve_device(make_options({'gpu_ids': '0,3', 'batchSize': 2}))
    with pytest.raises(UserError, match='--batchSize 3 must be a multiple of the number of GPUs'):
        resolve_device(make_options({'gpu_ids': '0,1', 'batchSize': 3}))
    assert make_options({'gpu_ids': '0,1'}).gpu_id_list == [0, 1]
