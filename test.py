"""Synthesize images with a trained model: python test.py --name NAME --dataset_mode MODE ... [--which_epoch N]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'code'))

from semsyn.errors import run_main  # noqa: E402


def main():
    from semsyn.options import resolve
    from semsyn.testing import run_test
    opt = resolve(sys.argv[1:], is_train=False)
    run_test(opt)


if __name__ == '__main__':
    run_main(main)
