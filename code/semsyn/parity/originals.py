"""What the original trainers actually do with their options, and semsyn options that do the same.

The originals' option namespaces hold values their trainers ignore: SPADE's and CC-FPSE's
``create_optimizers`` use Adam betas (0, 0.9) whenever TTUR is on, whatever ``--beta1/--beta2`` say
(CC-FPSE's TrainOptions default them to 0.5/0.999); SCGAN's uses the options' betas with the TTUR
learning rates; SCGAN's ``rw_vgg`` is read by nothing. ``effective_training`` states those rules
once: the fixture replay translates an original's namespace with it, and the config tests compare
semsyn's configs against it.
"""
from ..errors import UserError
from ..options import ALIASES, ORIGINAL_FIXED, check_original_fixed, make_options, option_table

SPADE, CCFPSE, SCGAN, OASIS = 'NVlabs/SPADE', 'xh-liu/CC-FPSE', 'dvlab-research/SCGAN', 'boschresearch/OASIS'
REPOSITORIES = (SPADE, CCFPSE, SCGAN, OASIS)

# Keys of the originals' namespaces that say how a process runs (or are derived), not what it trains.
RUN_ONLY = {'debug', 'isTrain', 'semantic_nc', 'mpdist', 'dist_url', 'gpu', 'idx_server', 'ngpus_per_node',
            'num_servers', 'world_size', 'dont_load_D', 'multi_thread_gpu', 'visual_n'}
# SCGAN variants semsyn does not build: accepted only when off.
OFF_ONLY = {'diversity_loss', 'srouting_detach'}


def effective_betas(repository, options):
    """The Adam betas the original's create_optimizers builds."""
    if repository in (SPADE, CCFPSE) and not options.get('no_TTUR', False):
        return 0.0, 0.9
    return float(options['beta1']), float(options['beta2'])


def effective_training(repository, options):
    """The settings an original trainer uses for these options (SPADE's defaults where absent):
    learning rates and betas of G's and D's Adam, the loss weights and kinds, EMA."""
    o = dict(options)
    lr = float(o.get('lr', 0.0002))
    ttur = not o.get('no_TTUR', False)
    betas = effective_betas(repository, {'beta1': o.get('beta1', 0.5), 'beta2': o.get('beta2', 0.999), **o})
    out = {
        'lr_G': lr / 2 if ttur else lr, 'lr_D': lr * 2 if ttur else lr, 'betas': betas,
        'gan_mode': o.get('gan_mode', 'hinge'),
        'lambda_feat': 0.0 if o.get('no_ganFeat_loss') else float(o.get('lambda_feat', 10.0)),
        'lambda_vgg': 0.0 if o.get('no_vgg_loss') else float(o.get('lambda_vgg', 10.0)),
        'lambda_kld': float(o.get('lambda_kld', 0.05)) if o.get('use_vae') else 0.0,
        'ema': False,  # no original trains with a generator EMA (SCGAN's EMA model is never used)
        'D_steps_per_G': 1 if repository == CCFPSE else int(o.get('D_steps_per_G', 1)),
    }
    if repository == SCGAN:
        # the routing-image reconstruction: --rw_loss (default l1) x --lambda_w_recon (default 2);
        # rw_vgg is read by nothing
        out['routing_loss'] = o.get('rw_loss') or 'l1'
        out['lambda_w_recon'] = float(o.get('lambda_w_recon', 2.0))
    return out


# OASIS's config.py names -> semsyn's; its learning rates and EMA switch below.
OASIS_NAMES = {'batch_size': 'batchSize', 'EMA_decay': 'ema_decay', 'num_epochs': 'niter', 'num_workers': 'nThreads',
               'which_iter': 'which_epoch'}
# OASIS's run bookkeeping (printing, FID and checkpoint frequencies, loss smoothing, resume point)
OASIS_RUN_ONLY = {'freq_print', 'freq_fid', 'freq_save_ckpt', 'freq_save_latest', 'freq_save_loss',
                  'freq_smooth_loss', 'loaded_latest_iter', 'semantic_nc', 'ckpt_iter', 'results_dir'}
OASIS_STATS_BATCHES = 51  # utils.update_EMA: the running-statistics pass stops after its 51st batch


def oasis_learning_rates(lr_g, lr_d):
    """(lr, no_TTUR) giving G lr_g and D lr_d: TTUR halves and doubles lr (lr_d = 4 lr_g), else equal."""
    if abs(lr_d - 4 * lr_g) <= 1e-12 * lr_d:
        return 2 * lr_g, False
    if lr_g == lr_d:
        return lr_g, True
    raise UserError(f'original options lr_g={lr_g}, lr_d={lr_d}: semsyn trains with lr_d = 4 lr_g (TTUR) or '
                    'lr_g = lr_d (--no_TTUR)')


def oasis_values(original):
    """semsyn option values for OASIS's namespace ``original``."""
    table = option_table(is_train=True)
    values = {'netG': 'oasis', 'netD': 'oasis'}
    for key, value in original.items():
        if key in OASIS_RUN_ONLY or key in ('lr_g', 'lr_d', 'no_EMA'):
            continue
        name = OASIS_NAMES.get(key, key)
        if name not in table:
            raise UserError(f'original option {key}={value!r} has no semsyn equivalent')
        values[name] = value
    values['lr'], values['no_TTUR'] = oasis_learning_rates(float(original['lr_g']), float(original['lr_d']))
    values['ema'] = not original.get('no_EMA', False)
    values['ema_bn_batches'] = OASIS_STATS_BATCHES
    values['ade20k_raw_labels'] = original.get('dataset_mode') == 'ade20k'  # its loader keeps 0 as channel 0
    values['niter_decay'] = 0
    return values


def semsyn_options(original, repository):
    """A semsyn options namespace that trains as the original did with namespace ``original``."""
    if repository not in REPOSITORIES:
        raise UserError(f'unknown original repository {repository!r}; known: {", ".join(REPOSITORIES)}')
    if repository == OASIS:
        return checked_semantic_nc(original, make_options(oasis_values(original), is_train=True))
    table = option_table(is_train=True)
    values = {}
    for key, value in original.items():
        name = ALIASES.get(key, key)
        if key in RUN_ONLY or (name != key and name in original):
            continue  # the canonical spelling wins over an alias given as well
        if key in ORIGINAL_FIXED:
            check_original_fixed(key, value, 'original option')
            continue
        if key in OFF_ONLY:
            if value:
                raise UserError(f'original option {key}={value!r}: this variant is not implemented in semsyn')
            continue
        if name not in table:
            raise UserError(f'original option {key}={value!r} has no semsyn equivalent')
        if name == 'gpu_ids':
            value = ','.join(str(i) for i in value) if isinstance(value, (list, tuple)) and value else '-1'
        values[name] = value
    effective = effective_training(repository, original)
    values['beta1'], values['beta2'] = effective['betas']
    values['ema'] = effective['ema']
    values['D_steps_per_G'] = effective['D_steps_per_G']
    if repository == SCGAN:
        values['rw_loss'] = effective['routing_loss']
        values['lambda_w_recon'] = effective['lambda_w_recon']
    return checked_semantic_nc(original, make_options(values, is_train=True))


def checked_semantic_nc(original, opt):
    if 'semantic_nc' in original and original['semantic_nc'] != opt.semantic_nc:
        raise UserError(f"the original's semantic_nc {original['semantic_nc']} differs from semsyn's "
                        f'{opt.semantic_nc} for the same label options')
    return opt
