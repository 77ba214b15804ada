"""A static results page (SPADE's util/html.py, built with dominate, written atomically)."""
import os
import posixpath

import dominate
from dominate import tags
from dominate.util import raw

from ..fileio import atomic_write_text


def _cell(value):
    # metrics tables get floats; a fixed number of significant digits keeps columns readable
    if isinstance(value, float):
        return f'{value:.4g}'
    return str(value)


class HTMLPage:
    """``web_dir/index.html`` with images under ``web_dir/images/``; all links relative to web_dir."""

    def __init__(self, web_dir, title, refresh=0):
        self.web_dir = os.fspath(web_dir)
        self.title = title
        self.image_dir = os.path.join(self.web_dir, 'images')
        os.makedirs(self.image_dir, exist_ok=True)
        self.doc = dominate.document(title=title)
        if refresh > 0:
            with self.doc.head:
                tags.meta(http_equiv='refresh', content=str(int(refresh)))
        with self.doc:
            tags.h1(title)

    def _href(self, path):
        """Names are relative to images/ (as in SPADE); absolute paths are made relative to web_dir."""
        path = os.fspath(path)
        if os.path.isabs(path):
            rel = os.path.relpath(path, os.path.abspath(self.web_dir))
        else:
            rel = os.path.join('images', path)
        return posixpath.join(*rel.split(os.sep))  # URLs use '/', also on Windows

    def add_header(self, text):
        with self.doc:
            tags.h3(text)

    def add_text(self, text):
        with self.doc:
            tags.p(text)

    def add_images(self, ims, txts=None, links=None, width=256):
        """One table row: each image with its caption below, linking to ``links[i]`` (default: itself)."""
        txts = list(txts) if txts is not None else [''] * len(ims)
        links = list(links) if links is not None else list(ims)
        if not len(ims) == len(txts) == len(links):
            raise ValueError(f'add_images: {len(ims)} images, {len(txts)} captions, {len(links)} links')
        with self.doc:
            with tags.table(border=1, style='table-layout: fixed;'):
                with tags.tr():
                    for im, txt, link in zip(ims, txts, links):
                        with tags.td(style='word-wrap: break-word;', halign='center', valign='top'):
                            with tags.p():
                                with tags.a(href=self._href(link)):
                                    tags.img(style=f'width:{int(width)}px', src=self._href(im))
                                tags.br()
                                tags.span(str(txt))

    def add_table(self, rows, header=None):
        """A plain table (e.g. metrics); ``header`` is an optional first row of column names."""
        with self.doc:
            with tags.table(border=1, style='border-collapse: collapse;'):
                if header is not None:
                    with tags.tr():
                        for h in header:
                            tags.th(str(h))
                for row in rows:
                    with tags.tr():
                        for v in row:
                            tags.td(_cell(v))

    def add_svg(self, svg_text):
        """Embed an SVG inline; an XML declaration is dropped since it is not allowed inside HTML."""
        svg_text = svg_text.strip()
        if svg_text.startswith('<?xml'):
            svg_text = svg_text[svg_text.index('?>') + 2:].lstrip()
        with self.doc:
            tags.div(raw(svg_text))

    def save(self, filename='index.html'):
        path = os.path.join(self.web_dir, filename)
        atomic_write_text(path, self.doc.render())
        return path
