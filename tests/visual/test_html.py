import os
from html.parser import HTMLParser

import numpy as np

from semsyn.visual import HTMLPage, loss_curves_svg, save_image


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    p = _Collect()
    with open(path, encoding='utf-8') as f:
        p.feed(f.read())
    p.close()
    return p


def test_page_images_links_tables_svg(tmp_path):
    web = tmp_path / 'web'
    page = HTMLPage(str(web), 'run <1>', refresh=5)
    assert os.path.isdir(page.image_dir) and page.image_dir == str(web / 'images')
    names = ['epoch001_real.png', 'epoch001_fake.png']
    for n in names:
        save_image(np.zeros((4, 4, 3), np.uint8), os.path.join(page.image_dir, n))
    page.add_header('epoch 1')
    page.add_images(names, ['real & image', 'fake'], names, width=128)
    page.add_text('FID 12.5')
    page.add_table([['fid', 12.3456789], ['miou', 0.5]], header=['metric', 'value'])
    page.add_svg('<?xml version="1.0"?>\n' + loss_curves_svg([(0.0, {'G': 1.0}), (1.0, {'G': 0.5})]))
    out = page.save()
    assert out == str(web / 'index.html')
    assert sorted(os.listdir(web)) == ['images', 'index.html']

    p = _parse(out)
    imgs = [a for t, a in p.attrs if t == 'img']
    links = [a for t, a in p.attrs if t == 'a']
    assert [a['src'] for a in imgs] == ['images/' + n for n in names]
    assert [a['href'] for a in links] == ['images/' + n for n in names]
    for a in imgs + links:
        ref = a.get('src') or a.get('href')
        assert not os.path.isabs(ref) and (web / ref).is_file()
    assert 'width:128px' in imgs[0]['style']
    assert ('meta', {'http-equiv': 'refresh', 'content': '5'}) in p.attrs
    text = ''.join(p.text)
    assert 'run <1>' in text and 'real & image' in text and 'epoch 1' in text
    assert '12.35' in text and '12.3456789' not in text
    assert p.tags.count('th') == 2 and p.tags.count('polyline') == 1
    assert '<?xml' not in open(out, encoding='utf-8').read()


def test_links_default_to_images_and_absolute_paths(tmp_path):
    page = HTMLPage(tmp_path, 'x')
    abs_im = os.path.join(page.image_dir, 'sub', 'a.png')
    save_image(np.zeros((2, 2), np.uint8), abs_im)
    page.add_images([abs_im], ['a'], None)
    p = _parse(page.save('page.html'))
    assert [a['src'] for t, a in p.attrs if t == 'img'] == ['images/sub/a.png']
    assert [a['href'] for t, a in p.attrs if t == 'a'] == ['images/sub/a.png']
    assert not any(t == 'meta' and a.get('http-equiv') for t, a in p.attrs)


def test_save_overwrites_without_temp_files(tmp_path):
    page = HTMLPage(tmp_path, 'x')
    page.save()
    page.add_text('second')
    page.save()
    assert sorted(os.listdir(tmp_path)) == ['images', 'index.html']
    assert 'second' in (tmp_path / 'index.html').read_text(encoding='utf-8')
