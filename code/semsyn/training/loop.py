"""The training run: data -> model -> G/D steps -> logs, pages, checkpoints; exact resume.

One process (CPU, one GPU, or DataParallel over --gpu_ids), or one of several under torchrun
(DistributedDataParallel): then every process trains on its shard of each batch, and only rank 0
writes logs, pages and checkpoints.
"""
import math
import os
import time

import torch
from tqdm import tqdm

from .. import distributed as dist
from ..checkpoint_sets import recover
from ..data import create_dataset
from ..data.sampler import make_loader, set_epoch
from ..devices import data_parallel, resolve_device, unwrap
from ..errors import UserError
from ..inference import sample_visuals
from ..models.synthesis import SynthesisModel, prepare_batch
from ..options import save_options
from ..rng import seed_everything
from .ema_stats import EMABatchNormCalibration
from .interrupt import Interruption, Stop, interrupted
from .log import TrainingLogger
from .page import TrainingPage
from .saving import RunCheckpoints
from .trainer import Trainer
from .validation import Validation


class Progress:
    """Counters of the run; saved with the training state so a resumed run continues the same count."""

    def __init__(self, epoch=1, batches_done=0, total_samples=0, best_fid=float('inf')):
        self.epoch = epoch                  # current epoch (1-based)
        self.batches_done = batches_done    # batches of this epoch already trained (per process)
        self.total_samples = total_samples  # samples seen since the start of the run (all processes)
        self.best_fid = best_fid            # lowest validation FID so far (--fid_epoch)

    def state_dict(self):
        return {'epoch': self.epoch, 'batches_done': self.batches_done, 'total_samples': self.total_samples,
                'best_fid': self.best_fid}


def every(total_samples, freq, batch_size):
    """SPADE's frequency test: true once per `freq` samples."""
    return freq > 0 and (total_samples % freq) < batch_size


def resume(trainer, run, label):
    """Restore optimizers, counters and RNG states of set `label`; returns the Progress."""
    state = run.load_state(label)
    if state is not None:
        trainer.load_state_dict(state['trainer'])
        p = state['progress']
        if dist.is_main():
            print(f"resuming from checkpoint set '{label}': epoch {p['epoch']}, batch {p['batches_done']}")
        return Progress(p['epoch'], p['batches_done'], p['total_samples'], p.get('best_fid', float('inf')))
    # an epoch checkpoint without training state: fresh optimizers, next epoch
    epoch = int(label) + 1 if str(label).isdigit() else 1
    if dist.is_main():
        print(f"warning: checkpoint set '{label}' has no training state; optimizers start fresh at epoch {epoch}")
    trainer.update_learning_rate(epoch - 1)
    return Progress(epoch, 0, 0)


def build_model(opt, device, run, label=None):
    """SynthesisModel on the device (set `label` loaded when resuming), wrapped for the run."""
    model = SynthesisModel(opt)
    if label is not None:
        run.load_networks(model, label)
    model = model.to(device)
    if opt.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if opt.compile:
        model.compile_networks()
    if dist.is_initialized():
        model.distribute(device)
        return model
    return data_parallel(model, opt)


def train(opt):
    """Train for niter + niter_decay epochs; returns the path of the run folder."""
    distributed = dist.launched_by_torchrun()
    with Interruption() as interruption:
        device = dist.setup(opt) if distributed else resolve_device(opt)
        run = RunCheckpoints(opt)
        try:
            return _train(opt, device, interruption, run)
        except (Stop, Exception):
            if interruption.signum is None:  # not a signal's doing
                raise
            run_dir = os.path.join(opt.checkpoints_dir, opt.name)
            if dist.is_main():
                recover(run_dir)  # the save a second signal cut: finished or dropped, as after a kill
            raise interrupted(interruption.signum, interruption.progress, run_dir) from None
        finally:
            run.release()
            if distributed:
                dist.cleanup()


def _train(opt, device, interruption, run):
    main = dist.is_main()
    run.prepare()
    seed_everything(opt.seed + dist.rank())  # DDP makes the initial weights equal; data noise differs per rank
    dataset = create_dataset(opt)
    if len(dataset) < opt.batchSize * dist.world_size():
        raise UserError(f'--batchSize {opt.batchSize} x {dist.world_size()} processes is larger than the dataset '
                        f'({len(dataset)} samples in {opt.dataroot or opt.dataset_mode})')
    loader = make_loader(dataset, opt, shuffle=not opt.serial_batches, drop_last=True)
    roles = list(SynthesisModel.roles(opt))
    label = run.resume_label(roles) if opt.continue_train else None
    model = build_model(opt, device, run, label)
    if opt.compile and main:
        print('--compile: G, D and E compile during the first iterations (minutes; bench/RESULTS.md)')
    trainer = Trainer(opt, model, device)
    validation = Validation(opt, device) if opt.fid_epoch > 0 or opt.miou_epoch > 0 else None

    def save(label, with_state, share_with=None):
        if ema_stats is not None:
            ema_stats.refresh(model, progress.total_samples)
        return run.save(model, label, progress, trainer.state_dict() if with_state else None, share_with)
    progress = resume(trainer, run, label) if label is not None else Progress()
    # every set is saved right after a recalibration at its step: the resumed run starts with it done
    ema_stats = None
    if opt.ema and opt.ema_bn_batches > 0:
        done_at = progress.total_samples if label is not None else None
        ema_stats = EMABatchNormCalibration(opt, dataset, device, done_at)
    interruption.progress = progress
    if main:
        save_options(opt)  # only once everything above accepted the options

    logger = TrainingLogger(opt) if main else None
    page = TrainingPage(opt) if main and not opt.no_html else None
    if opt.continue_train and main:
        logger.truncate_history(progress.total_samples)
        if validation is not None:
            validation.truncate_history(progress.epoch)
    total_epochs = opt.niter + opt.niter_decay
    batches_per_epoch = len(loader)
    step_samples = opt.batchSize * dist.world_size()
    if main:
        print(f'dataset [{type(dataset).__name__}] of size {len(dataset)}; {batches_per_epoch} batches of '
              f'{opt.batchSize} per epoch and process; {dist.world_size()} process(es); device {device}; '
              f'epochs {progress.epoch}..{total_epochs}')

    interruption.deferring = True  # a signal from here on stops at the end of the iteration
    try:
        while progress.epoch <= total_epochs:
            epoch = progress.epoch
            set_epoch(loader, epoch, progress.batches_done)
            bar = tqdm(loader, total=batches_per_epoch, initial=progress.batches_done, desc=f'epoch {epoch}',
                       dynamic_ncols=True, leave=False, disable=None if main else True)
            start = time.time()
            for data in bar:
                semantics, real, label = prepare_batch(data, opt, device)
                if progress.batches_done % opt.D_steps_per_G == 0:
                    trainer.run_generator_one_step(semantics, real)
                trainer.run_discriminator_one_step(semantics, real)
                progress.batches_done += 1
                progress.total_samples += step_samples

                if every(progress.total_samples, opt.print_freq, step_samples):
                    losses = dist.mean_across_ranks({k: float(v) for k, v in trainer.latest_losses().items()})
                    check_finite(losses, epoch, progress.batches_done)
                    if main:
                        per_sample = (time.time() - start) / max(1, opt.batchSize)
                        logger.log_losses(epoch, progress.batches_done * step_samples, progress.total_samples,
                                          losses, per_sample, epoch - 1 + progress.batches_done / batches_per_epoch)
                if main and every(progress.total_samples, opt.display_freq, step_samples) \
                        and trainer.generated is not None:
                    visuals = sample_visuals(label, trainer.generated, real, opt)[0]
                    logger.log_images(visuals, progress.total_samples)
                    if page is not None:
                        page.add_samples(visuals, epoch, progress.total_samples)
                if every(progress.total_samples, opt.save_latest_freq, step_samples):
                    if main:
                        print(f'saving the latest model (epoch {epoch}, total_steps {progress.total_samples})')
                    save('latest', with_state=True)
                if interruption.stop_requested():
                    interruption.stop()
                start = time.time()
            bar.close()

            trainer.update_learning_rate(epoch)
            progress.epoch, progress.batches_done = epoch + 1, 0
            due = validation.due(epoch) if validation is not None else []
            if due:
                if ema_stats is not None:
                    ema_stats.refresh(model, progress.total_samples)
                results = validation.evaluate(model, due)
                if main:
                    validation.record(epoch, progress.total_samples, results, logger)
                if 'fid' in results and results['fid']['fid'] < progress.best_fid:
                    progress.best_fid = results['fid']['fid']
                    if main:
                        print(f'saving the best model (epoch {epoch}, FID {progress.best_fid:.4f})')
                    save('best', with_state=False)
            # the epoch snapshot first: a kill while it is written resumes from the previous latest
            # and writes it again; latest then links its network files
            snapshot = None
            if epoch % opt.save_epoch_freq == 0 or epoch == total_epochs:
                if main:
                    print(f'saving the model at the end of epoch {epoch}, iters {progress.total_samples}')
                snapshot = save(epoch, with_state=False)
            save('latest', with_state=True, share_with=snapshot)
            if interruption.stop_requested():
                interruption.stop()
    finally:
        interruption.deferring = False
        if logger is not None:
            logger.close()
    if dist.is_initialized() and not dist.parameters_agree(unwrap(model)):
        raise RuntimeError('the processes ended with different parameters')
    if dist.is_initialized() and main:
        print(f'parameters identical across {dist.world_size()} processes')
    if page is not None:
        page.write()
    if main:
        print('Training was successfully finished.')
    return os.path.join(opt.checkpoints_dir, opt.name)


def check_finite(losses, epoch, batch):
    bad = [k for k, v in losses.items() if not math.isfinite(v)]
    if bad:
        raise UserError(f'loss {bad[0]} became {losses[bad[0]]} at epoch {epoch}, batch {batch}; '
                        f'try a lower --lr or check the data')
