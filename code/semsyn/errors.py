"""One exception type for problems the user can fix (bad option, bad file, missing weights).

Entry points turn it into a one-line message and a non-zero exit instead of a traceback.
"""
import sys


class UserError(Exception):
    """A problem with the user's input: options, files on disk, checkpoints, weights."""


class Interrupted(UserError):
    """A run stopped by SIGINT or SIGTERM: its one line, and the exit status a shell reports for the
    signal (128 + its number: 130 for Ctrl-C, 143 for SIGTERM)."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.status = 128 + int(signum)


def one_line(exc):
    """The message of a UserError, also when a DataLoader worker re-raised it with a traceback."""
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    last = lines[-1]
    # DataLoader workers re-raise as "Caught UserError in ... Original Traceback ... semsyn.errors.UserError: msg"
    prefix = 'semsyn.errors.UserError: '
    if prefix in last:
        return last.split(prefix, 1)[1]
    return last if len(lines) > 1 and 'Traceback' in text else ' '.join(lines)


def run_main(fn, *args, **kwargs):
    """Call fn; a UserError becomes 'error: <message>' on stderr and exit status 2 (an interruption:
    its line and 128 + the signal's number)."""
    try:
        return fn(*args, **kwargs)
    except UserError as exc:
        prefix = '' if isinstance(exc, Interrupted) else 'error: '
        print(prefix + one_line(exc), file=sys.stderr)
        sys.exit(getattr(exc, 'status', 2))
