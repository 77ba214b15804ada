"""OASIS's first training iteration replayed from the original's train fixture
(../shared/reference/oasis/train_fixtures): the G and D losses of the first G and D steps within
1e-5 x max(|ref|, 1), and their first-step gradients within the fixture's grad tolerances
(relative L2 per tensor, on the stored samples for large tensors), with the original's draws."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from semsyn.models.discriminators.oasis import OASISDiscriminator
from semsyn.models.generators.oasis import OASISGenerator
from semsyn.models.losses_oasis import labelmix, labelmix_loss, labelmix_mask, oasis_loss
from tests.conftest import REFERENCE, require

FIXTURES = REFERENCE / 'oasis' / 'train_fixtures'


def _paths():
    return sorted(FIXTURES.glob('train_oasis_*.pt')) if FIXTURES.exists() else [None]


def _flat(grad, ref):
    if isinstance(ref, dict):
        return grad.reshape(-1)[ref['offset']::ref['stride']], ref['values'].reshape(-1)
    return grad.reshape(-1), ref.reshape(-1)


def _check_grads(net, refs, tol):
    grads = {k: p.grad for k, p in net.named_parameters()}
    peak = max((r['max_abs'] if isinstance(r, dict) else r.abs().max().item()) for r in refs.values())
    worst = 0.0
    for key, ref in refs.items():
        ours, theirs = _flat(grads[key], ref)
        ref_max = ref['max_abs'] if isinstance(ref, dict) else theirs.abs().max().item()
        if ref_max > 1e-6 * peak:
            worst = max(worst, ((ours - theirs).norm() / theirs.norm()).item())
        else:
            assert (ours - theirs).abs().max().item() <= 1e-5 * peak, key
    assert worst <= tol
    return worst


@pytest.mark.parametrize('path', _paths(), ids=lambda p: getattr(p, 'stem', 'none'))
def test_first_iteration(path):
    require(FIXTURES, 'OASIS train fixtures')
    fx = torch.load(path, weights_only=True)
    opt = SimpleNamespace(**fx['options'])
    tol = fx['pass_rule']['tolerances']
    net_g, net_d = OASISGenerator(opt), OASISDiscriminator(opt)
    net_g.load_state_dict(fx['state_dict_initial']['G'], strict=True)
    net_d.load_state_dict(fx['state_dict_initial']['D'], strict=True)
    net_g.train(), net_d.train()
    draws = iter(d for d in fx['draws'] if d['net'] in ('netG', None))
    batch = fx['batches'][0]
    image = batch['image']
    label = F.one_hot(batch['label'][:, 0].long(), opt.semantic_nc).permute(0, 3, 1, 2).float()
    balancing = not opt.no_balancing_inloss
    opt_g = torch.optim.Adam(net_g.parameters(), lr=opt.lr_g, betas=(opt.beta1, opt.beta2))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=opt.lr_d, betas=(opt.beta1, opt.beta2))

    # G step
    net_g.zero_grad()
    loss_g = oasis_loss(net_d(net_g(label, z=next(draws)['value'])), label, True, balancing)
    loss_g.backward()
    ref = fx['losses'][0]['Generator']
    assert abs(loss_g.item() - ref) <= 1e-5 * max(abs(ref), 1)
    print('worst grad/G', _check_grads(net_g, fx['grads']['G'], tol['grad/G']), tol['grad/G'])
    opt_g.step()

    # D step
    net_d.zero_grad()
    with torch.no_grad():
        fake = net_g(label, z=next(draws)['value'])
    out_fake = net_d(fake)  # D runs three times (fake, real, mixed): each call is a power iteration
    loss_fake = oasis_loss(out_fake, label, False, balancing)
    out_real = net_d(image)
    loss_real = oasis_loss(out_real, label, True, balancing)
    mask = labelmix_mask(label, lambda: next(draws)['value'])
    mixed = labelmix(mask, fake, image)
    loss_lm = opt.lambda_labelmix * labelmix_loss(mask, net_d(mixed), out_fake, out_real)
    ref = fx['losses'][1]
    for name, ours in (('D_fake', loss_fake), ('D_real', loss_real), ('LabelMix', loss_lm)):
        dev = abs(ours.item() - ref[name]) / max(abs(ref[name]), 1)
        print('loss/2', name, dev, tol['loss/2'])
        assert dev <= tol['loss/2'], name
    (loss_fake + loss_real + loss_lm).backward()
    print('worst grad/D', _check_grads(net_d, fx['grads']['D'], tol['grad/D']), tol['grad/D'])
    opt_d.step()
