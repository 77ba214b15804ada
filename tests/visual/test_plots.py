import math
import xml.etree.ElementTree as ET

import pytest

from semsyn.visual import loss_curves_svg

NS = '{http://www.w3.org/2000/svg}'


def _polylines(svg):
    root = ET.fromstring(svg)
    assert root.tag == NS + 'svg'
    out = {}
    for pl in root.iter(NS + 'polyline'):
        pts = [tuple(map(float, p.split(','))) for p in pl.get('points').split()]
        out[pl.get('data-name')] = pts
    return root, out


def test_one_polyline_per_name_with_legend_and_ticks():
    history = [(i / 4, {'G_GAN': 2.0 - i * 0.1, 'G_VGG': 5.0 + i, 'D_real': 0.7}) for i in range(8)]
    root, lines = _polylines(loss_curves_svg(history, width=500, height=200))
    assert list(lines) == ['G_GAN', 'G_VGG', 'D_real']
    assert all(len(p) == 8 for p in lines.values())
    assert root.get('width') == '500' and root.get('height') == '200'
    texts = [t.text for t in root.iter(NS + 'text')]
    for name in lines:
        assert name in texts
    assert '0' in texts and '1.75' in texts  # x min / max
    assert '0.7' in texts and '12' in texts  # y min / max
    for pts in lines.values():  # inside the canvas, x increasing
        assert all(0 <= x <= 500 and 0 <= y <= 200 for x, y in pts)
        assert [x for x, _ in pts] == sorted(x for x, _ in pts)
    # larger loss is drawn higher (smaller SVG y)
    assert lines['G_VGG'][-1][1] < lines['D_real'][-1][1]


def test_nan_inf_and_missing_names_are_skipped():
    history = [
        (0.0, {'a': 1.0, 'b': 2.0}),
        (0.5, {'a': float('nan'), 'b': float('inf')}),
        (1.0, {'a': 3.0}),
        (1.5, {'a': -math.inf, 'b': 1.0, 'c': None}),
        (float('nan'), {'a': 9.0}),
    ]
    root, lines = _polylines(loss_curves_svg(history))
    assert len(lines['a']) == 2 and len(lines['b']) == 2
    assert lines['c'] == []  # name seen but never finite: empty line, still in the legend
    for pts in lines.values():
        assert all(math.isfinite(v) for p in pts for v in p)


def test_single_point_and_constant():
    root, lines = _polylines(loss_curves_svg([(3.0, {'G': 0.0})]))
    (x, y), = lines['G']
    assert math.isfinite(x) and math.isfinite(y)
    assert len(list(root.iter(NS + 'circle'))) == 1


@pytest.mark.parametrize('history', [[], [(0.0, {})], [(0.0, {'a': float('nan')})]])
def test_no_data(history):
    root, lines = _polylines(loss_curves_svg(history))
    assert 'no data' in [t.text for t in root.iter(NS + 'text')]


def test_names_are_escaped():
    root, lines = _polylines(loss_curves_svg([(0, {'a<&"b': 1.0}), (1, {'a<&"b': 2.0})]))
    assert list(lines) == ['a<&"b']
