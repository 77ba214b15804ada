"""OASIS's adversarial losses (boschresearch/OASIS models/losses.py, models/models.py): per-pixel
N+1 cross-entropy against a segmentation discriminator (channel 0 = fake, class k -> channel k+1),
class-balanced for real targets, and the LabelMix consistency regulariser."""
import torch
import torch.nn.functional as F


def class_balancing_weights(label, balancing=True):
    """Per-pixel weights [B, H, W] from the one-hot ``label`` [B, C, H, W]: w_c = B*H*W / (K * occ_c)
    over the whole batch, K the number of present classes, the dontcare class 0 weighted 0."""
    if not balancing:
        return torch.ones_like(label[:, 0])
    class_occurence = torch.sum(label, dim=(0, 2, 3))
    class_occurence[0] = 0
    num_of_classes = (class_occurence > 0).sum()
    coefficients = torch.reciprocal(class_occurence) * torch.numel(label) / (num_of_classes * label.shape[1])
    integers = torch.argmax(label, dim=1, keepdim=True)
    coefficients[0] = 0
    return coefficients[integers][:, 0]


def n1_target(label, for_real):
    """Target channel per pixel: class k + 1 for real pixels, 0 for fake ones."""
    if not for_real:
        return torch.zeros_like(label[:, 0], dtype=torch.long)
    return torch.argmax(label, dim=1) + 1


def oasis_loss(logits, label, for_real, balancing=True):
    """Mean over all pixels of the N+1 cross-entropy, class-balanced when ``for_real``."""
    weight_map = class_balancing_weights(label, balancing) if for_real else torch.ones_like(label[:, 0])
    loss = F.cross_entropy(logits, n1_target(label, for_real), reduction='none')
    return torch.mean(loss * weight_map)


def labelmix_mask(label, coin):
    """The original's mask [B, 1, H, W]: for each class present in the batch, ascending, its pixels
    of the (in-place updated) argmax map get ``coin()`` (0 or 1) — so class-0 pixels drawing 1 take
    class 1's coin, as in the original."""
    target_map = torch.argmax(label, dim=1, keepdim=True)
    all_classes = torch.unique(target_map)
    for c in all_classes:
        target_map[target_map == c] = coin()
    return target_map.float()


def labelmix(mask, fake_image, real_image):
    return mask * real_image + (1 - mask) * fake_image


def labelmix_loss(mask, output_D_mixed, output_D_fake, output_D_real):
    """MSE between D(mixed) and the same mix of D(real) and D(fake); nothing detached."""
    mixed_D_output = mask * output_D_real + (1 - mask) * output_D_fake
    return F.mse_loss(output_D_mixed, mixed_D_output)


def default_coin(device):
    return lambda: torch.randint(0, 2, (1,), device=device)
