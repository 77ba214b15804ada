"""Forward+backward time and peak memory of one SCGAN residual block: the fused expert convolution
(one convolution over the K concatenated expert weights) next to the original's K separate
convolutions whose outputs are stacked. The block is up_3 of the ADE20K configuration
(config/scgan_ade20k.yml: ngf 32, 3 conv experts, 4 norm experts), the one that runs at 256x256:
64 -> 32 channels with the learned shortcut, batch 1.

    python bench/scgan_block.py [--size 256] [--batch 1] [--repeat 3] [--device cpu|cuda] [--threads N]

Each measurement runs in a fresh process. Peak memory is what forward+backward allocates on top of
the block, its inputs and routing weights: torch.cuda.max_memory_allocated on a GPU; on the CPU
the peak of the allocations the PyTorch profiler records (profile_memory=True).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'code'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from measure import time_and_peak  # noqa: E402

ADE20K = {'netG': 'scg', 'dataset_mode': 'ade20k', 'ngf': 32, 'nrf': 32, 'nff': 32, 'num_experts_conv': 3,
          'num_experts_norm': 4, 'weight_type': 'softmax', 'temperature': 0.05, 'gpu_ids': '-1'}


def measure(impl, size, batch, repeat, device, threads=0):
    import torch
    if threads > 0:
        torch.set_num_threads(threads)
    from semsyn.models import create_network
    from semsyn.models.ops.spatial_conditional import SpatialCondConv2d
    from semsyn.options import make_options

    torch.manual_seed(0)
    opt = make_options({**ADE20K, 'crop_size': size})
    dev = torch.device(device)
    with torch.device('meta'):
        block = create_network('G', opt, init=False).up_3
    block = block.to_empty(device=dev).train()
    with torch.no_grad():
        for name, p in block.named_parameters():
            p.normal_(0, 0.02 if 'affine' not in name else 0.3)
        for name, b in block.named_buffers():
            if name.endswith(('weight_u', 'weight_v')):
                b.copy_(torch.nn.functional.normalize(torch.randn_like(b), dim=0))
            elif name.endswith('running_var'):
                b.fill_(1)
            elif name.endswith(('running_mean', 'num_batches_tracked')):
                b.zero_()
    for m in block.modules():
        if isinstance(m, SpatialCondConv2d):
            m.fused = impl == 'fused'
    fin = 2 * opt.ngf
    x = torch.randn(batch, fin, size, size, device=dev, requires_grad=True)
    label = torch.randint(0, opt.semantic_nc, (batch, 1, size // 8, size // 8), device=dev)
    label = label.repeat_interleave(8, 2).repeat_interleave(8, 3)
    seg = torch.zeros(batch, opt.semantic_nc, size, size, device=dev).scatter_(1, label, 1.0)
    conv_w = torch.randn(batch, opt.num_experts_conv, size, size, device=dev).softmax(1).requires_grad_(True)
    norm_w = torch.randn(batch, opt.num_experts_norm, size, size, device=dev).softmax(1).requires_grad_(True)

    def step():
        block.zero_grad(set_to_none=True)
        x.grad = conv_w.grad = norm_w.grad = None
        block(x, seg, conv_w, norm_w).square().mean().backward()

    result = time_and_peak(step, device, repeat)
    result['threads'] = torch.get_num_threads()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--threads', type=int, default=0, help='CPU threads (default: torch\'s)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.size, args.batch, args.repeat, args.device, args.threads)))
        return

    result = {}
    for impl in ('separate', 'fused'):
        cmd = [sys.executable, __file__, '--size', str(args.size), '--batch', str(args.batch),
               '--repeat', str(args.repeat), '--device', args.device, '--threads', str(args.threads),
               '--child', impl]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        result[impl] = json.loads(out.strip().splitlines()[-1])

    print(f'SCGAN residual block up_3 (ADE20K: 64 -> 32 channels, 3 conv / 4 norm experts), forward+backward, '
          f'{args.size}x{args.size}, batch {args.batch}, {args.device}'
          + (f', {result["fused"]["threads"]} threads' if args.device == 'cpu' else ''))
    print(f'{"impl":<9} {"time (s)":>9} {"peak (MiB)":>11} {"time ratio":>11} {"peak ratio":>11}')
    base = result['separate']
    for impl in ('separate', 'fused'):
        r = result[impl]
        print(f'{impl:<9} {r["seconds"]:>9.3f} {r["peak_bytes"] / 2**20:>11.1f} '
              f'{r["seconds"] / base["seconds"]:>11.2f} {r["peak_bytes"] / base["peak_bytes"]:>11.2f}')


if __name__ == '__main__':
    main()
