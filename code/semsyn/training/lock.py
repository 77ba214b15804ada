"""One training run per run folder: ``<run folder>/train.lock``, held by rank 0 while it trains.

The lock is an exclusive ``flock`` on the file, which the kernel drops when its holder dies, so a run
killed with kill -9 leaves no lock behind; the file names its holder (pid, host, start time) for the
message a second run gets. Where the file system has no flock, a lock whose holder is a dead process
on this host counts as stale. Readers (test.py, the Python API) never take it.
"""
import errno
import fcntl
import json
import os
import socket
import time

from ..errors import UserError

LOCK_FILE = 'train.lock'


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _read(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        return json.loads(os.read(fd, 4096).decode() or '{}')
    except ValueError:
        return {}


class RunLock:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, LOCK_FILE)
        self.fd = None

    def acquire(self):
        """Hold the lock, or raise a UserError naming the folder and the holder."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                if holder.get('pid') and holder.get('host') == socket.gethostname() and not _alive(holder['pid']):
                    # its holder is dead, but a child it forked (a data-loader worker) still shares the locked
                    # descriptor for a moment: the lock is stale, so take a fresh file
                    try:
                        os.remove(self.path)
                    except FileNotFoundError:
                        pass
                    continue
                raise self._refusal(holder) from None
            except OSError as exc:  # no flock on this file system: the holder's liveness decides
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    os.close(fd)
                    raise
                holder = _read(fd)
                if holder.get('pid') and holder.get('pid') != os.getpid() and (
                        holder.get('host') != socket.gethostname() or _alive(holder['pid'])):
                    os.close(fd)
                    raise self._refusal(holder) from None
            try:  # the file may have been released (unlinked) between open and flock: lock the new one
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                                     'since': time.strftime('%Y-%m-%d %H:%M:%S')}).encode())
            os.fsync(fd)
            self.fd = fd
            return self

    def _refusal(self, holder):
        who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
        since = f", since {holder['since']}" if holder.get('since') else ''
        return UserError(f'{self.run_dir} is in use by another training run ({who}{since}): wait for it to end, '
                         f'or choose another --name')

    def release(self):
        if self.fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None
