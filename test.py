"""Synthesize images with a trained model: python test.py --name NAME --dataset_mode MODE ... [--which_epoch N]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'code'))  # runs without installing

if __name__ == '__main__':
    from semsyn.cli import test_main
    test_main()
