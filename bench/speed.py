"""Speed of the fast paths against the reference path (the originals' computation), per generator.

    python bench/speed.py                     # the CPU table: SPADE, CC-FPSE, SCGAN (ADE20K configs)
    python bench/speed.py --device cuda --precisions fp32,bf16,fp16 [--channels_last] [--compile]

For each generator (its released ADE20K configuration, config/*_ade20k.yml) and row (256x256
batch 1, 128x128 batch 8; real ADE20K label maps, bench/samples.py) it measures, for the fast
path and for the reference path (semsyn/paths.py), in a fresh process each:

- inference: the model wrapper's inference (netG forward, eval mode, no_grad; CC-FPSE's encoder too);
- G step: netG forward + backward in training mode (loss: the mean of its outputs);
- G+D iteration: the trainer's G step and D step with the configuration's losses, minus VGG;

and prints seconds (the fastest of the rounds; the processes of both paths alternate), the ratio
fast/reference, the ratio of each round's pair of processes and their median (on a machine whose
speed drifts, the fastest processes of the two paths may come from different phases of it), the
peak memory of a step (what it allocates on top of the model and inputs; CPU: the PyTorch
profiler's allocation events, GPU: max_memory_allocated) and its FLOPs (bench/flops.py).
On a GPU it reports steps/s and images/s per precision (fp32, bf16/fp16 autocast through --amp);
there the fast path is the reference computation plus fused Adam unless ``--fast_devices cpu,cuda``
runs the fast operations on the GPU too (semsyn/paths.py: they lose there).
``--json FILE`` keeps the raw numbers.

Two more comparisons, both of the fast path, processes alternating the same way:

- ``--against DIR``: another checkout of the project (e.g. ``git worktree add DIR COMMIT``), its
  own bench/speed.py measuring its code: before/after a change, on one machine in one run;
- ``--without PIECE[,PIECE]``: the fast path with kernel pieces replaced by the plain computation
  they stand for (bench/ablations.py), against the whole fast path: what each piece buys.

Host memory (``--allocator``): train.py and test.py keep freed memory for reuse
(semsyn/host_memory.py); the originals run with glibc's defaults. By default ('semsyn') the fast
processes run as train.py does and the reference processes as the originals do; 'both' gives the
reference processes semsyn's setting too (the fast paths' own share of the speed-up), 'default'
neither.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
sys.path.insert(0, os.path.join(ROOT, 'code'))
sys.path.insert(0, HERE)

from ablations import PIECES  # noqa: E402

GENERATORS = {'SPADE': 'spade_ade20k.yml', 'CC-FPSE': 'ccfpse_ade20k.yml', 'SCGAN': 'scgan_ade20k.yml',
              'OASIS': 'oasis_ade20k.yml'}
MEASURES = ('inference', 'G step', 'G+D iteration')
TARGETS = {'inference': 0.625, 'G step': 0.6, 'G+D iteration': 0.6}


# -- one measurement, in a child process -------------------------------------------------------
def build(spec):
    import torch
    from samples import sample_batch, sample_options

    from semsyn.models.synthesis import SynthesisModel
    from semsyn.options import resolve
    from semsyn.training.trainer import Trainer

    if spec['threads']:
        torch.set_num_threads(spec['threads'])
    device = torch.device(spec['device'])
    overrides = {**sample_options(spec['size']), 'batchSize': spec['batch'], 'no_vgg_loss': True,
                 'gpu_ids': '0' if device.type == 'cuda' else '-1', 'amp': spec['precision'].replace('fp32', 'none'),
                 'channels_last': spec['channels_last'], 'nThreads': 0}
    opt = resolve(['--config', os.path.join(ROOT, 'config', GENERATORS[spec['generator']])], overrides=overrides)
    torch.manual_seed(0)
    model = SynthesisModel(opt).to(device)
    if opt.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if spec['compile']:
        model.compile_networks()  # as train.py --compile
    semantics, real = sample_batch(opt, spec['batch'], device)
    trainer = Trainer(opt, model, device) if spec['measure'] == 'G+D iteration' else None
    return opt, model, trainer, semantics, real


def step_function(spec, model, trainer, semantics, real):

    if spec['measure'] == 'inference':
        model.eval()
        return lambda: model(semantics, real, mode='inference')
    model.train()
    if spec['measure'] == 'G+D iteration':
        def iteration():
            trainer.run_generator_one_step(semantics, real)
            trainer.run_discriminator_one_step(semantics, real)
        return iteration
    net = model.netG

    def g_step():
        net.zero_grad(set_to_none=True)
        with model.autocast(semantics.device.type):
            out = net(semantics)
        outputs = out if isinstance(out, (tuple, list)) else [out]
        flat = [t for o in outputs for t in (o if isinstance(o, (tuple, list)) else [o])]
        sum(t.float().mean() for t in flat).backward()
    return g_step


def measure(spec):
    from measure import peak_bytes, set_host_memory, timed
    set_host_memory(spec['path'], spec['allocator'])  # before the model's and the step's allocations

    import torch
    from ablations import take_out
    from flops import counter

    from semsyn.paths import fast_paths, reference_path

    devices = spec.get('fast_devices') and spec['fast_devices'].split(',')
    take_out(spec.get('without', []))
    # the trainer's optimizers follow the path too
    with fast_paths(devices), reference_path(spec['path'] == 'reference'):
        opt, model, trainer, semantics, real = build(spec)
        step = step_function(spec, model, trainer, semantics, real)
        result = timed(step, spec['device'], spec['repeat'])
        if spec['stats']:
            result['peak_bytes'] = peak_bytes(step, spec['device'])
            with counter() as flops:
                step()
            result['flops'] = flops.get_total_flops()
    result['threads'] = torch.get_num_threads()
    return result


# -- the table ---------------------------------------------------------------------------------
def run_child(spec, script=None):
    cmd = [sys.executable, script or os.path.abspath(__file__), '--child', json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f'{spec} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def cells(args):
    for generator in args.generators.split(','):
        for row in args.rows.split(','):
            size, batch = (int(v) for v in row.split('x'))
            for measure in args.measures.split(','):
                for precision in args.precisions.split(','):
                    yield {'generator': generator, 'size': size, 'batch': batch, 'measure': measure,
                           'precision': precision, 'device': args.device, 'threads': args.threads,
                           'channels_last': args.channels_last, 'compile': args.compile, 'repeat': args.repeat,
                           'allocator': args.allocator, 'fast_devices': args.fast_devices}


def sides(args):
    """The two things compared: (label, child script, child spec additions)."""
    if args.against:
        return [('before', os.path.join(os.path.abspath(args.against), 'bench', 'speed.py'), {'path': 'fast'}),
                ('after', None, {'path': 'fast'})]
    if args.without:
        return [('without', None, {'path': 'fast', 'without': args.without.split(',')}),
                ('fast', None, {'path': 'fast'})]
    return [('reference', None, {'path': 'reference'}), ('fast', None, {'path': 'fast'})]


def collect(args):
    """{cell key: {side: result}}: timing rounds alternate the two sides, the first round also
    measures peak memory and FLOPs."""
    results = {}
    todo = list(cells(args))
    for round_ in range(args.rounds):
        for spec in todo:
            key = json.dumps(spec, sort_keys=True)
            for path, script, extra in sides(args):
                run = run_child({**spec, **extra, 'stats': round_ == 0 and not args.no_stats}, script)
                prev = results.setdefault(key, {'spec': spec}).get(path)
                rounds = (prev['rounds'] if prev else []) + [run['seconds']]
                if prev is not None:
                    run = {**prev, **{k: run[k] for k in ('seconds', 'cpu_seconds') if run[k] < prev[k]}}
                results[key][path] = {**run, 'rounds': rounds}
                print(f'  [{time.strftime("%H:%M:%S")}] round {round_ + 1} {spec["generator"]:<7} '
                      f'{spec["size"]}x{spec["batch"]} {spec["measure"]:<13} {spec["precision"]:<4} {path:<9} '
                      f'{rounds[-1]:.3f} s (fastest {run["seconds"]:.3f})', file=sys.stderr, flush=True)
    return list(results.values())


def mib(nbytes):
    return f'{nbytes / 2 ** 20:.0f}' if nbytes is not None else '-'


def gflops(value):
    return f'{value / 1e9:.1f}' if value is not None else '-'


def fraction(part, whole):
    return f'{part / whole:.2f}' if part and whole else '-'


def round_ratios(ref, fast):
    """fast/ref of each round's pair of processes (the two run one after the other, so a machine whose
    speed drifts over minutes slows both alike), and their median: the ratio the pairs agree on where
    the fastest-of-rounds of each path may come from different phases of the machine."""
    pairs = [f / r for r, f in zip(ref.get('rounds', []), fast.get('rounds', []))]
    return pairs, statistics.median(pairs) if pairs else None


def cpu_name():
    """The CPU's model name (the ratios depend on it: the fast paths' GEMMs run in MKL, the reference's
    convolutions in oneDNN, and their speeds differ by CPU vendor)."""
    import platform
    try:
        with open('/proc/cpuinfo') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown model'


def print_table(rows, args):
    import torch
    first, second = (label for label, _, _ in sides(args))
    device = (torch.cuda.get_device_name(0) if args.device == 'cuda'
              else f'CPU ({cpu_name()}), {rows[0][second]["threads"]} threads')
    if first != 'reference':
        return print_comparison(rows, args, first, second, device)
    allocator = {'semsyn': "fast processes keep freed host memory (as train.py), reference ones glibc's defaults",
                 'both': 'both paths keep freed host memory', 'default': "glibc's defaults for both paths"}
    print(f'fast paths vs reference path (the originals\' computation), {device}; seconds: fastest of '
          f'{args.rounds} alternating processes per path; per round: fast/ref of each round\'s pair of '
          f'processes (median); {allocator[args.allocator]}')
    print()
    print('| generator | input | measure | precision | reference (s) | fast (s) | fast/ref | speed-up | target '
          '| per round (median) | peak MiB ref | peak MiB fast | peak ratio | GFLOP ref | GFLOP fast | FLOP ratio |')
    print('|---|---|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|')
    for row in rows:
        spec, ref, fast = row['spec'], row['reference'], row['fast']
        ratio = fast['seconds'] / ref['seconds']
        target = TARGETS[spec['measure']]
        met = 'met' if ratio <= target else 'MISSED'
        peak_r, peak_f = ref.get('peak_bytes'), fast.get('peak_bytes')
        flop_r, flop_f = ref.get('flops'), fast.get('flops')
        pairs, median = round_ratios(ref, fast)
        per_round = f'{" / ".join(f"{p:.2f}" for p in pairs)} ({median:.2f})' if pairs else '-'
        print(f'| {spec["generator"]} | {spec["size"]}x{spec["size"]} x{spec["batch"]} | {spec["measure"]} '
              f'| {spec["precision"]} | {ref["seconds"]:.3f} | {fast["seconds"]:.3f} | {ratio:.2f} '
              f'| {1 / ratio:.2f}x | <= {target} {met} | {per_round} | {mib(peak_r)} | {mib(peak_f)} '
              f'| {fraction(peak_f, peak_r)} | {gflops(flop_r)} | {gflops(flop_f)} | {fraction(flop_f, flop_r)} |')
    if args.device == 'cuda':
        print()
        print('| generator | input | precision | path | G+D steps/s | images/s |')
        print('|---|---|---|---|---:|---:|')
        for row in rows:
            spec = row['spec']
            if spec['measure'] != 'G+D iteration':
                continue
            for path in ('reference', 'fast'):
                seconds = row[path]['seconds']
                print(f'| {spec["generator"]} | {spec["size"]}x{spec["size"]} x{spec["batch"]} | {spec["precision"]} '
                      f'| {path} | {1 / seconds:.2f} | {spec["batch"] / seconds:.2f} |')


def print_comparison(rows, args, first, second, device):
    what = (f'the fast path of {args.against} ("before") and of this checkout ("after")' if args.against
            else f'the fast path without {args.without} ("without") and whole ("fast")')
    print(f'{what}, {device}; seconds: fastest of {args.rounds} alternating processes per side; per round: '
          f'{second}/{first} of each round\'s pair of processes (median)')
    print()
    print(f'| generator | input | measure | {first} (s) | {second} (s) | {second}/{first} | per round (median) '
          f'| peak MiB {first} | peak MiB {second} | peak ratio |')
    print('|---|---|---|---:|---:|---:|---|---:|---:|---:|')
    for row in rows:
        spec, a, b = row['spec'], row[first], row[second]
        pairs, median = round_ratios(a, b)
        per_round = f'{" / ".join(f"{p:.2f}" for p in pairs)} ({median:.2f})' if pairs else '-'
        print(f'| {spec["generator"]} | {spec["size"]}x{spec["size"]} x{spec["batch"]} | {spec["measure"]} '
              f'| {a["seconds"]:.3f} | {b["seconds"]:.3f} | {b["seconds"] / a["seconds"]:.3f} | {per_round} '
              f'| {mib(a.get("peak_bytes"))} | {mib(b.get("peak_bytes"))} '
              f'| {fraction(b.get("peak_bytes"), a.get("peak_bytes"))} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--generators', default=','.join(GENERATORS))
    parser.add_argument('--rows', default='256x1,128x8', help='SIZExBATCH, comma-separated')
    parser.add_argument('--measures', default=','.join(MEASURES))
    parser.add_argument('--precisions', default='fp32', help='fp32,bf16,fp16 (autocast, --amp)')
    parser.add_argument('--channels_last', action='store_true')
    parser.add_argument('--compile', action='store_true', help='torch.compile G and D (train.py --compile)')
    parser.add_argument('--rounds', type=int, default=2, help='alternating processes per path and cell')
    parser.add_argument('--repeat', type=int, default=0,
                        help='timed calls per process, after one warm-up (0: as many as fit in 10 s, 1 to 5)')
    parser.add_argument('--threads', type=int, default=0, help="CPU threads (default: torch's)")
    parser.add_argument('--no_stats', action='store_true', help='skip peak memory and FLOPs')
    parser.add_argument('--allocator', default='semsyn', choices=['semsyn', 'both', 'default'],
                        help="host memory: semsyn's setting (semsyn/host_memory.py) for the fast path only, both, "
                             'or neither')
    parser.add_argument('--fast_devices', help="where the fast paths' operations run, e.g. cpu,cuda "
                        '(default: semsyn/paths.py, the CPU only)')
    parser.add_argument('--against', metavar='DIR', help="compare this checkout's fast path with the one of the "
                        'checkout in DIR (before/after a change)')
    parser.add_argument('--without', metavar='PIECES', help='compare the fast path with itself without these '
                        'kernel pieces (bench/ablations.py: ' + ', '.join(sorted(PIECES)) + ')')
    parser.add_argument('--json', help='also write the raw results here')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.without and not set(args.without.split(',')) <= set(PIECES):
        parser.error(f'--without {args.without}: expected pieces among {", ".join(sorted(PIECES))}')
    if args.child:
        print(json.dumps(measure(json.loads(args.child))))
        return
    rows = collect(args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    print_table(rows, args)


if __name__ == '__main__':
    main()
