"""The entry points of train.py and test.py: options from the command line, then the job. A problem
the user can fix ends as one line on stderr and exit status 2 (errors.run_main). Both keep freed host
memory for reuse (host_memory.py): a step then reuses the previous step's pages."""
import sys

from .errors import run_main
from .host_memory import keep_freed_memory
from .options import resolve
from .testing import run_test
from .training.loop import train


def train_main(argv=None):
    keep_freed_memory()
    run_main(lambda: train(resolve(sys.argv[1:] if argv is None else argv, is_train=True)))


def test_main(argv=None):
    keep_freed_memory()
    run_main(lambda: run_test(resolve(sys.argv[1:] if argv is None else argv, is_train=False)))
