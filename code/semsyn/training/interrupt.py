"""SIGINT (Ctrl-C) and SIGTERM (what schedulers such as Slurm send before a kill) during training.

The first signal lets the iteration in progress, and a save in progress, finish; the loop then stops
at the end of that iteration (``stop_requested``, agreed by every process under torchrun). A second
signal stops at once: a save it cuts is finished or dropped at the next start as after a kill
(checkpoint_sets.recover). Either way the run ends with one line naming where it stopped and the last
complete save (``Interrupted``: exit status 130 or 143). Before the loop starts a signal stops at once.
"""
import signal
import threading

from .. import distributed as dist
from ..checkpoint_sets import all_sets
from ..checkpoints import train_state_file
from ..errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(BaseException):
    """Raised out of the training code by a signal that must stop it at once."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class Interruption:
    """Context manager holding the run's signal handlers (main thread only; elsewhere a no-op)."""

    def __init__(self):
        self.signum = None       # the first signal received
        self.deferring = False   # inside the loop: the first signal waits for the iteration's end
        self.previous = {}
        self.progress = None     # the run's Progress once it has one

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)
        return False

    def _handle(self, signum, frame):
        first = self.signum is None
        if first:
            self.signum = signum
        if not (first and self.deferring):
            raise Stop(signum)

    def stop_requested(self):
        """At the end of an iteration: true (on every rank) when a signal asked the run to stop."""
        return dist.any_rank(self.signum is not None)

    def stop(self):
        raise Stop(self.signum)


def last_complete_save(run_dir):
    """Where --continue_train resumes: the newest set with a training state, in words."""
    for manifest in all_sets(run_dir):
        if train_state_file(manifest['label']) in manifest['files']:
            info = manifest['info']
            epoch, batches = info.get('next_epoch'), info.get('batches_done', 0)
            where = f'end of epoch {epoch - 1}' if not batches else f'epoch {epoch}, iteration {batches}'
            return f"'{manifest['label']}' ({where})"
    return None


def interrupted(signum, progress, run_dir):
    """The Interrupted error of a run stopped by signal `signum` at `progress` (None: before the loop)."""
    name = signal.Signals(signum).name
    where = 'before the first iteration' if progress is None else \
        f'at epoch {progress.epoch}, iteration {progress.batches_done}'
    save = last_complete_save(run_dir)
    if save is None:
        tail = 'no save is complete yet; run again to start over'
    else:
        tail = f'the last complete save is {save}; resume with --continue_train'
    return Interrupted(f'interrupted ({name}) {where}; {tail}', signum)
