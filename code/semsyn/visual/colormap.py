"""Label colours: SPADE's colormap, and label maps / one-hot semantics turned into RGB images."""
import numpy as np
import torch

# Cityscapes colours for its 35 label ids (SPADE util.labelcolormap(35)); ids 0-4 (void) are black.
_CITYSCAPES = np.array([
    (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (111, 74, 0), (81, 0, 81),
    (128, 64, 128), (244, 35, 232), (250, 170, 160), (230, 150, 140), (70, 70, 70),
    (102, 102, 156), (190, 153, 153), (180, 165, 180), (150, 100, 100), (150, 120, 90),
    (153, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35),
    (152, 251, 152), (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70),
    (0, 60, 100), (0, 0, 90), (0, 0, 110), (0, 80, 100), (0, 0, 230), (119, 11, 32), (0, 0, 142),
], dtype=np.uint8)


def labelcolormap(n):
    """[n, 3] uint8 colours, as SPADE: Cityscapes colours for n == 35, else the bit-interleaving map.

    The generic map spreads the bits of (id + 1) over the high bits of R, G, B (id + 1 so that class 0
    is not black); colours are distinct for n < 2**21.
    """
    if n == 35:
        return _CITYSCAPES.copy()
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r = g = b = 0
        cid = i + 1
        for j in range(7):
            r |= (cid & 1) << (7 - j)
            g |= ((cid >> 1) & 1) << (7 - j)
            b |= ((cid >> 2) & 1) << (7 - j)
            cid >>= 3
        cmap[i] = (r, g, b)
    return cmap


def colorize_label(label, n_classes):
    """HxW integer label map (numpy, or torch [H,W]/[1,H,W]) -> HxWx3 uint8.

    Ids outside [0, n_classes) (the dontcare class) are black.
    """
    if isinstance(label, torch.Tensor):
        label = label.detach().cpu().numpy()
    label = np.asarray(label)
    if label.ndim == 3 and label.shape[0] == 1:
        label = label[0]
    if label.ndim != 2:
        raise ValueError(f'expected an HxW or 1xHxW label map, got shape {label.shape}')
    label = label.astype(np.int64)
    lut = labelcolormap(n_classes)[:n_classes]
    out = np.zeros(label.shape + (3,), dtype=np.uint8)
    valid = (label >= 0) & (label < n_classes)
    out[valid] = lut[label[valid]]
    return out
