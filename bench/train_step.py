"""Time of one training step (G step + D step) per generator and precision, and DDP throughput.

    python bench/train_step.py [--size 256] [--batch 1] [--steps 5] [--device cuda] [--precisions fp32,bf16,fp16]
    torchrun --nproc_per_node N bench/train_step.py --ddp [--size 256] [--batch 1] [--device cuda]

Prints a table of seconds per step for SPADE, CC-FPSE (condconv + fpse) and SCGAN (when built in)
in fp32, bf16 and fp16 autocast; with --ddp, images per second over all processes. Made for GPUs;
on the CPU use a small --size.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'code'))

CONFIGS = {
    'spade': {'netG': 'spade'},
    'ccfpse': {'netG': 'condconv', 'netD': 'fpse', 'lambda_feat': 20.0},
    'scgan': {'netG': 'scg', 'netD': 'fpse'},
}


def step_time(name, precision, args, device, distributed=False):
    from semsyn.models.generators import GENERATORS
    from semsyn.models.synthesis import SynthesisModel, one_hot_semantics
    from semsyn.options import make_options
    from semsyn.training.trainer import Trainer
    if CONFIGS[name]['netG'] not in GENERATORS:
        return None
    opt = make_options(dict(dataset_mode='ade20k', crop_size=args.size, no_vgg_loss=True, gpu_ids='-1',
                            amp={'fp32': 'none'}.get(precision, precision), batchSize=args.batch, **CONFIGS[name]))
    model = SynthesisModel(opt).to(device)
    if distributed:
        model.distribute(device)
    trainer = Trainer(opt, model, device)
    torch.manual_seed(0)
    label = torch.randint(0, opt.label_nc + 1, (args.batch, 1, args.size, args.size), device=device)
    sem = one_hot_semantics(label, None, opt)
    real = torch.rand(args.batch, 3, args.size, args.size, device=device) * 2 - 1

    def step():
        trainer.run_generator_one_step(sem, real)
        trainer.run_discriminator_one_step(sem, real)
        if device.type == 'cuda':
            torch.cuda.synchronize()
    step()  # warm-up (cuDNN autotuning, allocations)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    return (time.perf_counter() - start) / args.steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--precisions', default='fp32,bf16,fp16')
    parser.add_argument('--generators', default='spade,ccfpse,scgan')
    parser.add_argument('--ddp', action='store_true', help='under torchrun: images/s over all processes')
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True

    if args.ddp:
        from semsyn import distributed as dist
        from semsyn.options import make_options
        device = dist.setup(make_options({'gpu_ids': '0' if args.device == 'cuda' else '-1'}))
        for name in args.generators.split(','):
            for precision in args.precisions.split(','):
                seconds = step_time(name, precision, args, device, distributed=True)
                if seconds is not None and dist.is_main():
                    images = args.batch * dist.world_size() / seconds
                    print(f'DDP {dist.world_size()} processes, {name:<7} {precision}: {images:.2f} images/s '
                          f'({seconds:.3f} s/step, batch {args.batch} per process, {args.size}x{args.size})')
        dist.cleanup()
        return

    device = torch.device(args.device)
    gpu = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    print(f'seconds per training step (G + D), {args.size}x{args.size}, batch {args.batch}, {gpu}')
    precisions = args.precisions.split(',')
    print(f'{"generator":<10}' + ''.join(f'{p:>10}' for p in precisions))
    for name in args.generators.split(','):
        cells = []
        for precision in precisions:
            seconds = step_time(name, precision, args, device)
            cells.append('n/a' if seconds is None else f'{seconds:.3f}')
        print(f'{name:<10}' + ''.join(f'{c:>10}' for c in cells))


if __name__ == '__main__':
    main()
