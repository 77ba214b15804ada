"""The entry points of train.py and test.py: options from the command line, then the job. A problem
the user can fix ends as one line on stderr and exit status 2 (errors.run_main). Both keep freed host
memory for reuse (host_memory.py): a step then reuses the previous step's pages."""
import os
import sys

from .devices import resolve_device
from .errors import run_main
from .evaluate import check_ready, evaluate_result_folder
from .host_memory import keep_freed_memory
from .options import resolve
from .testing import run_test
from .training.loop import train


def train_main(argv=None):
    keep_freed_memory()
    run_main(lambda: train(resolve(sys.argv[1:] if argv is None else argv, is_train=True)))


def run_test_and_evaluate(opt):
    """test.py's job; with --eval_protocol, the preset's scores of its result folder after it."""
    if opt.eval_protocol:
        check_ready(opt, opt.eval_protocol)  # a wrong name or a missing file stops before any image is made
    page = run_test(opt)
    if opt.eval_protocol:
        evaluate_result_folder(opt, os.path.dirname(page), opt.eval_protocol, device=resolve_device(opt))
    return page


def test_main(argv=None):
    keep_freed_memory()
    run_main(lambda: run_test_and_evaluate(resolve(sys.argv[1:] if argv is None else argv, is_train=False)))
