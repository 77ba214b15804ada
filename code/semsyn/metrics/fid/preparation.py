"""How an image becomes the Inception network's 299x299 input in [-1, 1]: the two preparations of the
field, on the same network and weights.

- ``pytorch-fid``: the uint8 image as float in [0, 1], resized bilinear (``F.interpolate``,
  align_corners=False) to 299, then ``2x - 1`` (pytorch-fid's InceptionV3 with resize_input and
  normalize_input; what semsyn's FID does).
- ``torch-fidelity``: the uint8 values as float, resized by TensorFlow 1.x's bilinear rule (source
  coordinate ``i * in / out``, no half-pixel offset, clamped at the border; torch-fidelity's
  ``interpolate_bilinear_2d_like_tensorflow1x``, 'slow' method), then ``(x - 128) / 128``.

The two resizes differ, so FID and KID on the same images differ by a few percent between them; a
protocol says which one it uses."""
import numpy as np
import torch

INCEPTION_SIZE = 299
PREPARATIONS = ('pytorch-fid', 'torch-fidelity')


def tf1_bilinear(x: torch.Tensor, size) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear`` (align_corners=False) of a float [B, C, H, W] batch."""
    out_h, out_w = int(size[0]), int(size[1])
    in_h, in_w = x.shape[2], x.shape[3]

    def taps(n_out, n_in):
        pos = torch.arange(n_out, dtype=x.dtype, device=x.device) * torch.tensor(n_in / n_out, dtype=torch.float32)
        lo = pos.long()
        return lo, (lo + 1).clamp_max(n_in - 1), pos - lo.to(x.dtype)

    y_lo, y_hi, dy = taps(out_h, in_h)
    x_lo, x_hi, dx = taps(out_w, in_w)
    top, bottom = x[:, :, y_lo, :], x[:, :, y_hi, :]
    top = top[..., x_lo] + (top[..., x_hi] - top[..., x_lo]) * dx.view(1, 1, 1, -1)
    bottom = bottom[..., x_lo] + (bottom[..., x_hi] - bottom[..., x_lo]) * dx.view(1, 1, 1, -1)
    return top + (bottom - top) * dy.view(1, 1, -1, 1)


def prepare(images, method: str = 'pytorch-fid') -> torch.Tensor:
    """uint8 [B, H, W, 3] (array or tensor) -> float32 [B, 3, 299, 299] in [-1, 1] as `method` prepares it."""
    x = torch.as_tensor(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    if x.dtype != torch.uint8:
        raise ValueError(f'Inception preparation expects uint8 images, got {x.dtype}')
    x = x.float()
    if method == 'pytorch-fid':
        x = torch.nn.functional.interpolate(x / 255, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode='bilinear',
                                            align_corners=False)
        return 2 * x - 1
    if method == 'torch-fidelity':
        return (tf1_bilinear(x, (INCEPTION_SIZE, INCEPTION_SIZE)) - 128) / 128
    raise ValueError(f'unknown Inception preparation {method!r}; choices: {", ".join(PREPARATIONS)}')
