"""One training step of G and D: optimizers with TTUR, the linear LR decay, the training state."""
import torch

from ..devices import unwrap
from ..kernels import activate  # noqa: F401  (the CPU kernels, registered)
from ..kernels.adam import fused_adam


def learning_rate(opt, epochs_done):
    """SPADE's schedule in closed form: constant for niter epochs, then linear to 0 over niter_decay."""
    if opt.niter_decay <= 0 or epochs_done <= opt.niter:
        return opt.lr
    return max(0.0, opt.lr - opt.lr / opt.niter_decay * (epochs_done - opt.niter))


def split_lr(opt, lr):
    """(G lr, D lr): TTUR halves G's and doubles D's, as SPADE."""
    return (lr, lr) if opt.no_TTUR else (lr / 2, lr * 2)


def optimizer_settings(opt):
    """{'G': {'lr', 'betas'}, 'D': {...}} of the two Adam optimizers at the start of training.

    The betas are --beta1/--beta2, whose defaults depend on --no_TTUR as in SPADE ((0, 0.9) with
    TTUR, (0.5, 0.999) without); unlike SPADE's and CC-FPSE's trainers, explicit values are used
    under TTUR too (as SCGAN's trainer does), see option_table.warn_ignored_betas."""
    g_lr, d_lr = split_lr(opt, opt.lr)
    betas = (opt.beta1, opt.beta2)
    return {'G': {'lr': g_lr, 'betas': betas}, 'D': {'lr': d_lr, 'betas': betas}}


def adam(params, settings):
    """torch's Adam with ``settings`` (lr, betas); its fused kernel where kernels/adam.py says so."""
    params = list(params)
    return torch.optim.Adam(params, **settings, **({'fused': True} if fused_adam(params) else {}))


class Trainer:
    """Runs the G and D updates of a SynthesisModel (possibly wrapped in DataParallel)."""

    def __init__(self, opt, model, device=None):
        self.opt = opt
        self.model = model
        # fp16 needs loss scaling, one scaler per optimizer; bf16 and fp32 don't
        device_type = device.type if device is not None else 'cpu'
        self.scaler_G = torch.amp.GradScaler(device_type, enabled=opt.amp == 'fp16')
        self.scaler_D = torch.amp.GradScaler(device_type, enabled=opt.amp == 'fp16')
        core = self.core = unwrap(model)
        self.netD = core.netD
        g_params = list(core.netG.parameters())
        if core.netE is not None:
            g_params += list(core.netE.parameters())
        self.lr = opt.lr
        settings = optimizer_settings(opt)
        self.optimizer_G = adam(g_params, settings['G'])
        self.optimizer_D = adam(core.netD.parameters(), settings['D'])
        self.g_losses, self.d_losses, self.generated = {}, {}, None

    def run_generator_one_step(self, input_semantics, real_image):
        self.optimizer_G.zero_grad(set_to_none=True)
        self.netD.requires_grad_(False)  # D's weight gradients are not needed for G's update
        try:
            g_losses, generated = self.model(input_semantics, real_image, mode='generator')
            g_loss = sum(v.mean() for v in g_losses.values())
            self.scaler_G.scale(g_loss).backward()
        finally:
            self.netD.requires_grad_(True)
        self.scaler_G.step(self.optimizer_G)
        self.scaler_G.update()
        if self.core.netA is not None and self.core.ema_rule.after == 'G':
            self.core.update_ema()
        self.g_losses = {k: v.detach().mean() for k, v in g_losses.items()}
        self.generated = generated.detach()

    def run_discriminator_one_step(self, input_semantics, real_image):
        self.optimizer_D.zero_grad(set_to_none=True)
        d_losses = self.model(input_semantics, real_image, mode='discriminator')
        d_loss = sum(v.mean() for v in d_losses.values())
        self.scaler_D.scale(d_loss).backward()
        self.scaler_D.step(self.optimizer_D)
        self.scaler_D.update()
        if self.core.netA is not None and self.core.ema_rule.after == 'D':
            self.core.update_ema()
        self.d_losses = {k: v.detach().mean() for k, v in d_losses.items()}

    def latest_losses(self):
        return {**self.g_losses, **self.d_losses}

    def update_learning_rate(self, epochs_done):
        new_lr = learning_rate(self.opt, epochs_done)
        if new_lr != self.lr:
            g_lr, d_lr = split_lr(self.opt, new_lr)
            for group in self.optimizer_G.param_groups:
                group['lr'] = g_lr
            for group in self.optimizer_D.param_groups:
                group['lr'] = d_lr
            print(f'update learning rate: {self.lr:f} -> {new_lr:f}')
            self.lr = new_lr

    def state_dict(self):
        return {'optimizer_G': optimizer_state(self.optimizer_G), 'optimizer_D': optimizer_state(self.optimizer_D),
                'scaler_G': self.scaler_G.state_dict(), 'scaler_D': self.scaler_D.state_dict(), 'lr': self.lr}

    def load_state_dict(self, state):
        load_optimizer_state(self.optimizer_G, state['optimizer_G'])
        load_optimizer_state(self.optimizer_D, state['optimizer_D'])
        for name in ('scaler_G', 'scaler_D'):
            if state.get(name):
                getattr(self, name).load_state_dict(state[name])
        self.lr = state['lr']


def optimizer_state(optimizer):
    """What resuming needs of an Adam optimizer. With beta1 = 0 (the TTUR default) the first moment is
    the last gradient, and the next step overwrites it without reading it (lerp with weight 1), so it
    is not saved: the training state is half the size."""
    state = optimizer.state_dict()
    if all(group.get('betas', (1.0,))[0] == 0 for group in state['param_groups']):
        state['state'] = {k: {n: v for n, v in s.items() if n != 'exp_avg'} for k, s in state['state'].items()}
    return state


def load_optimizer_state(optimizer, state):
    for s in state['state'].values():
        if 'exp_avg_sq' in s and 'exp_avg' not in s:
            s['exp_avg'] = torch.zeros_like(s['exp_avg_sq'])
    optimizer.load_state_dict(state)
