import numpy as np
import pytest
import torch

from semsyn.visual import colorize_label, labelcolormap


def _spade_reference(n):
    """SPADE util.labelcolormap (generic branch), verbatim logic, to pin the bit interleaving."""
    def uint82bin(v, count=8):
        return ''.join(str((v >> y) & 1) for y in range(count - 1, -1, -1))
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r, g, b = 0, 0, 0
        cid = i + 1
        for j in range(7):
            s = uint82bin(cid)
            r = r ^ (int(s[-1]) << (7 - j))
            g = g ^ (int(s[-2]) << (7 - j))
            b = b ^ (int(s[-3]) << (7 - j))
            cid = cid >> 3
        cmap[i] = (r, g, b)
    return cmap


def test_cityscapes_colours():
    cmap = labelcolormap(35)
    assert cmap.shape == (35, 3) and cmap.dtype == np.uint8
    assert tuple(cmap[0]) == (0, 0, 0)
    assert tuple(cmap[7]) == (128, 64, 128)   # road
    assert tuple(cmap[8]) == (244, 35, 232)   # sidewalk
    assert tuple(cmap[24]) == (220, 20, 60)   # person
    assert tuple(cmap[26]) == (0, 0, 142)     # car
    assert tuple(cmap[33]) == (119, 11, 32)   # bicycle


@pytest.mark.parametrize('n', [151, 183])
def test_generic_colours_distinct_and_match_spade(n):
    cmap = labelcolormap(n)
    assert cmap.shape == (n, 3) and cmap.dtype == np.uint8
    assert len({tuple(c) for c in cmap}) == n
    np.testing.assert_array_equal(cmap, _spade_reference(n))
    assert tuple(cmap[0]) == (128, 0, 0)  # class 0 is not black
    assert not (cmap == 0).all(axis=1).any()


def test_colorize_label_numpy_and_out_of_range():
    n = 151
    cmap = labelcolormap(n)
    label = np.array([[0, 1, 2], [150, 151, 255], [-1, 7, 0]])
    rgb = colorize_label(label, n)
    assert rgb.shape == (3, 3, 3) and rgb.dtype == np.uint8
    for (i, j), v in np.ndenumerate(label):
        want = cmap[v] if 0 <= v < n else np.zeros(3, np.uint8)
        np.testing.assert_array_equal(rgb[i, j], want)


@pytest.mark.parametrize('shape', [(1, 4, 5), (4, 5)])
def test_colorize_label_torch(shape):
    label = torch.randint(0, 36, shape)  # 35 = dontcare -> black
    rgb = colorize_label(label, 35)
    assert rgb.shape == (4, 5, 3)
    flat = label.reshape(4, 5).numpy()
    cmap = labelcolormap(35)
    for (i, j), v in np.ndenumerate(flat):
        want = cmap[v] if v < 35 else (0, 0, 0)
        assert tuple(rgb[i, j]) == tuple(want)


def test_colorize_label_rejects_batches():
    with pytest.raises(ValueError):
        colorize_label(np.zeros((2, 4, 4), np.int64), 10)
