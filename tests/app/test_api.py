"""The painting page's server without a browser: the model's classes, synthesis of a painted PNG, uploads,
examples, bad input as a 400 with one line, one synthesis at a time, a page that loads nothing from
elsewhere."""
import json
import re
import threading
import time
import zlib
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from semsyn import Synthesizer
from semsyn.app import PaintingApp
from semsyn.app.painting import label_range_message
from semsyn.app.server import STATIC
from semsyn.data import DATASETS
from semsyn.data.base import LabelRangeError, prepare_label
from semsyn.data.palette import builtin
from semsyn.data.synthetic import SyntheticDataset
from semsyn.errors import UserError
from semsyn.options import resolve
from semsyn.training.loop import train
from tests.app.conftest import serve, stop
from tests.app.helpers import data_url, error_of, painted, painted_image, picture, png, request, two_classes

REPO = Path(__file__).resolve().parents[2]


def synthesize(served, ids, **fields):
    opt = served.app.synthesizer.opt
    return request(served.url + 'api/synthesize', {'label': data_url(painted(ids, opt)), **fields})


def test_info_lists_the_classes_in_the_semsyn_palette(served):
    status, content_type, body = request(served.url + 'api/info')
    assert status == 200 and content_type == 'application/json'
    info = json.loads(body)
    assert (info['width'], info['height'], info['use_vae'], info['name']) == (64, 64, True, 'tiny')
    palette = builtin('semsyn', 6, 'synthetic')
    colours = {cid: '#%02x%02x%02x' % rgb for rgb, cid in palette.entries}
    assert [c['id'] for c in info['classes']] == list(range(6))
    assert all(c['colour'] == colours[c['id']] for c in info['classes'])
    # synthetic classes: pairs of one colour told apart by their texture
    assert [c['name'] for c in info['classes'][:3]] == ['colour 1, flat', 'colour 1, stripes', 'colour 2, checkers']
    assert info['eraser']['id'] == 0 and info['eraser']['dontcare'] is False  # no dontcare class: class 0


def test_a_painted_png_gives_a_picture_of_the_models_size(served):
    status, content_type, body = synthesize(served, two_classes(64, 64, 0, 3), seed=1)
    assert status == 200 and content_type == 'image/png'
    first = picture(body)
    assert first.shape == (64, 64, 3)
    _, _, body = synthesize(served, two_classes(64, 64, 4, 1, split=0.25), seed=1)
    assert not np.array_equal(picture(body), first)


def test_a_raw_png_body_works_too(served):
    """curl --data-binary @map.png -H 'Content-Type: image/png' URL?seed=k"""
    opt = served.app.synthesizer.opt
    status, _, body = request(served.url + 'api/synthesize?seed=1', painted(two_classes(64, 64, 0, 3), opt),
                              content_type='image/png')
    assert status == 200
    _, _, same = synthesize(served, two_classes(64, 64, 0, 3), seed=1)
    assert np.array_equal(picture(body), picture(same))


def test_maps_of_any_size_give_pictures_of_their_size(served, tiny_synthesizer):
    opt = served.app.synthesizer.opt
    for w, h in ((128, 96), (40, 100), (30, 30)):
        ids = two_classes(w, h, 0, 3)
        status, _, body = synthesize(served, ids, seed=2)
        assert status == 200 and picture(body).shape == (h, w, 3)
        expected = tiny_synthesizer(painted_image(ids, opt), seed=2, palette='semsyn')
        assert np.array_equal(picture(body), np.asarray(expected))
        _, _, body = synthesize(served, ids, seed=2, output_size='model')
        assert picture(body).shape == (64, 64, 3)
        status, _, body = request(served.url + 'api/synthesize?seed=2&output_size=model', painted(ids, opt),
                                  content_type='image/png')
        assert status == 200 and picture(body).shape == (64, 64, 3)
    assert 'output_size' in error_of(*synthesize(served, two_classes(8, 8, 0, 3), output_size='huge'))


def test_errors_are_in_the_pages_words_not_the_command_lines(served, tmp_path):
    """The page's errors name what the page shows (classes, the style image), not options such as --label_nc;
    the command line and the Python API keep the options' words."""
    ids = np.full((8, 8), 2, np.uint8)
    ids[0, :3] = (6, 9, 200)
    for path, key in (('api/label_map', 'image'), ('api/synthesize', 'label')):
        message = error_of(*request(served.url + path, {key: data_url(png(ids))}))
        assert message == "label map: the values 6, 9, 200 are not among this model's classes (0 to 5)"
    status, _, body = request(served.url + 'api/synthesize?seed=1', png(ids), content_type='image/png')
    assert '--' not in error_of(status, _, body)
    with pytest.raises(UserError, match='--label_nc 6 without --contain_dontcare_label'):
        served.app.synthesizer(ids.astype(np.int64))

    # a model without a style code: the seed and the style image in the page's words
    train(resolve(['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '64',
                         '--ngf', '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1', '--nThreads',
                         '0', '--checkpoints_dir', str(tmp_path), '--name', 'plain']))
    app = PaintingApp(Synthesizer.from_checkpoint(tmp_path / 'plain'), 'plain')
    label = painted_image(two_classes(64, 64, 0, 3), app.synthesizer.opt)
    for kwargs, start in (({'seed': 3}, 'seed: this model takes none'), ({'style': label}, 'style image: this model '
                                                                                             'takes none')):
        with pytest.raises(UserError) as exc:
            app.synthesize(label, **kwargs)
        assert str(exc.value).startswith(start) and '--' not in str(exc.value)


def test_the_seed_and_the_style_image_pick_the_style(served, tiny_synthesizer):
    ids = two_classes(64, 64, 2, 5)
    one, again, other = (picture(synthesize(served, ids, seed=s)[2]) for s in (7, 7, 8))
    assert np.array_equal(one, again) and not np.array_equal(one, other)
    photo = png((np.random.default_rng(0).random((48, 40, 3)) * 255).astype(np.uint8))
    status, _, body = synthesize(served, ids, style=data_url(photo), seed=7)
    assert status == 200
    expected = tiny_synthesizer(painted_image(ids, tiny_synthesizer.opt), style=picture(photo), palette='semsyn')
    assert np.array_equal(picture(body), np.asarray(expected))


def test_a_colour_outside_the_palette_is_a_400_naming_the_colour_and_the_pixel(served):
    rgb = builtin('semsyn', 6, 'synthetic').to_rgb(two_classes(64, 64, 0, 1))
    rgb[9, 5] = (1, 2, 3)
    message = error_of(*request(served.url + 'api/synthesize', {'label': data_url(png(rgb))}))
    assert '(1, 2, 3)' in message and 'x=5, y=9' in message and 'semsyn palette' in message


@pytest.mark.parametrize('body,expected', [
    ({'label': 'bm90IGFuIGltYWdl', 'seed': 1}, 'label map: not an image'),
    ({'style': data_url(b'GIF89a nonsense')}, 'style image: not an image'),
    ({'seed': -1}, 'seed: expected an integer'),
    ({'seed': 'one'}, 'seed: expected an integer'),
    ({'label': None}, 'label map: no image data'),
    ({'label': 'data:image/png;base64,@@@'}, 'label map: not base64'),
])
def test_bad_input_is_a_400_with_one_line(served, body, expected):
    fields = {'label': data_url(painted(two_classes(64, 64, 0, 1), served.app.synthesizer.opt)), **body}
    assert expected in error_of(*request(served.url + 'api/synthesize', fields))


def test_a_label_map_too_large_is_refused_from_its_header(served):
    """More than 4x the model's area: a 400 before the pixels are decoded (the header's size decides: a
    PNG claiming 20000x20000 with no pixel data behind it gets the same answer)."""
    big = np.zeros((300, 300), np.uint8)
    message = error_of(*request(served.url + 'api/synthesize', {'label': data_url(png(big))}))
    assert message == 'label map: 300x300 pixels, more than this model takes (16384 pixels at most); make the ' \
                      'picture smaller'
    small = png(np.zeros((2, 2), np.uint8))  # its IHDR's size patched: the 2x2 pixel data stays
    ihdr = (9000).to_bytes(4, 'big') * 2 + small[24:29]
    claimed = small[:16] + ihdr + zlib.crc32(b'IHDR' + ihdr).to_bytes(4, 'big') + small[33:]
    assert '9000x9000 pixels' in error_of(*request(served.url + 'api/label_map', {'image': data_url(claimed)}))


def test_the_api_answers_405_to_the_wrong_method(served):
    assert request(served.url + 'api/synthesize')[0] == 405
    status, _, body = request(served.url + 'api/label_map')
    assert status == 405 and json.loads(body)['error'] == '/api/label_map: send the label map with POST'



def test_requests_that_are_not_json_or_go_nowhere(served):
    assert 'not JSON' in error_of(*request(served.url + 'api/synthesize', b'{label', content_type='text/plain'))
    assert 'JSON object' in error_of(*request(served.url + 'api/label_map', b'[1, 2]'))
    assert request(served.url + 'api/nothing')[0] == 404
    assert request(served.url + '../../etc/passwd')[0] == 404
    assert request(served.url + 'api/nothing', {})[0] == 404
    assert 'index' in error_of(*request(served.url + 'api/example?index=-1'))
    assert 'index' in error_of(*request(served.url + 'api/example?index=x'))


def test_uploads_become_class_ids_at_the_models_size(served):
    opt = served.app.synthesizer.opt
    ids = two_classes(32, 32, 5, 2)  # half the model's size: resized (nearest)
    expected = two_classes(64, 64, 5, 2).ravel().tolist()
    for image in (png(ids.astype(np.uint8)), painted(ids, opt)):  # a map of ids, a colour map
        status, _, body = request(served.url + 'api/label_map', {'image': data_url(image)})
        assert status == 200
        answer = json.loads(body)
        assert (answer['width'], answer['height'], answer['ids']) == (64, 64, expected)
    too_high = png(np.full((8, 8), 6, np.uint8))  # class ids of this model are 0..5
    assert error_of(*request(served.url + 'api/label_map', {'image': data_url(too_high)})) == \
        "label map: 6 is not one of this model's classes (0 to 5)"
    assert 'palette' in error_of(*request(served.url + 'api/label_map',
                                          {'image': data_url(painted(ids, opt)), 'palette': 'nope'}))


def test_examples_are_test_samples_of_the_synthetic_dataset(served):
    opt = served.app.synthesizer.opt
    _, _, body = request(served.url + 'api/example?index=2')
    answer = json.loads(body)
    expected = SyntheticDataset(opt).generate(2)[0]
    assert (answer['width'], answer['height']) == (64, 64)
    assert np.array_equal(np.array(answer['ids']).reshape(64, 64), expected)
    _, _, other = request(served.url + 'api/example?index=3')
    assert json.loads(other)['ids'] != answer['ids']


class CountingSynthesizer:
    """The tiny model, noting how many calls run at once (each one takes a while)."""

    def __init__(self, synthesizer):
        self.synthesizer, self.opt, self.size = synthesizer, synthesizer.opt, synthesizer.size
        self.running = self.most = 0
        self.count_lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.count_lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.2)  # long enough for the other requests to arrive
        try:
            return self.synthesizer(*args, **kwargs)
        finally:
            with self.count_lock:
                self.running -= 1


def test_one_synthesis_at_a_time(tiny_synthesizer):
    counting = CountingSynthesizer(tiny_synthesizer)
    server, thread = serve(PaintingApp(counting, 'tiny'))
    try:
        results = []
        requests = [threading.Thread(target=lambda s=s: results.append(synthesize(server, two_classes(64, 64, 0, s))))
                    for s in range(1, 5)]
        for r in requests:
            r.start()
        for r in requests:
            r.join()
    finally:
        stop(server, thread)
    assert [status for status, _, _ in results] == [200] * 4
    assert counting.most == 1


def test_the_page_loads_nothing_from_elsewhere(served):
    status, content_type, body = request(served.url)
    assert status == 200 and content_type.startswith('text/html')
    page = body.decode()
    for name in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert '//' not in name and ':' not in name, name  # the page works offline
        assert request(served.url + name)[0] == 200, name
    for path in STATIC.iterdir():
        assert not re.search(r'\b(https?:)?//[a-z0-9.-]+\.[a-z]{2,}', path.read_text()), path.name


def test_the_static_files_are_installed_with_the_package():
    tomllib = pytest.importorskip('tomllib')
    config = tomllib.loads((REPO / 'pyproject.toml').read_text())
    patterns = config['tool']['setuptools']['package-data']['semsyn.app']
    for path in STATIC.iterdir():
        assert any(path.relative_to(STATIC.parent).match(p) for p in patterns), path.name


@pytest.mark.parametrize('mode, raw, nc, dontcare, expected', [
    ('ade20k', [151, 160], 150, True, 'label map: the values 151, 160 are not labels of the ade20k label maps this '
                                      'model was trained on'),
    ('coco', [190], 182, True, "label map: 190 is not one of this model's classes (0 to 181, and 255 for unlabeled)"),
])
def test_label_values_in_the_pages_words(mode, raw, nc, dontcare, expected):
    opt = Namespace(dataset_mode=mode, label_nc=nc, contain_dontcare_label=dontcare, ade20k_raw_labels=False)
    with pytest.raises(LabelRangeError) as exc:
        prepare_label(np.array([raw], np.int64), 'map.png', opt, DATASETS[mode].map_labels)
    assert '--label_nc' in str(exc.value)  # the command line's words stay where options are given
    assert label_range_message(exc.value) == expected
