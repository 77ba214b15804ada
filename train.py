"""Train a semantic image synthesis model: python train.py --name NAME --dataset_mode MODE ... [--config X.yml]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'code'))

from semsyn.errors import run_main  # noqa: E402


def main():
    from semsyn.options import resolve
    from semsyn.training.loop import train
    opt = resolve(sys.argv[1:], is_train=True)
    train(opt)


if __name__ == '__main__':
    run_main(main)
