"""The training run: data -> model -> G/D steps -> logs, pages, checkpoints; exact resume."""
import os
import time

import torch
from tqdm import tqdm

from ..data import create_dataset
from ..devices import data_parallel, resolve_device, unwrap
from ..errors import UserError
from ..models.synthesis import SynthesisModel, one_hot_semantics
from ..options import save_options
from ..fileio import atomic_torch_save
from .checkpoints import load_network, network_path, safe_load, save_network, train_state_path
from .fid_tracking import FIDTracker
from .logger import TrainingLogger, TrainingPage, sample_visuals
from .rng import capture_rng_state, restore_rng_state, seed_everything
from .sampler import make_loader, set_epoch
from .trainer import Trainer


class Progress:
    """Counters of the run; saved with the training state so a resumed run continues the same count."""

    def __init__(self, epoch=1, batches_done=0, total_samples=0, best_fid=float('inf')):
        self.epoch = epoch                  # current epoch (1-based)
        self.batches_done = batches_done    # batches of this epoch already trained
        self.total_samples = total_samples  # samples seen since the start of the run
        self.best_fid = best_fid            # lowest validation FID so far (--fid_epoch)

    def state_dict(self):
        return {'epoch': self.epoch, 'batches_done': self.batches_done, 'total_samples': self.total_samples,
                'best_fid': self.best_fid}


def prepare_batch(data, opt, device):
    """Dataset batch -> (one-hot semantics, real image, integer label map) on the run's device."""
    label = data['label'].to(device, non_blocking=True)
    instance = data['instance'].to(device, non_blocking=True) if not opt.no_instance else None
    semantics = one_hot_semantics(label, instance, opt)
    return semantics, data['image'].to(device, non_blocking=True), label


def every(total_samples, freq, batch_size):
    """SPADE's frequency test: true once per `freq` samples."""
    return freq > 0 and (total_samples % freq) < batch_size


def check_new_run(opt):
    """A fresh run must not overwrite the checkpoints of an earlier one."""
    existing = network_path(opt.checkpoints_dir, opt.name, 'latest', 'G')
    if not opt.continue_train and os.path.exists(existing):
        raise UserError(f'{existing} exists: pass --continue_train to resume that run, or choose another --name')


def save_checkpoint(model, trainer, progress, opt, label, with_state):
    for role, net in unwrap(model).networks().items():
        save_network(net, network_path(opt.checkpoints_dir, opt.name, label, role))
    if with_state:
        state = {'progress': progress.state_dict(), 'trainer': trainer.state_dict(), 'rng': capture_rng_state(),
                 'seed': opt.seed}
        atomic_torch_save(state, train_state_path(opt.checkpoints_dir, opt.name, label))


def resume(model, trainer, opt):
    """Load networks (and the training state when present) of --which_epoch; returns the Progress."""
    core = unwrap(model)
    hint = 'netG, ngf, norm_G, label_nc, contain_dontcare_label, no_instance, crop_size, use_vae'
    for role, net in core.networks().items():
        load_network(net, network_path(opt.checkpoints_dir, opt.name, opt.which_epoch, role), hint)
    state_file = train_state_path(opt.checkpoints_dir, opt.name, opt.which_epoch)
    if os.path.isfile(state_file):
        state = safe_load(state_file, 'training state')
        trainer.load_state_dict(state['trainer'])
        restore_rng_state(state['rng'])
        p = state['progress']
        print(f'resuming from {state_file}: epoch {p["epoch"]}, batch {p["batches_done"]}')
        return Progress(p['epoch'], p['batches_done'], p['total_samples'], p.get('best_fid', float('inf')))
    # an epoch checkpoint without training state: fresh optimizers, next epoch
    epoch = int(opt.which_epoch) + 1 if opt.which_epoch.isdigit() else 1
    print(f'warning: no training state {state_file}; optimizers start fresh at epoch {epoch}')
    trainer.update_learning_rate(epoch - 1)
    return Progress(epoch, 0, 0)


def train(opt):
    """Train for niter + niter_decay epochs; returns the path of the run folder."""
    device = resolve_device(opt)
    check_new_run(opt)
    seed_everything(opt.seed)
    dataset = create_dataset(opt)
    if len(dataset) < opt.batchSize:
        raise UserError(f'--batchSize {opt.batchSize} is larger than the dataset ({len(dataset)} samples in '
                        f'{opt.dataroot or opt.dataset_mode})')
    loader = make_loader(dataset, opt, shuffle=not opt.serial_batches, drop_last=True)
    model = SynthesisModel(opt).to(device)
    model = data_parallel(model, opt)
    trainer = Trainer(opt, model)
    fid = FIDTracker(opt, device) if opt.fid_epoch > 0 else None
    progress = resume(model, trainer, opt) if opt.continue_train else Progress()
    save_options(opt)  # only once everything above accepted the options

    logger = TrainingLogger(opt)
    if opt.continue_train:
        logger.truncate_history(progress.total_samples)
        if fid is not None:
            fid.truncate_history(progress.epoch)
    page = None if opt.no_html else TrainingPage(opt)
    total_epochs = opt.niter + opt.niter_decay
    batches_per_epoch = len(dataset) // opt.batchSize
    print(f'dataset [{type(dataset).__name__}] of size {len(dataset)}; {batches_per_epoch} batches per epoch; '
          f'device {device}; epochs {progress.epoch}..{total_epochs}')

    try:
        while progress.epoch <= total_epochs:
            epoch = progress.epoch
            set_epoch(loader, epoch, progress.batches_done)
            bar = tqdm(loader, total=batches_per_epoch, initial=progress.batches_done, desc=f'epoch {epoch}',
                       dynamic_ncols=True, leave=False, disable=None)
            start = time.time()
            for data in bar:
                semantics, real, label = prepare_batch(data, opt, device)
                if progress.batches_done % opt.D_steps_per_G == 0:
                    trainer.run_generator_one_step(semantics, real)
                trainer.run_discriminator_one_step(semantics, real)
                progress.batches_done += 1
                progress.total_samples += opt.batchSize

                if every(progress.total_samples, opt.print_freq, opt.batchSize):
                    losses = {k: float(v) for k, v in trainer.latest_losses().items()}
                    check_finite(losses, epoch, progress.batches_done)
                    per_sample = (time.time() - start) / max(1, opt.batchSize)
                    logger.log_losses(epoch, progress.batches_done * opt.batchSize, progress.total_samples,
                                      losses, per_sample, epoch - 1 + progress.batches_done / batches_per_epoch)
                if every(progress.total_samples, opt.display_freq, opt.batchSize) and trainer.generated is not None:
                    visuals = sample_visuals(label, trainer.generated, real, opt)[0]
                    logger.log_images(visuals, progress.total_samples)
                    if page is not None:
                        page.add_samples(visuals, epoch, progress.total_samples)
                if every(progress.total_samples, opt.save_latest_freq, opt.batchSize):
                    print(f'saving the latest model (epoch {epoch}, total_steps {progress.total_samples})')
                    save_checkpoint(model, trainer, progress, opt, 'latest', with_state=True)
                start = time.time()
            bar.close()

            trainer.update_learning_rate(epoch)
            progress.epoch, progress.batches_done = epoch + 1, 0
            if fid is not None and fid.due(epoch):
                result = fid.evaluate(model)
                fid.record(epoch, progress.total_samples, result, logger)
                if result['fid'] < progress.best_fid:
                    progress.best_fid = result['fid']
                    print(f'saving the best model (epoch {epoch}, FID {result["fid"]:.4f})')
                    save_checkpoint(model, trainer, progress, opt, 'best', with_state=False)
            save_checkpoint(model, trainer, progress, opt, 'latest', with_state=True)
            if epoch % opt.save_epoch_freq == 0 or epoch == total_epochs:
                print(f'saving the model at the end of epoch {epoch}, iters {progress.total_samples}')
                save_checkpoint(model, trainer, progress, opt, epoch, with_state=False)
    finally:
        logger.close()
    if page is not None:
        page.write()
    print('Training was successfully finished.')
    return os.path.join(opt.checkpoints_dir, opt.name)


def check_finite(losses, epoch, batch):
    bad = [k for k, v in losses.items() if not torch.isfinite(torch.tensor(v))]
    if bad:
        raise UserError(f'loss {bad[0]} became {losses[bad[0]]} at epoch {epoch}, batch {batch}; '
                        f'try a lower --lr or check the data')
