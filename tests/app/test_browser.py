"""The painting page in a real headless Chromium: pick a class, paint, pick another, paint elsewhere (real
mouse events), synthesize; then another painting, another picture; the cards hold the canvas and the picture
at common window sizes; an upload clears the picture of the map before; errors in the page's words; the
README's screenshot script. Skipped where Chromium, ChromeDriver or selenium is absent."""
import base64
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semsyn.data.palette import builtin
from tests.app.helpers import painted, painted_image

try:  # the test extra (pip install semsyn[test]); without it, the test is skipped
    from selenium import webdriver
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

REPO = Path(__file__).resolve().parents[2]
WINDOW = (1440, 860)


def executable(name):
    path = shutil.which(name) or f'/usr/bin/{name}'
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    chromium, chromedriver = executable('chromium'), executable('chromedriver')
    if not chromium:
        pytest.skip('no Chromium (Debian: apt-get install chromium)')
    if not chromedriver:
        pytest.skip('no ChromeDriver (Debian: apt-get install chromium-driver)')
    if webdriver is None:
        pytest.skip('selenium is not installed (pip install semsyn[test])')
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # headless on a machine without a display, a sandbox or network: no first-run pages, no background fetches
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 f'--user-data-dir={tmp_path_factory.mktemp("chromium_profile")}',
                 f'--window-size={WINDOW[0]},{WINDOW[1]}', '--force-device-scale-factor=1', '--hide-scrollbars'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=chromedriver), options=options)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',  # the screenshot's size, whatever the window's
                           {'width': WINDOW[0], 'height': WINDOW[1], 'deviceScaleFactor': 1, 'mobile': False})
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def wait(driver, script, what, timeout=60):
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script), message=f'waiting for {what}')


def press(driver, element_id):
    driver.find_element('id', element_id).click()


def drag(driver, points):
    """Hold the left button along points (model pixels) on the canvas: real pointer events."""
    canvas = driver.find_element('id', 'canvas')
    width, height = driver.execute_script('return [arguments[0].width, arguments[0].height]', canvas)
    scale = canvas.size['width'] / width
    offset = lambda p: (round((p[0] + 0.5) * scale - canvas.size['width'] / 2),
                        round((p[1] + 0.5) * scale - canvas.size['height'] / 2))  # from the centre
    actions = ActionChains(driver).move_to_element_with_offset(canvas, *offset(points[0])).click_and_hold()
    for p in points[1:]:
        actions.move_to_element_with_offset(canvas, *offset(p))
    actions.release().perform()


def painted_ids(driver, opt):
    """The canvas's pixels as class ids; every colour must be one of the palette (no anti-aliasing)."""
    url = driver.execute_script("return document.getElementById('canvas').toDataURL('image/png')")
    with Image.open(io.BytesIO(base64.b64decode(url.split(',', 1)[1]))) as image:
        rgb = np.asarray(image.convert('RGB'))
    return builtin('semsyn', opt.label_nc, opt.dataset_mode).to_ids(rgb, 'the canvas')


def synthesize(driver, count):
    """Press Synthesize, wait for picture `count`; its (width, height) and pixels, as the page has them."""
    press(driver, 'synthesize')
    wait(driver, f"const r = document.getElementById('result'); return r.dataset.count === '{count}' && "
                 f"r.complete && r.naturalWidth > 0", f'picture {count}')
    width, height, url = driver.execute_script("""
        const img = document.getElementById('result');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        canvas.getContext('2d').drawImage(img, 0, 0);
        return [img.naturalWidth, img.naturalHeight, canvas.toDataURL('image/png')];""")
    with Image.open(io.BytesIO(base64.b64decode(url.split(',', 1)[1]))) as image:
        return (width, height), np.asarray(image.convert('RGB'))


def test_paint_two_classes_and_synthesize_in_chromium(browser, served, tmp_path):
    opt = served.app.synthesizer.opt
    browser.get(served.url)
    wait(browser, "return document.body.dataset.ready === 'true'", 'the page to load the model')
    assert 'error' not in browser.find_element('id', 'status').get_attribute('class')

    # picture 1: class 2 along the top, class 5 in a block at the bottom right, on the eraser's class 0
    press(browser, 'class-2')
    drag(browser, [(4, 12), (30, 14), (58, 10)])
    press(browser, 'class-5')
    drag(browser, [(36, 40), (60, 40), (60, 58), (36, 58), (36, 48), (58, 48)])
    ids = painted_ids(browser, opt)
    assert {int(c) for c in np.unique(ids)} == {0, 2, 5}
    assert ids[12, 30] == 2 and ids[48, 48] == 5 and ids[30, 5] == 0
    size, first = synthesize(browser, 1)
    assert size == served.app.synthesizer.size and first.shape == (64, 64, 3)
    expected = served.app.synthesizer(painted_image(ids, opt), seed=int(opt.seed), palette='semsyn')
    assert np.array_equal(first, np.asarray(expected))  # the page sent the painting as it is shown

    # picture 2: cleared, class 4 filled everywhere, a stroke of class 1, a stroke erased back to class 0
    press(browser, 'clear')
    press(browser, 'class-4')
    press(browser, 'tool-fill')
    drag(browser, [(10, 10)])
    press(browser, 'class-1')
    press(browser, 'tool-brush')
    drag(browser, [(5, 5), (58, 58)])
    press(browser, 'tool-eraser')
    drag(browser, [(5, 58), (30, 40)])
    ids = painted_ids(browser, opt)
    assert {int(c) for c in np.unique(ids)} == {0, 1, 4}
    size, second = synthesize(browser, 2)
    assert size == served.app.synthesizer.size
    assert not np.array_equal(first, second)
    assert 'error' not in browser.find_element('id', 'status').get_attribute('class')

    browser.execute_script('window.scrollTo(0, 0)')  # pressing Synthesize may have scrolled the page
    browser.save_screenshot(str(tmp_path / 'painting_app.png'))
    with Image.open(tmp_path / 'painting_app.png') as shot:
        assert shot.size == WINDOW


def test_an_error_of_the_server_shows_as_one_line_in_the_page(browser, served):
    browser.get(served.url)
    wait(browser, "return document.body.dataset.ready === 'true'", 'the page to load the model')
    # a style image that is not an image, as if chosen in the file dialog
    browser.find_element('id', 'style').send_keys(str(Path(__file__)))
    press(browser, 'synthesize')
    wait(browser, "return document.getElementById('status').classList.contains('error')", 'the error line')
    status = browser.find_element('id', 'status').text
    assert status.startswith('style image: not an image') and '\n' not in status


def window(driver, width, height):
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                           {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})


CARD_OVERRUN = """
    const out = [];
    for (const id of ['canvas-stage', 'result-stage', 'canvas']) {
      const element = document.getElementById(id), card = element.closest('section');
      const e = element.getBoundingClientRect(), c = card.getBoundingClientRect(), style = getComputedStyle(card);
      const left = c.left + parseFloat(style.paddingLeft), right = c.right - parseFloat(style.paddingRight);
      if (e.left < left - 0.5 || e.right > right + 0.5) out.push(`${id}: ${e.left}..${e.right} in ${left}..${right}`);
    }
    const picture = document.getElementById('result').getBoundingClientRect();
    const stage = document.getElementById('result-stage').getBoundingClientRect();
    if (picture.right > stage.right + 0.5 || picture.bottom > stage.bottom + 0.5) out.push('the picture overruns');
    if (document.documentElement.scrollWidth > innerWidth) out.push('the page scrolls sideways');
    return out;"""


@pytest.mark.parametrize('size', [(1400, 900), (1200, 800), (900, 900)])
def test_the_canvas_and_the_picture_fit_their_cards(browser, served, size):
    window(browser, *size)
    try:
        browser.get(served.url)
        wait(browser, "return document.body.dataset.ready === 'true'", 'the page to load the model')
        synthesize(browser, 1)
        assert browser.execute_script(CARD_OVERRUN) == []
        width = browser.execute_script("return document.getElementById('canvas').getBoundingClientRect().width")
        assert width >= 256  # still a canvas to paint on
    finally:
        window(browser, *WINDOW)


def upload(driver, path):
    driver.find_element('id', 'upload').send_keys(str(path))


def test_an_upload_clears_the_picture_of_the_map_before(browser, served, tmp_path):
    opt = served.app.synthesizer.opt
    browser.get(served.url)
    wait(browser, "return document.body.dataset.ready === 'true'", 'the page to load the model')
    synthesize(browser, 1)
    shown = "return [!document.getElementById('result').hidden, !document.getElementById('download').hidden, " \
            "!document.getElementById('placeholder').hidden]"
    assert browser.execute_script(shown) == [True, True, False]
    ids = np.zeros((96, 128), np.int64)
    ids[:, 64:] = 3
    Image.open(io.BytesIO(painted(ids, opt))).save(tmp_path / 'wide.png')
    upload(browser, tmp_path / 'wide.png')
    wait(browser, "return document.getElementById('status').textContent.startsWith('wide.png loaded')", 'the upload')
    assert browser.execute_script(shown) == [False, False, True]
    assert 'wide.png' in browser.find_element('id', 'placeholder').text
    assert "(128\u00d796, resized to the model's 64\u00d764)" in browser.find_element('id', 'status').text
    assert np.array_equal(painted_ids(browser, opt)[:, 40:], np.full((64, 24), 3))
    synthesize(browser, 2)
    assert browser.execute_script(shown) == [True, True, False]


def test_a_label_map_outside_the_classes_is_said_in_the_pages_words(browser, served, tmp_path):
    browser.get(served.url)
    wait(browser, "return document.body.dataset.ready === 'true'", 'the page to load the model')
    Image.fromarray(np.full((8, 8), 9, np.uint8)).save(tmp_path / 'nine.png')
    upload(browser, tmp_path / 'nine.png')
    wait(browser, "return document.getElementById('status').classList.contains('error')", 'the error line')
    status = browser.find_element('id', 'status').text
    assert status == "label map: 9 is not one of this model's classes (0 to 5)"


def test_the_readme_screenshot_script(browser, tiny_run, tmp_path):
    """scripts/painting_screenshot.py (which makes media/painting_app.png from the demo model): the page drawn
    with every stroke of its drawing, the picture shown, the window's size."""
    env = dict(os.environ, PYTHONPATH=str(REPO / 'code'))
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'painting_screenshot.py'), str(tiny_run),
                             str(tmp_path / 'shot.png')], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(tmp_path / 'shot.png') as shot:
        assert shot.size == (1400, 900)
