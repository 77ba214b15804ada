"""Losses against their definitions, and the VGG weights policy (never silent random weights)."""
import pytest
import torch
import torchvision

from semsyn.errors import UserError
from semsyn.models.losses import GANLoss, VGGLoss, feature_matching_loss, kld_loss
from semsyn.models.vgg import VGG19Features, load_vgg19_state_dict


def test_hinge_loss_values():
    x = torch.tensor([[-2.0, 0.5, 3.0]])
    gan = GANLoss('hinge')
    assert gan(x, True, for_discriminator=True).item() == pytest.approx((3.0 + 0.5 + 0.0) / 3)
    assert gan(x, False, for_discriminator=True).item() == pytest.approx((0.0 + 1.5 + 4.0) / 3)
    assert gan(x, True, for_discriminator=False).item() == pytest.approx(-1.5 / 3)
    with pytest.raises(ValueError):
        gan(x, False, for_discriminator=False)


def test_other_gan_modes():
    x = torch.tensor([0.0, 2.0])
    assert GANLoss('ls')(x, True).item() == pytest.approx((1 + 1) / 2)
    assert GANLoss('w')(x, True).item() == pytest.approx(-1.0)
    assert GANLoss('w')(x, False).item() == pytest.approx(1.0)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(x, torch.zeros(2))
    assert GANLoss('original')(x, False).item() == pytest.approx(bce.item())


def test_multiscale_gan_loss_averages_over_discriminators():
    preds = [torch.tensor([[1.0]]), torch.tensor([[3.0, 3.0]])]
    assert GANLoss('w')(preds, True).item() == pytest.approx(-2.0)


def test_feature_matching_weights_and_detaches_real():
    fake = [[torch.zeros(1, 2)], [torch.zeros(1, 2)]]
    real = [[torch.ones(1, 2, requires_grad=True)], [torch.full((1, 2), 3.0)]]
    loss = feature_matching_loss(fake, real, lambda_feat=10.0)
    assert loss.item() == pytest.approx(10.0 / 2 * (1 + 3))
    assert not loss.requires_grad


def test_kld_zero_for_standard_normal():
    assert kld_loss(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0
    assert kld_loss(torch.ones(1, 3), torch.zeros(1, 3)).item() == pytest.approx(1.5)


def test_vgg_missing_weights_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    with pytest.raises(UserError) as exc:
        load_vgg19_state_dict()
    msg = str(exc.value)
    assert 'vgg19-dcbb9e9d.pth' in msg and str(tmp_path) in msg and '--no_vgg_loss' in msg and '\n' not in msg
    with pytest.raises(UserError, match='not found'):
        load_vgg19_state_dict(str(tmp_path / 'nope.pth'))


def test_vgg_loads_a_weights_file_from_the_hub_cache(tmp_path, monkeypatch):
    torch.manual_seed(0)
    sd = torchvision.models.vgg19(weights=None).state_dict()
    (tmp_path / 'checkpoints').mkdir()
    torch.save(sd, tmp_path / 'checkpoints' / 'vgg19-dcbb9e9d.pth')
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    vgg = VGG19Features()
    assert torch.equal(vgg.slices[0][0].weight, sd['features.0.weight'])
    feats = vgg(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    loss = VGGLoss(state_dict=sd)
    x = torch.rand(1, 3, 32, 32)
    assert loss(x, x).item() == 0 and loss(x, torch.rand(1, 3, 32, 32)).item() > 0
    vgg.train()
    assert not vgg.training and not any(p.requires_grad for p in vgg.parameters())


def test_vgg_wrong_file_is_user_error(tmp_path):
    bad = tmp_path / 'bad.pth'
    torch.save({'x': torch.zeros(1)}, bad)
    with pytest.raises(UserError, match='do not match'):
        VGG19Features(str(bad))
