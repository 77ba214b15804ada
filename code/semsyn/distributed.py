"""Distributed training under torchrun: one process per GPU (NCCL) or per CPU worker (gloo).

``torchrun --nproc_per_node N train.py ...`` sets RANK/WORLD_SIZE/LOCAL_RANK; ``setup`` then joins the
process group and picks the device (cuda:LOCAL_RANK, or the CPU with --gpu_ids -1 or without CUDA).
Without those variables everything here is a no-op and the run is a single process.
"""
import os

import torch
import torch.distributed as dist
import torch.nn as nn

from .devices import require_cuda
from .errors import UserError


def launched_by_torchrun():
    return int(os.environ.get('WORLD_SIZE', '1')) > 1


def is_initialized():
    return dist.is_available() and dist.is_initialized()


def rank():
    return dist.get_rank() if is_initialized() else 0


def world_size():
    return dist.get_world_size() if is_initialized() else 1


def is_main():
    return rank() == 0


def barrier():
    if is_initialized():
        dist.barrier()


def setup(opt):
    """Join the process group (once); returns the device of this process."""
    use_cuda = bool(opt.gpu_id_list)
    if use_cuda:
        require_cuda(opt)
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise UserError(f'LOCAL_RANK {local_rank}: only {torch.cuda.device_count()} GPUs are visible; start at '
                            f'most that many processes per node')
        torch.cuda.set_device(local_rank)
    if not is_initialized():
        dist.init_process_group(backend='nccl' if use_cuda else 'gloo')
    return torch.device('cuda', local_rank) if use_cuda else torch.device('cpu')


def cleanup():
    if is_initialized():
        dist.destroy_process_group()


def mean_across_ranks(values):
    """{name: float} averaged over the processes (for logging)."""
    if not is_initialized() or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64,
                     device='cuda' if dist.get_backend() == 'nccl' else 'cpu')
    dist.all_reduce(t)
    return {k: v / world_size() for k, v in zip(keys, t.tolist())}


def any_rank(flag):
    """True on every rank when `flag` is true on any (e.g. a signal that reached some processes)."""
    if not is_initialized():
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0], device='cuda' if dist.get_backend() == 'nccl' else 'cpu')
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather_objects(obj):
    """List of obj from every rank (in rank order), on every rank."""
    if not is_initialized():
        return [obj]
    out = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj):
    """rank 0's obj on every rank."""
    if not is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_state(module):
    """rank 0's parameters and buffers in module on every rank (in place)."""
    if not is_initialized():
        return
    for tensor in module.state_dict().values():
        dist.broadcast(tensor, src=0)


def parameters_agree(module):
    """True when every rank holds the same parameters and buffers (checksums compared)."""
    if not is_initialized():
        return True
    sums = [float(t.detach().double().sum()) + float(t.detach().double().abs().sum()) for t in
            module.state_dict().values() if t.is_floating_point()]
    gathered = gather_objects(sums)
    return all(g == gathered[0] for g in gathered)


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; the gradient is summed too, as each process's loss depends on every input."""

    @staticmethod
    def forward(ctx, x):
        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class DistributedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are computed over all processes, for CPU (gloo) runs,
    where torch.nn.SyncBatchNorm is not available. Same parameters and buffers as BatchNorm2d."""

    def forward(self, x):
        if not (self.training and is_initialized() and world_size() > 1):
            return super().forward(x)
        c = x.shape[1]
        count = torch.tensor([x.numel() / c], dtype=x.dtype, device=x.device)
        # two passes (mean, then squared deviations): E[x^2] - E[x]^2 cancels badly when var << mean^2
        sums = _AllReduceSum.apply(torch.cat([x.sum((0, 2, 3)), count]))
        n = sums[-1]
        mean = sums[:c] / n
        centered = x - mean[None, :, None, None]
        var = _AllReduceSum.apply((centered * centered).sum((0, 2, 3))) / n
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach() * m)
                self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)) * m)
        out = centered * torch.rsqrt(var[None, :, None, None] + self.eps)
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return out


def convert_sync_batchnorm(module, device):
    """Every BatchNorm2d synchronises its statistics across processes: nn.SyncBatchNorm on GPUs,
    DistributedBatchNorm2d on the CPU. State-dict keys are unchanged."""
    if device.type == 'cuda':
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _convert_cpu(module)


def _convert_cpu(module):
    out = module
    if isinstance(module, nn.BatchNorm2d) and not isinstance(module, DistributedBatchNorm2d):
        out = DistributedBatchNorm2d(module.num_features, module.eps, module.momentum, module.affine,
                                     module.track_running_stats)
        if module.affine:  # the same Parameter objects (requires_grad included), as torch's conversion
            out.weight, out.bias = module.weight, module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.train(module.training)
    for name, child in module.named_children():
        out.add_module(name, _convert_cpu(child))
    return out
