"""Fault injection for the tests of crash safety: ``SEMSYN_KILL_AT=<point>[#n]`` in the environment
kills the process with SIGKILL the n-th time (default the first) it passes ``point``
(``SEMSYN_KILL_SIGNAL=SIGTERM`` or ``SIGINT``: that signal instead, as a scheduler or Ctrl-C sends it).
Code that writes checkpoints names its points (``kill_point``); unset, this costs one dictionary lookup."""
import os
import signal

_passed = {}


def kill_point(point):
    target = os.environ.get('SEMSYN_KILL_AT')
    if not target:
        return
    name, _, count = target.partition('#')
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] == int(count or 1):
        os.kill(os.getpid(), getattr(signal, os.environ.get('SEMSYN_KILL_SIGNAL', 'SIGKILL')))


class KillingWriter:
    """A file wrapper that passes ``point`` after its first chunk of data, so a kill there leaves a
    partly written file (as a crash in the middle of torch.save would)."""

    def __init__(self, f, point):
        self.f, self.point, self.written, self.passed = f, point, 0, False
        self.error = None  # the OSError of a failed write, for the caller to report

    def write(self, data):
        try:
            n = self.f.write(data)
        except OSError as exc:
            self.error = exc
            raise
        self.written += len(data)
        if self.written > 1024 and not self.passed:  # once per file
            self.passed = True
            self.f.flush()
            kill_point(self.point)
        return n

    def __getattr__(self, name):
        return getattr(self.f, name)
