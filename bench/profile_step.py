"""Where one step's time goes: the PyTorch profiler's table of operations for a generator, path,
measure and precision (the same step as bench/speed.py's), to find what a fast path should change.

    python bench/profile_step.py --generator CC-FPSE --measure 'G step' [--path fast|reference]
                                 [--size 256] [--batch 1] [--device cuda] [--precision bf16] [--rows 25] [--shapes]

Sorted by self time on the device (GPU: CUDA kernel time; CPU: operator self time); ``--warmup``
steps, then ``--steps`` profiled steps.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from speed import GENERATORS, MEASURES, build, step_function  # noqa: E402 (bench/ on the path first)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--generator', default='CC-FPSE', choices=list(GENERATORS))
    parser.add_argument('--measure', default='G step', choices=MEASURES)
    parser.add_argument('--path', default='fast', choices=['fast', 'reference'])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'fp16'])
    parser.add_argument('--channels_last', action='store_true')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1,
                        help='steps before profiling (a large step keeps faulting in fresh pages for 2-3)')
    parser.add_argument('--rows', type=int, default=25)
    parser.add_argument('--shapes', action='store_true', help='one row per operation and input shapes')
    args = parser.parse_args()

    from measure import set_host_memory
    set_host_memory(args.path)  # as speed.py's processes of that path
    import torch
    from torch.profiler import ProfilerActivity, profile

    from semsyn.paths import reference_path

    spec = {'generator': args.generator, 'measure': args.measure, 'size': args.size, 'batch': args.batch,
            'device': args.device, 'precision': args.precision, 'channels_last': args.channels_last,
            'compile': False, 'threads': 0}
    with reference_path(args.path == 'reference'):
        _, model, trainer, semantics, real = build(spec)
        step = step_function(spec, model, trainer, semantics, real)
        for _ in range(args.warmup):
            step()
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device == 'cuda' else [])
        with profile(activities=activities, record_shapes=args.shapes) as prof:
            for _ in range(args.steps):
                step()
            if args.device == 'cuda':
                torch.cuda.synchronize()
    sort = 'self_cuda_time_total' if args.device == 'cuda' else 'self_cpu_time_total'
    print(f'{args.generator} {args.measure} {args.path} {args.precision} {args.size}x{args.size} x{args.batch} '
          f'on {args.device}, {args.steps} steps')
    averages = prof.key_averages(group_by_input_shape=args.shapes)
    print(averages.table(sort_by=sort, row_limit=args.rows, max_name_column_width=60,
                         max_shapes_column_width=120 if args.shapes else 80))


if __name__ == '__main__':
    main()
