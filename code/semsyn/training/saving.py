"""The checkpoints of a training run: its folder made safe at the start (interrupted saves finished or
dropped), the set a resumed run continues from, and the saves (checkpoint_sets.py: every set written
atomically as a set; an epoch snapshot and ``latest`` of the same step share their network bytes)."""
import os

from .. import distributed as dist
from ..checkpoint_sets import Link, all_sets, prune_epoch_sets, read_manifest, recover, verify_set, write_set
from ..checkpoints import load_network, network_file, network_path, train_state_file
from ..devices import unwrap
from ..errors import UserError
from ..fileio import load_untrusted, probe_writable, unwritable
from ..rng import capture_rng_state, restore_rng_state
from .lock import RunLock


class RunCheckpoints:
    def __init__(self, opt):
        self.opt = opt
        self.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        self.lock = RunLock(self.run_dir)

    # -- start of a run ----------------------------------------------------------------------
    def prepare(self):
        """Rank 0: check that the folder can be written, take its lock (one run per folder), finish or
        drop what a kill interrupted; refuse a fresh run over an earlier one. A refusal stops every rank."""
        problem = None
        if dist.is_main():
            try:
                probe_writable(self.run_dir, 'the run folder')
                self.lock.acquire()
                for note in recover(self.run_dir):
                    print(f'checkpoints: {note}')
                if not self.opt.continue_train and self.has_checkpoints():
                    raise UserError(f'{self.run_dir} holds the checkpoints of an earlier run: pass --continue_train '
                                    f'to resume it, or choose another --name')
            except UserError as exc:
                self.release()
                problem = str(exc)
        problem = dist.broadcast_object(problem)
        if problem is not None:
            raise UserError(problem)

    def release(self):
        """The end of the run (rank 0): the folder's lock goes."""
        self.lock.release()

    def has_checkpoints(self):
        return bool(all_sets(self.run_dir)) or os.path.exists(
            network_path(self.opt.checkpoints_dir, self.opt.name, self.opt.which_epoch, 'G'))

    def resume_label(self, roles):
        """The set --continue_train loads: --which_epoch when it is consistent, else the newest consistent
        set (with a one-line warning); runs without manifests (released checkpoints, older semsyn
        versions) are read as they are; None when the run has no checkpoint at all."""
        label = None
        if dist.is_main():
            if self.has_checkpoints():
                label = self._choose(self.opt.which_epoch, roles)
            else:  # killed before its first save, or never started: nothing to continue
                print(f'--continue_train: {self.run_dir} holds no checkpoint yet; starting the run from the beginning')
        return dist.broadcast_object(label)

    def _choose(self, wanted, roles):
        if not all_sets(self.run_dir):
            return wanted  # no manifests at all: nothing to verify against
        problem = verify_set(self.run_dir, wanted, [network_file(wanted, r) for r in roles])
        if problem is None:
            return wanted
        # the newest consistent set with these networks; at equal steps one with a training state
        candidates = sorted(all_sets(self.run_dir), key=lambda m: (m['info'].get('step', -1),
                                                                   train_state_file(m['label']) in m['files']))
        for manifest in reversed(candidates):
            label = str(manifest['label'])
            if label != wanted and verify_set(self.run_dir, label, [network_file(label, r) for r in roles]) is None:
                state = '' if train_state_file(label) in manifest['files'] else '; it has no training state, ' \
                    'optimizers restart'
                print(f"warning: checkpoint set '{wanted}' is not usable ({problem}); resuming from the consistent "
                      f"set '{label}' (step {manifest['info'].get('step')}){state}")
                return label
        raise UserError(f"cannot resume {self.run_dir}: checkpoint set '{wanted}' is not usable ({problem}) and no "
                        f'other consistent set exists')

    def load_networks(self, model, label):
        for role, net in unwrap(model).networks().items():
            load_network(net, network_path(self.opt.checkpoints_dir, self.opt.name, label, role),
                         suggest_opt_file=not self.opt.load_from_opt_file)

    def load_state(self, label):
        """The training state of set `label`, or None when the set has none (an epoch snapshot)."""
        path = os.path.join(self.run_dir, train_state_file(label))
        if not os.path.isfile(path):
            return None
        state = load_untrusted(path, 'training state')
        rng = state['rng']
        rng = rng[dist.rank()] if len(rng) == dist.world_size() else None
        if rng is not None:
            restore_rng_state(rng)
        elif dist.is_main():
            print(f'warning: {path} was saved by {len(state["rng"])} processes, this run has '
                  f'{dist.world_size()}: random number streams restart')
        return state

    # -- saves -------------------------------------------------------------------------------
    def save(self, model, label, progress, trainer_state=None, share_with=None):
        """Write set `label` (rank 0; the others wait). With trainer_state, the set carries the training
        state (every rank's RNG state included). share_with: the manifest of a set of the same step
        whose network files this one links instead of writing them again."""
        rng = dist.gather_objects(capture_rng_state()) if trainer_state is not None else None
        manifest = None
        if dist.is_main():
            entries = {}
            for role, net in unwrap(model).networks().items():
                name = network_file(label, role)
                shared = network_file(share_with['label'], role) if share_with else None
                if shared in (share_with or {}).get('files', {}):
                    entries[name] = Link(os.path.join(self.run_dir, shared), share_with['files'][shared]['sha256'])
                else:
                    entries[name] = {k: v.detach().cpu() for k, v in net.state_dict().items()}
            if trainer_state is not None:
                entries[train_state_file(label)] = {'progress': progress.state_dict(), 'trainer': trainer_state,
                                                    'rng': rng, 'seed': self.opt.seed,
                                                    'world_size': dist.world_size()}
            try:
                manifest = write_set(self.run_dir, label, entries,
                                     {'step': progress.total_samples, 'next_epoch': progress.epoch,
                                      'batches_done': progress.batches_done})
            except OSError as exc:  # full disk, folder made read-only: the previous sets stay as they were
                try:
                    recover(self.run_dir)
                except OSError:
                    pass
                raise unwritable(self.run_dir, exc, f"checkpoint set '{label}' in",
                                 '; the sets saved before are untouched (--continue_train resumes)') from None
            if str(label).isdigit():
                for gone in prune_epoch_sets(self.run_dir, self.opt.keep_last):
                    print(f'checkpoints: removed epoch {gone} (--keep_last {self.opt.keep_last})')
        dist.barrier()
        return manifest

    def manifest(self, label):
        return read_manifest(self.run_dir, label)
