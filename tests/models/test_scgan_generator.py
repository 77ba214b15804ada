"""SCGAN generator (--netG scg) and its encoder: outputs, options, routing wiring, training step.
Numerical equality with the original is in test_fixtures.py (scgan_G_*)."""
import pytest
import torch

from semsyn.errors import UserError
from semsyn.models import create_network
from semsyn.models.encoder import ConvEncoder, SCGANConvEncoder
from semsyn.models.ops.spatial_conditional import channel_pool, routing_activation
from semsyn.options import make_options
from tests.conftest import REFERENCE, require

SMALL = {'netG': 'scg', 'dataset_mode': 'ade20k', 'label_nc': 5, 'crop_size': 64, 'ngf': 4, 'nrf': 4, 'nff': 4,
         'num_experts_conv': 3, 'num_experts_norm': 2, 'temperature': 0.5, 'gpu_ids': '-1'}


def _seg(n=2, c=6, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, c, (n, 1, size // 8, size // 8), generator=g)
    label = label.repeat_interleave(8, 2).repeat_interleave(8, 3)
    return torch.zeros(n, c, size, size).scatter_(1, label, 1.0)


def test_scg_option_defaults():
    opt = make_options({'netG': 'scg', 'gpu_ids': '-1'})
    assert opt.norm_G == 'spectralsccsyncbatch3x3'
    assert opt.nef == -1
    assert make_options({'netG': 'scg', 'norm_G': 'spectralsccinstance3x3', 'gpu_ids': '-1'}).norm_G == \
        'spectralsccinstance3x3'


def test_outputs_shapes_and_ranges():
    torch.manual_seed(0)
    net = create_network('G', SMALL).eval()
    seg = _seg()
    with torch.no_grad():
        image, routing_image, raw = net(seg)
    assert image.shape == routing_image.shape == (2, 3, 64, 64)
    assert image.abs().max() <= 1 and routing_image.abs().max() <= 1
    assert [tuple(r.shape) for r in raw] == [(2, 3, s, s) for s in (2, 4, 8, 16, 32, 64)]


def test_routing_weights_reach_the_blocks():
    """Every block gets act(pooled * temperature) of its level; G_middle_0 and G_middle_1 share level 1."""
    torch.manual_seed(0)
    net = create_network('G', {**SMALL, 'weight_type': 'sigmoid'}).eval()
    seen = {}
    names = ['head_0', 'G_middle_0', 'G_middle_1', 'up_0', 'up_1', 'up_2', 'up_3']
    for name in names:
        getattr(net, name).register_forward_pre_hook(lambda m, args, name=name: seen.__setitem__(name, args))
    seg = _seg()
    with torch.no_grad():
        _, _, raw = net(seg)
        features, _ = net.pyramid_spaital_routing(seg)
    levels = [0, 1, 1, 2, 3, 4, 5]
    for name, level in zip(names, levels):
        x, s, conv_w, norm_w = seen[name]
        assert s is seg
        torch.testing.assert_close(raw[level], channel_pool(features[level], 3))
        torch.testing.assert_close(conv_w, routing_activation(raw[level], 'sigmoid', 0.5))
        torch.testing.assert_close(norm_w, routing_activation(channel_pool(features[level], 2), 'sigmoid', 0.5))
        assert conv_w.shape[2:] == x.shape[2:]
    assert seen['G_middle_0'][2] is seen['G_middle_1'][2]


def test_state_dict_layout():
    net = create_network('G', SMALL, init=False)
    sd = net.state_dict()
    assert sd['head_0.norm_0.affine_params_groups'].shape == (2, 128)  # num_experts_norm x 2C
    assert [k for k in sd if k.startswith('head_0.conv_0.')] == [
        f'head_0.conv_0.conv_bases.{k}.{n}' for k in range(3) for n in ('weight_orig', 'weight_u', 'weight_v')]
    assert sd['up_0.conv_s.weight_orig'].shape == (32, 64, 3, 3) and 'up_0.conv_s.bias' in sd
    assert 'head_0.conv_s.bias' not in sd  # nff == ngf: no learned shortcut in the head
    assert next(iter(sd)).startswith('fc.') and list(sd)[2].startswith('pyramid_spaital_routing.labelDec1.')


def test_vae_input_and_head_shortcut():
    torch.manual_seed(0)
    opt = {**SMALL, 'use_vae': True, 'z_dim': 16, 'ngf': 6}
    net = create_network('G', opt).eval()
    assert net.fc.in_features == 16 and net.fc.out_features == 16 * 4 * 2 * 2  # 16 * nff * sw * sh
    assert net.head_0.learned_shortcut and net.head_0.conv_s.weight_orig.shape == (96, 64, 3, 3)
    seg = _seg()
    z = torch.randn(2, 16)
    with torch.no_grad():
        a = net(seg, z)[0]
        b = net(seg, z)[0]
        c = net(seg)[0]  # random z
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_variants_of_norm_G():
    inst = create_network('G', {**SMALL, 'norm_G': 'spectralsccinstance3x3'}, init=False)
    keys = set(inst.state_dict())
    assert not any('norm_0.param_free_norm' in k for k in keys)
    assert isinstance(inst.up_0.norm_s.param_free_norm, torch.nn.InstanceNorm2d)
    plain = create_network('G', {**SMALL, 'norm_G': 'sccsyncbatch3x3'}, init=False)
    keys = set(plain.state_dict())
    assert 'head_0.conv_0.conv_bases.0.weight' in keys and 'head_0.conv_0.conv_bases.0.weight_orig' not in keys
    assert 'up_0.conv_s.weight_orig' in keys  # the shortcut conv is always spectral
    with torch.no_grad():
        assert inst.eval()(_seg())[0].shape == (2, 3, 64, 64)
    for bad in ('spectralspadesyncbatch3x3', 'spectralsccfoo3x3', 'spectralinstance'):
        with pytest.raises(UserError, match='norm_G'):
            create_network('G', {**SMALL, 'norm_G': bad}, init=False)


@pytest.mark.parametrize('mode', ['more', 'most'])
def test_more_upsampling_is_refused(mode):
    with pytest.raises(UserError, match=f'--num_upsampling_layers {mode}: --netG scg supports normal'):
        create_network('G', {**SMALL, 'num_upsampling_layers': mode}, init=False)


def test_training_step_reaches_every_parameter():
    torch.manual_seed(0)
    net = create_network('G', {**SMALL, 'position': True, 'pyr_pos': True}).train()
    for p in net.parameters():  # away from the zero init so every path has a gradient
        p.data.add_(0.05 * torch.randn_like(p))
    image, routing_image, raw = net(_seg())
    (image.square().mean() + routing_image.abs().mean()).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    assert net.head_0.norm_0.param_free_norm.num_batches_tracked == 1


def test_channels_last_and_autocast():
    """Against the ade20k-like fixture network (realistic activations, not saturated)."""
    fixture = require(REFERENCE / 'fixtures' / 'scgan_G_ade20k_like.pt', 'reference fixtures')
    fx = torch.load(fixture, weights_only=True)
    net = create_network('G', fx['options']).eval()
    net.load_state_dict(fx['state_dict'])
    seg = fx['inputs']['input_semantics']
    ref = fx['outputs']['fake_image']
    with torch.no_grad():
        cl = net.to(memory_format=torch.channels_last)(seg.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(cl[0], ref, atol=1e-4, rtol=0)
        torch.testing.assert_close(cl[1], fx['outputs']['routing_image'], atol=1e-4, rtol=0)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            half = net(seg)[0]
    assert half.shape == ref.shape and (half.float() - ref).abs().mean() < 0.02


def test_encoder_for_scg_honours_nef_and_z_dim():
    base = {'netG': 'scg', 'crop_size': 256, 'ngf': 4, 'z_dim': 16, 'use_vae': True, 'gpu_ids': '-1'}
    enc = create_network('E', {**base, 'nef': 8})
    assert isinstance(enc, SCGANConvEncoder)
    assert enc.layer1[0].weight_orig.shape[0] == 8 and enc.fc_mu.out_features == 16
    enc = create_network('E', base)  # nef defaults to -1 with netG scg: the width of ngf
    assert enc.layer1[0].weight_orig.shape[0] == 4 and enc.fc_var.out_features == 16
    with torch.no_grad():
        mu, logvar = enc.eval()(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert mu.shape == logvar.shape == (2, 16)
    spade = create_network('E', {**base, 'netG': 'spade', 'nef': 8})  # SPADE's ignores nef and z_dim
    assert type(spade) is ConvEncoder
    assert spade.layer1[0].weight_orig.shape[0] == 4 and spade.fc_mu.out_features == 256


def test_default_configuration_builds():
    with torch.device('meta'):
        net = create_network('G', {'netG': 'scg', 'dataset_mode': 'ade20k', 'gpu_ids': '-1'}, init=False)
    assert net.fc.out_channels == 16 * 32  # default nff
