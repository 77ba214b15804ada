"""One device decision per run, from --gpu_ids: CPU, one GPU, or DataParallel over several."""
import torch
import torch.nn as nn

from .errors import UserError


def require_cuda(opt):
    """The one error for GPUs asked for on a machine without CUDA."""
    if not torch.cuda.is_available():
        raise UserError(f'--gpu_ids {opt.gpu_ids}: CUDA is not available on this machine; use --gpu_ids -1 for '
                        f'the CPU')


def resolve_device(opt):
    """torch.device for the run; a one-line UserError when the GPUs asked for are not there."""
    ids = opt.gpu_id_list
    if not ids:
        return torch.device('cpu')
    require_cuda(opt)
    count = torch.cuda.device_count()
    bad = [i for i in ids if i >= count]
    if bad:
        raise UserError(f'--gpu_ids {opt.gpu_ids}: GPU {bad[0]} does not exist ({count} visible)')
    if len(ids) > 1 and opt.batchSize % len(ids) != 0:
        raise UserError(f'--batchSize {opt.batchSize} must be a multiple of the number of GPUs ({len(ids)}) '
                        f'for DataParallel over --gpu_ids {opt.gpu_ids}')
    torch.cuda.set_device(ids[0])
    return torch.device('cuda', ids[0])


def data_parallel(module, opt):
    """Wrap in DataParallel when several GPUs are given (the original --gpu_ids interface)."""
    if len(opt.gpu_id_list) > 1:
        return nn.DataParallel(module, device_ids=opt.gpu_id_list)
    return module


def unwrap(module):
    return module.module if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)) else module
