"""The entry points of train.py and test.py: options from the command line, then the job. A problem
the user can fix ends as one line on stderr and exit status 2 (errors.run_main)."""
import sys

from .errors import run_main
from .options import resolve
from .testing import run_test
from .training.loop import train


def train_main(argv=None):
    run_main(lambda: train(resolve(sys.argv[1:] if argv is None else argv, is_train=True)))


def test_main(argv=None):
    run_main(lambda: run_test(resolve(sys.argv[1:] if argv is None else argv, is_train=False)))
