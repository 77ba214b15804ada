"""Checkpoint sets: the files of one save (``latest``, an epoch, ``best``) become visible together or
not at all, and a run killed at any moment resumes from a consistent set.

The files keep SPADE's names (``<label>_net_G.pth``, ..., ``<label>_train_state.pth``) so released
checkpoints and the originals' habits still work. A save of a set:

1. writes every file under a temporary name (``.<file>.<generation>.part``), or hard-links it from a
   set of the same step (an epoch snapshot and ``latest`` share their network bytes);
2. writes the journal ``.<label>.journal.json`` naming the parts and their SHA-256: the commit point;
3. renames each part over its file, writes the manifest ``<label>_set.json`` (files, hashes, step)
   and removes the journal.

A kill before 2 leaves the previous set untouched (its parts are removed at the next start); a kill
after 2 is rolled forward at the next start (``recover``). Resuming verifies the set against its
manifest; a set that does not match (files replaced or damaged by hand) is not used: the newest
consistent set with a training state is, with a one-line warning.
"""
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch

from .faults import KillingWriter, kill_point
from .fileio import TEMP_SUFFIX, atomic_write_text, fsync_dir, sha256_file, write_new_file

MANIFEST = '{label}_set.json'
JOURNAL = '.{label}.journal.json'
PART_SUFFIX = '.part'


@dataclass
class Link:
    """A set entry whose bytes are those of an existing file (same step): hard-linked, else copied."""
    source: str
    sha256: str


def manifest_path(run_dir, label):
    return os.path.join(run_dir, MANIFEST.format(label=label))


def write_set(run_dir: str, label: str, entries: Dict[str, object], info: dict) -> dict:
    """Write the files of set `label` atomically as a set. entries: file name -> an object to
    torch.save, or a Link. info: what the manifest records beside the files (epoch, step, ...).
    Returns the manifest."""
    os.makedirs(run_dir, exist_ok=True)
    generation = uuid.uuid4().hex[:12]
    files = {}
    for name, payload in entries.items():
        part = f'.{name}.{generation}{PART_SUFFIX}'
        path = os.path.join(run_dir, part)
        if isinstance(payload, Link):
            try:
                os.link(payload.source, path)
            except OSError:  # no hard links here (another file system, FAT): a copy
                shutil.copyfile(payload.source, path)
            digest = payload.sha256
        else:
            write_new_file(path, lambda f, obj=payload, n=name: _save(obj, KillingWriter(f, f'write:{n}')))
            digest = sha256_file(path)
        files[name] = {'part': part, 'sha256': digest, 'size': os.path.getsize(path)}
        kill_point(f'written:{name}')
    fsync_dir(run_dir)
    journal = {'label': label, 'generation': generation, 'info': info, 'files': files}
    atomic_write_text(os.path.join(run_dir, JOURNAL.format(label=label)), json.dumps(journal, indent=1))
    fsync_dir(run_dir)
    kill_point(f'commit:{label}')
    return _apply(run_dir, journal)


def _save(obj, writer):
    """torch.save into writer; a failed write (full disk) comes out as its OSError, which torch's
    serializer otherwise turns into a RuntimeError about stream positions."""
    try:
        torch.save(obj, writer)
    except RuntimeError:
        if writer.error is not None:
            raise writer.error from None
        raise


def _apply(run_dir, journal):
    """Rename the parts of a committed journal over their files, write the manifest, drop the journal."""
    for name, entry in journal['files'].items():
        part = os.path.join(run_dir, entry['part'])
        if os.path.exists(part):
            os.replace(part, os.path.join(run_dir, name))
            kill_point(f'rename:{name}')
    manifest = {'label': journal['label'], 'generation': journal['generation'], 'info': journal['info'],
                'files': {n: {'sha256': e['sha256'], 'size': e['size']} for n, e in journal['files'].items()}}
    atomic_write_text(manifest_path(run_dir, journal['label']), json.dumps(manifest, indent=1))
    kill_point(f'manifest:{journal["label"]}')
    os.remove(os.path.join(run_dir, JOURNAL.format(label=journal['label'])))
    fsync_dir(run_dir)
    return manifest


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def recover(run_dir: str) -> List[str]:
    """At the start of a run: finish the saves a kill interrupted after their commit point, drop the
    parts and temporary files of the others. Returns one line per thing done."""
    notes = []
    if not os.path.isdir(run_dir):
        return notes
    names = os.listdir(run_dir)
    committed = set()
    for name in sorted(n for n in names if n.startswith('.') and n.endswith('.journal.json')):
        journal = _read_json(os.path.join(run_dir, name))
        if journal is None or not _journal_complete(run_dir, journal):
            os.remove(os.path.join(run_dir, name))
            notes.append(f'dropped an unusable save journal {name}')
            continue
        committed.update(e['part'] for e in journal['files'].values())
        _apply(run_dir, journal)
        notes.append(f"completed the interrupted save of checkpoint set '{journal['label']}' "
                     f"(step {journal['info'].get('step')})")
    leftovers = [n for n in names if n.startswith('.') and (n.endswith(PART_SUFFIX) or n.endswith(TEMP_SUFFIX))
                 and n not in committed]
    for name in leftovers:
        if os.path.exists(os.path.join(run_dir, name)):
            os.remove(os.path.join(run_dir, name))
    if leftovers:
        notes.append(f'removed {len(leftovers)} temporary file(s) of interrupted writes')
    return notes


def _journal_complete(run_dir, journal):
    """Every file of the journal is there: as its part, or already renamed (same size)."""
    for name, entry in journal.get('files', {}).items():
        part, final = os.path.join(run_dir, entry['part']), os.path.join(run_dir, name)
        if os.path.exists(part):
            continue
        if not (os.path.exists(final) and os.path.getsize(final) == entry['size']):
            return False
    return True


def verify_set(run_dir: str, label: str, need: List[str] = ()) -> Optional[str]:
    """None when set `label` is consistent (its manifest names every file in `need`, and every file it
    names is there with its hash); else what is wrong, in a few words."""
    manifest = _read_json(manifest_path(run_dir, label))
    if manifest is None:
        return f'it has no manifest {MANIFEST.format(label=label)}'
    missing = [n for n in need if n not in manifest['files']]
    if missing:
        return f'its manifest does not name {missing[0]}'
    for name, entry in manifest['files'].items():
        path = os.path.join(run_dir, name)
        if not os.path.exists(path):
            return f'{name} is missing'
        if os.path.getsize(path) != entry['size'] or sha256_file(path) != entry['sha256']:
            return f'{name} is not the file its manifest names (replaced or damaged)'
    return None


def read_manifest(run_dir, label):
    return _read_json(manifest_path(run_dir, label))


def all_sets(run_dir: str) -> List[dict]:
    """Manifests of the run's sets, newest step first."""
    if not os.path.isdir(run_dir):
        return []
    found = [_read_json(os.path.join(run_dir, n)) for n in os.listdir(run_dir) if n.endswith('_set.json')]
    found = [m for m in found if m is not None]
    return sorted(found, key=lambda m: m['info'].get('step', -1), reverse=True)


def remove_set(run_dir: str, label: str):
    """Delete the files of a set, manifest last (a kill halfway leaves a set that verifies as broken)."""
    manifest = read_manifest(run_dir, label)
    if manifest is None:
        return
    for name in manifest['files']:
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            os.remove(path)
    os.remove(manifest_path(run_dir, label))


def prune_epoch_sets(run_dir: str, keep_last: int) -> List[str]:
    """--keep_last N: delete all but the N newest epoch sets (not latest, not best); their labels."""
    if keep_last <= 0:
        return []
    epochs = sorted(int(m['label']) for m in all_sets(run_dir) if str(m['label']).isdigit())
    doomed = epochs[:-keep_last]
    for epoch in doomed:
        remove_set(run_dir, str(epoch))
    return [str(e) for e in doomed]
