"""Train a semantic image synthesis model: python train.py --name NAME --dataset_mode MODE ... [--config X.yml]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'code'))  # runs without installing

if __name__ == '__main__':
    from semsyn.cli import train_main
    train_main()
