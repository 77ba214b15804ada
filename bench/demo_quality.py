"""Label fidelity of the demo configuration for each generator: train config/demo.yml with --netG X for
the same number of iterations, synthesize the synthetic test set, and print wall time, the mIoU of the
built-in segmenter on the synthesized and on the real images, and their ratio.

    python bench/demo_quality.py [--generators spade condconv scg] [--niter 10 --niter_decay 5]

Each run is a fresh `train.py` + `test.py --miou` process pair in a temporary checkpoints folder; the
segmenter is trained once (first run) and cached, so its seconds count in the first row only.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(command):
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(generator, args, workdir):
    common = ['--config', 'config/demo.yml', '--netG', generator, '--name', generator,
              '--checkpoints_dir', str(workdir / 'checkpoints')]
    train = run([sys.executable, 'train.py', *common, '--niter', str(args.niter),
                 '--niter_decay', str(args.niter_decay), *args.extra])
    test = run([sys.executable, 'test.py', *common, '--results_dir', str(workdir / 'results'), '--miou'])
    with open(workdir / 'results' / generator / 'test_latest' / 'miou.json') as f:
        result = json.load(f)
    return {'generator': generator, 'train_s': train, 'test_s': test, 'miou': result['miou'],
            'real_miou': result['real_miou'], 'ratio': result['miou_ratio']}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--generators', nargs='+', default=['spade', 'condconv', 'scg'])
    parser.add_argument('--niter', type=int, default=10)
    parser.add_argument('--niter_decay', type=int, default=5)
    parser.add_argument('extra', nargs='*', help='more train.py options, after --')
    args = parser.parse_args()
    print('| generator | train (s) | test + mIoU (s) | mIoU synthesized | mIoU real | ratio |')
    print('|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for generator in args.generators:
            r = measure(generator, args, Path(tmp))
            print(f"| {r['generator']} | {r['train_s']:.0f} | {r['test_s']:.0f} | {r['miou']:.3f} | "
                  f"{r['real_miou']:.3f} | {r['ratio']:.2f} |", flush=True)


if __name__ == '__main__':
    main()
