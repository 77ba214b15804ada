"""Histories of a run as JSON lines (one point per line): the losses and the validation metrics.

The training page plots them; on --continue_train the points after the resumed checkpoint are
dropped, so a resumed run's curves are those of an uninterrupted one."""
import json
import os

from ..fileio import atomic_write_text

LOSS_HISTORY = 'loss_history.jsonl'
FID_HISTORY = 'fid_log.jsonl'
MIOU_HISTORY = 'miou_log.jsonl'


def history_path(opt, filename):
    return os.path.join(opt.checkpoints_dir, opt.name, filename)


def append_point(path, point):
    with open(path, 'a') as f:
        f.write(json.dumps(point) + '\n')


def read_history(path):
    if not os.path.isfile(path):
        return []
    points = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    points.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
    return points


def keep_history(path, keep):
    """Rewrite a history with only the points for which keep(point) is true."""
    points = [p for p in read_history(path) if keep(p)]
    atomic_write_text(path, ''.join(json.dumps(p) + '\n' for p in points))
