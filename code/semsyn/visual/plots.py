"""Loss curves as a standalone SVG string (no matplotlib), for embedding in the results page."""
import math
from xml.sax.saxutils import escape, quoteattr

# tab10: distinguishable, and the colours people expect from loss plots
_PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
            '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']


def _finite(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _series(history):
    """{name: [(x, y), ...]} in first-seen name order, finite points only, sorted by x."""
    series = {}
    for x, losses in history:
        fx = _finite(x)
        for name, v in losses.items():
            pts = series.setdefault(str(name), [])
            fy = _finite(v)
            if fx is not None and fy is not None:
                pts.append((fx, fy))
    for pts in series.values():
        pts.sort(key=lambda p: p[0])
    return series


def _span(lo, hi):
    """Widen a degenerate range (one point, or a constant loss) so scaling never divides by zero."""
    if hi > lo:
        return lo, hi
    pad = abs(lo) * 0.05 or 0.5
    return lo - pad, hi + pad


def loss_curves_svg(history, width=640, height=240):
    """One polyline per loss name over x (fractional epoch); NaN/inf and missing values are skipped.

    ``history`` is a list of ``(x, {name: value})``. Axes carry min/max tick labels; a legend sits
    on the right. Each polyline has ``data-name`` set to its loss name.
    """
    series = _series(history)
    left, right, top, bottom = 56, 130, 12, 34
    px0, px1, py0, py1 = left, width - right, top, height - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
           f'<rect x="{px0}" y="{py0}" width="{px1 - px0}" height="{py1 - py0}" '
           'fill="none" stroke="#444" stroke-width="1"/>']
    pts_all = [p for pts in series.values() for p in pts]
    if not pts_all:
        out.append(f'<text x="{(px0 + px1) / 2:.1f}" y="{(py0 + py1) / 2:.1f}" '
                   'text-anchor="middle" fill="#888">no data</text>')
    else:
        xlo, xhi = _span(min(p[0] for p in pts_all), max(p[0] for p in pts_all))
        ylo, yhi = _span(min(p[1] for p in pts_all), max(p[1] for p in pts_all))

        def sx(x):
            return px0 + (x - xlo) / (xhi - xlo) * (px1 - px0)

        def sy(y):
            return py1 - (y - ylo) / (yhi - ylo) * (py1 - py0)

        out += [f'<text x="{px0 - 4}" y="{py1}" text-anchor="end">{ylo:.3g}</text>',
                f'<text x="{px0 - 4}" y="{py0 + 9}" text-anchor="end">{yhi:.3g}</text>',
                f'<text x="{px0}" y="{py1 + 14}" text-anchor="middle">{xlo:.3g}</text>',
                f'<text x="{px1}" y="{py1 + 14}" text-anchor="middle">{xhi:.3g}</text>',
                f'<text x="{(px0 + px1) / 2:.1f}" y="{py1 + 28}" text-anchor="middle">epoch</text>']
    for k, (name, pts) in enumerate(series.items()):
        color = _PALETTE[k % len(_PALETTE)]
        coords = ' '.join(f'{sx(x):.2f},{sy(y):.2f}' for x, y in pts)
        out.append(f'<polyline data-name={quoteattr(name)} points="{coords}" fill="none" '
                   f'stroke="{color}" stroke-width="1.5"/>')
        if len(pts) == 1:  # a one-point polyline draws nothing; mark the point
            out.append(f'<circle cx="{sx(pts[0][0]):.2f}" cy="{sy(pts[0][1]):.2f}" r="2.5" fill="{color}"/>')
        ly = top + 8 + 16 * k
        out += [f'<line x1="{px1 + 10}" y1="{ly}" x2="{px1 + 28}" y2="{ly}" stroke="{color}" stroke-width="2"/>',
                f'<text x="{px1 + 32}" y="{ly + 4}">{escape(name)}</text>']
    out.append('</svg>')
    return '\n'.join(out)
