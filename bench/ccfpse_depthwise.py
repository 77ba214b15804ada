"""Forward+backward time and peak memory of CC-FPSE's conditional depthwise convolution:
semsyn's memory-lean implementation next to the original unfold one, for one CC-FPSE block at
256x256 (up_3 of the ADE20K configuration: 128 -> 64 channels) and for the whole generator at
256x256, batch 1.

    python bench/ccfpse_depthwise.py [--size 256] [--repeat 2] [--device cpu|cuda] [--what block,generator]

The baseline ('unfold') is the original's computation: kernels applied by unfold-multiply-sum and
kept for backward, and SPADE's label map resized (copied) even when it already has the size.
Each measurement runs in a fresh process. Peak memory is what forward+backward allocates on top of
the network and its inputs: torch.cuda.max_memory_allocated on a GPU; on the CPU the peak of the
allocations the PyTorch profiler records (profile_memory=True), and, for reference, the rise of the
process's peak resident memory (ru_maxrss, which also counts allocator caching).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'code'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from measure import time_and_peak  # noqa: E402


def measure(what, impl, size, repeat, device):
    import torch

    import semsyn.models.generators.ccfpse as ccfpse
    import semsyn.models.ops.normalization as normalization
    from semsyn.models import create_network
    from semsyn.models.ops.depthwise import pixel_depthwise_conv_unfold
    from semsyn.options import make_options
    if impl == 'unfold':
        ccfpse.pixel_depthwise_conv = pixel_depthwise_conv_unfold
        normalization.resize_nearest = lambda seg, size: torch.nn.functional.interpolate(seg, size=size)
    torch.manual_seed(0)
    opt = make_options({'netG': 'condconv', 'dataset_mode': 'ade20k', 'crop_size': size, 'gpu_ids': '-1'})
    dev = torch.device(device)
    seg = torch.zeros(1, opt.semantic_nc, size, size, device=dev)
    seg[:, 0] = 1
    if what == 'block':
        net = create_network('G', opt).up_3.to(dev).train()
        x = torch.randn(1, 2 * opt.ngf, size, size, device=dev, requires_grad=True)
        feat = torch.randn(1, opt.ngf, size, size, device=dev)
        run = lambda: net(x, seg, feat)  # noqa: E731
    else:
        net = create_network('G', opt).to(dev).train()
        run = lambda: net(seg)  # noqa: E731

    if impl == 'unfold':
        for m in net.modules():
            if isinstance(m, ccfpse.DepthConv):
                m.recompute = False  # the original keeps the predicted kernels for backward

    def step():
        net.zero_grad(set_to_none=True)
        run().square().mean().backward()

    result = time_and_peak(step, device, repeat)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--what', default='block,generator')
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.size, args.repeat, args.device)))
        return

    rows = []
    for what in args.what.split(','):
        result = {}
        for impl in ('unfold', 'semsyn'):
            cmd = [sys.executable, __file__, '--size', str(args.size), '--repeat', str(args.repeat),
                   '--device', args.device, '--child', what, impl]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            result[impl] = json.loads(out.strip().splitlines()[-1])
        rows.append((what, result))

    print(f'CC-FPSE conditional depthwise conv, forward+backward, {args.size}x{args.size}, batch 1, {args.device}')
    rss = args.device == 'cpu'
    print(f'{"what":<10} {"impl":<8} {"time (s)":>9} {"peak (MiB)":>11} {"time ratio":>11} {"peak ratio":>11}'
          + (f' {"RSS rise (MiB)":>15}' if rss else ''))
    for what, result in rows:
        base = result['unfold']
        for impl in ('unfold', 'semsyn'):
            r = result[impl]
            print(f'{what:<10} {impl:<8} {r["seconds"]:>9.3f} {r["peak_bytes"] / 2**20:>11.1f} '
                  f'{r["seconds"] / base["seconds"]:>11.2f} {r["peak_bytes"] / base["peak_bytes"]:>11.2f}'
                  + (f' {r["rss_rise_bytes"] / 2**20:>15.1f}' if rss else ''))


if __name__ == '__main__':
    main()
